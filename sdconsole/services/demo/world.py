"""Provides `World`, the demo's directory, and `Site` and `DemoEngineer`, the handles to it that
`History` works with. `World` inserts the directory rows on construction, drawing from
`sdconsole.resources.demo.world` with the seeded random generator: business calendars, SLA plans
and their targets, the incident catalogue, engineers, chains with their legal entities and shops,
contacts, devices (cash registers whose INN and registration numbers carry valid check digits,
UTM transport modules, servers, scales) and contracts; after history has been replayed,
`World.finish` adds the finishing touches (the delivered outbox, ratings, engineers who left,
device health).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TypeVar

from sqlalchemy import select, update
from sqlmodel import Session

from sdconsole.domain.identifiers import (
    INN10_WEIGHTS,
    INN12_WEIGHTS_11,
    INN12_WEIGHTS_12,
    reg_number_check,
)
from sdconsole.domain.model import Actor, ClientKind, Role
from sdconsole.resources.demo import threads as T
from sdconsole.resources.demo import world as W
from sdconsole.storage.tables import (
    BusinessCalendar,
    Category,
    Client,
    Contact,
    Contract,
    Device,
    Engineer,
    Message,
    Rating,
    SlaPlan,
    SlaTarget,
    Ticket,
)

_R = TypeVar("_R")

COST_PER_HOUR = {1: 450, 2: 750, 3: 1_100, 4: 1_100}
"""What an hour of a demo engineer costs the company, by their highest support line (₽)."""


def _inn(rng: random.Random, region: str, *, person: bool) -> str:
    """A random ИНН of the region with valid check digits (12 digits for a person)."""
    inn = region + "".join(rng.choice("0123456789") for _i in range(8 if person else 7))
    for weights in (INN12_WEIGHTS_11, INN12_WEIGHTS_12) if person else (INN10_WEIGHTS,):
        inn += str(sum(int(d) * w for d, w in zip(inn, weights, strict=True)) % 11 % 10)
    return inn


def _reg_number(sequence: str, inn: str, serial: str) -> str:
    return sequence + reg_number_check(sequence, inn, serial)


@dataclass(slots=True)
class Site:
    """A shop: its client row, where it is, its contacts and its devices by kind."""

    row: Client
    chain: W.ChainSpec
    city: W.City
    path: list[int]
    """Site, legal entity and chain ids: where contracts are looked up."""
    street: str
    contacts: list[Contact] = field(default_factory=list)
    devices: dict[str, list[Device]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DemoEngineer:
    """An engineer of the demo: the source spec, the actor the services act as, and the row."""

    spec: W.EngineerSpec
    actor: Actor
    row: Engineer
    """Held so the session's weak identity map keeps it: services look engineers up often."""

    @property
    def words(self) -> dict[str, str]:
        last, first, *_rest = self.spec.name.split()
        female = self.spec.female
        return {
            "eng": first,
            "eng_full": f"{first} {last}",
            "a": "а" if female else "",
            "asya": "ась" if female else "ся",
        }


class World:
    """The directory rows, inserted on construction, and the finishing touches after history."""

    def __init__(self, session: Session, rng: random.Random, now: datetime) -> None:
        self.session, self.rng, self.now, self.today = session, rng, now, now.date()
        self._used: set[str] = set()
        self.engineers = self._engineers()
        cal: dict[str, int | None] = {}
        for c in W.CALENDARS:
            cal[c.code] = self._add(
                BusinessCalendar(
                    code=c.code,
                    name=c.name,
                    timezone=c.timezone,
                    is_24x7=c.is_24x7,
                    weekly=c.weekly,
                    holidays=None if c.is_24x7 else "RU",
                )
            ).id
        plans: dict[str, int] = {}
        self.targets: dict[tuple[int, int], tuple[int, int]] = {}
        for p in W.PLANS:
            plan_id = (
                self._add(
                    SlaPlan(
                        code=p.code,
                        name=p.name,
                        calendar_id=cal[p.calendar],
                        pause_on_vendor=p.pause_on_vendor,
                    )
                ).id
                or 0
            )
            plans[p.code] = plan_id
            for prio, (response, resolution, on) in p.targets.items():
                session.add(
                    SlaTarget(
                        plan_id=plan_id,
                        priority=prio,
                        response_minutes=response,
                        resolution_minutes=resolution,
                        calendar_id=cal[on] if on else None,
                    )
                )
                self.targets[(plan_id, prio)] = (response, resolution)
        self.categories: dict[str, Category] = {}
        for spec in W.CATEGORIES:
            parent = self.categories.get(spec.code.rpartition(".")[0])
            self.categories[spec.code] = self._add(
                Category(
                    code=spec.code,
                    parent_id=parent.id if parent else None,
                    name_ru=spec.name_ru,
                    name_en=spec.name_en,
                    default_impact=spec.impact,
                    default_urgency=spec.urgency,
                    line=spec.line,
                    team=spec.team,
                    keywords=list(spec.keywords),
                )
            )
        self.sites: list[Site] = []
        self.offices: dict[int, list[Contact]] = {}
        self.clients: dict[str, Client] = {}
        for chain in W.CHAINS:
            self._chain(chain)
        kkts = [d for s in self.sites if s.chain.utm or s.chain.server for d in s.devices["kkt"]]
        for device in rng.sample(kkts, 4):  # drives that ran out: blocked registers
            device.fn_valid_until = self.today - timedelta(days=rng.randint(1, 12))
        self.contracts: list[Contract] = []
        for deal in W.CONTRACTS:
            self.contracts.append(
                Contract(
                    number=deal.number,
                    client_id=self.clients[deal.holder].id,
                    kind=deal.kind,
                    valid_from=self.today + timedelta(days=deal.start),
                    valid_to=None if deal.end is None else self.today + timedelta(days=deal.end),
                    sla_plan_id=plans[deal.plan],
                    categories=list(deal.categories),
                    hours_per_month=None if deal.hours is None else Decimal(deal.hours),
                    price=None if deal.price is None else Decimal(deal.price),
                    hourly_rate=None if deal.hourly_rate is None else Decimal(deal.hourly_rate),
                    rounding_minutes=deal.rounding,
                    carry_over_months=deal.carry_over,
                    notes=deal.notes,
                )
            )
        session.add_all(self.contracts)
        session.flush()

    def _add(self, row: _R) -> _R:
        self.session.add(row)
        self.session.flush()
        return row

    def unique(self, prefix: str, digits: int) -> str:
        """A random number with this prefix, never handed out before."""
        while True:
            value = prefix + "".join(self.rng.choice("0123456789") for _i in range(digits))
            if value not in self._used:
                self._used.add(value)
                return value

    def _engineers(self) -> list[DemoEngineer]:
        """The demo's engineers, each costing what an engineer of their highest line costs."""
        result = []
        for i, s in enumerate(W.ENGINEERS, 1):
            row = self._add(
                Engineer(
                    external_id=f"E-{i:03d}",
                    login=s.login,
                    name=s.name,
                    email=f"{s.login}@{W.SUPPORT_DOMAIN}",
                    role=s.role,
                    lines=list(s.lines),
                    teams=list(s.teams),
                    skills=list(s.skills),
                    telegram_id=s.telegram_id,
                    timezone=s.timezone,
                    cost_per_hour=Decimal(COST_PER_HOUR[max(s.lines, default=1)]),
                )
            )
            result.append(
                DemoEngineer(
                    s,
                    Actor(row.id, row.login, Role(row.role), tuple(row.lines), tuple(row.teams)),
                    row,
                )
            )
        return result

    def _person(
        self, client: Client, position: str, *, email: str | None = None, telegram: float = 0.0
    ) -> Contact:
        """A contact; ``email=""`` makes a personal address at the client's mail domain."""
        rng = self.rng
        female = rng.random() < 0.6
        last = rng.choice(W.LAST_NAMES)
        if female and last.endswith(("ов", "ев", "ёв", "ин", "ын")):
            last += "а"
        elif female and last.endswith("ий"):
            last = last[:-2] + "ая"
        root, male_end, female_end = rng.choice(W.PATRONYMIC_ROOTS)
        first = rng.choice(W.FEMALE_FIRST if female else W.MALE_FIRST)
        if email == "":
            local = f"{first[0]}.{last}".lower().translate(W.TRANSLIT)
            domain = (client.email or "").partition("@")[2]
            email = f"{local}@{domain}"
            while email in self._used:
                email = f"{local}{rng.randint(2, 9)}@{domain}"
        if email:
            self._used.add(email)
        return self._add(
            Contact(
                client_id=client.id or 0,
                name=f"{last} {first} {root}{female_end if female else male_end}",
                position=position,
                email=email or None,
                phone=self.unique("+79", 9),
                telegram_id=self.unique("5", 9) if rng.random() < telegram else None,
                created_at=client.created_at,
            )
        )

    def _client(
        self, kind: ClientKind, key: str, name: str, parent: Client | None, **fields: object
    ) -> Client:
        row = self._add(
            Client(
                external_id=key,
                parent_id=parent.id if parent else None,
                kind=kind.value,
                name=name,
                created_at=self.now - timedelta(days=self.rng.randint(400, 900)),
                updated_at=self.now - timedelta(days=self.rng.randint(91, 300)),
                **fields,
            )
        )
        self.clients[key] = row
        return row

    def _chain(self, chain: W.ChainSpec) -> None:
        rng = self.rng
        head = self._client(
            ClientKind.CHAIN,
            f"CH-{chain.key}",
            chain.name,
            None,
            email=f"info@{chain.domain}",
            manager_id=self.engineers[1].actor.engineer_id,
        )
        self._person(head, W.CHAIN_CONTACT_TITLES[0], email="", telegram=0.5)
        total = sum(n for legal in chain.legal for _c, n in legal.cities)
        numbers = rng.sample(range(chain.numbers_from + 1, chain.numbers_from + 100), total)
        for legal in chain.legal:
            first_city = W.CITIES[legal.cities[0][0]]
            region = first_city.region
            inn = _inn(rng, region, person=legal.sole_trader)
            entity = self._client(
                ClientKind.LEGAL_ENTITY,
                f"LE-{chain.key}-{legal.key}",
                legal.name,
                head,
                inn=inn,
                kpp=None if legal.sole_trader else f"{region}{rng.randint(1, 30):02d}01001",
                address=self._address(first_city, rng.choice(W.STREETS)),
                timezone=first_city.timezone,
                email=f"office{legal.key}@{chain.domain}",
                phone=self.unique("+7", 10),
            )
            self.offices[entity.id or 0] = [
                self._person(entity, title, email="", telegram=0.3)
                for title in rng.sample(W.LEGAL_CONTACT_TITLES, 2)
            ]
            ofd = rng.choice(W.OFD_NAMES)
            for city_name, count in legal.cities:
                for _i in range(count):
                    self._site(chain, W.CITIES[city_name], entity, head, numbers.pop(0), inn, ofd)

    def _address(self, city: W.City, street: str) -> str:
        postcode = f"{self.rng.choice(city.postcodes)}{self.rng.randint(1, 99):03d}"
        return f"{postcode}, г. {city.name}, {street}, д. {self.rng.randint(1, 140)}"

    def _site(
        self,
        chain: W.ChainSpec,
        city: W.City,
        entity: Client,
        head: Client,
        number: int,
        inn: str,
        ofd: str,
    ) -> None:
        rng = self.rng
        street = rng.choice(city.streets + W.STREETS)
        row = self._client(
            ClientKind.SITE,
            f"S-{number:04d}",
            f"{chain.shop} №{number} ({city.name}, {street})",
            entity,
            address=self._address(city, street),
            timezone=city.timezone,
            phone=self.unique("+7", 10),
            email=f"shop{number}@{chain.domain}",
        )
        site = Site(row, chain, city, [row.id or 0, entity.id or 0, head.id or 0], street)
        site.contacts.append(self._person(row, chain.manager_title, email=row.email, telegram=0.5))
        for title in rng.sample(W.SITE_CONTACT_TITLES, rng.randint(1, 2)):
            site.contacts.append(self._person(row, title, telegram=0.6))
        devices = []
        for _i in range(rng.randint(*chain.kkt_per_site)):
            model = rng.choice(chain.kkt_models)
            spec = W.KKT_MODELS[model]
            serial = self.unique(spec.serial_prefix, spec.serial_length - len(spec.serial_prefix))
            left = rng.randint(1, chain.fn_lifetime_days)
            devices.append(
                Device(
                    site_id=row.id or 0,
                    kind="kkt",
                    model=model,
                    serial=serial,
                    reg_number=_reg_number(self.unique("000", 7), inn, serial),
                    firmware=rng.choice(spec.firmware),
                    ffd="1.2" if rng.random() < 0.85 else "1.05",
                    fn_serial=self.unique(W.FN_PREFIXES[chain.fn_model], 9),
                    fn_model=chain.fn_model,
                    fn_valid_until=self.today + timedelta(days=left),
                    ofd_name=ofd,
                    fn_registrations_left=rng.randint(6, 11),
                    fn_memory_used_pct=round(
                        (chain.fn_lifetime_days - left)
                        / chain.fn_lifetime_days
                        * rng.uniform(15, 70),
                        1,
                    ),
                )
            )
        others = (
            ("utm", "УТМ 4.2.0", int(chain.utm)),
            ("server", "Сервер магазина, Frontol xPOS", int(chain.server)),
            (
                "scale",
                rng.choice(("CAS CL5000J-IP", "Штрих-Принт М 15")),
                rng.randint(*chain.scales),
            ),
        )
        devices += [
            Device(
                site_id=row.id or 0,
                kind=kind,
                model=model,
                serial=self.unique("0300", 8),
                firmware="4.2.0" if kind == "utm" else None,
            )
            for kind, model, n in others
            for _i in range(n)
        ]
        self.session.add_all(devices)
        self.session.flush()
        for device in devices:
            device.external_id = f"D-{device.id:05d}"
            site.devices.setdefault(device.kind, []).append(device)
        self.sites.append(site)

    def finish(self) -> None:
        """Deliver the outbox, add ratings, retire engineers who left, set device health."""
        s, rng, now = self.session, self.rng, self.now
        s.flush()
        m = Message.__table__.c
        s.execute(
            update(m.id.table)
            .where(m.delivery_state == "queued", m.created_at < now - timedelta(minutes=2))
            .values(delivery_state="sent", sent_at=m.created_at)
        )
        sent = list(
            s.execute(
                select(m.id)
                .where(
                    m.channel == "email",
                    m.is_auto.is_(False),
                    m.delivery_state == "sent",
                    m.author_engineer_id.is_not(None),
                )
                .order_by(m.id)
            ).scalars()
        )
        for message_id in rng.sample(sent, min(3, len(sent))):
            s.execute(
                update(m.id.table)
                .where(m.id == message_id)
                .values(
                    delivery_state="failed",
                    sent_at=None,
                    delivery_error="550 5.1.1 Recipient address rejected: User unknown",
                )
            )
        t = Ticket.__table__.c
        closed = s.execute(
            select(t.id, t.resolved_at, t.channel)
            .where(t.status == "closed", t.resolution_code != "merged")
            .order_by(t.id)
        ).all()
        for ticket_id, resolved_at, channel in closed:
            if rng.random() < 0.4 and resolved_at is not None:
                score = rng.choices((5, 4, 3, 2, 1), (70, 18, 6, 3, 3))[0]
                s.add(
                    Rating(
                        ticket_id=ticket_id,
                        score=score,
                        comment=rng.choice(T.RATING_COMMENTS[score]),
                        channel=None if channel == "monitoring" else channel,
                        created_at=min(now, resolved_at + timedelta(hours=rng.randint(1, 20))),
                    )
                )
        for eng in self.engineers:
            if eng.spec.leaves_after_days is not None:
                s.get_one(Engineer, eng.actor.engineer_id).is_active = False
        for site in self.sites:
            for device in (d for group in site.devices.values() for d in group):
                left = (device.fn_valid_until - self.today).days if device.fn_valid_until else 999
                device.health_state = "critical" if left <= 3 else "warning" if left <= 30 else "ok"
                device.health_at = now - timedelta(minutes=rng.randint(1, 20))
        s.flush()
