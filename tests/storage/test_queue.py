"""The queue query: order by nearest deadline, filters, keyset paging, and index use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from sdconsole.domain.model import OPEN_STATUSES, Status
from sdconsole.domain.sla import PAUSED_DUE
from sdconsole.domain.views import QueueFilter
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import Client, Engineer, Ticket

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.fixture
def queue_store(store: Store) -> Store:
    """40 tickets: due times spread, lines 1–3, two engineers, two clients, some closed."""
    with store.transaction() as session:
        clients = [
            Client(kind="chain", name=f"Сеть {i}", created_at=T0, updated_at=T0) for i in range(2)
        ]
        engineers = [Engineer(login=f"e{i}", name=f"E{i}") for i in range(2)]
        session.add_all([*clients, *engineers])
        session.flush()
        statuses = [*OPEN_STATUSES, Status.RESOLVED, Status.CLOSED]
        for i in range(40):
            status = statuses[i % len(statuses)]
            due = T0 + timedelta(minutes=(i * 37) % 400)
            session.add(
                Ticket(
                    subject=f"Заявка {i}",
                    client_id=clients[i % 2].id,
                    channel="email",
                    status=status.value,
                    line=1 + i % 3,
                    priority=1 + i % 4,
                    assignee_id=engineers[i % 2].id if i % 5 else None,
                    received_at=T0,
                    created_at=T0,
                    updated_at=T0,
                    due_at=PAUSED_DUE if status == Status.WAITING_CLIENT else due,
                )
            )
    return store


def expected(store: Store, predicate: object = None) -> list[int]:
    with store.reader() as session:
        rows = session.execute(sa.select(Ticket)).scalars().all()
    open_rows = [t for t in rows if Status(t.status).is_open]
    if callable(predicate):
        open_rows = [t for t in open_rows if predicate(t)]
    return [t.id for t in sorted(open_rows, key=lambda t: (t.due_at, t.id))]


@pytest.mark.parametrize(
    ("queue", "predicate"),
    [
        (QueueFilter(), None),
        (QueueFilter(line=2), lambda t: t.line == 2),
        (QueueFilter(unassigned=True), lambda t: t.assignee_id is None),
        (QueueFilter(assignee_id=1), lambda t: t.assignee_id == 1),
        (QueueFilter(client_id=2), lambda t: t.client_id == 2),
    ],
)
def test_queue_order_and_filters(queue_store: Store, queue: QueueFilter, predicate: object) -> None:
    with queue_store.reader() as session:
        rows = repositories.queue_page(session=session, queue=queue, limit=100)
        total = repositories.count_queue(session=session, queue=queue)
    assert [r.id for r in rows] == expected(queue_store, predicate)
    assert total == len(rows)


def test_keyset_pages_cover_the_queue_without_gaps(queue_store: Store) -> None:
    seen: list[int] = []
    after = None
    with queue_store.reader() as session:
        for _page in range(20):
            rows = repositories.queue_page(
                session=session, queue=QueueFilter(), limit=7, after=after
            )
            if not rows:
                break
            seen.extend(r.id for r in rows)
            after = (rows[-1].due_at, rows[-1].id)
    assert seen == expected(queue_store)


def _plan(store: Store, queue: QueueFilter) -> str:
    """The database's plan for the queue's page query."""
    with store.reader() as session:
        captured: list[str] = []

        def capture(
            _conn: object,
            _cursor: object,
            statement: str,
            parameters: object,
            _context: object,
            _many: bool,
        ) -> None:
            if "ORDER BY" in statement and "LIMIT" in statement:
                captured.append(statement)

        sa.event.listen(store.engine, "before_cursor_execute", capture)
        try:
            repositories.queue_page(session=session, queue=queue, limit=50)
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", capture)
        compiled = repositories.queue_page_statement(queue=queue, limit=50).compile(
            dialect=store.engine.dialect, compile_kwargs={"literal_binds": True}
        )
        if store.is_sqlite:
            rows = session.execute(sa.text(f"EXPLAIN QUERY PLAN {compiled}")).all()
            return "\n".join(str(r[-1]) for r in rows)
        session.execute(sa.text("SET LOCAL enable_seqscan = off"))
        session.execute(sa.text("SET LOCAL enable_sort = off"))
        rows = session.execute(sa.text(f"EXPLAIN {compiled}")).all()
        return "\n".join(str(r[0]) for r in rows)


@pytest.mark.parametrize(
    ("queue", "index"),
    [
        (QueueFilter(), "ix_ticket_queue"),
        (QueueFilter(line=2), "ix_ticket_queue_line"),
        (QueueFilter(assignee_id=1), "ix_ticket_queue_assignee"),
        (QueueFilter(client_id=1), "ix_ticket_queue_client"),
        (QueueFilter(unassigned=True), "ix_ticket_queue_unassigned"),
    ],
)
def test_queue_reads_its_partial_index(queue_store: Store, queue: QueueFilter, index: str) -> None:
    plan = _plan(queue_store, queue)
    if queue.unassigned and queue_store.is_sqlite:
        # SQLite reads the assignee index in (due_at, id) order for IS NULL just as well.
        index = "ix_ticket_queue_assignee"
    assert f"{index} " in plan or f"{index}\n" in plan or plan.endswith(index), plan
    if queue_store.is_sqlite:
        # The page is read in index order; only the 50 picked rows are sorted again.
        picking = plan.split("SCAN anon_1")[0]
        assert "TEMP B-TREE" not in picking, plan
