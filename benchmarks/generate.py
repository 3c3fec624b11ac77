"""Provides the benchmark data generator: a migrated store filled with N realistic tickets.

Usage::

    python benchmarks/generate.py --db URL --tickets N [--seed S] [--open-share 0.03] [--append]
                                  [--events]

The directory comes first (a client tree chain → legal entity → site, about 200 engineers, SLA
plans, contracts, a category catalogue), then the tickets in bulk: SQLAlchemy Core executemany in
large batches on SQLite, ``COPY`` through psycopg on PostgreSQL. Messages, contacts and devices
are not generated: the queue query does not read them. Events only with ``--events``: each
ticket's trail (created, assigned, first response, resolved, closed) derived in SQL from its own
columns, for benchmarks that ask for a store "with its events". ANALYZE runs at the end.
"""

from __future__ import annotations

import argparse
import bisect
import random
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url

from sdconsole.domain.model import (
    OPEN_STATUSES,
    ChannelKind,
    ClientKind,
    ContractKind,
    Role,
    Status,
)
from sdconsole.domain.priority import IMPACT_LEVELS, URGENCY_LEVELS, priority_for
from sdconsole.domain.sla import DEFAULT_TARGETS, queue_due
from sdconsole.storage import Store
from sdconsole.storage.engine import normalise_url
from sdconsole.storage.tables import (
    BusinessCalendar,
    Category,
    Client,
    Contract,
    Engineer,
    SlaPlan,
    SlaTarget,
    Ticket,
)
from sdconsole.storage.types import UTCDateTime

BATCH = 50_000
"""Tickets per executemany / per COPY flush."""

SLA_SEED = 0x51A
"""Seed of the SLA outcome fields (registration, minutes to response and resolution)."""

DAY = 86_400.0

# -- directory vocabulary -------------------------------------------------------------------

CHAINS = [
    "Продукты 24",
    "Вкусная лавка",
    "Магнолия-Опт",
    "Хлебный дом",
    "Северный берег",
    "Зелёный квартал",
    "Аптека Здоровье+",
    "Стройматериалы Прораб",
    "Рыбный двор",
    "Улыбка Радуги",
    "Пив&Ко",
    "Семейный маркет",
]
LEGAL_FORMS = ["ООО", "ООО", "ООО", "АО", "ИП"]
LEGAL_WORDS = [
    "Ромашка",
    "Вектор",
    "Меридиан",
    "Альфа-Трейд",
    "Прогресс",
    "Гранит",
    "Исток",
    "Лидер",
    "Восход",
    "Континент",
    "Орион",
    "Сфера",
    "Полюс",
    "Радуга",
    "Фортуна",
    "Эдельвейс",
]
STREETS = [
    "ул. Ленина",
    "пр. Мира",
    "ул. Гагарина",
    "ул. Советская",
    "ул. Садовая",
    "ул. Лесная",
    "ул. Победы",
    "Московское ш.",
    "ул. Молодёжная",
    "ул. Школьная",
    "Невский пр.",
    "ул. Кирова",
]
CITIES = [
    ("Москва", "Europe/Moscow"),
    ("Санкт-Петербург", "Europe/Moscow"),
    ("Казань", "Europe/Moscow"),
    ("Самара", "Europe/Samara"),
    ("Екатеринбург", "Asia/Yekaterinburg"),
    ("Новосибирск", "Asia/Novosibirsk"),
    ("Краснодар", "Europe/Moscow"),
    ("Нижний Новгород", "Europe/Moscow"),
    ("Пермь", "Asia/Yekaterinburg"),
]
FIRST_NAMES = [
    "Алексей",
    "Дмитрий",
    "Сергей",
    "Андрей",
    "Иван",
    "Михаил",
    "Павел",
    "Николай",
    "Ольга",
    "Елена",
    "Мария",
    "Анна",
    "Татьяна",
    "Наталья",
    "Ирина",
    "Екатерина",
    "Артём",
    "Роман",
]
LAST_NAMES = [
    "Иванов",
    "Петров",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Фёдоров",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
]
TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
    }
)

CATEGORIES: list[tuple[str, str, str, int, str | None]] = [
    # code, name_ru, name_en, line, team
    ("kkt", "Контрольно-кассовая техника", "Cash registers", 1, "kkt"),
    ("kkt.print", "ККТ: не печатает чек", "Register: receipt not printed", 1, "kkt"),
    ("kkt.fn", "ККТ: фискальный накопитель", "Register: fiscal drive", 2, "kkt"),
    ("kkt.fn.replace", "ККТ: замена ФН", "Register: fiscal drive replacement", 2, "kkt"),
    ("kkt.ofd", "ККТ: нет связи с ОФД", "Register: no OFD link", 1, "kkt"),
    ("kkt.firmware", "ККТ: прошивка", "Register: firmware", 3, "kkt"),
    ("egais", "ЕГАИС", "EGAIS", 1, "egais"),
    ("egais.utm", "ЕГАИС: УТМ не отвечает", "EGAIS: UTM not responding", 2, "egais"),
    ("egais.ttn", "ЕГАИС: накладные", "EGAIS: waybills", 2, "egais"),
    ("marking", "Маркировка", "Product marking", 2, "marking"),
    ("marking.scan", "Маркировка: не читается код", "Marking: code not scanned", 1, "marking"),
    ("pos", "Кассовая программа", "POS software", 1, "pos"),
    ("pos.sync", "Кассовая программа: выгрузка товаров", "POS: item sync", 2, "pos"),
    ("pos.discount", "Кассовая программа: скидки", "POS: discounts", 2, "pos"),
    ("onec", "1С", "1C", 2, "onec"),
    ("onec.exchange", "1С: обмен с кассой", "1C: register exchange", 3, "onec"),
    ("network", "Сеть и интернет", "Network", 1, "infra"),
    ("network.vpn", "Сеть: VPN до офиса", "Network: VPN", 3, "infra"),
    ("hardware", "Оборудование", "Hardware", 1, "hw"),
    ("hardware.scale", "Оборудование: весы", "Hardware: scales", 1, "hw"),
    ("hardware.scanner", "Оборудование: сканер", "Hardware: scanner", 1, "hw"),
    ("hardware.terminal", "Оборудование: эквайринг", "Hardware: card terminal", 2, "hw"),
    ("consult", "Консультация", "Question", 1, None),
    ("access", "Доступы и пароли", "Access", 1, None),
]

SUBJECTS = [
    "Не печатает чек на кассе №{n}",
    "Касса №{n} не пробивает чеки",
    "Ошибка ФН {e}: требуется помощь",
    "Заканчивается срок ФН на кассе №{n}",
    "Нет связи с ОФД больше {h} часов",
    "Не уходят чеки в ОФД",
    "УТМ ЕГАИС не отвечает",
    "Не приходят накладные ЕГАИС",
    "Не сканируется код маркировки",
    "Ошибка при продаже маркированного товара",
    "Не выгружаются товары на кассу №{n}",
    "Неправильно считается скидка",
    "1С не видит кассу №{n}",
    "Не работает интернет в магазине",
    "Не поднимается VPN до офиса",
    "Весы не печатают этикетки",
    "Сканер штрихкодов не читает",
    "Терминал эквайринга не проходит оплата",
    "Как сделать возврат по чеку №{n}?",
    "Нужен доступ к личному кабинету ОФД",
    "Касса зависает при закрытии смены",
    "Ошибка {e} при открытии смены",
    "Сбой даты и времени на кассе №{n}",
    "Перерегистрация ККТ: смена адреса",
]
FN_ERRORS = ["0x23", "0x14", "0x02", "235", "211", "E-17"]
RESOLUTION_CODES = ["fixed", "fixed", "fixed", "workaround", "consulted", "replaced", "vendor"]

PLANS: list[tuple[str, str, bool, dict[int, tuple[int, int, int]]]] = [
    # code, name, pause_on_vendor, priority → (registration, response, resolution) minutes
    (
        "premium",
        "Премиум 24/7",
        False,
        {1: (5, 15, 240), 2: (10, 30, 480), 3: (15, 120, 2880), 4: (15, 480, 5760)},
    ),
    (
        "standard",
        "Стандарт",
        True,
        {1: (15, 15, 240), 2: (15, 30, 480), 3: (15, 180, 4320), 4: (15, 1440, 7200)},
    ),
    (
        "basic",
        "Базовый",
        True,
        {1: (15, 30, 480), 2: (15, 60, 1440), 3: (15, 480, 7200), 4: (15, 2880, 14400)},
    ),
]

OPEN_STATUS_WEIGHTS = [
    (Status.NEW, 15),
    (Status.OPEN, 55),
    (Status.WAITING_CLIENT, 20),
    (Status.WAITING_VENDOR, 10),
]
PRIORITY_WEIGHTS = [(1, 4), (2, 18), (3, 58), (4, 20)]
CHANNEL_WEIGHTS = [
    (ChannelKind.EMAIL, 42),
    (ChannelKind.TELEGRAM, 25),
    (ChannelKind.PHONE, 18),
    (ChannelKind.MONITORING, 10),
    (ChannelKind.PORTAL, 5),
]


# -- the directory as the generator sees it --------------------------------------------------


@dataclass
class Directory:
    """Ids and rules the ticket rows are drawn from."""

    sites: list[int] = field(default_factory=list)
    site_weights: list[float] = field(default_factory=list)
    holder: dict[int, int] = field(default_factory=dict)
    """site id → client id of the contract holder (chain or legal entity)."""
    contract: dict[int, int | None] = field(default_factory=dict)
    """site id → contract id."""
    plan_of_contract: dict[int, int] = field(default_factory=dict)
    targets: dict[tuple[int | None, int], tuple[int, int, int]] = field(default_factory=dict)
    """(plan id or None for the defaults, priority) → minutes."""
    pause_on_vendor: dict[int | None, bool] = field(default_factory=dict)
    engineers_by_line: dict[int, list[int]] = field(default_factory=dict)
    engineer_weights: dict[int, list[float]] = field(default_factory=dict)
    categories: list[tuple[int, int, str | None]] = field(default_factory=list)
    """(id, line, team)."""
    category_weights: list[float] = field(default_factory=list)


def _person(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(FIRST_NAMES)
    last = rng.choice(LAST_NAMES)
    if first[-1] in "аяь" and first not in ("Никита",):
        last += "а"
    return f"{last} {first}", f"{first[0]}.{last}".lower().translate(TRANSLIT)


def _digits(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("0123456789") for _ in range(n))


def build_directory(store: Store, rng: random.Random, now: datetime) -> None:
    """Insert calendar, SLA plans, engineers, categories, the client tree and contracts."""
    with store.transaction() as session:
        calendar = BusinessCalendar(code="bench-24x7", name="Круглосуточно", is_24x7=True)
        session.add(calendar)
        session.flush()
        assert calendar.id is not None
        plans: list[SlaPlan] = []
        for code, name, pause, targets in PLANS:
            plan = SlaPlan(
                code=f"bench-{code}", name=name, calendar_id=calendar.id, pause_on_vendor=pause
            )
            session.add(plan)
            session.flush()
            assert plan.id is not None
            plans.append(plan)
            for priority, (reg, resp, resol) in targets.items():
                session.add(
                    SlaTarget(
                        plan_id=plan.id,
                        priority=priority,
                        registration_minutes=reg,
                        response_minutes=resp,
                        resolution_minutes=resol,
                    )
                )

        logins: set[str] = set()
        engineers: list[Engineer] = []
        for i in range(200):
            name, login = _person(rng)
            while login in logins:
                login = f"{login}{rng.randint(2, 99)}"
            logins.add(login)
            line = 1 if i < 110 else 2 if i < 170 else 3
            lines = [line] if rng.random() < 0.8 or line == 3 else [line, line + 1]
            engineers.append(
                Engineer(
                    login=login,
                    name=name,
                    email=f"{login}@support.example",
                    role=(Role.LEAD if i % 25 == 0 else Role.ENGINEER).value,
                    lines=lines,
                    teams=[rng.choice(["kkt", "egais", "pos", "hw", "infra", "onec"])],
                    skills=[],
                    timezone="Europe/Moscow",
                )
            )
        session.add_all(engineers)

        by_code: dict[str, Category] = {}
        for code, name_ru, name_en, line, team in CATEGORIES:
            parent = by_code.get(code.rsplit(".", 1)[0]) if "." in code else None
            category = Category(
                code=code,
                parent_id=parent.id if parent else None,
                name_ru=name_ru,
                name_en=name_en,
                line=line,
                team=team,
            )
            session.add(category)
            session.flush()
            by_code[code] = category

        def client(
            kind: ClientKind, name: str, parent: Client | None, city: tuple[str, str], **extra: Any
        ) -> Client:
            row = Client(
                kind=kind.value,
                name=name,
                parent_id=parent.id if parent else None,
                timezone=city[1],
                created_at=now - timedelta(days=rng.randint(400, 2000)),
                updated_at=now - timedelta(days=rng.randint(0, 399)),
                **extra,
            )
            session.add(row)
            return row

        def legal(parent: Client | None, city: tuple[str, str]) -> Client:
            form = rng.choice(LEGAL_FORMS)
            if form == "ИП":
                person, _ = _person(rng)
                return client(
                    ClientKind.LEGAL_ENTITY, f"ИП {person}", parent, city, inn=_digits(rng, 12)
                )
            return client(
                ClientKind.LEGAL_ENTITY,
                f"{form} «{rng.choice(LEGAL_WORDS)}»",
                parent,
                city,
                inn=_digits(rng, 10),
                kpp=_digits(rng, 9),
            )

        def sites(parent: Client, city: tuple[str, str], count: int, label: str) -> None:
            for k in range(count):
                address = f"г. {city[0]}, {rng.choice(STREETS)}, {rng.randint(1, 120)}"
                client(
                    ClientKind.SITE,
                    f"{label} №{k + 1}",
                    parent,
                    city,
                    address=address,
                    phone=f"+7{_digits(rng, 10)}",
                )

        holders: list[Client] = []
        for chain_name in CHAINS:
            city = rng.choice(CITIES)
            chain = client(ClientKind.CHAIN, f"Сеть «{chain_name}»", None, city)
            session.flush()
            holders.append(chain)
            for _ in range(rng.randint(2, 5)):
                entity = legal(chain, rng.choice(CITIES))
                session.flush()
                sites(entity, city, rng.randint(4, 14), chain_name)
        for _ in range(45):
            city = rng.choice(CITIES)
            entity = legal(None, city)
            session.flush()
            holders.append(entity)
            sites(entity, city, rng.randint(1, 3), "Магазин")
        session.flush()

        for number, holder in enumerate(holders, start=1):
            plan = rng.choices(plans, weights=[2, 5, 3])[0]
            kind = rng.choice(
                [ContractKind.SUBSCRIPTION, ContractKind.SUBSCRIPTION, ContractKind.HOURS_PACKAGE]
            )
            assert holder.id is not None
            assert plan.id is not None
            session.add(
                Contract(
                    number=f"СО-{now.year - 1}/{number:04d}",
                    client_id=holder.id,
                    kind=kind.value,
                    valid_from=date(now.year - 2, 1, 1),
                    valid_to=None,
                    sla_plan_id=plan.id,
                )
            )


def load_directory(store: Store, rng: random.Random) -> Directory:
    """Read the store's directory into the maps the ticket generator draws from."""
    d = Directory()
    with store.reader() as session:
        clients = {c.id: c for c in session.execute(select(Client)).scalars()}
        contracts = list(
            session.execute(
                select(Contract).where(Contract.is_active).order_by(Contract.id)  # type: ignore[arg-type]
            ).scalars()
        )
        plans = list(session.execute(select(SlaPlan)).scalars())
        targets = list(session.execute(select(SlaTarget)).scalars())
        engineers = list(
            session.execute(
                select(Engineer).where(Engineer.is_active).order_by(Engineer.id)  # type: ignore[arg-type]
            ).scalars()
        )
        categories = list(
            session.execute(
                select(Category).where(Category.is_active).order_by(Category.id)  # type: ignore[arg-type]
            ).scalars()
        )
    if not clients or not engineers:
        raise SystemExit("the store has no clients or engineers to draw tickets from")

    for t in targets:
        d.targets[(t.plan_id, t.priority)] = (
            t.registration_minutes,
            t.response_minutes,
            t.resolution_minutes,
        )
    for p in plans:
        d.pause_on_vendor[p.id] = p.pause_on_vendor
    d.pause_on_vendor[None] = False
    for priority, tg in DEFAULT_TARGETS.items():
        d.targets[(None, int(priority))] = (
            tg.registration_minutes,
            tg.response_minutes,
            tg.resolution_minutes,
        )
    contract_of: dict[int, Contract] = {}
    for c in contracts:
        contract_of.setdefault(c.client_id, c)
        assert c.id is not None
        d.plan_of_contract[c.id] = c.sla_plan_id

    leaves = [c for c in clients.values() if c.kind == ClientKind.SITE.value] or list(
        clients.values()
    )
    for site in sorted(leaves, key=lambda c: c.id or 0):
        assert site.id is not None
        node: Client | None = site
        holder: Client | None = None
        top = site
        while node is not None:
            top = node
            if holder is None and node.id in contract_of:
                holder = node
            node = clients.get(node.parent_id) if node.parent_id else None
        holder = holder or top
        assert holder.id is not None
        d.sites.append(site.id)
        d.holder[site.id] = holder.id
        found = contract_of.get(holder.id)
        d.contract[site.id] = found.id if found else None
    # A few big chains take most tickets: Zipf-like weights over shuffled sites.
    ranks = list(range(1, len(d.sites) + 1))
    rng.shuffle(ranks)
    d.site_weights = [1.0 / r**0.9 for r in ranks]

    for e in engineers:
        assert e.id is not None
        line = min(e.lines) if e.lines else 1
        d.engineers_by_line.setdefault(line, []).append(e.id)
        d.engineer_weights.setdefault(line, []).append(rng.paretovariate(3.0))
    for c in categories:
        assert c.id is not None
        d.categories.append((c.id, c.line, c.team))
        # Most requests are first-line ones; the specific subcategories are the common picks.
        by_line = {1: 5.0, 2: 2.0}.get(c.line, 1.0)
        d.category_weights.append(by_line * (2.0 if "." in c.code else 1.0))
    if not d.categories:
        d.categories.append((0, 1, None))
        d.category_weights.append(1.0)
    return d


# -- tickets ----------------------------------------------------------------------------------

TICKET_COLUMNS = [
    c.name
    for c in Ticket.__table__.columns  # type: ignore[attr-defined]
    if c.name != "id"
]


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, float]], k: int) -> list[Any]:
    values = [v for v, _ in pairs]
    return rng.choices(values, weights=[w for _, w in pairs], k=k)


def _pick_open(rng: random.Random, times: list[float], now: float, count: int) -> set[int]:
    """Indexes of open tickets: mostly recent ones, with a tail of forgotten old ones."""
    n = len(times)
    count = min(count, n)
    windows = [(14, 0.70), (90, 0.25), (366, 0.05)]
    chosen: set[int] = set()
    upper = n
    for days, share in windows:
        lower = bisect.bisect_left(times, now - days * DAY)
        pool = range(lower, upper)
        want = min(len(pool), round(count * share))
        chosen.update(rng.sample(pool, want))
        upper = lower
    missing = count - len(chosen)
    while missing > 0:
        i = rng.randrange(n)
        if i not in chosen:
            chosen.add(i)
            missing -= 1
    return chosen


def ticket_rows(
    d: Directory, rng: random.Random, n: int, now: datetime, open_share: float
) -> Iterator[tuple[Any, ...]]:
    """Yield ticket rows (TICKET_COLUMNS order), oldest first, so ids follow creation time."""
    now_ts = now.timestamp()
    start = now_ts - 365 * DAY
    hours = list(range(24))
    hour_weights = [
        1,
        1,
        1,
        1,
        1,
        2,
        4,
        8,
        14,
        18,
        18,
        17,
        15,
        16,
        17,
        16,
        14,
        11,
        8,
        6,
        4,
        3,
        2,
        1,
    ]
    days = rng.choices(range(365), weights=[0.7 + 0.6 * i / 365 for i in range(365)], k=n)
    hrs = rng.choices(hours, weights=hour_weights, k=n)
    times = sorted(
        min(now_ts - 60, start + day * DAY + hour * 3600 + rng.random() * 3600)
        for day, hour in zip(days, hrs, strict=True)
    )
    del days, hrs
    open_idx = _pick_open(rng, times, now_ts, round(n * open_share))

    sites = rng.choices(d.sites, weights=d.site_weights, k=n)
    cats = rng.choices(d.categories, weights=d.category_weights, k=n)
    priorities = _weighted(rng, PRIORITY_WEIGHTS, n)
    channels = [c.value for c in _weighted(rng, CHANNEL_WEIGHTS, n)]
    pairs = {
        p: [(i, u) for i in IMPACT_LEVELS for u in URGENCY_LEVELS if int(priority_for(i, u)) == p]
        for p in (1, 2, 3, 4)
    }
    subjects = [
        template.format(n=rng.randint(1, 12), e=rng.choice(FN_ERRORS), h=rng.randint(2, 48))
        for template in SUBJECTS
        for _ in range(8)
    ]
    lines_engineers = {
        line: (ids, d.engineer_weights[line]) for line, ids in d.engineers_by_line.items()
    }
    fallback_line = min(lines_engineers)
    utc = UTC
    rnd = rng.random
    fromts = datetime.fromtimestamp

    def after(base_ts: float, offset_s: float) -> datetime:
        # An instant `offset_s` after `base_ts` (at least a second), never in the future.
        return fromts(min(now_ts, base_ts + max(1.0, offset_s)), utc)

    def minutes(start: datetime, end: datetime) -> int:
        # Working minutes on the 24/7 calendar, whole minutes as the SLA engine counts them.
        return max(0, int((end - start).total_seconds() // 60))

    # The SLA outcome fields draw from a generator of their own, so that the rows the queue
    # benchmark reads stay those of earlier runs of the same seed.
    srnd = random.Random(SLA_SEED).random

    for i in range(n):
        created_ts = times[i]
        created = fromts(created_ts, utc)
        received = fromts(created_ts - rnd() * 120, utc)
        site = sites[i]
        contract = d.contract[site]
        plan = d.plan_of_contract.get(contract) if contract is not None else None
        priority = priorities[i]
        reg_m, resp_m, resol_m = d.targets.get((plan, priority)) or d.targets[(None, priority)]
        impact, urgency = rng.choice(pairs[priority])
        category_id, line, team = cats[i]
        if line < 3 and rnd() < 0.12:
            line += 1
        registration_due = received + timedelta(minutes=reg_m)
        response_due = received + timedelta(minutes=resp_m)
        paused_minutes = int(rnd() * 600) if rnd() < 0.1 else 0
        resolution_due = received + timedelta(minutes=resol_m + paused_minutes)
        age = now_ts - created_ts
        first_response: datetime | None = None
        resolved: datetime | None = None
        closed: datetime | None = None
        paused_at: datetime | None = None
        resolution_code: str | None = None
        resolution_breached = False
        response_minutes: int | None = None
        resolution_minutes: int | None = None
        # Registration: most requests are classified well within the target, some late.
        reg_s = reg_m * 60 * (srnd() * 0.9 if srnd() < 0.92 else 1 + srnd() * 2)
        registered: datetime | None = after(received.timestamp(), reg_s)

        response_s = resp_m * 60 * (rnd() * 0.9 if rnd() < 0.9 else 1 + rnd())
        if i in open_idx:
            status = rng.choices(OPEN_STATUS_WEIGHTS, weights=[w for _, w in OPEN_STATUS_WEIGHTS])[
                0
            ][0]
            if status != Status.NEW:
                first_response = after(created_ts, min(response_s, age * rnd()))
            if status == Status.WAITING_CLIENT or (
                status == Status.WAITING_VENDOR and d.pause_on_vendor.get(plan, False)
            ):
                paused_at = after(created_ts, age * (0.5 + 0.5 * rnd()))
            assigned = rnd() < (0.4 if status == Status.NEW else 0.95)
            due = queue_due(
                response_due=response_due,
                resolution_due=resolution_due,
                responded=first_response is not None,
                paused=paused_at is not None,
            )
            if status == Status.NEW and srnd() < 0.35:
                registered = None  # nobody has classified it yet
            updated = max(x for x in (created, first_response, paused_at) if x is not None)
            if first_response is not None:
                response_minutes = minutes(received, first_response)
                response_breached = response_minutes > resp_m
            else:
                response_breached = minutes(received, now) > resp_m
            ran = minutes(received, paused_at or now) - paused_minutes
            resolution_breached = ran > resol_m
        else:
            roll = rnd()
            status = Status.CANCELLED if roll < 0.06 else Status.CLOSED
            first_response = after(created_ts, response_s)
            if status == Status.CLOSED:
                resolve_s = resol_m * 60 * (rnd() * 0.8 if rnd() < 0.85 else 1 + rnd() * 2)
                resolved = after(created_ts, max(response_s + 60, resolve_s))
                close_at = resolved.timestamp() + DAY * (1 + rnd() * 2)
                if close_at < now_ts:
                    closed = fromts(close_at, utc)
                else:
                    status = Status.RESOLVED
                resolution_code = rng.choice(RESOLUTION_CODES)
                resolution_minutes = max(0, minutes(received, resolved) - paused_minutes)
                resolution_breached = resolution_minutes > resol_m
            else:
                closed = after(created_ts, response_s + rnd() * 3 * DAY)
                resolution_code = "cancelled"
            assigned = rnd() < 0.98
            due = resolution_due
            updated = closed or resolved or first_response
            response_minutes = minutes(received, first_response)
            response_breached = response_minutes > resp_m
        registration_breached = (
            minutes(received, registered) > reg_m
            if registered is not None
            else minutes(received, now) > reg_m
        )

        assignee: int | None = None
        if assigned:
            ids, weights = lines_engineers.get(line) or lines_engineers[fallback_line]
            assignee = rng.choices(ids, weights=weights)[0]

        yield (
            None,  # external_id
            subjects[int(rnd() * len(subjects))],
            d.holder[site],
            site,
            None,  # contact_id
            None,  # device_id
            contract,
            channels[i],
            category_id or None,
            impact,
            urgency,
            priority,
            line,
            team,
            assignee,
            status.value,
            received,
            created,
            updated,
            first_response,
            resolved,
            closed,
            registration_due,
            response_due,
            resolution_due,
            due,
            paused_at,
            paused_minutes,
            registered,
            registration_breached,
            response_breached,
            resolution_breached,
            response_minutes,
            resolution_minutes,
            0,  # sla_alerts
            None,  # sla_next_alert_at
            resolution_code,
            None,  # resolution_text
            None,  # merged_into_id
            None,  # source_key
            "covered" if contract else "no_contract",  # coverage
            [],  # tags
            [],  # checklist
            1,  # version
        )


_EXPECTED_COLUMNS = [
    "external_id",
    "subject",
    "client_id",
    "site_id",
    "contact_id",
    "device_id",
    "contract_id",
    "channel",
    "category_id",
    "impact",
    "urgency",
    "priority",
    "line",
    "team",
    "assignee_id",
    "status",
    "received_at",
    "created_at",
    "updated_at",
    "first_response_at",
    "resolved_at",
    "closed_at",
    "registration_due_at",
    "response_due_at",
    "resolution_due_at",
    "due_at",
    "paused_at",
    "paused_minutes",
    "registered_at",
    "registration_breached",
    "response_breached",
    "resolution_breached",
    "response_minutes",
    "resolution_minutes",
    "sla_alerts",
    "sla_next_alert_at",
    "resolution_code",
    "resolution_text",
    "merged_into_id",
    "source_key",
    "coverage",
    "tags",
    "checklist",
    "version",
]


def _progress(done: int, total: int, started: float) -> None:
    elapsed = time.perf_counter() - started
    rate = done / elapsed if elapsed else 0.0
    print(f"  {done:>10,} / {total:,} tickets  {elapsed:6.1f} s  {rate:,.0f}/s", flush=True)


def _batches(rows: Iterator[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@contextmanager
def indexes_deferred(store: Store, table: str = "ticket") -> Iterator[None]:
    """Drop `table`'s secondary indexes for the load, then re-create them from their own DDL.

    Building an index once from sorted data is several times faster than maintaining thirteen of
    them row by row. The DDL is read back from the catalog (``sqlite_master.sql``,
    ``pg_indexes.indexdef``), so the schema ends exactly as Alembic created it; indexes that back
    a constraint (primary key, UNIQUE) stay.
    """
    with store.engine.begin() as conn:
        if store.is_sqlite:
            found = conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                "AND sql IS NOT NULL ORDER BY name",
                (table,),
            ).all()
        else:
            found = conn.exec_driver_sql(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = %(t)s "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
                "                WHERE c.conindid = to_regclass(quote_ident(i.indexname))) "
                "ORDER BY i.indexname",
                {"t": table},
            ).all()
        for name, _ in found:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
    print(f"dropped {len(found)} secondary indexes of {table} for the load")
    try:
        yield
    finally:
        started = time.perf_counter()
        with store.engine.begin() as conn:
            if not store.is_sqlite:
                conn.exec_driver_sql("SET maintenance_work_mem = '512MB'")
            for _, ddl in found:
                conn.exec_driver_sql(ddl)
        print(f"re-created {len(found)} indexes in {time.perf_counter() - started:.1f} s")


def load_sqlite(store: Store, rows: Iterator[tuple[Any, ...]], total: int) -> None:
    """Core executemany in batches of `BATCH`, one transaction per batch.

    The rows go through `Connection.exec_driver_sql` with values already in the form SQLAlchemy
    stores them (checked against the column types' own bind processors by `_sqlite_converters`):
    running the per-value type processors of a million rows would triple the load time.
    """
    compiled = insert(Ticket.__table__).compile(  # type: ignore[attr-defined]
        dialect=store.engine.dialect, column_keys=TICKET_COLUMNS
    )
    order = compiled.positiontup or []
    if list(order) != TICKET_COLUMNS:
        raise RuntimeError(f"unexpected parameter order {order}")
    convert = _sqlite_converters(store)
    started = time.perf_counter()
    done = 0
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-1048576")  # 1 GiB for index maintenance
        conn.commit()
        for batch in _batches(rows, BATCH):
            with conn.begin():
                conn.exec_driver_sql(compiled.string, [convert(row) for row in batch])
            done += len(batch)
            _progress(done, total, started)


def _sqlite_timestamp(value: datetime | None) -> str | None:
    # UTCDateTime on SQLite: UTC wall time as text with six fractional digits. The generator's
    # datetimes are all in UTC already: drop the zone instead of converting.
    if value is None:
        return None
    return value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")


def _sqlite_converters(store: Store) -> Any:
    """A row converter to SQLite storage values, verified against SQLAlchemy's bind processors."""
    table = Ticket.__table__  # type: ignore[attr-defined]
    dialect = store.engine.dialect
    stamp_at = [
        k for k, name in enumerate(TICKET_COLUMNS) if isinstance(table.c[name].type, UTCDateTime)
    ]
    json_at = [TICKET_COLUMNS.index("tags"), TICKET_COLUMNS.index("checklist")]
    samples = [
        datetime(2025, 3, 1, 9, 0, tzinfo=UTC),
        datetime(2025, 3, 1, 9, 0, 1, 5, tzinfo=UTC),
        datetime(9999, 1, 1, tzinfo=UTC),
    ]
    processor = table.c.due_at.type.dialect_impl(dialect).bind_processor(dialect)
    for sample in samples:
        if processor(sample) != _sqlite_timestamp(sample):
            raise RuntimeError(f"SQLite timestamp format differs: {processor(sample)!r}")
    json_processor = table.c.tags.type.dialect_impl(dialect).bind_processor(dialect)
    if json_processor is not None and json_processor([]) != "[]":
        raise RuntimeError("SQLite JSON format differs")

    def convert(row: tuple[Any, ...]) -> tuple[Any, ...]:
        values = list(row)
        for k in stamp_at:
            values[k] = _sqlite_timestamp(values[k])
        for k in json_at:
            values[k] = "[]"
        return tuple(values)

    return convert


def load_postgres(store: Store, rows: Iterator[tuple[Any, ...]], total: int) -> None:
    """``COPY ticket (...) FROM STDIN`` through psycopg; FK triggers off for this session only."""
    started = time.perf_counter()
    done = 0
    columns = ", ".join(TICKET_COLUMNS)
    raw = store.engine.raw_connection()
    try:
        dbapi: Any = raw.driver_connection
        with dbapi.cursor() as cursor:
            # The generator draws every reference from the directory it just read: the per-row
            # foreign-key checks (RI triggers) would only cost time. Session-local, superuser.
            cursor.execute("SET session_replication_role = replica")
            with cursor.copy(f"COPY ticket ({columns}) FROM STDIN") as copy:
                for batch in _batches(rows, BATCH):
                    for row in batch:
                        copy.write_row(_pg_row(row))
                    done += len(batch)
                    _progress(done, total, started)
            cursor.execute("SET session_replication_role = DEFAULT")
        dbapi.commit()
    finally:
        raw.close()


_JSON_AT = [TICKET_COLUMNS.index("tags"), TICKET_COLUMNS.index("checklist")]


def _pg_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    for k in _JSON_AT:
        values[k] = "[]"
    return tuple(values)


def write_events(store: Store, *, after_id: int) -> None:
    """Each ticket's trail after `after_id`, derived in SQL from the ticket's own columns.

    Created at receipt, assigned at registration (when assigned), the first response, resolved
    and closed: one ``INSERT … SELECT`` per kind, in ticket order, like the history an
    engineer's work leaves (the same kinds and fields `services.tickets` writes, without the
    messages behind them).
    """
    as_json = "json_quote({})" if store.is_sqlite else "to_json({})"
    empty = "'{}'" if store.is_sqlite else "'{}'::json"
    channel = (
        "json_object('channel', channel)"
        if store.is_sqlite
        else "json_build_object('channel', channel)"
    )
    login = as_json.format("(SELECT e.login FROM engineer e WHERE e.id = ticket.assignee_id)")
    trails = [  # kind, at, after, details, which tickets
        ("created", "received_at", "NULL", channel, "TRUE"),
        (
            "assignee",
            "coalesce(registered_at, created_at)",
            login,
            empty,
            "assignee_id IS NOT NULL",
        ),
        ("first_response", "first_response_at", "NULL", empty, "first_response_at IS NOT NULL"),
        (
            "resolved",
            "resolved_at",
            as_json.format("resolution_code"),
            empty,
            "resolved_at IS NOT NULL",
        ),
        ("closed", "closed_at", "NULL", empty, "closed_at IS NOT NULL"),
    ]
    started = time.perf_counter()
    written = 0
    with store.engine.begin() as conn:
        if store.is_sqlite:
            conn.exec_driver_sql("PRAGMA cache_size=-1048576")
        for kind, at, after, details, which in trails:
            actor = "assignee_id" if kind in ("first_response", "resolved") else "NULL"
            written += conn.exec_driver_sql(
                'INSERT INTO event (ticket_id, at, actor_id, kind, "before", "after", details) '
                f"SELECT id, {at}, {actor}, '{kind}', NULL, {after}, {details} FROM ticket "
                f"WHERE id > {int(after_id)} AND {which} ORDER BY id"
            ).rowcount
    print(f"wrote {written:,} events in {time.perf_counter() - started:.1f} s", flush=True)


def ensure_postgres_database(url: str) -> None:
    """CREATE DATABASE if it does not exist (through the server's `postgres` database)."""
    import psycopg

    parsed = make_url(normalise_url(url))
    name = parsed.database
    if not name:
        raise SystemExit("the PostgreSQL URL names no database")
    admin = parsed.set(drivername="postgresql", database="postgres").render_as_string(
        hide_password=False
    )
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="store URL or SQLite path")
    parser.add_argument("--tickets", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--open-share", type=float, default=0.03)
    parser.add_argument(
        "--append", action="store_true", help="add tickets to a store that already has some"
    )
    parser.add_argument(
        "--create-db",
        action="store_true",
        help="PostgreSQL: CREATE DATABASE first when it does not exist",
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="write each new ticket's event trail too (about 4 events a ticket)",
    )
    args = parser.parse_args(argv)
    assert TICKET_COLUMNS == _EXPECTED_COLUMNS, TICKET_COLUMNS

    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    if args.create_db and normalise_url(args.db).startswith("postgresql"):
        ensure_postgres_database(args.db)
    store = Store(args.db)
    began = time.perf_counter()
    store.upgrade()
    with store.reader() as session:
        existing = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
        has_directory = session.execute(select(func.count()).select_from(Client)).scalar_one() > 0
    if existing and not args.append:
        print(
            f"{store.describe()} already holds {existing:,} tickets; use --append to add more",
            file=sys.stderr,
        )
        return 2
    if not has_directory:
        build_directory(store, rng, now)
    directory = load_directory(store, rng)
    print(
        f"directory: {len(directory.sites)} sites, "
        f"{sum(len(v) for v in directory.engineers_by_line.values())} engineers, "
        f"{len(directory.categories)} categories ({time.perf_counter() - began:.1f} s)"
    )

    with store.reader() as session:
        before_id = session.execute(select(func.max(Ticket.id))).scalar_one() or 0
    rows = ticket_rows(directory, rng, args.tickets, now, args.open_share)
    loaded = time.perf_counter()
    with indexes_deferred(store):
        if store.is_sqlite:
            load_sqlite(store, rows, args.tickets)
        else:
            load_postgres(store, rows, args.tickets)
    load_s = time.perf_counter() - loaded
    if args.events:
        write_events(store, after_id=before_id)

    indexed = time.perf_counter()
    from sdconsole.storage import search

    with store.transaction() as session:  # the full-text index: bulk loads bypass its hook
        search.rebuild_all(session)
    print(f"full-text index built in {time.perf_counter() - indexed:.1f} s", flush=True)

    analyzed = time.perf_counter()
    if store.is_sqlite:
        raw = store.engine.raw_connection()  # autocommit: the engine hands SQLite BEGIN itself
        try:
            raw.driver_connection.execute("ANALYZE")  # type: ignore[union-attr]
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[union-attr]
        finally:
            raw.close()
    else:
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    analyze_s = time.perf_counter() - analyzed

    with store.reader() as session:
        total = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
        open_count = session.execute(
            select(func.count())
            .select_from(Ticket)
            .where(text("status IN (" + ", ".join(f"'{s.value}'" for s in OPEN_STATUSES) + ")"))
        ).scalar_one()
    store.dispose()
    print(
        f"loaded {args.tickets:,} tickets in {load_s:.1f} s, ANALYZE {analyze_s:.1f} s, "
        f"total {time.perf_counter() - began:.1f} s; store holds {total:,} tickets, "
        f"{open_count:,} open"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
