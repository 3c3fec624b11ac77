"""Provides the queue's full-text search: one document per ticket, kept in step on every commit.

A ticket's document is its subject, every message of its thread, its client's and site's names
and ИНН, its contact's name and its device's serial, registration and fiscal-drive numbers. It
lives in ``ticket_search`` (migration 0006):

- SQLite: an FTS5 table (``unicode61`` tokens, diacritics removed), the ticket id as its rowid.
  FTS5 has no Russian stemmer, so each query word is stemmed (Snowball, the algorithm
  PostgreSQL's ``russian`` configuration uses) and matched as a prefix: «ключи» finds «ключей»,
  «фискального» finds «фискальный».
- PostgreSQL: a ``tsvector`` column built with the ``russian`` configuration (Snowball
  stemming), with an ``open`` flag and a partial GIN index on the open tickets' documents (the
  queue searches open tickets only); query words are matched as prefixes too, so a serial's
  first digits work.

Documents are refreshed by a session hook: every flush records the tickets whose row or thread
changed, and the commit rewrites their documents in the same transaction, so the index can never
disagree with a committed ticket. Core-level bulk writes (the benchmark generator) bypass the
hook; `rebuild` indexes a whole store.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

from sqlalchemy import event, func, literal_column, select, text
from sqlalchemy.orm import Session as OrmSession

from sdconsole.storage.tables import OPEN_TICKETS_SQL, Client, Contact, Device, Message, Ticket

_WORD = re.compile(r"\w+", re.UNICODE)
_CYRILLIC = re.compile(r"[а-я]")
_DIRTY = "sdconsole.search.dirty"


@cache
def _stemmers() -> tuple[Any, Any]:
    import snowballstemmer

    return snowballstemmer.stemmer("russian"), snowballstemmer.stemmer("english")


def stem(word: str) -> str:
    """A lower-case word's Snowball stem (Russian or English by its letters); numbers whole."""
    if word.isdigit():
        return word
    russian, english = _stemmers()
    stemmed: str = (russian if _CYRILLIC.search(word) else english).stemWord(word)
    return stemmed or word


def query_terms(words: str) -> list[str]:
    """The words of a search, lower-cased, ё folded; punctuation splits words."""
    return [w for w in _WORD.findall(words.lower().replace("ё", "е")) if w]


def fts5_query(words: str) -> str:
    """An FTS5 MATCH expression: every word's stem, each as a prefix."""
    terms = ['"' + stem(term).replace('"', '""') + '"*' for term in query_terms(words)]
    return " AND ".join(terms)


def tsquery(words: str) -> str:
    """A ``to_tsquery`` expression: every word as a prefix (words are `\\w` only, so safe)."""
    return " & ".join(f"{term}:*" for term in query_terms(words))


def condition(dialect: str, words: str, ticket_id: Any) -> Any:
    """An SQL condition on `ticket_id` (a column): the ticket's document matches every word."""
    if not query_terms(words):
        return text("1 = 1")
    if dialect == "sqlite":
        # Unary plus: the queue's index drives (most urgent first) and each of its rows is
        # checked against the matches; otherwise SQLite walks every match, closed tickets too.
        driven: Any = literal_column(f"+{ticket_id.table.name}.{ticket_id.name}")
        return driven.in_(
            select(text("rowid"))
            .select_from(text("ticket_search"))
            .where(text("ticket_search MATCH :fts").bindparams(fts=fts5_query(words)))
        )
    return ticket_id.in_(
        select(text("ticket_id"))
        .select_from(text("ticket_search"))
        .where(
            text("open AND document @@ to_tsquery('russian', :tsq)").bindparams(tsq=tsquery(words))
        )
    )


def document(session: OrmSession, ticket_id: int) -> str | None:
    """The searchable text of a ticket, or None if there is no such ticket."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        return None
    parts: list[str] = [ticket.subject]
    for client_id in (ticket.client_id, ticket.site_id):
        if client_id is not None and (client := session.get(Client, client_id)) is not None:
            parts += [client.name, client.inn or ""]
    if ticket.contact_id is not None and (contact := session.get(Contact, ticket.contact_id)):
        parts.append(contact.name)
    if ticket.device_id is not None and (device := session.get(Device, ticket.device_id)):
        parts += [device.serial or "", device.reg_number or "", device.fn_serial or ""]
    bodies = session.execute(
        select(Message.body).where(Message.ticket_id == ticket_id).order_by(Message.id)
    ).scalars()
    parts.extend(bodies)
    return fold("\n".join(p for p in parts if p))


def fold(value: str) -> str:
    """ё as е, as the queries have it (FTS5 removes Latin diacritics only)."""
    return value.replace("ё", "е").replace("Ё", "Е")


REFRESH_CHUNK = 500
"""Tickets whose documents one statement rewrites."""


def refresh(session: OrmSession, ticket_ids: Iterable[int]) -> None:
    """Rewrite the documents of these tickets (inside the caller's transaction).

    Set-based, as `rebuild_all`: a chunk of tickets is one DELETE and one INSERT … SELECT, the
    documents put together by the database (a batch of intake commits hundreds at once).
    """
    ids = sorted(set(ticket_ids))
    sqlite = session.get_bind().dialect.name == "sqlite"
    for start in range(0, len(ids), REFRESH_CHUNK):
        chunk = ids[start : start + REFRESH_CHUNK]
        listed = ", ".join(str(int(i)) for i in chunk)  # integers only: safe to inline
        column = "rowid" if sqlite else "ticket_id"
        session.execute(text(f"DELETE FROM ticket_search WHERE {column} IN ({listed})"))
        session.execute(text(_index_statement(sqlite, f"WHERE t.id IN ({listed})")))


def rebuild(session: OrmSession, *, batch: int = 2_000) -> int:
    """Index every ticket again; returns how many."""
    last, done = 0, 0
    while True:
        ids = list(
            session.execute(
                select(Ticket.id).where(Ticket.id > last).order_by(Ticket.id).limit(batch)
            ).scalars()
        )
        if not ids:
            return done
        refresh(session, ids)
        last, done = ids[-1], done + len(ids)


def _has_index(session: OrmSession) -> bool:
    """Whether this store has the search table (a store being migrated may not yet)."""
    cached = session.info.get("sdconsole.search.present")
    if cached is None:
        bind = session.get_bind()
        if bind.dialect.name == "sqlite":
            found = session.execute(
                text("SELECT 1 FROM sqlite_master WHERE name = 'ticket_search'")
            ).first()
        else:
            found = session.execute(text("SELECT to_regclass('ticket_search')")).scalar()
        cached = session.info["sdconsole.search.present"] = bool(found)
    return bool(cached)


def mark_changed(session: OrmSession, ticket_ids: Iterable[int]) -> None:
    """Have these tickets indexed again when the transaction commits: for rows written with
    Core statements, which the session's flush does not see."""
    session.info.setdefault(_DIRTY, set()).update(ticket_ids)


@event.listens_for(OrmSession, "after_flush")
def _collect(session: OrmSession, _context: Any) -> None:
    dirty: set[int] = session.info.setdefault(_DIRTY, set())
    for instance in (*session.new, *session.dirty):
        if isinstance(instance, Ticket) and instance.id is not None:
            dirty.add(instance.id)
        elif isinstance(instance, Message) and instance.ticket_id is not None:
            dirty.add(instance.ticket_id)


@event.listens_for(OrmSession, "before_commit")
def _flush_documents(session: OrmSession) -> None:
    if session.in_nested_transaction():
        return  # a savepoint of a batch: the batch's own commit indexes everything it changed
    session.flush()
    dirty: set[int] = session.info.pop(_DIRTY, set())
    if dirty and _has_index(session):
        refresh(session, dirty)
        session.flush()


@event.listens_for(OrmSession, "after_rollback")
def _forget(session: OrmSession) -> None:
    if session.in_transaction():
        return  # a savepoint rolled back: the batch goes on, and its tickets are still dirty
    session.info.pop(_DIRTY, None)


def rebuild_all(session: OrmSession) -> int:
    """Index every ticket in one set-based statement per backend (what migration 0006 does for
    the tickets already there): for stores filled by bulk loads. Returns how many."""
    session.execute(text("DELETE FROM ticket_search"))
    session.execute(text(_index_statement(session.get_bind().dialect.name == "sqlite", "")))
    return int(session.execute(select(func.count()).select_from(Ticket)).scalar_one())


def _index_statement(sqlite: bool, where: str) -> str:
    """``INSERT … SELECT`` of the documents of the tickets `where` selects (``t`` is the
    ticket), as `document` builds one: subject, client and site names and ИНН, contact,
    device numbers, then the messages in order; ё folded."""
    joins = (
        "FROM ticket t LEFT JOIN client c ON c.id = t.client_id "
        "LEFT JOIN client s ON s.id = t.site_id LEFT JOIN contact p ON p.id = t.contact_id "
        "LEFT JOIN device d ON d.id = t.device_id"
    )
    parts = ["t.subject", "c.name", "c.inn", "s.name", "s.inn", "p.name"]
    parts += ["d.serial", "d.reg_number", "d.fn_serial"]
    if sqlite:
        joined = " || char(10) || ".join(f"coalesce({part}, '')" for part in parts)
        return (
            "INSERT INTO ticket_search (rowid, document) SELECT t.id, replace(replace("
            f"{joined} || char(10) || coalesce((SELECT group_concat(body, char(10)) FROM "
            "(SELECT m.body FROM message m WHERE m.ticket_id = t.id ORDER BY m.id)), ''), "
            f"'ё', 'е'), 'Ё', 'Е') {joins} {where}"
        )
    return (
        "INSERT INTO ticket_search (ticket_id, document, open) SELECT t.id, "
        f"to_tsvector('russian', translate(concat_ws(E'\\n', {', '.join(parts)}, "
        "(SELECT string_agg(m.body, E'\\n' ORDER BY m.id) FROM message m "
        f"WHERE m.ticket_id = t.id)), 'ёЁ', 'еЕ')), t.{OPEN_TICKETS_SQL} {joins} {where} "
        # Two transactions may index one ticket at once (a message added without locking it).
        "ON CONFLICT (ticket_id) DO UPDATE SET document = excluded.document, open = excluded.open"
    )
