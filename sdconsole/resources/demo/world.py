"""Provides the demo world: chains, cities, people, engineers, devices, catalogue, SLA plans.

Plain data; `sdconsole.services.demo` turns it into table rows with a seeded random generator.
"""

from __future__ import annotations

from dataclasses import dataclass

SUPPORT_COMPANY = "КассаСервис"
SUPPORT_DOMAIN = "kassaservice.example"
SUPPORT_EMAIL = f"support@{SUPPORT_DOMAIN}"
SHOP_HOURS = (8, 9, 9, 10, 10, 10, 11, 11, 12, 13, 14, 15, 16, 17, 18, 18, 19, 19, 20, 21)
"""Local hours at which shops write, weighted towards the morning and the evening rush."""
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
        "х": "kh",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "shch",
        "ъ": "",
        "ы": "y",
        "ь": "",
        "э": "e",
        "ю": "yu",
        "я": "ya",
    }
)
"""Cyrillic to Latin for e-mail addresses and logins."""


@dataclass(frozen=True, slots=True)
class City:
    """A city where shops stand."""

    name: str
    region: str
    """Two-digit region code: the first digits of INN and KPP."""
    postcodes: tuple[str, ...]
    """Three-digit post-code prefixes."""
    timezone: str
    streets: tuple[str, ...] = ()
    """Streets typical of this city, mixed with `STREETS`."""


CITIES: dict[str, City] = {
    c.name: c
    for c in (
        City(
            "Калининград",
            "39",
            ("236",),
            "Europe/Kaliningrad",
            ("Ленинский пр-т", "ул. Черняховского", "ул. Горького", "Московский пр-т"),
        ),
        City(
            "Москва",
            "77",
            ("105", "115", "117", "121", "125", "129"),
            "Europe/Moscow",
            (
                "Профсоюзная ул.",
                "Ленинградское ш.",
                "ул. Народного Ополчения",
                "Варшавское ш.",
                "ул. Бутлерова",
                "Дмитровское ш.",
            ),
        ),
        City(
            "Санкт-Петербург",
            "78",
            ("190", "194", "196", "197"),
            "Europe/Moscow",
            ("Лиговский пр.", "Гражданский пр.", "ул. Савушкина", "Московский пр."),
        ),
        City(
            "Нижний Новгород",
            "52",
            ("603",),
            "Europe/Moscow",
            ("ул. Большая Покровская", "пр. Гагарина", "ул. Родионова"),
        ),
        City(
            "Казань",
            "16",
            ("420",),
            "Europe/Moscow",
            ("ул. Баумана", "пр. Победы", "ул. Чистопольская"),
        ),
        City(
            "Самара",
            "63",
            ("443",),
            "Europe/Samara",
            ("ул. Ново-Садовая", "Московское ш.", "ул. Стара-Загора", "ул. Победы"),
        ),
        City(
            "Екатеринбург",
            "66",
            ("620",),
            "Asia/Yekaterinburg",
            ("ул. Малышева", "ул. Вайнера", "ул. Белинского", "ул. Викулова"),
        ),
        City(
            "Челябинск",
            "74",
            ("454",),
            "Asia/Yekaterinburg",
            ("пр. Ленина", "ул. Кирова", "Комсомольский пр."),
        ),
        City("Тюмень", "72", ("625",), "Asia/Yekaterinburg", ("ул. Республики", "ул. Мельникайте")),
        City("Омск", "55", ("644",), "Asia/Omsk", ("ул. Маршала Жукова", "пр. Карла Маркса")),
        City(
            "Новосибирск",
            "54",
            ("630",),
            "Asia/Novosibirsk",
            ("Красный пр.", "ул. Богдана Хмельницкого", "ул. Большевистская", "ул. Петухова"),
        ),
        City(
            "Красноярск",
            "24",
            ("660",),
            "Asia/Krasnoyarsk",
            ("пр. Мира", "ул. Взлётная", "ул. 9 Мая"),
        ),
        City(
            "Иркутск",
            "38",
            ("664",),
            "Asia/Irkutsk",
            ("ул. Карла Маркса", "ул. Байкальская", "ул. Лермонтова"),
        ),
        City(
            "Хабаровск",
            "27",
            ("680",),
            "Asia/Vladivostok",
            ("ул. Муравьёва-Амурского", "ул. Карла Маркса"),
        ),
        City(
            "Владивосток",
            "25",
            ("690",),
            "Asia/Vladivostok",
            ("ул. Светланская", "Океанский пр-т", "ул. Русская", "ул. Калинина"),
        ),
    )
}

STREETS = (
    "ул. Ленина",
    "ул. Советская",
    "пр. Мира",
    "ул. Гагарина",
    "ул. Молодёжная",
    "ул. Центральная",
    "ул. Садовая",
    "ул. Пушкина",
    "ул. Кирова",
    "ул. Московская",
    "ул. Победы",
    "ул. Строителей",
    "ул. Комсомольская",
    "ул. Октябрьская",
    "ул. Чапаева",
    "ул. Лесная",
    "ул. Первомайская",
    "ул. Заводская",
    "ул. Мичурина",
    "ул. Карла Маркса",
    "ул. Фрунзе",
    "ул. Горького",
    "ул. Школьная",
    "ул. Набережная",
    "ул. Свободы",
    "ул. Дзержинского",
    "ул. Куйбышева",
    "ул. Луначарского",
    "ул. 8 Марта",
    "ул. Рабочая",
    "бул. Энтузиастов",
    "ул. Титова",
)


@dataclass(frozen=True, slots=True)
class LegalSpec:
    """A legal entity of a chain and where its shops are."""

    key: str
    name: str
    cities: tuple[tuple[str, int], ...]
    """(city, number of shops)."""
    sole_trader: bool = False
    """An individual entrepreneur: 12-digit INN, no KPP."""


@dataclass(frozen=True, slots=True)
class ChainSpec:
    """A retail chain and the equipment a typical shop of it has."""

    key: str
    name: str
    segment: str
    shop: str
    """How a shop is called in its name, e.g. «Амбар у дома»."""
    domain: str
    manager_title: str
    legal: tuple[LegalSpec, ...]
    kkt_models: tuple[str, ...]
    kkt_per_site: tuple[int, int]
    fn_model: str
    fn_lifetime_days: int
    """Key validity of the chain's drives (410 for excise goods, DOMAIN.md §1.2)."""
    utm: bool = False
    server: bool = False
    scales: tuple[int, int] = (0, 0)
    numbers_from: int = 100


CHAINS: tuple[ChainSpec, ...] = (
    ChainSpec(
        "AMBAR",
        "Амбар у дома",
        "grocery",
        "Амбар у дома",
        "ambar-market.example",
        "Директор магазина",
        (
            LegalSpec("1", "ООО «Амбар Запад»", (("Калининград", 3), ("Санкт-Петербург", 3))),
            LegalSpec(
                "2", "ООО «Амбар Центр»", (("Москва", 3), ("Нижний Новгород", 2), ("Казань", 1))
            ),
            LegalSpec(
                "3", "ООО «Амбар Урал»", (("Самара", 2), ("Екатеринбург", 3), ("Челябинск", 2))
            ),
            LegalSpec(
                "4", "ООО «Амбар Сибирь»", (("Новосибирск", 3), ("Омск", 1), ("Красноярск", 2))
            ),
        ),
        ("АТОЛ 30Ф", "АТОЛ 55Ф", "АТОЛ 55Ф", "Штрих-М-01Ф", "Штрих-М-01Ф", "Пирит 2Ф"),
        (7, 11),
        "ФН-1.1М исп. Ин15-1М",
        410,
        utm=True,
        server=True,
        scales=(1, 2),
        numbers_from=100,
    ),
    ChainSpec(
        "ZHIVICA",
        "Аптеки «Живица»",
        "pharmacy",
        "Аптека «Живица»",
        "zhivica-apteka.example",
        "Заведующая аптекой",
        (
            LegalSpec("1", "ООО «Живица-Фарм»", (("Москва", 4), ("Самара", 2), ("Тюмень", 2))),
            LegalSpec(
                "2", "ООО «Живица Восток»", (("Иркутск", 3), ("Хабаровск", 2), ("Владивосток", 3))
            ),
        ),
        ("Эвотор 7.2", "Эвотор 7.2", "Меркурий-185Ф", "АТОЛ Sigma 10", "Дримкас-Ф"),
        (2, 3),
        "ФН-1.1М исп. Ин36-1М",
        1110,
        numbers_from=200,
    ),
    ChainSpec(
        "STROYKLAD",
        "СтройКлад",
        "diy",
        "Гипермаркет СтройКлад",
        "stroyklad.example",
        "Директор гипермаркета",
        (
            LegalSpec(
                "1",
                "ООО «СтройКлад Ритейл»",
                (
                    ("Москва", 1),
                    ("Санкт-Петербург", 1),
                    ("Екатеринбург", 1),
                    ("Новосибирск", 1),
                    ("Красноярск", 1),
                    ("Владивосток", 1),
                ),
            ),
        ),
        ("АТОЛ 55Ф", "АТОЛ 30Ф", "Штрих-М-01Ф", "Дримкас-Ф"),
        (10, 16),
        "ФН-1.1М исп. Ин15-1М",
        470,
        server=True,
        numbers_from=300,
    ),
    ChainSpec(
        "ZERNO",
        "Кофейни «Зерно и пар»",
        "horeca",
        "Кофейня «Зерно и пар»",
        "zerno-i-par.example",
        "Управляющий",
        (LegalSpec("1", "ИП Кравченко Денис Олегович", (("Калининград", 2),), sole_trader=True),),
        ("Эвотор 7.2", "АТОЛ Sigma 10"),
        (1, 1),
        "ФН-1.1М исп. Ин36-1М",
        1110,
        numbers_from=400,
    ),
)


@dataclass(frozen=True, slots=True)
class KktModel:
    """How serials and firmware of a register model look."""

    serial_prefix: str
    serial_length: int
    firmware: tuple[str, ...]


KKT_MODELS: dict[str, KktModel] = {
    "АТОЛ 30Ф": KktModel("00106", 14, ("5.8.100", "5.10.2")),
    "АТОЛ 55Ф": KktModel("00105", 14, ("5.8.100", "5.10.2")),
    "АТОЛ Sigma 10": KktModel("00108", 14, ("5.8.16", "5.9.2")),
    "Штрих-М-01Ф": KktModel("04969", 16, ("C.1 2023-05-16", "C.1 2024-02-07")),
    "Пирит 2Ф": KktModel("0295", 10, ("665", "666")),
    "Эвотор 7.2": KktModel("0010570", 16, ("4.9.8", "5.1.4")),
    "Меркурий-185Ф": KktModel("0312", 8, ("1.2.28",)),
    "Дримкас-Ф": KktModel("0492", 12, ("3.4.1",)),
}

FN_PREFIXES = {"ФН-1.1М исп. Ин15-1М": "7380440", "ФН-1.1М исп. Ин36-1М": "7281440"}
OFD_NAMES = ("Такском", "Первый ОФД", "ОФД.ру", "Контур.ОФД", "Платформа ОФД")

FEMALE_FIRST = (
    "Анна",
    "Елена",
    "Ольга",
    "Наталья",
    "Ирина",
    "Татьяна",
    "Светлана",
    "Екатерина",
    "Мария",
    "Юлия",
    "Марина",
    "Людмила",
    "Галина",
    "Оксана",
    "Валентина",
    "Дарья",
    "Алёна",
    "Ксения",
    "Надежда",
    "Вера",
    "Лариса",
    "Жанна",
)
MALE_FIRST = (
    "Александр",
    "Алексей",
    "Андрей",
    "Артём",
    "Владимир",
    "Дмитрий",
    "Евгений",
    "Иван",
    "Игорь",
    "Максим",
    "Михаил",
    "Николай",
    "Олег",
    "Павел",
    "Роман",
    "Сергей",
    "Юрий",
    "Константин",
    "Виктор",
    "Денис",
    "Руслан",
    "Тимур",
)
PATRONYMIC_ROOTS = (
    ("Александров", "ич", "на"),
    ("Сергеев", "ич", "на"),
    ("Викторов", "ич", "на"),
    ("Николаев", "ич", "на"),
    ("Владимиров", "ич", "на"),
    ("Андреев", "ич", "на"),
    ("Петров", "ич", "на"),
    ("Юрьев", "ич", "на"),
    ("Михайлов", "ич", "на"),
    ("Олегов", "ич", "на"),
    ("Игорев", "ич", "на"),
    ("Анатольев", "ич", "на"),
)
LAST_NAMES = (
    "Иванов",
    "Смирнов",
    "Кузнецов",
    "Попов",
    "Васильев",
    "Соколов",
    "Михайлов",
    "Новиков",
    "Морозов",
    "Волков",
    "Алексеев",
    "Лебедев",
    "Семёнов",
    "Егоров",
    "Павлов",
    "Козлов",
    "Степанов",
    "Николаев",
    "Орлов",
    "Андреев",
    "Макаров",
    "Захаров",
    "Зайцев",
    "Борисов",
    "Яковлев",
    "Григорьев",
    "Романов",
    "Воробьёв",
    "Сергеев",
    "Кузьмин",
    "Фролов",
    "Дмитриев",
    "Королёв",
    "Киселёв",
    "Ильин",
    "Максимов",
    "Поляков",
    "Сорокин",
    "Виноградов",
    "Ковалёв",
    "Медведев",
    "Антонов",
    "Тарасов",
    "Жуков",
    "Баранов",
    "Филиппов",
    "Комаров",
    "Давыдов",
    "Богданов",
    "Осипов",
    "Сидоров",
    "Матвеев",
    "Марков",
    "Миронов",
    "Крылов",
    "Куликов",
    "Карпов",
    "Власов",
    "Мельников",
    "Денисов",
    "Тихонов",
    "Казаков",
    "Афанасьев",
    "Данилов",
    "Савельев",
    "Фомин",
    "Чернов",
    "Мартынов",
    "Щербаков",
    "Назаров",
    "Калинин",
    "Исаев",
    "Быков",
    "Маслов",
    "Родионов",
    "Коновалов",
    "Лазарев",
    "Воронин",
    "Климов",
    "Голубев",
    "Кудрявцев",
    "Прохоров",
    "Наумов",
    "Потапов",
    "Журавлёв",
    "Трофимов",
    "Соболев",
    "Ермаков",
    "Гончаров",
    "Никифоров",
    "Котов",
    "Громов",
    "Малышев",
    "Румянцев",
    "Горбунов",
    "Скворцов",
    "Белоусов",
    "Нестеров",
    "Цветков",
    "Логинов",
    "Краснов",
    "Демидов",
    "Плотников",
    "Жданов",
    "Островский",
    "Вишневский",
    "Шевчук",
    "Ткаченко",
    "Бондаренко",
    "Литвиненко",
)

SITE_CONTACT_TITLES = ("Старший кассир", "Администратор зала", "Кассир", "Заместитель директора")
LEGAL_CONTACT_TITLES = ("Главный бухгалтер", "ИТ-специалист", "Бухгалтер")
CHAIN_CONTACT_TITLES = ("ИТ-директор", "Руководитель отдела эксплуатации")


@dataclass(frozen=True, slots=True)
class EngineerSpec:
    """One of the support company's engineers."""

    login: str
    name: str
    female: bool
    role: str
    lines: tuple[int, ...]
    teams: tuple[str, ...]
    skills: tuple[str, ...]
    timezone: str = "Europe/Moscow"
    telegram_id: str | None = None
    leaves_after_days: int | None = None
    """Worked only on tickets older than this many days; inactive in the demo's present."""


ENGINEERS: tuple[EngineerSpec, ...] = (
    EngineerSpec(
        "d.kuznetsov",
        "Кузнецов Дмитрий Андреевич",
        False,
        "admin",
        (3,),
        ("kkt", "network"),
        ("atol", "shtrih", "mikrotik", "postgresql"),
        telegram_id="100200301",
    ),
    EngineerSpec(
        "o.morozova",
        "Морозова Ольга Сергеевна",
        True,
        "lead",
        (1,),
        ("kkt", "egais", "1c"),
        ("atol", "evotor", "egais"),
        telegram_id="100200302",
    ),
    EngineerSpec(
        "s.volkov",
        "Волков Сергей Николаевич",
        False,
        "lead",
        (2,),
        ("kkt", "network"),
        ("atol", "shtrih", "fn", "mikrotik"),
    ),
    EngineerSpec(
        "a.smirnova",
        "Смирнова Анна Викторовна",
        True,
        "engineer",
        (1,),
        ("kkt", "egais"),
        ("atol", "evotor", "egais"),
        telegram_id="100200304",
    ),
    EngineerSpec(
        "i.petrov",
        "Петров Иван Олегович",
        False,
        "engineer",
        (1,),
        ("kkt",),
        ("atol", "shtrih", "pirit"),
    ),
    EngineerSpec(
        "e.sokolova",
        "Соколова Екатерина Игоревна",
        True,
        "engineer",
        (1,),
        ("1c", "kkt"),
        ("1c:retail", "frontol"),
    ),
    EngineerSpec(
        "m.lebedev",
        "Лебедев Максим Юрьевич",
        False,
        "engineer",
        (1,),
        ("kkt", "network"),
        ("atol", "mikrotik"),
        telegram_id="100200307",
    ),
    EngineerSpec(
        "n.kozlova",
        "Козлова Наталья Петровна",
        True,
        "engineer",
        (1,),
        ("egais", "kkt"),
        ("egais", "chz"),
    ),
    EngineerSpec(
        "p.novikov",
        "Новиков Павел Александрович",
        False,
        "engineer",
        (1,),
        ("kkt", "egais"),
        ("atol", "evotor"),
        timezone="Asia/Novosibirsk",
        telegram_id="100200309",
    ),
    EngineerSpec(
        "g.nikitin",
        "Никитин Григорий Васильевич",
        False,
        "engineer",
        (1,),
        ("kkt",),
        ("atol",),
        leaves_after_days=45,
    ),
    EngineerSpec(
        "a.fedorov",
        "Фёдоров Алексей Михайлович",
        False,
        "engineer",
        (2,),
        ("kkt",),
        ("atol", "shtrih", "fn", "rereg"),
    ),
    EngineerSpec(
        "t.orlova",
        "Орлова Татьяна Владимировна",
        True,
        "engineer",
        (2,),
        ("1c",),
        ("1c:retail", "1c:ut", "exchange"),
    ),
    EngineerSpec(
        "r.gusev",
        "Гусев Роман Андреевич",
        False,
        "engineer",
        (2,),
        ("egais", "kkt"),
        ("egais", "utm", "chz"),
    ),
    EngineerSpec(
        "v.titov",
        "Титов Владимир Сергеевич",
        False,
        "engineer",
        (2,),
        ("network",),
        ("mikrotik", "vpn", "zabbix"),
        timezone="Asia/Yekaterinburg",
    ),
    EngineerSpec(
        "k.belov",
        "Белов Кирилл Николаевич",
        False,
        "engineer",
        (3,),
        ("kkt", "egais"),
        ("atol", "firmware", "fn", "utm"),
    ),
    EngineerSpec(
        "yu.zaitseva",
        "Зайцева Юлия Андреевна",
        True,
        "engineer",
        (3,),
        ("1c",),
        ("1c:dev", "exchange"),
    ),
)

DEMO_LOGIN = "a.smirnova"
"""The engineer the demo console opens as."""


@dataclass(frozen=True, slots=True)
class CategorySpec:
    """A node of the incident catalogue."""

    code: str
    name_ru: str
    name_en: str
    impact: int = 2
    urgency: int = 2
    line: int = 1
    team: str | None = None
    keywords: tuple[str, ...] = ()


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "kkt", "ККТ и фискальные накопители", "Cash registers and fiscal drives", team="kkt"
    ),
    CategorySpec(
        "kkt.print",
        "Печать чеков",
        "Receipt printing",
        2,
        1,
        team="kkt",
        keywords=("не печата", "лент", "бумаг", "принтер", "пустые чеки"),
    ),
    CategorySpec(
        "kkt.error",
        "Ошибки ККТ",
        "Register errors",
        2,
        1,
        team="kkt",
        keywords=("нет связи с ккт", "ккт не отвеча", "не пробива", "ошибку"),
    ),
    CategorySpec(
        "kkt.shift",
        "Смена более 24 часов",
        "Shift over 24 hours",
        1,
        1,
        team="kkt",
        keywords=("24 час", "смена превыс", "3822", "закрыть смен"),
    ),
    CategorySpec("kkt.fn", "Фискальный накопитель", "Fiscal drive", team="kkt"),
    CategorySpec(
        "kkt.fn.expiry",
        "Окончание срока ФН",
        "Fiscal drive expiry",
        2,
        3,
        team="kkt",
        keywords=("ресурс фн", "замен фн", "замена фискальн", "фн заканчива", "срок фн"),
    ),
    CategorySpec(
        "kkt.fn.blocked",
        "ФН исчерпан или заблокирован",
        "Fiscal drive blocked",
        1,
        1,
        2,
        "kkt",
        ("фн исчерпан", "ресурс исчерпан", "заблокирова", "архив фн"),
    ),
    CategorySpec("kkt.ofd", "Передача данных в ОФД", "Data transfer to the OFD", team="kkt"),
    CategorySpec(
        "kkt.ofd.backlog",
        "Неотправленные документы в ОФД",
        "OFD backlog",
        2,
        1,
        team="kkt",
        keywords=("офд", "не уход", "неотправлен"),
    ),
    CategorySpec(
        "kkt.ofd.contract",
        "Договор с ОФД",
        "OFD contract",
        2,
        2,
        team="kkt",
        keywords=("договор", "оплата офд", "продлен", "код активац"),
    ),
    CategorySpec(
        "kkt.rereg",
        "Регистрация и перерегистрация ККТ",
        "Register (re)registration",
        3,
        3,
        2,
        "kkt",
        ("перерегистр", "регистрац", "сменить офд"),
    ),
    CategorySpec(
        "kkt.driver",
        "Драйвер ККТ и подключение к 1С",
        "Register driver and 1C link",
        2,
        2,
        team="kkt",
        keywords=("драйвер", "не видит ккт", "подключен оборудован"),
    ),
    CategorySpec(
        "kkt.consult",
        "Консультации по работе с ККТ",
        "Register how-to",
        2,
        2,
        team="kkt",
        keywords=("как сделать", "как пробить", "чек коррекц", "возврат", "дубликат"),
    ),
    CategorySpec("egais", "ЕГАИС и УТМ", "EGAIS and UTM", team="egais"),
    CategorySpec("egais.utm", "Транспортный модуль УТМ", "UTM transport module", team="egais"),
    CategorySpec(
        "egais.utm.down",
        "УТМ не работает",
        "UTM down",
        1,
        1,
        team="egais",
        keywords=("утм", "транспортн модул", "rsa", "рутокен", "jacarta"),
    ),
    CategorySpec(
        "egais.utm.cert",
        "Ключи RSA и ГОСТ",
        "RSA and GOST keys",
        2,
        2,
        2,
        "egais",
        ("сертификат", "ключ rsa", "гост", "кэп"),
    ),
    CategorySpec(
        "egais.docs",
        "Документы ЕГАИС",
        "EGAIS documents",
        2,
        2,
        team="egais",
        keywords=("ттн", "накладн", "егаис", "акт списан", "остатк"),
    ),
    CategorySpec("chz", "Маркировка «Честный знак»", "Marking (Chestny Znak)", team="egais"),
    CategorySpec(
        "chz.check",
        "Проверка кодов маркировки",
        "Marking code checks",
        2,
        1,
        team="egais",
        keywords=("маркировк", "честный знак", "выбыл", "код не найден"),
    ),
    CategorySpec(
        "chz.lm",
        "Локальный модуль ЧЗ",
        "Chestny Znak local module",
        2,
        1,
        2,
        "egais",
        ("локальн модул", "лм чз", "синхронизац"),
    ),
    CategorySpec("pos", "Кассовое ПО и оборудование", "POS software and peripherals", team="kkt"),
    CategorySpec(
        "pos.app",
        "Кассовая программа",
        "POS application",
        2,
        1,
        team="kkt",
        keywords=("завис", "вылета", "кассов программ", "frontol", "фронтол"),
    ),
    CategorySpec(
        "pos.payment",
        "Оплата картами",
        "Card payments",
        2,
        1,
        team="kkt",
        keywords=("терминал", "эквайринг", "по карте", "сверк итог"),
    ),
    CategorySpec(
        "pos.scales", "Весы", "Scales", 2, 2, team="kkt", keywords=("весы", "весах", "весов", "plu")
    ),
    CategorySpec(
        "pos.scanner",
        "Сканеры штрихкодов",
        "Barcode scanners",
        2,
        2,
        team="kkt",
        keywords=("сканер", "штрихкод", "штрих код"),
    ),
    CategorySpec("1c", "1С", "1C", team="1c"),
    CategorySpec(
        "1c.exchange",
        "Обмен 1С с кассами",
        "1C to POS exchange",
        2,
        1,
        team="1c",
        keywords=("обмен", "цены", "переоценк", "выгрузк"),
    ),
    CategorySpec(
        "1c.update",
        "Обновление и ошибки 1С",
        "1C updates and errors",
        2,
        2,
        2,
        "1c",
        ("обновлен", "не запуска", "конфигурац", "лицензи"),
    ),
    CategorySpec(
        "1c.consult",
        "Консультации по 1С",
        "1C how-to",
        2,
        2,
        team="1c",
        keywords=("отчет", "выручк", "сформирова"),
    ),
    CategorySpec("network", "Сеть и связь", "Network", team="network"),
    CategorySpec(
        "network.internet",
        "Нет интернета",
        "No internet",
        1,
        2,
        team="network",
        keywords=("интернет", "провайдер", "роутер"),
    ),
    CategorySpec(
        "network.vpn",
        "VPN и удалённый доступ",
        "VPN and remote access",
        3,
        2,
        team="network",
        keywords=("vpn", "удаленн доступ", "anydesk"),
    ),
    CategorySpec(
        "network.agent",
        "Агент мониторинга",
        "Monitoring agent",
        3,
        2,
        team="network",
        keywords=("агент",),
    ),
    CategorySpec("service", "Сервисные работы", "Service work", 3, 3),
    CategorySpec(
        "service.access",
        "Учётные записи и права",
        "Accounts and rights",
        3,
        3,
        team="kkt",
        keywords=("пароль", "нового кассира", "учетн запис", "уволенн"),
    ),
    CategorySpec(
        "service.install",
        "Установка и перенос оборудования",
        "Installation",
        3,
        3,
        2,
        "kkt",
        ("установк", "подключить нов", "перенос", "монтаж"),
    ),
)


def _days(first: int, last: int, start: str, end: str) -> dict[str, list[list[str]]]:
    return {str(day): [[start, end]] for day in range(first, last + 1)}


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """A business calendar."""

    code: str
    name: str
    timezone: str | None
    is_24x7: bool
    weekly: dict[str, list[list[str]]]


CALENDARS: tuple[CalendarSpec, ...] = (
    CalendarSpec("24x7", "Круглосуточно, без выходных", None, True, {}),
    CalendarSpec(
        "daily-08-22",
        "Ежедневно 08:00–22:00 (время магазина)",
        None,
        False,
        _days(1, 7, "08:00", "22:00"),
    ),
    CalendarSpec(
        "wd-09-18", "Пн–Пт 09:00–18:00 (время магазина)", None, False, _days(1, 5, "09:00", "18:00")
    ),
    CalendarSpec(
        "msk-09-18", "Пн–Пт 09:00–18:00 МСК", "Europe/Moscow", False, _days(1, 5, "09:00", "18:00")
    ),
)


@dataclass(frozen=True, slots=True)
class PlanSpec:
    """An SLA plan: per priority (reaction, resolution) minutes and the target's calendar."""

    code: str
    name: str
    calendar: str
    pause_on_vendor: bool
    targets: dict[int, tuple[int, int, str | None]]


PLANS: tuple[PlanSpec, ...] = (
    PlanSpec(
        "gold",
        "Золотой 24/7",
        "24x7",
        False,
        {1: (15, 240, None), 2: (30, 480, None), 3: (180, 4320, None), 4: (1440, 7200, None)},
    ),
    PlanSpec(
        "standard",
        "Стандарт: 08–22 ежедневно",
        "daily-08-22",
        False,
        {1: (15, 240, "24x7"), 2: (30, 480, None), 3: (180, 2520, None), 4: (840, 4200, None)},
    ),
    PlanSpec(
        "business",
        "Бизнес: Пн–Пт 09–18",
        "wd-09-18",
        True,
        {1: (30, 480, "24x7"), 2: (60, 540, None), 3: (180, 1620, None), 4: (540, 2700, None)},
    ),
    PlanSpec(
        "basic",
        "Базовый: по заявкам",
        "msk-09-18",
        True,
        {1: (60, 960, None), 2: (120, 1080, None), 3: (540, 2700, None), 4: (1080, 5400, None)},
    ),
)


@dataclass(frozen=True, slots=True)
class ContractSpec:
    """A contract; dates are days relative to the demo's "now" (negative: in the past)."""

    number: str
    holder: str
    """External id of the client: ``CH-…`` chain or ``LE-…`` legal entity."""
    kind: str
    plan: str
    start: int
    end: int | None
    categories: tuple[str, ...] = ()
    hours: int | None = None
    price: int | None = None
    """A month of a subscription or package; a request (per request); a work (one-off)."""
    hourly_rate: int | None = 2_500
    """An hour over the package, or of work the contract does not cover."""
    rounding: int = 15
    carry_over: int = 0
    notes: str = ""


CONTRACTS: tuple[ContractSpec, ...] = (
    ContractSpec(
        "СО-2024/031",
        "CH-AMBAR",
        "subscription",
        "gold",
        -800,
        -421,
        price=123_000,
        notes="Предыдущий договор абонентского обслуживания, завершён.",
    ),
    ContractSpec(
        "СО-2025/014",
        "CH-AMBAR",
        "subscription",
        "gold",
        -420,
        310,
        price=154_000,
        notes="Абонентское обслуживание 24/7, выезды в пределах города включены.",
    ),
    ContractSpec(
        "СО-2025/022",
        "LE-ZHIVICA-1",
        "subscription",
        "standard",
        -365,
        365,
        price=53_000,
        notes="Обслуживание ККТ, ЕГАИС не входит.",
    ),
    ContractSpec(
        "СО-2024/118",
        "LE-ZHIVICA-2",
        "subscription",
        "standard",
        -400,
        -35,
        price=35_000,
        notes="Не продлён клиентом: переведены на обслуживание по заявкам.",
    ),
    ContractSpec(
        "ЗП-2026/007",
        "LE-ZHIVICA-2",
        "per_request",
        "basic",
        -34,
        None,
        price=3_500,
        notes="Цена за заявку; выезд оплачивается отдельно.",
    ),
    ContractSpec(
        "СО-2025/040",
        "LE-STROYKLAD-1",
        "subscription",
        "business",
        -300,
        430,
        price=82_000,
        notes="Рабочие дни 09–18 по времени магазина; P1 круглосуточно.",
    ),
    ContractSpec(
        "ПЧ-2026/003",
        "LE-ZERNO-1",
        "hours_package",
        "standard",
        -300,
        65,
        hours=10,
        price=25_000,
        hourly_rate=2_200,
        carry_over=1,
        notes="10 часов в месяц; неиспользованные часы переносятся на следующий месяц.",
    ),
    ContractSpec(
        "РЗ-2026/051",
        "LE-ZERNO-1",
        "one_off",
        "basic",
        -70,
        -55,
        ("kkt.fn", "kkt.rereg"),
        price=7_800,
        notes="Разовые работы: замена ФН и перерегистрация ККТ.",
    ),
)
