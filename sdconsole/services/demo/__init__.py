"""Provides `build_demo`: the deterministic demo store, built through the real services.

The directory (clients, contacts, calendars, SLA plans, contracts, engineers, devices and the
incident catalogue) is inserted as rows. Ninety days of history are then planned as timed steps
(a shop writes, an engineer takes the ticket, answers, escalates, resolves) and replayed in time
order through `IntakeService` and `TicketService` on a `FixedClock`, so threads, events and SLA
fields are exactly what the services produce. Everything runs in one transaction.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlmodel import Session

from sdconsole.domain.errors import InvalidInput
from sdconsole.domain.model import OPEN_STATUSES, ClientKind
from sdconsole.i18n import N_, _
from sdconsole.resources.demo import world as W
from sdconsole.services.demo.history import HISTORY_DAYS, History
from sdconsole.services.demo.world import World
from sdconsole.storage import Store
from sdconsole.storage.tables import (
    Category,
    Client,
    Contact,
    Contract,
    Device,
    Engineer,
    Event,
    Message,
    Ticket,
)

__all__ = [
    "DEFAULT_TICKETS",
    "DEMO_LOGIN",
    "DEMO_MARKER",
    "HISTORY_DAYS",
    "DemoSummary",
    "build_demo",
    "inspect_store",
]

DEFAULT_TICKETS = 2100
"""Tickets in the full demo; tests pass fewer."""
DEMO_LOGIN = W.DEMO_LOGIN
DEMO_MARKER = "CH-AMBAR"
"""External id of the first chain: its presence marks a store as a demo store."""


@dataclass(frozen=True, slots=True)
class DemoSummary:
    """What `build_demo` put in the store."""

    chains: int
    legal_entities: int
    sites: int
    contacts: int
    engineers: int
    devices: int
    cash_registers: int
    categories: int
    contracts: int
    tickets: int
    open_tickets: int
    messages: int
    events: int

    def describe(self) -> str:
        """One line for people."""
        return _(
            "Demo store: {tickets} tickets ({open} open), {sites} shops of {chains} chains, "
            "{kkt} cash registers, {engineers} engineers."
        ).format(
            tickets=self.tickets,
            open=self.open_tickets,
            sites=self.sites,
            chains=self.chains,
            kkt=self.cash_registers,
            engineers=self.engineers,
        )


def inspect_store(store: Store) -> tuple[int, bool]:
    """How many tickets a migrated store holds, and whether it is a demo store."""
    with store.reader() as session:
        tickets = session.execute(select(func.count()).select_from(Ticket)).scalar_one()
        marker = session.execute(select(Client.id).where(Client.external_id == DEMO_MARKER))
        return int(tickets), marker.first() is not None


def build_demo(
    store: Store,
    *,
    seed: int = 1,
    now: datetime,
    tickets: int = DEFAULT_TICKETS,
    progress: Callable[[int, int], object] | None = None,
) -> DemoSummary:
    """Fill an empty, migrated store with the demo world and 90 days of ticket history.

    Args:
        store: the store; it must have no tickets.
        seed: the random seed; the same seed and `now` give the same content.
        now: the demo's present (aware); history ends here.
        tickets: about how many tickets to make.
        progress: called now and then with (steps done, steps in all) while history replays.

    Raises:
        InvalidInput: the store already has tickets.
        ValueError: `now` is naive.
    """
    if now.tzinfo is None:
        raise ValueError("build_demo needs an aware `now`")
    now = now.astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)
    with store.transaction() as session:
        if session.execute(select(func.count()).select_from(Ticket)).scalar_one():
            raise InvalidInput(
                N_("The store {url} already has tickets; the demo needs an empty store."),
                url=store.describe(),
            )
        world = World(session, rng, now)
        History(store, world, tickets).replay(progress)
        world.finish()
        return _summary(session)


def _summary(session: Session) -> DemoSummary:
    def count(model: type, *where: object) -> int:
        return int(
            session.execute(select(func.count()).select_from(model).where(*where)).scalar_one()
        )

    return DemoSummary(
        count(Client, Client.kind == ClientKind.CHAIN.value),
        count(Client, Client.kind == ClientKind.LEGAL_ENTITY.value),
        count(Client, Client.kind == ClientKind.SITE.value),
        count(Contact),
        count(Engineer),
        count(Device),
        count(Device, Device.kind == "kkt"),
        count(Category),
        count(Contract),
        count(Ticket),
        count(Ticket, Ticket.status.in_([s.value for s in OPEN_STATUSES])),
        count(Message),
        count(Event),
    )
