"""Provides app-level messages: small, typed facts posted by workers and handled by screens."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from sdconsole.domain.views import QueueFilter, QueueRow, TicketView


@dataclass
class QueueLoaded(Message):
    """A page of the queue was read from the store."""

    queue: QueueFilter
    rows: list[QueueRow]
    append: bool
    limit: int = 0
    """How many rows were asked for (fewer came: the queue has no more)."""


@dataclass
class QueueCounted(Message):
    """How many open tickets the queue holds (counted after its first page was shown)."""

    queue: QueueFilter
    total: int


@dataclass
class TicketLoaded(Message):
    """A ticket and its thread were read from the store."""

    view: TicketView


@dataclass
class StoreFailed(Message):
    """Reading the store failed; the text says why."""

    error: str


@dataclass
class StoreChanged(Message):
    """Someone (another engineer, intake, a worker) committed a change to the tickets."""


@dataclass
class ViewsCounted(Message):
    """The views panel's counts were read: view key → open tickets."""

    counts: dict[str, int]
