"""Provides the vocabulary of CSV import: each kind's columns with their Russian (1C) aliases,
and the words accepted for enumerations and yes/no values.

Names are compared after `csv_table.normalise` (case, ё/е, spaces, ``_`` and ``-`` do not
matter), so ``Часовой пояс``, ``часовой_пояс`` and ``ЧАСОВОЙ  ПОЯС`` are the same column.
docs/import-formats.md documents every name here; keep the two in step.
"""

from __future__ import annotations

from collections.abc import Mapping

from sdconsole.domain.model import ClientKind, ContractKind, DeviceKind, Role
from sdconsole.services.importing.csv_table import Columns

_KEY = ("код", "внешний код", "идентификатор", "id")
_NOTES = ("комментарий", "примечание", "заметки")
_ACTIVE = ("is active", "активен", "активный", "действует")
_EMAIL = ("e mail", "электронная почта", "почта", "эл. почта")
_TIMEZONE = ("часовой пояс", "tz", "time zone", "таймзона", "временная зона")

CLIENT_COLUMNS = Columns(
    {
        "external_id": _KEY,
        "kind": ("вид", "тип", "уровень"),
        "name": ("наименование", "название"),
        "parent": (
            "родитель",
            "сеть",
            "юрлицо",
            "юр. лицо",
            "юридическое лицо",
            "головная организация",
            "входит в",
        ),
        "inn": ("инн",),
        "kpp": ("кпп",),
        "address": ("адрес", "фактический адрес", "адрес магазина"),
        "timezone": _TIMEZONE,
        "phone": ("телефон",),
        "email": _EMAIL,
        "manager": ("менеджер", "ответственный"),
        "notes": _NOTES,
        "active": _ACTIVE,
    },
    required=("external_id", "kind", "name"),
)

CONTRACT_COLUMNS = Columns(
    {
        "external_id": _KEY,
        "number": ("номер", "номер договора"),
        "client": ("клиент", "контрагент"),
        "kind": ("вид", "вид договора", "тип"),
        "valid_from": ("дата начала", "действует с", "начало"),
        "valid_to": ("дата окончания", "действует по", "окончание"),
        "sla_plan": ("sla", "план sla", "sla план", "уровень обслуживания"),
        "categories": ("категории", "услуги"),
        "hours_per_month": ("часов в месяц", "часы в месяц"),
        "price": ("цена", "стоимость", "сумма"),
        "currency": ("валюта",),
        "hourly_rate": ("ставка", "цена часа", "стоимость часа", "ставка за час"),
        "request_price": ("цена заявки", "цена обращения", "стоимость заявки"),
        "price_list": ("прайс", "прайс-лист", "цены работ"),
        "rounding_minutes": ("округление", "округление минут", "шаг округления"),
        "minimum_minutes": ("минимум минут", "минимальное время"),
        "carry_over_months": ("перенос часов", "перенос, месяцев", "перенос"),
        "notify_days": ("уведомить за", "предупредить за", "уведомить за дней"),
        "notes": _NOTES,
        "active": _ACTIVE,
    },
    required=("external_id", "number", "client", "kind", "valid_from", "sla_plan"),
)

DEVICE_COLUMNS = Columns(
    {
        "external_id": _KEY,
        "site": ("магазин", "точка", "торговая точка", "объект"),
        "kind": ("вид", "тип"),
        "model": ("модель", "модель ккт"),
        "serial": ("заводской номер", "зн", "зн ккт", "заводской номер ккт", "серийный номер"),
        "reg_number": ("регистрационный номер", "рн", "рн ккт", "рнм"),
        "firmware": ("прошивка", "версия прошивки"),
        "ffd": ("ффд", "версия ффд"),
        "fn_serial": ("зн фн", "номер фн", "заводской номер фн"),
        "fn_model": ("модель фн",),
        "fn_valid_until": ("срок фн", "фн действует до", "срок действия фн", "окончание фн"),
        "fn_registrations_left": ("осталось перерегистраций", "перерегистраций осталось"),
        "ofd_name": ("офд", "оператор фд"),
        "notes": _NOTES,
        "active": _ACTIVE,
    },
    required=("external_id", "site"),
)

ENGINEER_COLUMNS = Columns(
    {
        "login": ("логин",),
        "name": ("фио", "имя", "сотрудник"),
        "external_id": _KEY,
        "email": _EMAIL,
        "role": ("роль",),
        "lines": ("линии", "линия"),
        "teams": ("команды", "команда", "группы"),
        "skills": ("навыки",),
        "telegram_id": ("telegram", "телеграм", "telegram id"),
        "timezone": _TIMEZONE,
        "cost_per_hour": ("себестоимость часа", "стоимость часа", "ставка"),
        "active": _ACTIVE,
    },
    required=("login", "name"),
)

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Calendar columns of the weekly schedule, ISO weekday 1 to 7."""

CALENDAR_COLUMNS = Columns(
    {
        "code": ("код",),
        "name": ("наименование", "название"),
        "timezone": _TIMEZONE,
        "round_the_clock": ("24x7", "24/7", "круглосуточно", "круглосуточный"),
        "mon": ("пн", "понедельник", "monday"),
        "tue": ("вт", "вторник", "tuesday"),
        "wed": ("ср", "среда", "wednesday"),
        "thu": ("чт", "четверг", "thursday"),
        "fri": ("пт", "пятница", "friday"),
        "sat": ("сб", "суббота", "saturday"),
        "sun": ("вс", "воскресенье", "sunday"),
        "holidays": ("праздники", "производственный календарь"),
    },
    required=("code", "name"),
)

PRIORITY_NUMBERS = (1, 2, 3, 4)
SLA_PLAN_COLUMNS = Columns(
    {
        "code": ("код",),
        "name": ("наименование", "название"),
        "calendar": ("календарь",),
        "warning_pct": ("предупреждение", "порог предупреждения", "предупреждение %"),
        "pause_on_vendor": ("пауза на вендоре", "пауза при ожидании вендора"),
        **{
            f"p{n}_{target}": (f"p{n} {alias}", f"р{n} {alias}")
            for n in PRIORITY_NUMBERS
            for target, alias in (
                ("registration", "регистрация"),
                ("response", "реакция"),
                ("resolution", "решение"),
                ("calendar", "календарь"),
            )
        },
    },
    required=(
        "code",
        "name",
        "calendar",
        *(f"p{n}_{t}" for n in PRIORITY_NUMBERS for t in ("response", "resolution")),
    ),
)

CLIENT_KINDS: Mapping[str, str] = {
    **dict.fromkeys(("chain", "сеть", "торговая сеть"), ClientKind.CHAIN.value),
    **dict.fromkeys(
        ("legal entity", "юрлицо", "юр лицо", "юр. лицо", "юридическое лицо", "организация"),
        ClientKind.LEGAL_ENTITY.value,
    ),
    **dict.fromkeys(
        ("site", "магазин", "точка", "торговая точка", "объект"), ClientKind.SITE.value
    ),
}
CONTRACT_KINDS: Mapping[str, str] = {
    **dict.fromkeys(
        ("subscription", "абонемент", "абонентское обслуживание"), ContractKind.SUBSCRIPTION.value
    ),
    **dict.fromkeys(("hours package", "пакет часов"), ContractKind.HOURS_PACKAGE.value),
    **dict.fromkeys(
        ("per request", "за обращение", "по обращениям"), ContractKind.PER_REQUEST.value
    ),
    **dict.fromkeys(
        ("one off", "разовый", "разовая работа", "разовые работы"), ContractKind.ONE_OFF.value
    ),
}
DEVICE_KINDS: Mapping[str, str] = {
    **{k.value: k.value for k in DeviceKind},
    **dict.fromkeys(("ккт", "касса", "кассовый аппарат"), DeviceKind.KKT.value),
    "кассовый компьютер": DeviceKind.POS.value,
    "утм": DeviceKind.UTM.value,
    "сервер": DeviceKind.SERVER.value,
    "весы": DeviceKind.SCALE.value,
    "сканер": DeviceKind.SCANNER.value,
    **dict.fromkeys(("терминал", "платежный терминал", "эквайринг"), DeviceKind.TERMINAL.value),
}
ROLES: Mapping[str, str] = {
    **{k.value: k.value for k in Role},
    "инженер": Role.ENGINEER.value,
    **dict.fromkeys(("руководитель", "старший инженер"), Role.LEAD.value),
    **dict.fromkeys(("администратор", "админ"), Role.ADMIN.value),
}
BOOLEANS: Mapping[str, bool] = {
    **dict.fromkeys(("1", "да", "yes", "true", "y", "истина"), True),
    **dict.fromkeys(("0", "нет", "no", "false", "n", "ложь"), False),
}
