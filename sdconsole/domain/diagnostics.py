"""Provides diagnostic cards: step-by-step troubleshooting algorithms, their checks and runs.

A card (``sdconsole/resources/cards/*.yaml``, format in docs/diagnostic-cards.md) is a graph of
steps from ``start`` to an outcome: every path ends in a ``resolved`` or an ``escalate`` step.
`parse_card` validates a parsed file and reports every problem with the file and the step;
`CardProgress` replays the answers recorded on a ticket to find where a run stands, so a run
can be resumed by anyone at any time.

Step kinds (a closed set):

=============  ================================================  ==========================
kind           what the engineer does                            exits
=============  ================================================  ==========================
question       answers a question                                ``answers: {answer: step}``
action         does something and says whether it worked        ``on_ok``, ``on_fail``
check          compares a ticket field with a rule               ``on_ok``, ``on_fail``
verify         confirms the fix holds; may loop back             ``on_ok``, ``on_fail``,
                                                                 ``on_exhausted``
resolve_with   does the fix the card prescribes                  ``next``
resolved       the run ends: the incident is fixed               (end)
escalate       the run ends: hand over to another line           (end)
=============  ================================================  ==========================

A loop is allowed only back through a ``verify`` step's ``on_fail``, and such a step needs
``on_exhausted``: after ``max_visits`` failures (default 3) the run takes it, so every run ends.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any

from sdconsole.i18n import N_

CARD_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
STEP_ID = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")


class StepKind(StrEnum):
    """What a step asks of the engineer."""

    QUESTION = "question"
    ACTION = "action"
    CHECK = "check"
    VERIFY = "verify"
    RESOLVE_WITH = "resolve_with"
    RESOLVED = "resolved"
    ESCALATE = "escalate"


TERMINAL = frozenset({StepKind.RESOLVED, StepKind.ESCALATE})

OK, FAIL, DONE = "ok", "fail", "done"
"""The answers of action, check and verify steps (ok / fail) and of resolve_with (done)."""

ESCALATION_TARGETS: dict[str, int | None] = {
    "line2": 2,
    "line3": 3,
    "line4": 4,
    "vendor": 4,
    "customer_it": None,
}
"""Where an escalate step hands the ticket: a support line, or the client's own IT (None)."""

FIELDS: dict[str, str] = {
    "ticket.number": N_("the ticket's number"),
    "ticket.subject": N_("the ticket's subject"),
    "client.name": N_("the client's name"),
    "client.inn": N_("the client's INN"),
    "site.name": N_("the shop's name"),
    "site.address": N_("the shop's address"),
    "site.local_time": N_("the shop's local time now"),
    "store.phone": N_("the shop's phone"),
    "contact.name": N_("the contact person"),
    "contact.phone": N_("the contact's phone"),
    "kkt.model": N_("the cash register's model"),
    "kkt.serial": N_("the cash register's serial number"),
    "kkt.reg_number": N_("the cash register's registration number"),
    "kkt.firmware": N_("the cash register's firmware version"),
    "fn.serial": N_("the fiscal drive's serial number"),
    "fn.expires_at": N_("when the fiscal drive's key expires"),
    "fn.memory_used_pct": N_("how full the fiscal drive's memory is, per cent"),
    "fn.warnings": N_("the fiscal drive's warning flags"),
    "ofd.name": N_("the fiscal data operator"),
    "ofd.unsent_count": N_("documents not yet sent to the OFD"),
    "ofd.first_unsent_at": N_("when the oldest unsent document was made"),
    "ofd.contract_end": N_("when the OFD contract ends"),
    "ofd.network_error": N_("the last OFD exchange error"),
    "shift.opened_at": N_("when the open shift was opened"),
    "utm.version": N_("the UTM's version"),
    "utm.rsa_expires_at": N_("when the UTM's RSA key expires"),
    "utm.gost_expires_at": N_("when the qualified (GOST) signature expires"),
    "lm.version": N_("the Chestny Znak local module's version"),
    "lm.last_sync_at": N_("the local module's last synchronisation"),
    "disk.free_pct": N_("free disk space on the POS computer, per cent"),
    "agent.last_seen_at": N_("the monitoring agent's last report"),
    "payment.terminal_model": N_("the payment terminal's model"),
    "payment.terminal_id": N_("the payment terminal's TID"),
}
"""Ticket data a card may show (``inputs``), check or attach to an escalation."""

_RULE = re.compile(
    r"^(?:(?P<word>present|absent|future|past|true|false)"
    r"|within (?P<days>\d+)d"
    r"|(?P<age>older|newer) (?P<amount>\d+)(?P<unit>[hd])"
    r"|(?P<op><=|>=|<|>|==|!=) ?(?P<number>-?\d+(?:\.\d+)?))$"
)


@dataclass(frozen=True, slots=True)
class Text:
    """A card text in Russian, and in English where the author gave one."""

    ru: str
    en: str | None = None

    def get(self, language: str) -> str:
        """The text in `language`, falling back to Russian."""
        return self.en if language == "en" and self.en else self.ru


@dataclass(frozen=True, slots=True)
class Step:
    """One step of a card; which attributes matter depends on `kind`."""

    id: str
    kind: StepKind
    text: Text | None = None
    answers: Mapping[str, str] | None = None
    on_ok: str | None = None
    on_fail: str | None = None
    on_exhausted: str | None = None
    next: str | None = None
    expect: Text | None = None
    field: str | None = None
    rule: str | None = None
    max_visits: int = 3
    resolution: str | None = None
    to: str | None = None
    reason: Text | None = None
    attach: tuple[str, ...] = ()

    @property
    def exits(self) -> dict[str, str]:
        """Answer → next step, for the steps that have answers."""
        if self.kind is StepKind.QUESTION:
            return dict(self.answers or {})
        if self.kind in (StepKind.ACTION, StepKind.CHECK, StepKind.VERIFY):
            return {OK: self.on_ok or "", FAIL: self.on_fail or ""}
        if self.kind is StepKind.RESOLVE_WITH:
            return {DONE: self.next or ""}
        return {}

    @property
    def escalation_line(self) -> int | None:
        """The support line an escalate step hands over to (None: the client's IT)."""
        return ESCALATION_TARGETS.get(self.to or "")


@dataclass(frozen=True, slots=True)
class Card:
    """A validated diagnostic card."""

    id: str
    version: int
    title: Text
    start: str
    steps: Mapping[str, Step]
    owner: str = ""
    reviewed: date | None = None
    inputs: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    """Monitoring check codes whose tickets this card fixes (the catalogue names the
    categories: a leaf's ``card``)."""


@dataclass(frozen=True, slots=True)
class CardProblem:
    """One thing wrong in a card file."""

    source: str
    step: str
    message: str

    def __str__(self) -> str:
        where = f" step {self.step}:" if self.step else ""
        return f"{self.source}:{where} {self.message}"


class CardError(ValueError):
    """A card file is not a valid card; `problems` lists why."""

    def __init__(self, problems: Sequence[CardProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


def rule_is_valid(rule: str) -> bool:
    """Whether `rule` is one of the check rules (``present``, ``future``, ``within 30d``,
    ``older 72h``, ``>= 90`` …)."""
    return _RULE.match(rule.strip()) is not None


def evaluate_rule(rule: str, value: Any, now: datetime) -> bool | None:
    """Whether `value` passes `rule` at `now`; None when the value is missing or unfit.

    ``present``/``absent``: has a value or not. ``future``/``past``: a date or time after or
    before `now`. ``within Nd``: a date or time from now to N days ahead. ``older Nh``/``older
    Nd``: a time more than N hours/days ago; ``newer Nh``/``newer Nd``: within the last N.
    Comparisons take numbers. ``true``/``false``: a flag.
    """
    match = _RULE.match(rule.strip())
    if match is None:
        raise ValueError(f"unknown rule {rule!r}")
    word = match.group("word")
    if word == "present":
        return value not in (None, "")
    if word == "absent":
        return value in (None, "")
    if value in (None, ""):
        return None
    if word in ("true", "false"):
        return bool(value) is (word == "true") if isinstance(value, bool) else None
    if match.group("age"):
        when = _as_datetime(value, now)
        if when is None:
            return None
        hours = int(match.group("amount")) * (24 if match.group("unit") == "d" else 1)
        cutoff = now - timedelta(hours=hours)
        return when < cutoff if match.group("age") == "older" else when >= cutoff
    if word in ("future", "past") or match.group("days"):
        when = _as_datetime(value, now)
        if when is None:
            return None
        if word == "future":
            return when > now
        if word == "past":
            return when < now
        return now <= when <= now + timedelta(days=int(match.group("days")))
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    limit = float(match.group("number"))
    op = match.group("op")
    return {
        "<": number < limit,
        "<=": number <= limit,
        ">": number > limit,
        ">=": number >= limit,
        "==": number == limit,
        "!=": number != limit,
    }[op]


def _as_datetime(value: Any, now: datetime) -> datetime | None:
    if isinstance(value, datetime):
        when = value
    elif isinstance(value, date):
        when = datetime(value.year, value.month, value.day, tzinfo=now.tzinfo)
    elif isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    if when.tzinfo is None and now.tzinfo is not None:
        when = when.replace(tzinfo=now.tzinfo)
    return when


# -- parsing and validation -------------------------------------------------------------------


def parse_card(data: Any, *, source: str) -> Card:
    """Validate a parsed card file and build the card.

    Raises:
        CardError: with every problem found (unknown targets, dead ends, loops without a cap,
            unreachable steps, unknown fields or rules, missing Russian texts).
    """
    problems: list[CardProblem] = []

    def problem(step: str, message: str) -> None:
        problems.append(CardProblem(source, step, message))

    if not isinstance(data, Mapping):
        raise CardError([CardProblem(source, "", "a card must be a mapping")])
    for key in sorted(set(data) - _CARD_KEYS):
        problem("", f"unknown key {key!r}")
    card_id = data.get("id")
    if not isinstance(card_id, str) or not CARD_ID.match(card_id):
        problem("", f"id {card_id!r} must be lower-case letters, digits and '-'")
        card_id = "?"
    version = data.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        problem("", "version must be a positive whole number")
        version = 1
    title = _text(data.get("title"))
    if title is None:
        problem("", "title needs a Russian text (title: {ru: …})")
        title = Text("?")
    reviewed = data.get("reviewed")
    if reviewed is not None and not isinstance(reviewed, date):
        problem("", "reviewed must be a date (YYYY-MM-DD)")
        reviewed = None
    inputs = _strings(data.get("inputs"))
    if inputs is None:
        problem("", "inputs must be a list of field names")
        inputs = ()
    for name in inputs:
        if name not in FIELDS:
            problem("", f"unknown input field {name!r}")
    applies = data.get("applies_to") or {}
    if not isinstance(applies, Mapping):
        problem("", "applies_to must be a mapping (checks: [...])")
        applies = {}
    for key in sorted(set(applies) - {"checks"}):
        hint = " (the catalogue links categories to cards)" if key == "categories" else ""
        problem("", f"unknown key {key!r} in applies_to{hint}")
    checks = _strings(applies.get("checks"))
    if checks is None:
        problem("", "applies_to.checks must be a list of check codes")
        checks = ()

    raw_steps = data.get("steps")
    steps: dict[str, Step] = {}
    if not isinstance(raw_steps, Mapping) or not raw_steps:
        problem("", "steps must be a non-empty mapping of step id to step")
        raw_steps = {}
    for key, raw in raw_steps.items():
        step_id = str(key)
        if not STEP_ID.match(step_id):
            problem(step_id, "a step id is letters, digits, '_' and '-'")
        step = _parse_step(step_id, raw, problem)
        if step is not None:
            steps[step_id] = step

    start = data.get("start")
    if not isinstance(start, str) or start not in raw_steps:
        problem("", f"start {start!r} is not a step of the card")
    _check_graph(str(start), steps, raw_steps, problem)

    if problems:
        raise CardError(problems)
    return Card(
        id=str(card_id),
        version=version,
        title=title,
        start=str(start),
        steps=steps,
        owner=str(data.get("owner") or ""),
        reviewed=reviewed,
        inputs=inputs,
        checks=checks,
    )


_CARD_KEYS = frozenset(
    {"id", "version", "title", "applies_to", "owner", "reviewed", "inputs", "start", "steps"}
)
_KIND_KEYS: dict[StepKind, frozenset[str]] = {
    StepKind.QUESTION: frozenset({"text", "answers"}),
    StepKind.ACTION: frozenset({"text", "expect", "on_ok", "on_fail"}),
    StepKind.CHECK: frozenset({"text", "field", "rule", "on_ok", "on_fail"}),
    StepKind.VERIFY: frozenset({"text", "on_ok", "on_fail", "on_exhausted", "max_visits"}),
    StepKind.RESOLVE_WITH: frozenset({"text", "next"}),
    StepKind.RESOLVED: frozenset({"text", "resolution"}),
    StepKind.ESCALATE: frozenset({"to", "reason", "attach", "text"}),
}


def _parse_step(step_id: str, raw: Any, problem: Any) -> Step | None:
    if not isinstance(raw, Mapping):
        problem(step_id, "a step must be a mapping with a kind")
        return None
    try:
        kind = StepKind(str(raw.get("kind")))
    except ValueError:
        kinds = ", ".join(k.value for k in StepKind)
        problem(step_id, f"kind {raw.get('kind')!r} is not one of {kinds}")
        return None
    for key in sorted(set(raw) - _KIND_KEYS[kind] - {"kind"}):
        problem(step_id, f"unknown key {key!r} for a {kind.value} step")
    text = _text(raw.get("text"))
    if text is None and kind not in TERMINAL:
        problem(step_id, "text needs a Russian text (text: {ru: …})")
    ok = True

    def target(key: str) -> str | None:
        nonlocal ok
        value = raw.get(key)
        if value is None:
            problem(step_id, f"dead end: the {kind.value} step needs {key}")
            ok = False
            return None
        return str(value)

    step = Step(step_id, kind, text)
    if kind is StepKind.QUESTION:
        answers = raw.get("answers")
        if not isinstance(answers, Mapping) or not answers:
            problem(step_id, "dead end: a question needs answers: {answer: next step}")
            return None
        parsed: dict[str, str] = {}
        for answer, goes_to in answers.items():
            if isinstance(answer, bool):
                # Reported, and the step still built, so its targets are checked too.
                problem(step_id, "quote the answers yes and no (YAML reads them as true/false)")
            parsed[str(answer).lower() if isinstance(answer, bool) else str(answer)] = str(goes_to)
        step = Step(step_id, kind, text, answers=parsed)
    elif kind in (StepKind.ACTION, StepKind.CHECK, StepKind.VERIFY):
        on_ok, on_fail = target("on_ok"), target("on_fail")
        field, rule, expect = None, None, _text(raw.get("expect"))
        if kind is StepKind.CHECK:
            field, rule = raw.get("field"), raw.get("rule")
            if field not in FIELDS:
                problem(step_id, f"unknown field {field!r}")
                ok = False
            if not isinstance(rule, str) or not rule_is_valid(rule):
                problem(step_id, f"unknown rule {rule!r} (present, future, within 30d, >= 90 …)")
                ok = False
        max_visits = raw.get("max_visits", 3)
        if not isinstance(max_visits, int) or isinstance(max_visits, bool) or max_visits < 1:
            problem(step_id, "max_visits must be a positive whole number")
            ok = False
        on_exhausted = raw.get("on_exhausted")
        step = Step(
            step_id,
            kind,
            text,
            on_ok=on_ok,
            on_fail=on_fail,
            on_exhausted=None if on_exhausted is None else str(on_exhausted),
            expect=expect,
            field=field,
            rule=rule,
            max_visits=max_visits if isinstance(max_visits, int) else 3,
        )
    elif kind is StepKind.RESOLVE_WITH:
        step = Step(step_id, kind, text, next=target("next"))
    elif kind is StepKind.RESOLVED:
        resolution = raw.get("resolution")
        if not isinstance(resolution, str) or not resolution.strip():
            problem(step_id, "a resolved step needs a resolution code")
            ok = False
        step = Step(step_id, kind, text, resolution=str(resolution))
    else:
        to = raw.get("to")
        if to not in ESCALATION_TARGETS:
            problem(step_id, f"to must be one of {', '.join(ESCALATION_TARGETS)}, got {to!r}")
            ok = False
        reason = _text(raw.get("reason"))
        if reason is None:
            problem(step_id, "an escalation needs a reason in Russian (reason: {ru: …})")
            ok = False
        attach = _strings(raw.get("attach"))
        if attach is None:
            problem(step_id, "attach must be a list of field names")
            attach = ()
        for name in attach:
            if name not in FIELDS:
                problem(step_id, f"unknown field {name!r} to attach")
                ok = False
        step = Step(step_id, kind, text, to=str(to), reason=reason, attach=attach)
    return step if ok else None


def _check_graph(
    start: str, steps: Mapping[str, Step], raw_steps: Mapping[Any, Any], problem: Any
) -> None:
    """Targets exist, every step is reachable, and every path ends in an outcome."""
    known = {str(k) for k in raw_steps}
    for step in steps.values():
        targets = [*step.exits.values()]
        if step.on_exhausted is not None:
            targets.append(step.on_exhausted)
        for goes_to in targets:
            if goes_to not in known:
                problem(step.id, f"unknown target step {goes_to!r}")
    if any(t not in known for s in steps.values() for t in s.exits.values()):
        return
    if start not in steps:
        return

    def edges(step: Step, *, capped: bool) -> list[str]:
        """Exits; with `capped`, a verify's on_fail that loops is replaced by on_exhausted."""
        found = list(step.exits.values())
        if capped and step.kind is StepKind.VERIFY and step.on_exhausted is not None:
            found = [t for t in found if t != step.on_fail] + [step.on_exhausted]
        return [t for t in found if t in steps]

    reachable: set[str] = set()
    pending = [start]
    while pending:
        step_id = pending.pop()
        if step_id in reachable:
            continue
        reachable.add(step_id)
        pending.extend(edges(steps[step_id], capped=False) + edges(steps[step_id], capped=True))
    for step_id in steps:
        if step_id not in reachable:
            problem(step_id, "unreachable from the start step")

    # With the capped loops cut, the graph must be acyclic: then every path ends in an outcome.
    state: dict[str, int] = {}
    trail: list[str] = []

    def visit(step_id: str) -> bool:
        state[step_id] = 1
        trail.append(step_id)
        for goes_to in edges(steps[step_id], capped=True):
            if state.get(goes_to) == 1:
                loop = [*trail[trail.index(goes_to) :], goes_to]
                problem(
                    step_id,
                    "loop " + " → ".join(loop) + ": a loop must go back through a verify "
                    "step's on_fail, and that step needs on_exhausted",
                )
                return False
            if state.get(goes_to) is None and not visit(goes_to):
                return False
        trail.pop()
        state[step_id] = 2
        return True

    for step_id in [start, *steps]:
        if step_id not in state and not visit(step_id):
            return


def _text(value: Any) -> Text | None:
    if isinstance(value, str) and value.strip():
        return Text(value.strip())
    if not isinstance(value, Mapping):
        return None
    ru, en = value.get("ru"), value.get("en")
    if not isinstance(ru, str) or not ru.strip():
        return None
    return Text(ru.strip(), en.strip() if isinstance(en, str) and en.strip() else None)


def _strings(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return tuple(value)


# -- runs -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CardAnswer:
    """One recorded answer of a run: at which step, what, by whom and when."""

    step: str
    answer: str
    actor: str
    at: datetime
    comment: str = ""


class CardProgress:
    """Where a run of `card` stands after the recorded `answers`.

    Raises:
        ValueError: when an answer does not fit the step the run was at (a stale or forged
            record); the message names the step.
    """

    def __init__(self, card: Card, answers: Sequence[CardAnswer] = ()) -> None:
        self.card = card
        self.answers: list[CardAnswer] = []
        self.current: str = card.start
        self._visits: dict[str, int] = {}
        for answer in answers:
            self.record(answer)

    @property
    def step(self) -> Step:
        """The step the run is at (an outcome step once finished)."""
        return self.card.steps[self.current]

    @property
    def finished(self) -> bool:
        """Whether the run reached resolved or escalate."""
        return self.step.kind in TERMINAL

    def choices(self) -> list[str]:
        """The answers the current step accepts."""
        return list(self.step.exits)

    def next_for(self, answer: str) -> str:
        """The step `answer` leads to from the current step, loop caps included."""
        step = self.step
        if self.finished:
            raise ValueError(f"the card run has ended at step {step.id}")
        exits = step.exits
        if answer not in exits:
            raise ValueError(f"step {step.id} accepts {', '.join(exits)}, not {answer!r}")
        if (
            step.kind is StepKind.VERIFY
            and answer == FAIL
            and step.on_exhausted is not None
            and self._visits.get(step.id, 0) + 1 >= step.max_visits
        ):
            return step.on_exhausted
        return exits[answer]

    def record(self, answer: CardAnswer) -> str:
        """Record an answer at the current step; returns the step the run moves to."""
        if answer.step != self.current:
            raise ValueError(f"the run is at step {self.current}, not {answer.step}")
        goes_to = self.next_for(answer.answer)
        if self.step.kind is StepKind.VERIFY and answer.answer == FAIL:
            self._visits[self.current] = self._visits.get(self.current, 0) + 1
        self.answers.append(answer)
        self.current = goes_to
        return goes_to
