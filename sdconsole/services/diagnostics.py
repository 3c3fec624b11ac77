"""Provides diagnostic-card runs on tickets: start, answer, resume, and the ticket data cards read.

A run is stored per ticket (`CardRun`: the card version and every answer) and every answer is
also written on the ticket as an internal note, so the next engineer, on any line, sees what was
tried. Notes never count as a first response. The current step is never stored alone: it is the
result of replaying the answers on the card (`CardProgress`), so a run can be resumed by anyone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from sdconsole.domain.clock import Clock
from sdconsole.domain.diagnostics import (
    DONE,
    FAIL,
    OK,
    Card,
    CardAnswer,
    CardProgress,
    Step,
    StepKind,
    evaluate_rule,
)
from sdconsole.domain.errors import Conflict, InvalidInput, NotFound
from sdconsole.domain.model import Actor, EventKind, ticket_number
from sdconsole.i18n import N_, current_language, translate_to
from sdconsole.services.catalogue import default_cards
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import CardRun, Category, Client, Contact, Device, Event, Ticket

RESOLVED, ESCALATED = "resolved", "escalated"
"""A finished run's outcome."""

ANSWER_LABELS = {
    "yes": N_("yes"),
    "no": N_("no"),
    OK: N_("worked"),
    FAIL: N_("did not work"),
    DONE: N_("done"),
}
"""How the standard answers read in notes and on screen; other answers read as written."""


@dataclass(frozen=True, slots=True)
class RunState:
    """A run as the console shows it.

    Attributes:
        progress: the card and where the run stands (`progress.step`, `progress.finished`).
        values: the ticket data the card may read (`domain.diagnostics.FIELDS`), None where the
            ticket has none.
        suggestion: for a check step whose field has a value, the answer its rule gives.
    """

    run_id: int
    ticket_id: int
    progress: CardProgress
    values: Mapping[str, Any] = field(default_factory=dict)
    suggestion: str | None = None

    @property
    def card(self) -> Card:
        return self.progress.card

    @property
    def step(self) -> Step:
        return self.progress.step


class DiagnosticsService:
    """Runs diagnostic cards on tickets."""

    def __init__(
        self, store: Store, clock: Clock, *, cards: Mapping[str, Card] | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        self._cards = cards
        self.tickets = TicketService(store, clock)

    @property
    def cards(self) -> Mapping[str, Card]:
        if self._cards is None:
            self._cards = default_cards()
        return self._cards

    # -- queries -----------------------------------------------------------------------------

    def card_for(self, ticket_id: int) -> Card | None:
        """The card of the ticket's category, if it has one."""
        with self.store.reader() as session:
            ticket = _ticket(session, ticket_id)
            if ticket.category_id is None:
                return None
            category = session.get(Category, ticket.category_id)
            card_id = category.card_id if category is not None else None
        return self.cards.get(card_id) if card_id else None

    def current(self, ticket_id: int) -> RunState | None:
        """The ticket's latest run (unfinished or not), or None when no card was run."""
        with self.store.reader() as session:
            _ticket(session, ticket_id)
            run = session.exec(
                select(CardRun)
                .where(CardRun.ticket_id == ticket_id)
                .order_by(col(CardRun.id).desc())
                .limit(1)
            ).first()
            if run is None:
                return None
            return self._state(session, run)

    def values(self, ticket_id: int) -> dict[str, Any]:
        """The ticket data cards read, by field name (None where unknown)."""
        with self.store.reader() as session:
            return ticket_values(session, _ticket(session, ticket_id), self.clock.now())

    # -- use cases ---------------------------------------------------------------------------

    def start(
        self, ticket_id: int, *, actor: Actor, card_id: str | None = None, language: str = ""
    ) -> RunState:
        """Start a run of `card_id` (default: the card of the ticket's category).

        Raises:
            NotFound: no such ticket or card, or the ticket's category has no card.
            Conflict: an unfinished run of the same card exists (resume it instead).
        """
        language = language or current_language()
        if card_id is None:
            card = self.card_for(ticket_id)
            if card is None:
                raise NotFound(
                    N_("Ticket {number} has no diagnostic card: its category has none."),
                    number=ticket_number(ticket_id),
                )
        else:
            card = self.cards.get(card_id)
            if card is None:
                raise NotFound(N_("No diagnostic card {card}."), card=card_id)
        now = self.clock.now()
        with self.store.transaction() as session:
            _ticket(session, ticket_id)
            open_run = session.exec(
                select(CardRun).where(
                    CardRun.ticket_id == ticket_id,
                    CardRun.card_id == card.id,
                    col(CardRun.outcome).is_(None),
                )
            ).first()
            if open_run is not None:
                raise Conflict(
                    N_("Card {card} is already running on ticket {number}; resume it."),
                    card=card.id,
                    number=ticket_number(ticket_id),
                )
            run = CardRun(
                ticket_id=ticket_id,
                card_id=card.id,
                card_version=card.version,
                started_by_id=actor.engineer_id,
                started_at=now,
                updated_at=now,
                current_step=card.start,
                answers=[],
            )
            session.add(run)
            session.flush()
            assert run.id is not None
            title = card.title.get(language)
            note = translate_to(
                language, N_("Diagnostic card started: {title} ({card}, v{version}).")
            )
            self.tickets.note(
                ticket_id,
                note.format(title=title, card=card.id, version=card.version),
                actor=actor,
            )
            self._event(session, run, actor, "started")
            return self._state(session, run)

    def answer(
        self,
        run_id: int,
        step: str,
        answer: str,
        *,
        actor: Actor,
        comment: str = "",
        language: str = "",
    ) -> RunState:
        """Record the answer to `step` and move the run on.

        `step` is the step the engineer saw: if someone else answered it meanwhile, the answer
        is refused with Conflict rather than applied to another step.

        Raises:
            NotFound: no such run. Conflict: the run has moved on, has ended, or its card has
                changed version since it started. InvalidInput: an answer the step does not take.
        """
        language = language or current_language()
        now = self.clock.now()
        with self.store.transaction() as session:
            run = session.get(CardRun, run_id, with_for_update=True)
            if run is None:
                raise NotFound(N_("No diagnostic card run {run}."), run=run_id)
            progress = self._progress(run)
            if progress.finished:
                raise Conflict(N_("This card run has already ended."))
            if progress.current != step:
                raise Conflict(
                    N_("The card run has moved on to another step; reload it."),
                )
            if answer not in progress.choices():
                raise InvalidInput(
                    N_("Step {step} takes one of: {choices}."),
                    step=step,
                    choices=", ".join(progress.choices()),
                )
            current = progress.step
            record = CardAnswer(step, answer, actor.login, now, comment.strip())
            progress.record(record)
            run.answers = [*run.answers, _answer_json(record)]
            run.current_step = progress.current
            run.updated_at = now
            if progress.finished:
                run.outcome = RESOLVED if progress.step.kind is StepKind.RESOLVED else ESCALATED
                run.finished_at = now
            session.add(run)
            session.flush()
            self.tickets.note(
                run.ticket_id,
                _note_text(progress.card, current, record, progress, language),
                actor=actor,
            )
            self._event(session, run, actor, run.outcome or "answered", step=step, answer=answer)
            return self._state(session, run)

    # -- helpers -----------------------------------------------------------------------------

    def _progress(self, run: CardRun) -> CardProgress:
        card = self.cards.get(run.card_id)
        if card is None or card.version != run.card_version:
            raise Conflict(
                N_("Card {card} has changed since this run started (v{old}); start a new run."),
                card=run.card_id,
                old=run.card_version,
            )
        try:
            return CardProgress(card, [_answer_from_json(a) for a in run.answers])
        except ValueError as error:
            raise Conflict(
                N_("The answers of card run {run} no longer fit the card: {detail}"),
                run=run.id,
                detail=str(error),
            ) from None

    def _state(self, session: Session, run: CardRun) -> RunState:
        assert run.id is not None
        progress = self._progress(run)
        ticket = _ticket(session, run.ticket_id)
        values = ticket_values(session, ticket, self.clock.now())
        suggestion = None
        step = progress.step
        if step.kind is StepKind.CHECK and step.field and step.rule:
            verdict = evaluate_rule(step.rule, values.get(step.field), self.clock.now())
            if verdict is not None:
                suggestion = OK if verdict else FAIL
        return RunState(run.id, run.ticket_id, progress, values, suggestion)

    def _event(
        self, session: Session, run: CardRun, actor: Actor, what: str, **details: Any
    ) -> None:
        session.add(
            Event(
                ticket_id=run.ticket_id,
                at=self.clock.now(),
                actor_id=actor.engineer_id,
                kind=EventKind.CARD.value,
                after=what,
                details={
                    "card": run.card_id,
                    "version": run.card_version,
                    "run": run.id,
                    **details,
                },
            )
        )


def ticket_values(session: Session, ticket: Ticket, now: datetime) -> dict[str, Any]:
    """The fields of `domain.diagnostics.FIELDS` this ticket knows (the rest None)."""
    from sdconsole.domain.diagnostics import FIELDS

    values: dict[str, Any] = dict.fromkeys(FIELDS)
    assert ticket.id is not None
    values["ticket.number"] = ticket_number(ticket.id)
    values["ticket.subject"] = ticket.subject
    client = session.get(Client, ticket.client_id) if ticket.client_id else None
    site = session.get(Client, ticket.site_id) if ticket.site_id else None
    contact = session.get(Contact, ticket.contact_id) if ticket.contact_id else None
    device = session.get(Device, ticket.device_id) if ticket.device_id else None
    if client is not None:
        values["client.name"] = client.name
        values["client.inn"] = client.inn
    if site is not None:
        values["site.name"] = site.name
        values["site.address"] = site.address
        values["store.phone"] = site.phone
        if site.timezone:
            try:
                local = now.astimezone(ZoneInfo(site.timezone))
            except (KeyError, ValueError):
                local = None
            if local is not None:
                values["site.local_time"] = local.strftime("%Y-%m-%d %H:%M %Z")
    if contact is not None:
        values["contact.name"] = contact.name
        values["contact.phone"] = contact.phone
    if device is not None:
        values["kkt.model"] = device.model
        values["kkt.serial"] = device.serial
        values["kkt.reg_number"] = device.reg_number
        values["kkt.firmware"] = device.firmware
        values["fn.serial"] = device.fn_serial
        values["fn.expires_at"] = device.fn_valid_until
        values["fn.memory_used_pct"] = device.fn_memory_used_pct
        values["ofd.name"] = device.ofd_name
    return values


def answer_label(answer: str, language: str) -> str:
    """An answer as people read it: the standard answers translated, others as written."""
    label = ANSWER_LABELS.get(answer)
    return translate_to(language, label) if label else answer


def _note_text(
    card: Card, step: Step, record: CardAnswer, progress: CardProgress, language: str
) -> str:
    question = step.text.get(language) if step.text else step.id
    lines = [
        translate_to(language, N_("Card {card}, step {step}: {text}")).format(
            card=card.id, step=step.id, text=question
        ),
        translate_to(language, N_("Answer: {answer}")).format(
            answer=answer_label(record.answer, language)
        ),
    ]
    if record.comment:
        lines.append(record.comment)
    end = progress.step
    if end.kind is StepKind.RESOLVED:
        lines.append(
            translate_to(language, N_("The card ends: resolved ({resolution}).")).format(
                resolution=end.resolution
            )
        )
    elif end.kind is StepKind.ESCALATE:
        reason = end.reason.get(language) if end.reason else ""
        lines.append(
            translate_to(language, N_("The card ends: escalate to {target}: {reason}")).format(
                target=end.to, reason=reason
            )
        )
    return "\n".join(lines)


def _answer_json(answer: CardAnswer) -> dict[str, Any]:
    return {
        "step": answer.step,
        "answer": answer.answer,
        "actor": answer.actor,
        "at": answer.at.isoformat(),
        "comment": answer.comment,
    }


def _answer_from_json(data: Mapping[str, Any]) -> CardAnswer:
    return CardAnswer(
        step=str(data["step"]),
        answer=str(data["answer"]),
        actor=str(data.get("actor", "")),
        at=datetime.fromisoformat(str(data["at"])),
        comment=str(data.get("comment", "")),
    )


def _ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(N_("No ticket {number}."), number=ticket_number(ticket_id))
    return ticket
