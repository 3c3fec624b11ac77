"""Provides the import channel: requests from a CSV file (a client's list, a portal export).

Each row becomes an `InboundMessage` of channel ``import`` and goes through the one intake
pipeline, keyed by the file's own request id, so importing the same file again changes nothing.
Every row is checked first (line and column named); one bad row and nothing is imported.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from sdconsole.domain.clock import Clock
from sdconsole.domain.intake import InboundMessage, Sender
from sdconsole.domain.model import ChannelKind, ClientKind, Priority
from sdconsole.i18n import N_
from sdconsole.services.importing.csv_table import Columns, IssueLog, read_table
from sdconsole.services.intake import IntakeService, Outcome
from sdconsole.storage import Store, repositories

REQUEST_COLUMNS = Columns(
    {
        "key": ("id", "request id", "номер", "номер обращения", "код"),
        "received_at": ("received", "date", "дата", "дата обращения", "время обращения"),
        "client": ("site", "клиент", "точка", "магазин"),
        "subject": ("тема",),
        "text": ("body", "description", "текст", "описание"),
        "caller": ("name", "contact", "заявитель", "контакт"),
        "phone": ("телефон",),
        "email": ("e-mail", "почта", "электронная почта"),
        "category": ("категория",),
        "priority": ("приоритет",),
    },
    required=("key", "subject"),
)

_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y %H:%M:%S")


@dataclass(frozen=True, slots=True)
class RequestImportSummary:
    """What an import of requests did, by intake outcome."""

    created: int
    appended: int
    duplicate: int


def parse_received(text: str, zone: str | None) -> datetime:
    """An ISO 8601 instant with offset, or a local time (site's zone, else UTC) as 1C writes it.

    Raises:
        ValueError: when it is neither.
    """
    text = text.strip()
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        value = _parse_local(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo(zone) if zone else UTC)
    return value


def _parse_local(text: str) -> datetime:
    for fmt in _TIME_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - the zone is attached by the caller
        except ValueError:
            continue
    raise ValueError(f"not a time: {text!r}")


def import_requests(
    store: Store, clock: Clock, path: Path, *, intake: IntakeService | None = None
) -> RequestImportSummary:
    """Check every row of a requests file, then ingest them all in one transaction.

    Raises:
        ImportRowsFailed: with every bad row's line and column; nothing was written.
    """
    source = path.name
    table = read_table(path.read_bytes(), REQUEST_COLUMNS, source)
    log = IssueLog(source, [table.header(c) for c in REQUEST_COLUMNS.names])
    messages: list[InboundMessage] = []
    seen: dict[str, int] = {}
    with store.reader() as session:
        for row in table.rows:
            cells = row.cells
            key = cells.get("key", "")
            if key in seen:
                log.add(
                    row.line,
                    table.header("key"),
                    N_("{value} repeats line {first}"),
                    value=key,
                    first=seen[key],
                )
                continue
            seen[key] = row.line
            if not cells.get("subject"):
                log.add(row.line, table.header("subject"), N_("a value is required"))
            client_id = site_id = None
            zone = None
            if cells.get("client"):
                client = repositories.client_by_ref(session=session, ref=cells["client"])
                if client is None:
                    log.add(
                        row.line,
                        table.header("client"),
                        N_("no client with external id {value}"),
                        value=cells["client"],
                    )
                elif client.kind == ClientKind.SITE:
                    site_id, zone = client.id, client.timezone
                else:
                    client_id = client.id
            received = clock.now()
            if cells.get("received_at"):
                try:
                    received = parse_received(cells["received_at"], zone)
                except ValueError:
                    log.add(
                        row.line,
                        table.header("received_at"),
                        N_("{value} is not a time; use ISO 8601 or DD.MM.YYYY HH:MM"),
                        value=cells["received_at"],
                    )
            priority = None
            if cells.get("priority"):
                try:
                    priority = Priority[cells["priority"].strip().upper()]
                except KeyError:
                    log.add(
                        row.line,
                        table.header("priority"),
                        N_("{value} is not one of: {choices}"),
                        value=cells["priority"],
                        choices="P1, P2, P3, P4",
                    )
            category = cells.get("category")
            if category and repositories.category_by_code(session=session, code=category) is None:
                log.add(
                    row.line,
                    table.header("category"),
                    N_("no category with code {value}"),
                    value=category,
                )
            raw = ";".join(f"{k}={v}" for k, v in sorted(cells.items())).encode()
            messages.append(
                InboundMessage(
                    channel=ChannelKind.IMPORT,
                    idempotency_key=key,
                    received_at=received,
                    sender=Sender(
                        name=cells.get("caller", ""),
                        phone=cells.get("phone", ""),
                        email=cells.get("email", ""),
                    ),
                    subject=cells.get("subject", ""),
                    body=cells.get("text", ""),
                    raw=raw,
                    client_id=client_id,
                    site_id=site_id,
                    category_code=category or None,
                    priority=priority,
                )
            )
    log.raise_if_any()
    intake = intake or IntakeService(store, clock)
    outcomes: Counter[Outcome] = Counter()
    with store.transaction():
        for message in messages:
            outcomes[intake.ingest(message).outcome] += 1
    return RequestImportSummary(
        created=outcomes[Outcome.CREATED],
        appended=outcomes[Outcome.APPENDED],
        duplicate=outcomes[Outcome.DUPLICATE],
    )
