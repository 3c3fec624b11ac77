"""The queue query: order by nearest deadline, filters, keyset paging, and index use."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.model import OPEN_STATUSES, ChannelKind, Priority, Status
from sdconsole.domain.sla import PAUSED_DUE
from sdconsole.domain.views import QueueFilter
from sdconsole.storage import Store, repositories
from sdconsole.storage.tables import Category, Client, Device, Engineer, Message, Ticket

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
                    status=status.value,
                    line=1 + i % 3,
                    priority=1 + i % 4,
                    assignee_id=engineers[i % 2].id if i % 5 else None,
                    received_at=T0,
                    created_at=T0,
                    updated_at=T0,
                    due_at=PAUSED_DUE if status == Status.WAITING_CLIENT else due,
                    team=("kkt", "egais", None)[i % 3],
                    channel=("email", "telegram", "monitoring")[i % 3],
                    resolution_breached=i % 7 == 0,
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
        (QueueFilter(teams=("kkt", "egais")), lambda t: t.team in ("kkt", "egais")),
        (QueueFilter(waiting=True), lambda t: t.status.startswith("waiting")),
        (QueueFilter(lines=(1, 3)), lambda t: t.line in (1, 3)),
        (QueueFilter(priority=Priority.P2), lambda t: t.priority == 2),
        (QueueFilter(channel=ChannelKind.TELEGRAM), lambda t: t.channel == "telegram"),
        (
            QueueFilter(breached=True),
            lambda t: t.resolution_breached or t.due_at <= T0 + timedelta(minutes=100),
        ),
        (
            QueueFilter(line=1, teams=("kkt",), unassigned=True),
            lambda t: t.line == 1 and t.team == "kkt" and t.assignee_id is None,
        ),
    ],
)
def test_queue_order_and_filters(queue_store: Store, queue: QueueFilter, predicate: object) -> None:
    now = T0 + timedelta(minutes=100)
    with queue_store.reader() as session:
        rows = repositories.queue_page(session=session, queue=queue, limit=100, now=now)
        total = repositories.count_queue(session=session, queue=queue, now=now)
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


@pytest.fixture
def search_store(store: Store) -> Store:
    """A chain → entity → site tree; tickets with threads, a device and a category tree."""
    with store.transaction() as session:
        chain = Client(kind="chain", name="Магнолия", created_at=T0, updated_at=T0)
        session.add(chain)
        session.flush()
        entity = Client(
            kind="entity",
            name="ООО Магнолия-Юг",
            inn="7707083893",
            parent_id=chain.id,
            created_at=T0,
            updated_at=T0,
        )
        session.add(entity)
        session.flush()
        site = Client(
            kind="site",
            name="Магазин на Садовой",
            parent_id=entity.id,
            created_at=T0,
            updated_at=T0,
        )
        other = Client(kind="chain", name="Пятёрочка у дома", created_at=T0, updated_at=T0)
        session.add_all([site, other])
        session.flush()
        device = Device(
            site_id=site.id,
            model="АТОЛ 30Ф",
            serial="00106709123456",
            reg_number="0000000001012345",
        )
        parent = Category(code="fn", name_ru="ФН", name_en="FD")
        session.add_all([device, parent])
        session.flush()
        leaf = Category(
            code="fn.expiry", name_ru="Срок ФН", name_en="FD expiry", parent_id=parent.id
        )
        near = Category(code="fnx", name_ru="Не ФН", name_en="Not FD")
        session.add_all([leaf, near])
        session.flush()

        def ticket(subject: str, **fields: object) -> Ticket:
            row = Ticket(
                subject=subject,
                channel="email",
                status="open",
                received_at=T0,
                created_at=T0,
                updated_at=T0,
                due_at=T0 + timedelta(hours=len(subject)),
                **fields,
            )
            session.add(row)
            session.flush()
            return row

        fiscal = ticket(
            "Заканчивается фискальный накопитель",
            client_id=entity.id,
            site_id=site.id,
            device_id=device.id,
            category_id=leaf.id,
        )
        session.add(
            Message(
                ticket_id=fiscal.id,
                kind="inbound",
                channel="email",
                body="Добрый день! Касса пишет: ресурс ключей ФН исчерпан, ошибка 235.",
                created_at=T0,
            )
        )
        ticket("Не печатает чеки", client_id=other.id, category_id=near.id)
        ticket("Весы не работают", client_id=chain.id)
    return store


def _found(store: Store, queue: QueueFilter) -> list[str]:
    with store.reader() as session:
        return sorted(r.subject for r in repositories.queue_page(session=session, queue=queue))


@pytest.mark.parametrize(
    ("words", "subjects"),
    [
        ("фискального", ["Заканчивается фискальный накопитель"]),  # another form of the word
        ("ключи исчерпаны", ["Заканчивается фискальный накопитель"]),  # the thread
        ("ключи чеки", []),  # every word must match
        ("7707083893", ["Заканчивается фискальный накопитель"]),  # ИНН
        ("001067", ["Заканчивается фискальный накопитель"]),  # a serial's first digits
        ("0000000001012345", ["Заканчивается фискальный накопитель"]),  # registration number
        ("садовой", ["Заканчивается фискальный накопитель"]),  # the site's name
        ("ПЯТЁРОЧКА", ["Не печатает чеки"]),  # case and ё
        ('чеки" OR "весы', []),  # query syntax is just words
        ("  ", ["Весы не работают", "Заканчивается фискальный накопитель", "Не печатает чеки"]),
    ],
)
def test_full_text_search(search_store: Store, words: str, subjects: list[str]) -> None:
    assert _found(search_store, QueueFilter(search=words)) == subjects


def test_search_follows_new_messages(search_store: Store) -> None:
    assert _found(search_store, QueueFilter(search="термопринтер")) == []
    with search_store.transaction() as session:
        ticket_id = session.execute(
            sa.select(Ticket.id).where(Ticket.subject == "Весы не работают")
        ).scalar_one()
        session.add(
            Message(
                ticket_id=ticket_id,
                kind="note",
                channel="email",
                body="Заменили термопринтер весов",
                created_at=T0,
            )
        )
    assert _found(search_store, QueueFilter(search="термопринтер")) == ["Весы не работают"]
    with search_store.transaction() as session:
        session.execute(sa.update(Ticket).where(Ticket.id == ticket_id).values(status="closed"))
    assert _found(search_store, QueueFilter(search="термопринтер")) == []


def test_client_filter_covers_the_subtree(search_store: Store) -> None:
    with search_store.reader() as session:
        ids = {c.name: c.id for c in session.execute(sa.select(Client)).scalars()}
    chain = _found(search_store, QueueFilter(client_id=ids["Магнолия"]))
    assert chain == ["Весы не работают", "Заканчивается фискальный накопитель"]
    site = _found(search_store, QueueFilter(client_id=ids["Магазин на Садовой"]))
    assert site == ["Заканчивается фискальный накопитель"]


def test_category_filter_covers_the_subtree_only(search_store: Store) -> None:
    assert _found(search_store, QueueFilter(category="fn")) == [
        "Заканчивается фискальный накопитель"
    ]
    assert _found(search_store, QueueFilter(category="fnx")) == ["Не печатает чеки"]


@pytest.mark.parametrize("how", ["rebuild", "rebuild_all"])
def test_rebuild_indexes_what_bulk_writes_left_out(search_store: Store, how: str) -> None:
    from sdconsole.storage import search

    with search_store.transaction() as session:
        session.execute(sa.text("DELETE FROM ticket_search"))
    assert _found(search_store, QueueFilter(search="весы")) == []
    with search_store.transaction() as session:
        assert getattr(search, how)(session) == 3
    assert _found(search_store, QueueFilter(search="весы")) == ["Весы не работают"]
    assert _found(search_store, QueueFilter(search="ключи исчерпаны")) == [
        "Заканчивается фискальный накопитель"
    ]


def test_a_failed_savepoint_leaves_the_batchs_other_tickets_searchable(
    store: Store, clock: FixedClock
) -> None:
    from sdconsole.services.intake import IntakeService
    from tests.services.helpers import email

    intake = IntakeService(store, clock)
    with store.transaction():
        intake.ingest(email("<ok@x>", clock.now(), subject="Сканер штрихкодов молчит"))
        try:
            with store.transaction():
                intake.ingest(email("<bad@x>", clock.now(), subject="Весы"))
                raise RuntimeError("this letter fails")
        except RuntimeError:
            pass
    with store.reader() as session:
        rows = repositories.queue_page(session=session, queue=QueueFilter(search="сканер"))
    assert [r.subject for r in rows] == ["Сканер штрихкодов молчит"]


def test_the_stored_documents_are_the_ones_document_builds(search_store: Store) -> None:
    """The commit hook writes documents set-based, in SQL; `search.document` is the spec."""
    from sdconsole.storage import search

    with search_store.reader() as session:
        ids = list(session.execute(sa.select(Ticket.id)).scalars())
        expected = {i: search.document(session, i) for i in ids}
        if session.get_bind().dialect.name == "sqlite":
            rows = session.execute(sa.text("SELECT rowid, document FROM ticket_search")).all()
            # The SQL keeps an empty line where a part is missing; the words are the same.
            stored = {row[0]: "\n".join(filter(None, row[1].split("\n"))) for row in rows}
            assert stored == expected
        else:
            for ticket_id, doc in expected.items():
                same = session.execute(
                    sa.text(
                        "SELECT s.document = to_tsvector('russian', :doc) "
                        "FROM ticket_search s WHERE s.ticket_id = :id"
                    ),
                    {"id": ticket_id, "doc": doc},
                ).scalar()
                assert same is True, ticket_id
