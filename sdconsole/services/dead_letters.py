"""Provides the dead-letter use cases: list, read, retry and dismiss what intake could not take.

A dead letter keeps the raw payload and the reason. `retry` runs it through its channel's intake
again (after a fix, or once the ticket it answers exists); on success the dead letter is marked
resolved and points nowhere, since the ledger now holds the input. `dismiss` marks it looked at
and dealt with by hand: it stays in the store, never deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, or_, select

from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import InvalidInput, NotFound
from sdconsole.domain.model import ChannelKind
from sdconsole.domain.text import clean_body
from sdconsole.i18n import N_
from sdconsole.services.intake import IngestResult, Outcome
from sdconsole.services.mail import MailIntake
from sdconsole.storage import Store
from sdconsole.storage.tables import DeadLetter, Inbound

PREVIEW = 200


@dataclass(frozen=True, slots=True)
class DeadLetterRow:
    """One dead letter, as lists show it."""

    id: int
    channel: str
    key: str
    error: str
    first_seen: datetime
    last_seen: datetime
    retries: int
    size: int
    resolved_at: datetime | None
    preview: str
    """The payload's first characters, decoded best effort and cleaned for the screen."""


def readable(raw: bytes, limit: int | None = None) -> str:
    """A payload as safe text: decoded best effort, control sequences stripped."""
    data = raw if limit is None else raw[: limit * 4]
    text = data.decode("utf-8", "replace")
    if text.count("\ufffd") > len(text) // 20:
        text = data.decode("cp1251", "replace")
    text = clean_body(text)
    return text if limit is None else text[:limit]


def list_dead_letters(store: Store, *, include_resolved: bool = False) -> list[DeadLetterRow]:
    """Dead letters, newest first; the resolved ones only when asked."""
    with store.reader() as session:
        query = select(DeadLetter).order_by(DeadLetter.last_seen.desc(), DeadLetter.id.desc())
        if not include_resolved:
            query = query.where(DeadLetter.resolved_at.is_(None))
        return [_row(d) for d in session.execute(query).scalars()]


def get(store: Store, dead_letter_id: int) -> tuple[DeadLetterRow, bytes]:
    """One dead letter and its raw payload.

    Raises:
        NotFound: there is no such dead letter.
    """
    with store.reader() as session:
        row = session.get(DeadLetter, dead_letter_id)
        if row is None:
            raise NotFound(N_("No dead letter {id}."), id=dead_letter_id)
        return _row(row), bytes(row.raw)


def _row(d: DeadLetter) -> DeadLetterRow:
    assert d.id is not None
    assert d.first_seen is not None
    assert d.last_seen is not None
    raw = bytes(d.raw)
    return DeadLetterRow(
        id=d.id,
        channel=d.channel,
        key=d.key,
        error=d.error,
        first_seen=d.first_seen,
        last_seen=d.last_seen,
        retries=d.retries,
        size=len(raw),
        resolved_at=d.resolved_at,
        preview=" ".join(readable(raw, PREVIEW).split()),
    )


class DeadLetters:
    """Retry and dismiss; each in its own transactions."""

    def __init__(self, store: Store, clock: Clock, mail: MailIntake) -> None:
        """
        Args:
            store: where the dead letters are.
            clock: the time source.
            mail: the email channel's intake, which parses raw letters; other channels join as
                they come.
        """
        self.store = store
        self.clock = clock
        self.mail = mail

    def retry(self, dead_letter_id: int) -> IngestResult:
        """Take the payload again; resolved when it becomes a ticket or a message.

        Raises:
            NotFound: no such dead letter.
            InvalidInput: it is already resolved, or its channel cannot be retried.
        """
        row, raw = get(self.store, dead_letter_id)
        if row.resolved_at is not None:
            raise InvalidInput(N_("Dead letter {id} is already resolved."), id=dead_letter_id)
        if row.channel != ChannelKind.EMAIL.value:
            raise InvalidInput(
                N_("Dead letters of the {channel} channel cannot be retried yet."),
                channel=row.channel,
            )
        ref = row.key if row.key.startswith("imap:") else None
        with self.store.transaction() as session:
            # The ledger entry that recorded the failure goes, so that the retry is not
            # recognised as a replay of it.
            session.execute(
                delete(Inbound).where(
                    Inbound.ticket_id.is_(None),
                    Inbound.channel == row.channel,
                    or_(Inbound.source_ref == row.key, Inbound.idempotency_key == row.key),
                )
            )
        result = self.mail.take(raw, source_ref=ref)
        if result.outcome in (Outcome.CREATED, Outcome.APPENDED, Outcome.DUPLICATE):
            self._resolve(dead_letter_id)
        return result

    def dismiss(self, dead_letter_id: int) -> None:
        """Mark it dealt with (it stays in the store).

        Raises:
            NotFound: no such dead letter.
        """
        get(self.store, dead_letter_id)
        self._resolve(dead_letter_id)

    def _resolve(self, dead_letter_id: int) -> None:
        with self.store.transaction() as session:
            row = session.get(DeadLetter, dead_letter_id)
            if row is not None and row.resolved_at is None:
                row.resolved_at = self.clock.now()
