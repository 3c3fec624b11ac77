"""Provides the client's ratings of resolved tickets and the team lead's follow-up of low ones.

A rating comes from the Telegram bot's buttons (`services.telegram`) or is recorded by an
engineer from a phone call (`RatingService.record`); either way `store_rating` keeps one rating
per ticket (a second one replaces the first), and a score of `LOW_SCORE` or less tags the
ticket ``low-rating`` and opens a follow-up. The team lead closes it with what was done
(`RatingService.follow_up`); ``report csat`` lists the low ratings and their follow-ups.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlmodel import Session

from sdconsole.domain.clock import Clock
from sdconsole.domain.errors import IllegalTransition, InvalidInput, NotFound, PermissionDenied
from sdconsole.domain.model import Actor, ChannelKind, EventKind, Status, ticket_number
from sdconsole.domain.text import clean_body
from sdconsole.i18n import N_
from sdconsole.storage import Store
from sdconsole.storage.tables import Event, Rating, Ticket

LOW_SCORE = 3
"""A score of this or less is low: the ticket is flagged for the team lead."""
LOW_RATING_TAG = "low-rating"
MAX_COMMENT = 4000


def store_rating(
    session: Session,
    ticket: Ticket,
    score: int,
    *,
    channel: ChannelKind,
    now: datetime,
    comment: str | None = None,
    actor_id: int | None = None,
) -> Rating:
    """Keep the ticket's rating (replacing an earlier one) and flag a low score."""
    if not 1 <= score <= 5:
        raise InvalidInput(N_("A rating is a whole number from 1 to 5."))
    rating = session.execute(
        select(Rating).where(Rating.ticket_id == ticket.id)
    ).scalar_one_or_none()
    changed = rating is None or rating.score != score
    if rating is None:
        rating = Rating(ticket_id=ticket.id, score=score, created_at=now)
        session.add(rating)
    elif changed:
        rating.created_at = now  # a new score: counted when it was given
    rating.score = score
    rating.channel = channel.value
    if comment is not None:
        rating.comment = clean_body(comment)[:MAX_COMMENT]
    if score <= LOW_SCORE:
        if LOW_RATING_TAG not in ticket.tags:
            ticket.tags = [*ticket.tags, LOW_RATING_TAG]
        if changed or rating.follow_up is None:
            # A new low score needs a follow-up of its own, even after an earlier one was done.
            rating.follow_up = "open"
            rating.follow_up_note = rating.follow_up_at = rating.follow_up_by_id = None
    else:
        ticket.tags = [t for t in ticket.tags if t != LOW_RATING_TAG]
        if rating.follow_up == "open":
            rating.follow_up = None  # rated well after all: nothing to follow up
    session.add(
        Event(
            ticket_id=ticket.id,
            at=now,
            actor_id=actor_id,
            kind=EventKind.FIELD.value,
            after=score,
            details={"field": "rating", "channel": channel.value},
        )
    )
    return rating


class RatingService:
    """Ratings an engineer records and the follow-ups a team lead closes."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    def record(
        self, ticket_id: int, score: int, *, actor: Actor, comment: str = "", channel: ChannelKind
    ) -> None:
        """Record the score a client gave on the phone (or by another channel) for a resolved
        ticket.

        Raises:
            NotFound: no such ticket.
            IllegalTransition: the ticket is not resolved or closed.
            InvalidInput: the score is not 1–5.
        """
        if actor.is_system:
            raise PermissionDenied(N_("This action needs an engineer; say who you are with --as."))
        now = self.clock.now()
        with self.store.transaction() as session:
            ticket = _ticket(session, ticket_id)
            if ticket.status not in (Status.RESOLVED.value, Status.CLOSED.value):
                raise IllegalTransition(
                    N_("Ticket {number} is not resolved yet; only a resolved ticket is rated."),
                    number=ticket_number(ticket_id),
                )
            store_rating(
                session,
                ticket,
                score,
                channel=channel,
                now=now,
                comment=comment,
                actor_id=actor.engineer_id,
            )

    def follow_up(self, ticket_id: int, note: str, *, actor: Actor) -> None:
        """Close the follow-up of a low rating with what was done (kept on the rating and in the
        ticket's history). Only a lead (or an administrator) may.

        Raises:
            NotFound: no such ticket, or it has no rating.
            IllegalTransition: the rating needs no follow-up (it is not low).
            InvalidInput: no note.
        """
        if not actor.role.can_manage:
            raise PermissionDenied(N_("Only a lead can close a rating's follow-up."))
        text = clean_body(note).strip()
        if not text:
            raise InvalidInput(N_("Say what was done about the rating."))
        now = self.clock.now()
        with self.store.transaction() as session:
            ticket = _ticket(session, ticket_id)
            rating = session.execute(
                select(Rating).where(Rating.ticket_id == ticket_id)
            ).scalar_one_or_none()
            if rating is None:
                raise NotFound(
                    N_("Ticket {number} has no rating."), number=ticket_number(ticket_id)
                )
            if rating.score > LOW_SCORE:
                raise IllegalTransition(
                    N_("The rating of {number} is not low; it needs no follow-up."),
                    number=ticket_number(ticket_id),
                )
            if rating.follow_up == "done":
                raise IllegalTransition(
                    N_("The low rating of {number} was followed up already: {note}"),
                    number=ticket_number(ticket_id),
                    note=rating.follow_up_note or "—",
                )
            before = rating.follow_up or "open"
            rating.follow_up = "done"
            rating.follow_up_note = text[:MAX_COMMENT]
            rating.follow_up_at = now
            rating.follow_up_by_id = actor.engineer_id
            session.add(
                Event(
                    ticket_id=ticket_id,
                    at=now,
                    actor_id=actor.engineer_id,
                    kind=EventKind.FIELD.value,
                    before=before,
                    after="done",
                    details={"field": "rating_follow_up", "note": rating.follow_up_note},
                )
            )
            ticket.updated_at = now


def _ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(N_("No ticket {number}."), number=ticket_number(ticket_id))
    return ticket
