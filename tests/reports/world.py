"""A small store for the SLA report tests: tickets whose clocks end every way, at fixed times.

At `NOW` (tests.conftest), on a 24/7 plan (P1 15/240 min, P2 30/480, P3 120/1440), received two
days before unless said otherwise:

| ticket | client | pri | what happened | reg. | response | resolution |
|---|---|---|---|---|---|---|
| met | CH-1 | P2 | reply after 10 min, resolved after 120 | met | met (10) | met (120) |
| late | CH-1 | P1 | reply after 30 min, resolved after 300 | met | late 15 | late 60 |
| silent | CH-1 | P3 | no category, no answer | late | late | late |
| fresh | CH-1 | P3 | received 30 min ago | met | running | running |
| waiting | CH-1 | P3 | reply after 5 min, then waiting for the client | met | met (5) | paused |
| cancelled | CH-1 | P4 | cancelled | — | — | — |
| other | CH-2 | P2 | no answer; no contract (default targets) | met | late | late |
| old | CH-1 | P3 | received 40 days ago, resolved at once | met | met (1) | met (2) |

"Late" clocks of silent and other still run, past their deadlines; "paused" runs too.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import Priority, Status
from sdconsole.services.intake import IntakeService
from sdconsole.services.tickets import TicketService
from sdconsole.storage import Store
from sdconsole.storage.tables import Client, Contact
from tests.conftest import NOW, add_engineer
from tests.services.helpers import MANUAL, email, make_world

BASE = NOW - timedelta(days=2)
UNCLASSIFIED = {"subject": "Вопрос по отчётам", "body": "Подскажите, где смотреть выручку."}


def build(store: Store, clock: FixedClock) -> dict[str, int]:
    """Fill an empty store; returns ticket ids by name. Leaves `clock` at `NOW`."""
    clock.set(NOW - timedelta(days=40))
    make_world(store, clock.now())
    with store.transaction() as session:
        other = Client(
            kind="chain",
            name="Северный берег",
            external_id="CH-2",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        session.add(other)
        session.flush()
        session.add(
            Contact(client_id=other.id, name="Пётр", email="petr@north.example", created_at=NOW)
        )
    engineer = add_engineer(store, "ivanov")
    intake = IntakeService(store, clock, routing=MANUAL)
    tickets = TicketService(store, clock)
    ids: dict[str, int] = {}

    def ingest(name: str, priority: Priority, **kwargs: str) -> None:
        result = intake.ingest(email(f"<{name}@shop>", clock.now(), priority=priority, **kwargs))
        assert result.ticket_id is not None
        ids[name] = result.ticket_id

    ingest("old", Priority.P3)
    clock.advance(timedelta(minutes=1))
    tickets.take(ids["old"], actor=engineer)
    tickets.reply(ids["old"], "Сделано.", actor=engineer)
    clock.advance(timedelta(minutes=1))
    tickets.resolve(ids["old"], "fixed", actor=engineer)

    clock.set(BASE)
    ingest("met", Priority.P2)
    ingest("late", Priority.P1)
    ingest("silent", Priority.P3, **UNCLASSIFIED)
    ingest("waiting", Priority.P3)
    ingest("cancelled", Priority.P4)
    result = intake.ingest(
        replace(
            email("<other@north>", clock.now(), priority=Priority.P2, sender="petr@north.example"),
        )
    )
    assert result.ticket_id is not None
    ids["other"] = result.ticket_id

    clock.set(BASE + timedelta(minutes=5))
    tickets.take(ids["waiting"], actor=engineer)
    tickets.reply(ids["waiting"], "Пришлите фото чека.", actor=engineer)
    tickets.set_status(ids["waiting"], Status.WAITING_CLIENT, actor=engineer)
    tickets.set_status(ids["cancelled"], Status.CANCELLED, actor=engineer)
    clock.set(BASE + timedelta(minutes=10))
    tickets.take(ids["met"], actor=engineer)
    tickets.reply(ids["met"], "Проверьте бумагу.", actor=engineer)
    clock.set(BASE + timedelta(minutes=30))
    tickets.take(ids["late"], actor=engineer)
    tickets.reply(ids["late"], "Смотрим.", actor=engineer)
    clock.set(BASE + timedelta(minutes=120))
    tickets.resolve(ids["met"], "fixed", actor=engineer)
    clock.set(BASE + timedelta(minutes=300))
    tickets.resolve(ids["late"], "fixed", actor=engineer)

    clock.set(NOW - timedelta(minutes=30))
    ingest("fresh", Priority.P3)
    clock.set(NOW)
    return ids
