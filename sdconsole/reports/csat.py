"""Provides ``report csat``: how satisfied clients were with resolved requests.

Per group and in total: the number of ratings, how many of each score (1–5), the average score,
CSAT (the share of 4 and 5, as Zendesk and Freshdesk count it), the low ratings (3 or less) and
how many of them the team lead has followed up. Then every comment, and every low rating with its
follow-up. The period is when the rating was given.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from sdconsole.domain.model import ticket_number
from sdconsole.domain.reporting import ReportGroup
from sdconsole.i18n import N_, _
from sdconsole.reports.sla import GROUP_TITLES, key_label
from sdconsole.reports.tabular import Column, Kind, Listing, Period, Tabular, pct
from sdconsole.storage.team_reports import RatingRow

LOW_SCORE = 3
"""A rating of this or less is low: it is flagged for the team lead."""

COLUMNS = (
    Column("key", "", Kind.TEXT),
    Column("ratings", N_("Ratings")),
    *(
        Column(f"score_{n}", f"★{n}", drop=rank)
        for n, rank in ((5, 6), (4, 4), (3, 2), (2, 3), (1, 5))
    ),
    Column("average", N_("Average"), Kind.NUMBER),
    Column("csat_pct", N_("CSAT %"), Kind.PCT),
    Column("low", N_("Low\n(≤3)")),
    Column("followed_up", N_("Followed\nup"), drop=1),
)

COMMENT_COLUMNS = (
    Column("number", N_("Ticket"), Kind.TEXT),
    Column("score", N_("Score")),
    Column("engineer", N_("Engineer"), Kind.TEXT),
    Column("comment", N_("Comment"), Kind.TEXT),
)

LOW_COLUMNS = (
    Column("number", N_("Ticket"), Kind.TEXT),
    Column("score", N_("Score")),
    Column("client", N_("Client"), Kind.TEXT),
    Column("engineer", N_("Engineer"), Kind.TEXT),
    Column("comment", N_("Comment"), Kind.TEXT),
    Column("follow_up", N_("Follow-up"), Kind.TEXT),
    Column("follow_up_note", N_("What was done"), Kind.TEXT),
)


def figures(rows: Sequence[RatingRow]) -> dict[str, Any]:
    """The figures of a set of ratings."""
    scores = Counter(r.score for r in rows)
    low = [r for r in rows if r.score <= LOW_SCORE]
    count = len(rows)
    return {
        "ratings": count,
        **{f"score_{n}": scores.get(n, 0) for n in range(1, 6)},
        "average": round(sum(r.score for r in rows) / count, 2) if count else None,
        "csat_pct": pct(scores.get(4, 0) + scores.get(5, 0), count),
        "low": len(low),
        "followed_up": sum(1 for r in low if r.follow_up == "done"),
    }


def build(
    rows: Sequence[RatingRow],
    labels: Mapping[Any, str],
    *,
    period: Period,
    by: ReportGroup | None,
) -> Tabular:
    """The CSAT report: groups by name (— last), the total, the comments and the low ratings."""
    groups: dict[Any, list[RatingRow]] = {}
    for row in rows:
        groups.setdefault(row.key, []).append(row)
    table = (
        [{"key": key_label(by, key, labels), **figures(items)} for key, items in groups.items()]
        if by is not None
        else []
    )
    table.sort(key=lambda r: (r["key"] == "—", r["key"].casefold()))
    if by in (ReportGroup.PRIORITY, ReportGroup.LINE):
        table.sort(key=lambda r: (r["key"] == "—", r["key"]))
    comments = tuple(
        {
            "number": ticket_number(r.ticket_id),
            "score": r.score,
            "engineer": r.assignee or "—",
            "comment": r.comment,
        }
        for r in rows
        if r.comment.strip()
    )
    low = tuple(
        {
            "number": ticket_number(r.ticket_id),
            "score": r.score,
            "client": r.client,
            "engineer": r.assignee or "—",
            "comment": r.comment,
            "follow_up": _("done") if r.follow_up == "done" else _("open"),
            "follow_up_note": r.follow_up_note or "",
        }
        for r in rows
        if r.score <= LOW_SCORE
    )
    total = figures(rows)
    title = _(GROUP_TITLES[by]) if by is not None else ""
    return Tabular(
        report="csat",
        title=period.describe(_("Client satisfaction, rated")),
        columns=(Column("key", title, Kind.TEXT), *COLUMNS[1:]),
        rows=tuple(table),
        total=total,
        caption=_("CSAT % = ratings of 4 and 5 ÷ all ratings; low = 3 or less."),
        about=period.about(),
        about_rows=period.about_rows(title or None),
        listings=(
            Listing("comments", N_("Comments"), COMMENT_COLUMNS, comments),
            Listing("low_ratings", N_("Low ratings and their follow-up"), LOW_COLUMNS, low),
        ),
        chart_title=_("Scores"),
        chart=tuple(
            (
                f"★{n}",
                pct(total[f"score_{n}"], total["ratings"]),
                str(total[f"score_{n}"]),
            )
            for n in (5, 4, 3, 2, 1)
        ),
    )
