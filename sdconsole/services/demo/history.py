"""Provides `History`, the demo's ninety days of tickets, and `Thread`, one planned ticket.
`History` plans every ticket as timed steps (a shop writes, an engineer takes the ticket, answers,
escalates, resolves; monitoring raises alerts; fiscal drives run out and are replaced), drawing
every random number while planning, then replays the steps in time order through
`IntakeService` and `TicketService` on a `FixedClock`, so the store depends only on the seed and
`now`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import partial
from zoneinfo import ZoneInfo

from sdconsole.classifier import KeywordClassifier
from sdconsole.config import RoutingSettings
from sdconsole.domain.clock import FixedClock
from sdconsole.domain.intake import InboundMessage, Sender, ticket_tag
from sdconsole.domain.model import SYSTEM, ChannelKind, Priority, Status, SupportLine
from sdconsole.domain.sla import DEFAULT_TARGETS
from sdconsole.resources.demo import threads as T
from sdconsole.resources.demo import world as W
from sdconsole.services.demo.world import DemoEngineer, Site, World
from sdconsole.services.intake import IntakeService, Outcome
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Client, Contact, Device, Ticket

HISTORY_DAYS = 90
"""Days of ticket history before `now`."""

_NEVER = datetime.max.replace(tzinfo=UTC)
_CATS = {c.code: c for c in W.CATEGORIES}
_EMAIL, _TG, _PHONE, _MON = (
    ChannelKind.EMAIL,
    ChannelKind.TELEGRAM,
    ChannelKind.PHONE,
    ChannelKind.MONITORING,
)

Action = Callable[[], object]


@dataclass(slots=True)
class Thread:
    """One planned ticket: its cursor in time and who is involved."""

    plan: int
    t: datetime
    site: Site
    contact: Contact | None
    channel: ChannelKind
    values: dict[str, str]
    key: str | None = None
    """The channel thread key (Telegram chat, health check) that continues this ticket."""
    subject: str = ""
    line: int = 1
    left: datetime = _NEVER
    """When the ticket last left the queue (resolved, cancelled, merged)."""
    seq: int = 0
    start: datetime = _NEVER
    out: datetime = _NEVER
    """When the ticket was first resolved."""
    closed: datetime = _NEVER

    def wait(self, minutes: float) -> None:
        self.t += timedelta(seconds=max(30, int(minutes * 60)))

    def until(self, at: datetime) -> None:
        self.t = max(self.t + timedelta(minutes=1), at)


class History:
    """Plans every ticket as timed steps, then replays them in time order through the services.

    Planning draws every random number; replaying draws none, so the store depends only on the
    seed and `now`. A step's closure reads a ticket's id only when it runs: ids come from intake.
    """

    def __init__(self, store: Store, world: World, tickets: int) -> None:
        self.world, self.rng, self.now, self.session = world, world.rng, world.now, world.session
        self.start = self.now - timedelta(days=HISTORY_DAYS)
        self.clock = FixedClock(self.now)
        self.intake = IntakeService(
            store,
            self.clock,
            KeywordClassifier({code: spec.keywords for code, spec in _CATS.items()}),
            # The history decides who takes what and when; routing only records line and team.
            routing=RoutingSettings(assign=False),
        )
        self.svc = TicketService(store, self.clock)
        self.steps: list[tuple[datetime, int, int, Action]] = []
        self.ids: dict[int, int] = {}
        self.rows: list[Ticket] = []
        self.busy: dict[str, datetime] = {}
        """Thread key → when its ticket leaves the queue: a chat holds one open ticket at a time."""
        self.mail: list[tuple[Thread, T.Scenario, int]] = []
        self.plans = 0
        self._plan(tickets)

    def replay(self, progress: Callable[[int, int], object] | None) -> None:
        """Run the planned steps up to `now`, oldest first."""
        self.steps.sort(key=lambda step: step[:3])
        due = [step for step in self.steps if step[0] <= self.now]
        for done, (at, _plan, _seq, action) in enumerate(due):
            if progress is not None and done % 250 == 0:
                progress(done, len(due))
            self.clock.set(at)
            action()
        if progress is not None:
            progress(len(due), len(due))

    # -- planning ----------------------------------------------------------------------------

    def _plan(self, tickets: int) -> None:
        rng, sites = self.rng, self.world.sites
        fn = self._fn_candidates()
        fn = [
            fn[i] for i in sorted(rng.sample(range(len(fn)), min(len(fn), max(2, tickets // 25))))
        ]
        recent = max(3, tickets // 40)
        base = max(0, tickets - len(fn) - recent - tickets // 50)
        slots: list[tuple[datetime, int, Action]] = []
        weights = [s.weight for s in T.SCENARIOS]
        for i in range(base + recent):
            if rng.random() < 0.12:
                check = rng.choices(T.CHECKS, [c.weight for c in T.CHECKS])[0]
                site = rng.choice([s for s in sites if check.device_kind in s.devices])
                device = rng.choice(site.devices[check.device_kind])
                at = self._moment(None, recent=i >= base)
                slots.append((at, i, partial(self._alert, check, site, device, at)))
            else:
                scenario = rng.choices(T.SCENARIOS, weights)[0]
                site = rng.choice(sites)
                at = self._moment(site, recent=i >= base)
                slots.append((at, i, partial(self._request, scenario, site, at)))
        slots.sort(key=lambda slot: slot[:2])
        for _at, _i, make in slots:
            make()
        for device, site, alert, replaced in fn:
            self._fn(device, site, alert, replaced)
        for parent, scenario, prio in self.mail:
            at = parent.closed + timedelta(hours=rng.uniform(48, 300))
            if rng.random() < 0.06 and at < self.now - timedelta(hours=6):
                th = self._thread(at, parent.site, parent.contact, _EMAIL, scenario.values)
                self._inbound(th, T.RECONTACT + self._signature(th), first=True, parent=parent.plan)
                self._work(th, scenario, prio)
                self._release(th)

    def _moment(self, site: Site | None, *, recent: bool) -> datetime:
        rng = self.rng
        if recent:  # the live queue: more of it in the last hour
            return self.now - timedelta(minutes=int(rng.triangular(2, 8 * 60, 2)))
        while True:
            day = (self.start + timedelta(days=rng.randint(0, HISTORY_DAYS))).date()
            if site is None:
                at = datetime.combine(day, time(rng.randint(0, 23), rng.randint(0, 59)), UTC)
            else:
                at = datetime.combine(
                    day,
                    time(rng.choice(W.SHOP_HOURS), rng.randint(0, 59)),
                    ZoneInfo(site.city.timezone),
                ).astimezone(UTC)
            if self.start < at < self.now - timedelta(hours=8):
                return at

    def _morning(self, day: date) -> datetime:
        return datetime.combine(day, time(4), UTC) + timedelta(minutes=self.rng.randint(0, 240))

    def _thread(
        self,
        at: datetime,
        site: Site,
        contact: Contact | None,
        channel: ChannelKind,
        extra: dict[str, tuple[str, ...]],
        device: Device | None = None,
    ) -> Thread:
        rng = self.rng
        kkts = site.devices["kkt"]
        kkt = device if device is not None and device.kind == "kkt" else rng.choice(kkts)
        until = kkt.fn_valid_until or self.world.today
        values = {
            "n": str(next(i for i, d in enumerate(kkts, 1) if d is kkt)),
            "kkt": kkt.model or "",
            "serial": (device or kkt).serial or "",
            "rn": kkt.reg_number or "",
            "fn": kkt.fn_serial or "",
            "fn_until": f"{until:%d.%m.%Y}",
            "days": str(days := rng.randint(3, 29)),
            "days_ru": ru_days(days),
            "count": str(rng.randint(12, 900)),
            "since": rng.choice(T.SINCE),
            "site": site.row.name,
            "street": site.street,
            "client": contact.name.split(" ", 1)[1] if contact else "",
            "visit": rng.choice(T.VISITS),
            "date": f"{at - timedelta(days=rng.randint(1, 6)):%d.%m.%Y}",
            "hours": str(rng.randint(22, 30)),
            "mins": str(rng.choice((35, 50, 90, 240))),
            "vendor": rng.choice(T.VENDORS_OFD),
            "err": "",
            "eng": "",
            "eng_full": "",
            "a": "",
            "asya": "ся",
        } | {key: rng.choice(options) for key, options in extra.items()}
        self.plans += 1
        return Thread(self.plans, at, site, contact, channel, values, start=at)

    def _fmt(self, text: str, th: Thread, eng: DemoEngineer | None = None) -> str:
        return text.format(**(th.values | (eng.words if eng else {}) | {"line": str(th.line)}))

    def _signature(self, th: Thread) -> str:
        c = th.contact
        if c is None:
            return ""
        owner = self.session.get_one(Client, c.client_id).name
        return f"\n\n--\n{c.name}\n{c.position}\n{owner}\nтел. {c.phone}"

    def _targets(self, th: Thread, prio: int) -> tuple[int, int]:
        day = th.t.date()
        for client_id in th.site.path:  # as repositories.active_contract, without a query
            valid = [
                c
                for c in self.world.contracts
                if c.client_id == client_id
                and c.valid_from <= day
                and (c.valid_to is None or day <= c.valid_to)
            ]
            if valid:
                plan = max(valid, key=lambda c: c.valid_from).sla_plan_id
                return self.world.targets[(plan, prio)]
        default = DEFAULT_TARGETS[Priority(prio)]
        return default.response_minutes, default.resolution_minutes

    def _sample(self, target: int, late: float) -> float:
        """Minutes taken against a target: mostly well within it, a share of them late."""
        r = self.rng
        return target * (r.uniform(1.05, 2.2) if r.random() < late else r.uniform(0.1, 0.8))

    def _engineer(
        self, line: int, team: str | None, at: datetime, besides: DemoEngineer | None = None
    ) -> DemoEngineer:
        pool = [
            e
            for e in self.world.engineers
            if line in e.spec.lines
            and e is not besides
            and (
                e.spec.leaves_after_days is None
                or at < self.now - timedelta(days=e.spec.leaves_after_days)
            )
        ]
        skilled = [e for e in pool if team in e.spec.teams]
        return self.rng.choice(skilled or pool) if pool else besides or self.world.engineers[0]

    def _lead(self, line: int) -> DemoEngineer:
        return next(
            e for e in self.world.engineers if e.spec.role != "engineer" and line in e.spec.lines
        )

    def _who(self, scenario: T.Scenario, site: Site, at: datetime) -> tuple[Contact, ChannelKind]:
        rng = self.rng
        if scenario.office and rng.random() < 0.4:
            return rng.choice(self.world.offices[site.path[1]]), _EMAIL
        channel = ChannelKind(rng.choice(scenario.channels))
        if channel == _TG:
            free = [
                c
                for c in site.contacts
                if c.telegram_id and self.busy.get(f"telegram:{c.telegram_id}", self.start) <= at
            ]
            if free:
                return rng.choice(free), _TG
            channel = _EMAIL
        if channel == _PHONE:
            return rng.choice(site.contacts), _PHONE
        return site.contacts[0], _EMAIL

    def _release(self, th: Thread) -> None:
        if th.key:
            self.busy[th.key] = th.left if th.left <= self.now else _NEVER

    # -- the kinds of tickets ----------------------------------------------------------------

    def _request(self, scenario: T.Scenario, site: Site, at: datetime) -> None:
        rng = self.rng
        contact, channel = self._who(scenario, site, at)
        th = self._thread(at, site, contact, channel, scenario.values)
        th.key = f"telegram:{contact.telegram_id}" if channel == _TG else None
        category = _CATS[scenario.category]
        prio = rng.choice(scenario.priorities)
        th.subject = self._fmt(rng.choice(scenario.subjects), th)
        body = self._fmt(rng.choice(scenario.bodies), th)
        if rng.random() < 0.012:  # markup and escape look-alikes the UI must show as text
            th.subject = self._fmt(rng.choice(T.MARKUP_SUBJECTS), th)
            body = f"{th.subject}\n{body}" if channel == _TG else body
        explicit = channel == _PHONE and rng.random() < 0.7
        self._inbound(
            th,
            body + (self._signature(th) if channel == _EMAIL else ""),
            subject="" if channel == _TG else th.subject,
            first=True,
            category=scenario.category if explicit else None,
            priority=prio if explicit else None,
        )
        if rng.random() < 0.03:  # the shop sorted it out before anyone answered
            th.wait(rng.uniform(3, 40))
            self._inbound(th, rng.choice(T.CANCELS))
            th.wait(rng.uniform(2, 30))
            eng = self._engineer(category.line, category.team, th.t)
            self._note(th, eng, T.CANCEL_NOTE)
            self._status(th, eng, Status.CANCELLED)
            th.left = th.t
        else:
            self._work(th, scenario, prio)
            if rng.random() < 0.015:
                self._duplicate(th, scenario)
            if channel == _EMAIL and th.closed < self.now:
                self.mail.append((th, scenario, prio))
        self._release(th)

    def _work(self, th: Thread, sc: T.Scenario, prio: int) -> None:
        rng = self.rng
        category = _CATS[sc.category]
        th.line = category.line
        response, resolution = self._targets(th, prio)
        react = self._sample(response, 0.06)
        th.wait(react * 0.6)
        eng = self._engineer(category.line, category.team, th.t)
        if rng.random() < 0.2:
            self._assign(th, self._lead(category.line), eng)
        else:
            self._take(th, eng)
        self._classify(th, eng, sc.category, prio)
        th.wait(react * 0.4)
        self._reply(th, eng, rng.choice(sc.replies))
        if th.channel == _EMAIL and rng.random() < 0.03:
            th.wait(1)
            self._inbound(th, self._fmt(rng.choice(T.AUTO_REPLIES), th), is_auto=True)
        chunk = max(3.0, (self._sample(resolution, 0.07) - react) / 4)
        if sc.questions and rng.random() < 0.35:
            th.wait(rng.uniform(1, 5))
            self._reply(th, eng, rng.choice(sc.questions))
            self._status(th, eng, Status.WAITING_CLIENT)
            th.wait(rng.uniform(10, 90) if th.channel == _TG else rng.uniform(30, 1200))
            if rng.random() < 0.1:  # the shop goes quiet for days
                th.wait(rng.uniform(24 * 60, 6 * 24 * 60))
            self._inbound(th, self._fmt(rng.choice(sc.answers or T.CONFIRMATIONS), th))
        if sc.notes and rng.random() < 0.6:
            th.wait(chunk * rng.random())
            self._note(th, eng, rng.choice(sc.notes))
        if sc.escalation and rng.random() < sc.escalation_p:
            line, team, reason = sc.escalation
            th.wait(chunk)
            eng = self._escalate(th, eng, line, team, reason)
            self._reply(th, eng, rng.choice(T.TAKEOVER))
            if line == 2 and rng.random() < 0.1:
                th.wait(chunk)
                eng = self._escalate(th, eng, 3, team, T.ESCALATE_L3)
        if sc.vendor and rng.random() < 0.3:
            th.wait(chunk)
            self._note(th, eng, self._fmt(rng.choice(sc.vendor), th))
            self._status(th, eng, Status.WAITING_VENDOR)
            pause = rng.uniform(60, 3 * 24 * 60) * (4 if rng.random() < 0.15 else 1)
            if rng.random() < 0.4:
                th.wait(pause / 2)
                self._inbound(th, rng.choice(T.FOLLOW_UPS))
                th.wait(rng.uniform(5, 30))
                self._reply(th, eng, T.VENDOR_WAIT)
            th.wait(pause / 2)
            self._status(th, eng, Status.OPEN)
            self._note(th, eng, rng.choice(T.VENDOR_BACK))
        if rng.random() < 0.04:  # shift change: the lead hands the ticket over
            th.wait(chunk / 2)
            other = self._engineer(th.line, category.team, th.t, besides=eng)
            self._assign(th, self._lead(th.line), other)
            eng = other
        if rng.random() < 0.4:
            th.wait(chunk)
            self._inbound(th, rng.choice(T.CONFIRMATIONS))
        th.wait(chunk)
        if rng.random() < 0.7:
            self._log(th, eng, rng.randint(*sc.effort))
        self._resolve(th, eng, rng.choice(sc.resolutions))
        if th.channel in (_EMAIL, _PHONE) and rng.random() < 0.03:
            th.wait(rng.uniform(60, 1440))
            self._inbound(th, rng.choice(T.REOPENS))
            th.wait(self._sample(response, 0.06))
            self._reply(th, eng, T.RECHECK)
            th.wait(rng.uniform(30, 240))
            self._resolve(th, eng, rng.choice(sc.resolutions))
        th.wait(rng.uniform(24 * 60, 3 * 24 * 60))
        self._close(th)

    def _duplicate(self, th: Thread, sc: T.Scenario) -> None:
        """The shop calls again about the same problem; the engineer merges the new ticket."""
        rng = self.rng
        at = th.start + timedelta(minutes=rng.uniform(10, 40))
        if at + timedelta(minutes=30) >= min(th.out, self.now):
            return
        phone = th.channel != _PHONE
        contact = rng.choice(th.site.contacts) if phone else th.site.contacts[0]
        dup = self._thread(at, th.site, contact, _PHONE if phone else _EMAIL, {})
        self._inbound(
            dup,
            T.DUPLICATE_BODY,
            subject=f"Повторно: {th.subject}",
            first=True,
            category=sc.category if phone else None,
        )
        dup.wait(rng.uniform(5, 20))
        eng = self._engineer(1, _CATS[sc.category].team, dup.t)
        target = th.plan
        self._add(
            dup, lambda: self.svc.merge(self.ids[dup.plan], self.ids[target], actor=eng.actor)
        )

    def _alert(self, check: T.Check, site: Site, device: Device, at: datetime) -> None:
        rng = self.rng
        key = f"health:{device.id}:{check.code}"
        if self.busy.get(key, self.start) > at:
            return
        th = self._thread(at, site, None, _MON, {}, device)
        th.key, th.line = key, _CATS[check.category].line
        self._inbound(
            th,
            self._fmt(check.body, th),
            subject=self._fmt(check.subject, th),
            first=True,
            category=check.category,
            priority=check.priority,
            device=device,
        )
        response, resolution = self._targets(th, check.priority)
        th.wait(self._sample(response, 0.05))
        eng = self._engineer(th.line, _CATS[check.category].team, th.t)
        self._take(th, eng)
        chunk = self._sample(resolution, 0.05) / 3
        if rng.random() < 0.25:
            th.wait(chunk)
            self._inbound(th, self._fmt(check.repeat, th))
        th.wait(chunk)
        self._note(th, eng, rng.choice(check.notes))
        th.wait(chunk)
        if rng.random() < 0.4:
            self._log(th, eng, rng.randint(5, 30))
        self._resolve(th, eng, rng.choice(check.resolutions))
        th.wait(rng.uniform(60, 2 * 24 * 60))
        self._close(th)
        self._release(th)

    def _fn_candidates(self) -> list[tuple[Device, Site, datetime, datetime | None]]:
        """Registers whose drive runs out within 30 days, or was replaced in the last 90."""
        out: list[tuple[Device, Site, datetime, datetime | None]] = []
        today = self.world.today
        for site in self.world.sites:
            lifetime = site.chain.fn_lifetime_days
            for device in site.devices["kkt"]:
                until = device.fn_valid_until or today
                if (until - today).days <= 30:
                    alert = self._morning(until - timedelta(days=30))
                    if alert >= self.now:
                        alert = self.now - timedelta(minutes=self.rng.randint(30, 300))
                    out.append((device, site, alert, None))
                elif (until - today).days > lifetime - HISTORY_DAYS + 3:
                    replaced = self._morning(until - timedelta(days=lifetime))
                    alert = replaced - timedelta(days=self.rng.randint(10, 28))
                    if alert > self.start:
                        out.append((device, site, alert, replaced))
        return out

    def _fn(self, device: Device, site: Site, alert: datetime, replaced: datetime | None) -> None:
        """A FN_EXPIRY alert, a field visit and the drive's replacement (or still pending)."""
        rng, today = self.rng, self.world.today
        th = self._thread(alert, site, None, _MON, {}, device)
        th.key, th.line = f"health:{device.id}:FN_EXPIRY", 1
        until = device.fn_valid_until or today
        if replaced is not None:
            until = (replaced + timedelta(days=rng.randint(2, 10))).date()
            th.values["fn"] = self.world.unique(W.FN_PREFIXES[site.chain.fn_model], 9)
        th.values.update(fn_until=f"{until:%d.%m.%Y}", days=str((until - alert.date()).days))
        self._inbound(
            th,
            self._fmt(T.FN_CHECK_BODY, th),
            subject=self._fmt(T.FN_CHECK_SUBJECT, th),
            first=True,
            category="kkt.fn.expiry",
            device=device,
        )
        th.wait(self._sample(DEFAULT_TARGETS[Priority.P4].response_minutes, 0.05))
        eng = self._engineer(1, "kkt", th.t)
        self._take(th, eng)
        th.wait(rng.uniform(10, 120))
        self._note(th, eng, rng.choice(T.FN_NOTES[:1]))
        th.wait(rng.uniform(20, 240))
        eng = self._escalate(th, eng, 2, "kkt", T.FN_ESCALATION)
        if replaced is None and until < today:
            th.until(self._morning(until - timedelta(days=3)))
            th.values.update(days="3", days_ru=ru_days(3))
            self._inbound(th, self._fmt(T.FN_CHECK_REPEAT, th))
            th.wait(rng.uniform(20, 90))
            self._priority(th, eng, 2, T.PRIORITY_UP[0])
            self._note(th, eng, T.FN_WAIT_VENDOR)
            self._status(th, eng, Status.WAITING_VENDOR)
            return
        visit = replaced or self._morning(until - timedelta(days=rng.randint(1, 5)))
        if replaced is None and rng.random() < 0.85:
            # A planned job: the visit is booked with the shop, and the ticket waits for it
            # with its clock paused instead of breaching for weeks.
            th.wait(rng.uniform(30, 300))
            th.values["visit_day"] = f"{visit:%d.%m.%Y}"
            self._note(th, eng, T.FN_VISIT_BOOKED)
            self._status(th, eng, Status.WAITING_CLIENT)
            th.until(visit - timedelta(hours=2))
            self._status(th, eng, Status.OPEN)
        elif rng.random() < 0.3:
            th.wait(rng.uniform(60, 600))
            self._note(th, eng, T.FN_NOTES[1])
            self._status(th, eng, Status.WAITING_CLIENT)
            th.until(visit - timedelta(hours=2))
            self._status(th, eng, Status.OPEN)
        th.until(visit)
        self._log(th, eng, rng.randint(60, 120))
        self._resolve(th, eng, T.FN_RESOLUTION)
        th.wait(rng.uniform(24 * 60, 2 * 24 * 60))
        self._close(th)
        self._release(th)

    # -- steps -------------------------------------------------------------------------------

    def _add(self, th: Thread, action: Action) -> None:
        self.steps.append((th.t, th.plan, th.seq, action))
        th.seq += 1

    def _inbound(
        self,
        th: Thread,
        body: str,
        *,
        subject: str = "",
        first: bool = False,
        is_auto: bool = False,
        category: str | None = None,
        priority: int | None = None,
        device: Device | None = None,
        parent: int | None = None,
    ) -> None:
        plan, channel, contact, key, stored = th.plan, th.channel, th.contact, th.key, th.subject
        received = th.t - timedelta(seconds=self.rng.randint(5, 150))
        token = f"{self.rng.getrandbits(64):016x}"
        site_id = th.site.row.id if channel in (_PHONE, _MON) else None
        sender = Sender(
            name=contact.name if contact else "Мониторинг КассаСервис",
            email=contact.email or "" if channel == _EMAIL and contact else "",
            phone=contact.phone or "" if channel == _PHONE and contact else "",
            telegram_id=contact.telegram_id or "" if channel == _TG and contact else "",
        )
        msg_id = {
            _EMAIL: f"<{token}@{(sender.email or 'x@mail.example').partition('@')[2]}>",
            _TG: f"{sender.telegram_id}:{int(token[:6], 16)}",
        }.get(channel)

        def build() -> InboundMessage:
            subj = subject
            if parent is not None:
                source = self.session.get_one(Ticket, self.ids[parent])
                subj = f"Re: {ticket_tag(self.ids[parent])} {source.subject}"
            elif not first and channel == _EMAIL:
                subj = f"Re: {ticket_tag(self.ids[plan])} {stored}"
            raw = {
                "channel": channel.value,
                "subject": subj,
                "body": body,
                "from": sender.name,
                "address": sender.email or sender.phone or sender.telegram_id,
                "at": received.isoformat(),
                "message_id": msg_id,
            }
            return InboundMessage(
                channel=channel,
                idempotency_key=msg_id or f"{channel.value}-{token}",
                received_at=received,
                sender=sender,
                subject=subj,
                body=body,
                raw=json.dumps(raw, ensure_ascii=False).encode(),
                channel_message_id=msg_id,
                thread_key=key,
                ticket_id=self.ids[plan] if not first and channel == _PHONE else None,
                contact_id=contact.id if contact and channel == _PHONE else None,
                site_id=site_id,
                device_id=device.id if device else None,
                category_code=category,
                priority=Priority(priority) if priority else None,
                is_auto=is_auto,
            )

        def run() -> None:
            result = self.intake.ingest(build())
            if result.outcome not in (Outcome.CREATED, Outcome.APPENDED) or not result.ticket_id:
                raise RuntimeError(f"demo intake failed: {result.outcome} {result.reason}")
            if first:
                self.ids[plan] = result.ticket_id
                # The identity map holds rows weakly; keeping them spares a SELECT per step.
                self.rows.append(self.session.get_one(Ticket, result.ticket_id))
            elif result.ticket_id != self.ids[plan]:
                raise RuntimeError(f"demo follow-up of plan {plan} joined the wrong ticket")

        self._add(th, run)

    def _take(self, th: Thread, eng: DemoEngineer) -> None:
        plan = th.plan
        self._add(th, lambda: self.svc.take(self.ids[plan], actor=eng.actor))

    def _assign(self, th: Thread, lead: DemoEngineer, eng: DemoEngineer) -> None:
        plan = th.plan
        self._add(th, lambda: self.svc.assign(self.ids[plan], eng.spec.login, actor=lead.actor))

    def _classify(self, th: Thread, eng: DemoEngineer, code: str, prio: int) -> None:
        """The engineer corrects what the classifier guessed, if it guessed otherwise."""
        plan, up, down = th.plan, self.rng.choice(T.PRIORITY_UP), self.rng.choice(T.PRIORITY_DOWN)

        def run() -> None:
            ticket = self.session.get_one(Ticket, self.ids[plan])
            if ticket.category_id != self.world.categories[code].id:
                self.svc.set_category(self.ids[plan], code, actor=eng.actor)
            if ticket.priority != prio:
                self.svc.set_priority(
                    self.ids[plan],
                    Priority(prio),
                    actor=eng.actor,
                    reason=up if prio < ticket.priority else down,
                )

        self._add(th, run)

    def _reply(self, th: Thread, eng: DemoEngineer, text: str) -> None:
        content = self._fmt(text, th, eng)
        if th.channel == _MON:
            return self._note(th, eng, content)
        if th.channel == _EMAIL:
            greeting = self._fmt(self.rng.choice(T.GREETINGS), th)
            content = f"{greeting}\n\n{content}\n\n{self._fmt(T.ENGINEER_SIGNATURE, th, eng)}"
        elif th.channel == _PHONE:
            content = self._fmt(T.CALL_PREFIX, th) + content
        plan = th.plan
        self._add(th, lambda: self.svc.reply(self.ids[plan], content, actor=eng.actor))

    def _priority(self, th: Thread, eng: DemoEngineer, prio: int, reason: str) -> None:
        plan = th.plan
        self._add(
            th,
            lambda: self.svc.set_priority(
                self.ids[plan], Priority(prio), actor=eng.actor, reason=reason
            ),
        )

    def _note(self, th: Thread, eng: DemoEngineer, text: str) -> None:
        plan, body = th.plan, self._fmt(text, th, eng)
        self._add(th, lambda: self.svc.note(self.ids[plan], body, actor=eng.actor))

    def _status(self, th: Thread, eng: DemoEngineer, status: Status) -> None:
        plan = th.plan
        self._add(th, lambda: self.svc.set_status(self.ids[plan], status, actor=eng.actor))

    def _escalate(
        self, th: Thread, eng: DemoEngineer, line: int, team: str, reason: str
    ) -> DemoEngineer:
        """Hand the ticket up a line; returns the engineer who takes it there."""
        plan, lead, text = th.plan, self._lead(line), self._fmt(reason, th, eng)
        successor = self._engineer(line, team, th.t)

        def run() -> None:
            ticket_id = self.ids[plan]
            if self.session.get_one(Ticket, ticket_id).line < line:
                self.svc.escalate(ticket_id, SupportLine(line), text, actor=eng.actor, team=team)
            else:  # intake already routed it to that line: a hand-over instead
                self.svc.note(ticket_id, text, actor=eng.actor)
                self.svc.assign(ticket_id, successor.spec.login, actor=lead.actor)

        self._add(th, run)
        th.line = line
        th.wait(self.rng.uniform(5, 45))
        self._take(th, successor)
        return successor

    def _log(self, th: Thread, eng: DemoEngineer, minutes: int) -> None:
        plan, note = th.plan, self.rng.choice(T.TIME_NOTES)
        self._add(
            th, lambda: self.svc.log_time(self.ids[plan], minutes, actor=eng.actor, note=note)
        )

    def _resolve(self, th: Thread, eng: DemoEngineer, resolution: tuple[str, str]) -> None:
        plan, (code, text) = th.plan, resolution
        self._add(th, lambda: self.svc.resolve(self.ids[plan], code, text, actor=eng.actor))
        th.left, th.out = th.t, min(th.out, th.t)

    def _close(self, th: Thread) -> None:
        plan = th.plan
        self._add(th, lambda: self.svc.close(self.ids[plan], actor=SYSTEM))
        th.closed = th.t


def ru_days(n: int) -> str:
    """``n`` with the Russian word for days in the right form: 1 день, 3 дня, 11 дней, 21 день."""
    if n % 10 == 1 and n % 100 != 11:
        word = "день"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "дня"
    else:
        word = "дней"
    return f"{n} {word}"
