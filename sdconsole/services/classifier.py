"""Provides training data from the store, the trained model's file, and the classifier intake
uses: the trained model where one has been trained, else the catalogue's keywords."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlmodel import col

from sdconsole import locations
from sdconsole.classifier import Classifier
from sdconsole.domain.model import MessageKind, Status
from sdconsole.storage import Store
from sdconsole.storage.tables import Category, Message, Ticket

log = logging.getLogger(__name__)

MIN_EXAMPLES = 3
"""Categories with fewer resolved tickets than this are left out of training (and counted)."""


def model_path(configured: Path | None = None) -> Path:
    """Where the trained model lives: the configured file, else ``classifier.npz`` in the data
    folder."""
    return configured or locations.data_dir() / "classifier.npz"


@dataclass(frozen=True, slots=True)
class TrainingSet:
    """Texts and categories of resolved tickets, and what was left out."""

    texts: list[str]
    labels: list[str]
    rare: dict[str, int]
    """Categories with fewer than `MIN_EXAMPLES` tickets: not trained."""


def training_set(store: Store, *, limit: int | None = None) -> TrainingSet:
    """Subject and first client message of resolved and closed tickets with a category.

    Newest first when `limit` is given.
    """
    done = [Status.RESOLVED.value, Status.CLOSED.value]
    first_message = (
        select(Message.ticket_id, func.min(Message.id).label("message_id"))
        .where(Message.kind == MessageKind.INBOUND.value)
        .group_by(Message.ticket_id)
        .subquery()
    )
    stmt = (
        select(Ticket.subject, Message.body, Category.code)
        .join(Category, Category.id == Ticket.category_id)
        .outerjoin(first_message, first_message.c.ticket_id == Ticket.id)
        .outerjoin(Message, Message.id == first_message.c.message_id)
        .where(col(Ticket.status).in_(done), col(Ticket.merged_into_id).is_(None))
        .order_by(col(Ticket.id).desc())
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    texts: list[str] = []
    labels: list[str] = []
    with store.reader() as session:
        for subject, body, code in session.execute(stmt):
            texts.append(f"{subject}\n{body or ''}")
            labels.append(code)
    counts = Counter(labels)
    rare = {code: n for code, n in counts.items() if n < MIN_EXAMPLES}
    kept = [(t, c) for t, c in zip(texts, labels, strict=True) if c not in rare]
    return TrainingSet([t for t, _ in kept], [c for _, c in kept], rare)


def trained_classifier(path: Path) -> Classifier | None:
    """The model at `path`, or None when there is none or it cannot be read (logged)."""
    if not path.is_file():
        return None
    from sdconsole.classifier.model import ModelError, TextModel

    try:
        return TextModel.load(path)
    except ModelError as error:
        log.warning("classifier model not used: %s", error)
        return None
