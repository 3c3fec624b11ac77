"""Provides `MailIntake`: letters from IMAP mailboxes and files into the intake pipeline.

The order of things is what makes it safe. For each batch of UIDs: fetch without marking seen;
store the letters (raw bytes, tickets and messages; one transaction for the batch, a savepoint
per letter); only then flag, move or delete the batch on the server; then advance the mailbox
checkpoint. A crash anywhere replays
at most the last batch, and the replay is recognised twice over: by ``(mailbox, UIDVALIDITY,
UID)`` (the ledger's source reference) and by the letter's Message-ID and body digest. When the
server changes UIDVALIDITY, the mailbox is read again from the start and only the second key
keeps it from duplicating.
"""

from __future__ import annotations

import logging
import mailbox
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select

from sdconsole.channels.base import ChannelError, MailSource
from sdconsole.channels.mime import MailKind, NotAMail, ParsedMail, parse_mail
from sdconsole.config import MailboxSettings, MailSettings, Settings, read_secret
from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import InvalidInput
from sdconsole.domain.intake import InboundMessage
from sdconsole.domain.model import ChannelKind
from sdconsole.i18n import N_
from sdconsole.services.intake import IngestResult, IntakeService, Outcome
from sdconsole.services.parse_process import ParseProcess
from sdconsole.storage import Store
from sdconsole.storage.tables import Inbound, MailboxState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one pass over a mailbox did."""

    seen: int = 0
    """UIDs looked at (new since the checkpoint)."""
    outcomes: tuple[tuple[str, int], ...] = ()
    """Counts by `Outcome` (already-taken UIDs count as ``duplicate``)."""

    def count(self, outcome: Outcome) -> int:
        return dict(self.outcomes).get(outcome.value, 0)


def to_inbound(
    parsed: ParsedMail,
    raw: bytes,
    *,
    received_at: datetime,
    source_ref: str | None = None,
) -> InboundMessage:
    """The pipeline's view of a parsed letter."""
    failure = parsed.failure
    in_reply_to = parsed.references + (failure.original_ids if failure else ())
    return InboundMessage(
        channel=ChannelKind.EMAIL,
        idempotency_key=parsed.idempotency_key,
        received_at=received_at,
        sender=parsed.sender,
        subject=parsed.subject,
        body=parsed.text,
        raw=raw,
        body_html=parsed.html,
        channel_message_id=parsed.message_id,
        in_reply_to=tuple(dict.fromkeys(in_reply_to)),
        is_auto=parsed.kind in (MailKind.AUTO_REPLY, MailKind.BOUNCE),
        no_ack=parsed.kind == MailKind.GENERATED,
        failure=failure,
        source_ref=source_ref,
        notes=parsed.notes,
        attachments=parsed.attachments,
    )


def _utc(at: datetime | None) -> datetime | None:
    """An aware time in UTC (the IMAP library's own offset class does not survive pickling)."""
    return at.astimezone(UTC) if at is not None and at.tzinfo is not None else at


@dataclass(frozen=True)
class _Batch:
    """A batch of a mailbox pass: its UIDs, the letters fetched, and their parse under way."""

    uids: list[int]
    letters: list[Letter]
    read: Future[list[InboundMessage | str]] | None


Letter = tuple[bytes, "datetime | None", "str | None"]
"""A letter to take: its raw bytes, when the server received it, where it was fetched."""


def read_letters(
    letters: Sequence[Letter], *, attachment_limit: int, now: datetime
) -> list[InboundMessage | str]:
    """Parse letters into intake's inputs; a letter that cannot be parsed gives the reason it
    becomes a dead letter. Pure, so a second process can run it (`parse_process`)."""
    return [
        read_letter(raw, at, ref, attachment_limit=attachment_limit, now=now)
        for raw, at, ref in letters
    ]


def read_letter(
    raw: bytes,
    received_at: datetime | None,
    source_ref: str | None,
    *,
    attachment_limit: int,
    now: datetime,
) -> InboundMessage | str:
    """One letter as intake's input, or why it cannot be one."""
    try:
        parsed = parse_mail(raw, attachment_limit=attachment_limit)
    except NotAMail as error:
        return f"not a mail: {error}"
    except Exception as error:  # noqa: BLE001 - a parser bug must not stop the mailbox
        log.exception("cannot parse a letter (%s)", source_ref or "file")
        return f"cannot parse: {type(error).__name__}: {error}"
    when = received_at or parsed.date or now
    if when > now:
        when = now  # a sender's clock in the future must not start a clock there
    return to_inbound(parsed, raw, received_at=when, source_ref=source_ref)


class MailIntake:
    """Reads mailboxes and mail files into tickets."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        intake: IntakeService,
        settings: MailSettings,
        *,
        open_source: Callable[[MailboxSettings], MailSource] | None = None,
    ) -> None:
        """
        Args:
            store: where tickets and checkpoints are kept.
            clock: the time source.
            intake: the pipeline letters go through.
            settings: the ``[mail]`` settings.
            open_source: builds the adapter for a mailbox (default: IMAP with the password
                from its environment variable or file).
        """
        self.store = store
        self.clock = clock
        self.intake = intake
        self.settings = settings
        self._open_source = open_source or imap_source

    @classmethod
    def from_settings(cls, store: Store, clock: Clock, settings: Settings) -> MailIntake:
        """Mail intake as configured: ``[mail]`` and intake's classifier and routing."""
        return cls(store, clock, IntakeService.from_settings(store, clock, settings), settings.mail)

    # -- one letter ------------------------------------------------------------------------

    def take(
        self, raw: bytes, *, received_at: datetime | None = None, source_ref: str | None = None
    ) -> IngestResult:
        """Parse and ingest one letter; one that cannot be parsed becomes a dead letter."""
        return self.take_many([(raw, received_at, source_ref)])[0]

    def take_many(
        self, letters: Sequence[Letter], read: Sequence[InboundMessage | str] | None = None
    ) -> list[IngestResult]:
        """`take` for many letters, ingested as one intake batch (`IntakeService.open_many`).

        Args:
            read: the letters already parsed (`read_letters`), when another process did it.
        """
        now = self.clock.now()
        if read is None:
            read = read_letters(letters, attachment_limit=self._attachment_limit, now=now)
        inputs = [letter for letter in read if isinstance(letter, InboundMessage)]
        taken = iter(
            self.intake.open_many(inputs) if len(inputs) > 1 else map(self.intake.ingest, inputs)
        )
        return [
            next(taken)
            if isinstance(letter, InboundMessage)
            else self._reject(raw, letter, now, ref)
            for letter, (raw, _at, ref) in zip(read, letters, strict=True)
        ]

    @property
    def _attachment_limit(self) -> int:
        return int(self.settings.attachment_limit_mb * 1024 * 1024)

    def _reject(
        self, raw: bytes, reason: str, now: datetime, source_ref: str | None
    ) -> IngestResult:
        return self.intake.reject(
            ChannelKind.EMAIL, raw, reason, received_at=now, source_ref=source_ref
        )

    # -- mailboxes -------------------------------------------------------------------------

    def mailbox(self, name: str) -> MailboxSettings:
        """A configured mailbox by name.

        Raises:
            InvalidInput: no mailbox has that name.
        """
        for box in self.settings.mailboxes:
            if box.name == name:
                return box
        raise InvalidInput(
            N_("No mailbox {name} in the config; mailboxes: {known}"),
            name=name,
            known=", ".join(b.name for b in self.settings.mailboxes) or "—",
        )

    def fetch_once(self, box: MailboxSettings) -> PassResult:
        """Connect, take every new letter, disconnect.

        Raises:
            ChannelError: the server failed; what was stored stays stored.
        """
        source = self._open_source(box)
        parser = self._parser()
        try:
            uidvalidity = source.open()
            return self._drain(source, box, uidvalidity, parser)
        finally:
            source.close()
            if parser is not None:
                parser.close()

    def run(
        self,
        box: MailboxSettings,
        stop: threading.Event,
        *,
        on_pass: Callable[[PassResult], None] | None = None,
    ) -> None:
        """Take letters as they arrive until `stop` is set: IDLE where the server offers it,
        else poll every ``poll_seconds``. Returns when stopped.

        Raises:
            ChannelError: the connection failed; the supervisor reconnects with backoff.
        """
        source = self._open_source(box)
        parser = self._parser()
        try:
            uidvalidity = source.open()
            while not stop.is_set():
                result = self._drain(source, box, uidvalidity, parser)
                if on_pass is not None:
                    on_pass(result)
                if stop.is_set():
                    break
                if getattr(source, "can_idle", False):
                    # Short IDLE rounds, so that a stop request is seen within seconds.
                    source.wait(min(box.poll_seconds, 10.0))
                else:
                    stop.wait(box.poll_seconds)
        finally:
            source.close()
            if parser is not None:
                parser.close()

    def _parser(self) -> ParseProcess | None:
        """The process that parses a pass's next batch while this one stores the last
        (``parse_process``; none: parsed here, between the stores). One is enough: a pass has
        one batch in parsing at a time."""
        return ParseProcess("sdconsole.channels.mime") if self.settings.parse_process else None

    def _drain(
        self,
        source: MailSource,
        box: MailboxSettings,
        uidvalidity: int,
        parser: ParseProcess | None = None,
    ) -> PassResult:
        known_validity, last_uid = self._checkpoint(box.name)
        if known_validity != uidvalidity:
            if known_validity:
                log.warning(
                    "mailbox %s: UIDVALIDITY changed %s → %s; reading it again from the start"
                    " (letters already taken are recognised by Message-ID)",
                    box.name,
                    known_validity,
                    uidvalidity,
                )
            last_uid = 0
        uids = source.uids_after(last_uid)
        if parser is not None and len(uids) > box.batch:
            parser.start()
        outcomes: Counter[str] = Counter()
        # A pipeline of two stages: while a batch is stored here, the next one is fetched and
        # parsed (in the parser's process, when there is one). Each batch is stored, then
        # marked on the server, then checkpointed, in that order, as without the pipeline.
        stored: _Batch | None = None
        for start in range(0, len(uids), box.batch):
            chunk = uids[start : start + box.batch]
            refs = {uid: source_ref(box.name, uidvalidity, uid) for uid in chunk}
            taken = self._known_refs(list(refs.values()))
            outcomes[Outcome.DUPLICATE.value] += len(taken)
            wanted = [uid for uid in chunk if refs[uid] not in taken]
            try:
                fetched = list(source.fetch(wanted))  # the network round trip, before the lock
                if any(not mail.raw for mail in fetched):
                    raise ChannelError(f"{box.name}: the server gave an empty letter; retried")
            except Exception:
                if stored is not None:  # what was fetched before is stored all the same
                    self._store(source, box, uidvalidity, stored)
                raise
            letters = [(mail.raw, _utc(mail.received_at), refs[mail.uid]) for mail in fetched]
            batch = _Batch(chunk, letters, self._read_later(parser, letters))
            if stored is not None:
                outcomes.update(self._store(source, box, uidvalidity, stored))
            stored = batch
        if stored is not None:
            outcomes.update(self._store(source, box, uidvalidity, stored))
        if not uids and known_validity != uidvalidity:
            self._save_checkpoint(box.name, uidvalidity, last_uid)
        return PassResult(
            seen=len(uids), outcomes=tuple(sorted((k, n) for k, n in outcomes.items() if n))
        )

    def _read_later(
        self, parser: ParseProcess | None, letters: list[Letter]
    ) -> Future[list[InboundMessage | str]] | None:
        if parser is None or not letters:
            return None
        return parser.submit(
            read_letters, letters, attachment_limit=self._attachment_limit, now=self.clock.now()
        )

    def _store(
        self, source: MailSource, box: MailboxSettings, uidvalidity: int, batch: _Batch
    ) -> Counter[str]:
        """Store a batch (one commit: its new requests written together, every other letter
        in a savepoint of its own, so one that fails is undone alone and kept as a dead
        letter), then mark it on the server and advance the checkpoint."""
        read = None
        if batch.read is not None:
            try:
                read = batch.read.result()
            except Exception as error:  # noqa: BLE001 - the letters are parsed here instead
                log.warning("%s: the letters' parser failed (%s); parsing here", box.name, error)
        with self.store.transaction():
            results = self.take_many(batch.letters, read)
        source.done(batch.uids)
        self._save_checkpoint(box.name, uidvalidity, batch.uids[-1])
        return Counter(result.outcome.value for result in results)

    def _checkpoint(self, name: str) -> tuple[int, int]:
        with self.store.reader() as session:
            row = session.get(MailboxState, name)
            return (row.uidvalidity, row.last_uid) if row is not None else (0, 0)

    def _save_checkpoint(self, name: str, uidvalidity: int, last_uid: int) -> None:
        with self.store.transaction() as session:
            row = session.get(MailboxState, name)
            if row is None:
                row = MailboxState(name=name)
                session.add(row)
            row.uidvalidity = uidvalidity
            row.last_uid = max(last_uid, row.last_uid if row.uidvalidity == uidvalidity else 0)
            row.updated_at = self.clock.now()

    def _known_refs(self, refs: list[str]) -> set[str]:
        if not refs:
            return set()
        with self.store.reader() as session:
            found = session.execute(
                select(Inbound.source_ref).where(Inbound.source_ref.in_(refs))
            ).scalars()
            return {ref for ref in found if ref}

    # -- files -----------------------------------------------------------------------------

    def import_path(self, path: Path) -> Counter[str]:
        """Take letters from a file (.eml), a folder of them, an mbox or a Maildir.

        Idempotent: a letter imported twice is recognised by its Message-ID and body.

        Raises:
            InvalidInput: the path does not exist.
        """
        outcomes: Counter[str] = Counter()
        for raw in iter_mail_files(path):
            outcomes[self.take(raw).outcome.value] += 1
        return outcomes


def source_ref(mailbox_name: str, uidvalidity: int, uid: int) -> str:
    """The ledger's reference of a fetched letter."""
    return f"imap:{mailbox_name}:{uidvalidity}:{uid}"


def imap_source(box: MailboxSettings) -> MailSource:
    """The IMAP adapter for a mailbox, its password read from the environment or a file."""
    from sdconsole.channels.imap import ImapMailbox

    password = read_secret(box.password_env, box.password_file, what=f"mailbox {box.name}")
    if password is None:
        raise InvalidInput(
            N_("Mailbox {name} has no password_env or password_file in the config."),
            name=box.name,
        )
    return ImapMailbox(box, password)


def iter_mail_files(path: Path) -> Iterator[bytes]:
    """Raw letters from an .eml file, a folder of files, an mbox file or a Maildir.

    Raises:
        InvalidInput: the path does not exist.
    """
    if not path.exists():
        raise InvalidInput(N_("No such file or folder: {path}"), path=str(path))
    if path.is_dir():
        if all((path / sub).is_dir() for sub in ("cur", "new", "tmp")):
            maildir = mailbox.Maildir(path, factory=None, create=False)
            for key in sorted(maildir.keys()):
                yield maildir.get_bytes(key)
            return
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            if not child.name.startswith("."):
                yield child.read_bytes()
        return
    with path.open("rb") as handle:
        head = handle.read(5)
    if head == b"From ":
        box = mailbox.mbox(path, factory=None, create=False)
        try:
            for key in box.keys():
                yield box.get_bytes(key)
        finally:
            box.close()
        return
    yield path.read_bytes()
