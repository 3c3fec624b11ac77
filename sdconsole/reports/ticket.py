"""Provides Rich renderables of tickets for the CLI (``ticket show``, ``ticket list``).

Every value that came from outside (subjects, bodies, names) goes in as `Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rich.cells import cell_len
from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from sdconsole.domain.model import ChannelKind, MessageKind, Priority, Status
from sdconsole.domain.views import SlaTerms, TicketView
from sdconsole.i18n import _
from sdconsole.reports.history import COVERAGE_WORDS, history_lines


def _when(value: datetime | None, zone: str | None = None) -> str:
    """A moment in the site's time zone (named after the time), or in UTC without one."""
    if value is None:
        return "—"
    if zone:
        local = value.astimezone(ZoneInfo(zone))
        return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or "")
    return value.strftime("%Y-%m-%d %H:%M UTC")


_FLEXIBLE_MIN = {"subject": 24, "place": 16}
"""Narrowest useful width of the columns that share what is left; below it a column is dropped."""
_FLEXIBLE_RATIO = {"subject": 2, "place": 1}
_DROP_ORDER = ("created", "line", "place")
"""The least important columns first: dropped one by one when the others would not fit."""


def ticket_table(records: Sequence[dict[str, Any]], width: int | None = None) -> Table:
    """The ``ticket list`` table, at most `width` cells wide (`None`: as wide as its content).

    Number, priority, status, assignee (and line and created, while shown) are always as wide as
    their content. Subject and site · client share the rest, 2:1, ellipsised; when even their
    minimum widths do not fit, created, then line, then site · client are left out. A table
    that cannot fit even then is wider than `width` (the caller crops it), never squashed.
    """
    titles = {
        "number": _("Number"),
        "pri": _("Pri"),
        "status": _("Status"),
        "place": _("Site · client"),
        "subject": _("Subject"),
        "line": _("Line"),
        "assignee": _("Assignee"),
        "created": _("Created"),
    }
    rows = [
        {
            "number": r["number"],
            "pri": r["priority"],
            "status": Status(r["status"]).label,
            "place": " · ".join(x for x in (r["site"], r["client"]) if x),
            "subject": r["subject"],
            "line": str(r["line"]),
            "assignee": r["assignee"] or "—",
            "created": _when(r["created_at"]),
        }
        for r in records
    ]
    natural = {
        key: max([cell_len(title), *(cell_len(row[key]) for row in rows)])
        for key, title in titles.items()
    }
    widths = natural if width is None else _fit(natural, width)
    table = Table(show_edge=False, header_style="bold", width=_table_width(widths.values()))
    for key, column_width in widths.items():
        table.add_column(
            titles[key],
            width=column_width,
            no_wrap=True,
            overflow="ellipsis" if key in _FLEXIBLE_MIN else "crop",
        )
    for row in rows:
        table.add_row(*(Text(row[key]) for key in widths))
    return table


def _table_width(widths: Iterable[int]) -> int:
    """Cells a borderless table takes: each column padded by one cell a side, `│` between."""
    widths = list(widths)
    return sum(widths) + 3 * len(widths) - 1


def _fit(natural: dict[str, int], width: int) -> dict[str, int]:
    """Column widths for a table of at most `width` cells (see `ticket_table`)."""
    keys = list(natural)
    for drop in (None, *_DROP_ORDER):
        if drop is not None:
            keys.remove(drop)
        flexible = [k for k in keys if k in _FLEXIBLE_MIN]
        room = (
            width
            - _table_width(natural[k] for k in keys if k not in _FLEXIBLE_MIN)
            - 3 * len(flexible)
        )
        if room >= sum(min(natural[k], _FLEXIBLE_MIN[k]) for k in flexible):
            break
    shares = _share(room, {k: natural[k] for k in flexible})
    return {k: shares.get(k, natural[k]) for k in keys}


def _share(room: int, natural: dict[str, int]) -> dict[str, int]:
    """Split `room` cells between flexible columns: each its minimum, then the rest by ratio,
    none beyond its content; the last column standing takes what there is (at least one cell)."""
    widths = {k: min(natural[k], _FLEXIBLE_MIN[k]) for k in natural}
    if len(widths) == 1:
        (key,) = widths
        return {key: max(1, min(natural[key], room))}
    spare = room - sum(widths.values())
    while spare > 0:
        growing = [k for k in widths if widths[k] < natural[k]]
        if not growing:
            break
        total = sum(_FLEXIBLE_RATIO[k] for k in growing)
        given = 0
        for k in growing:
            extra = min(natural[k] - widths[k], max(1, spare * _FLEXIBLE_RATIO[k] // total))
            extra = min(extra, spare - given)
            widths[k] += extra
            given += extra
        spare -= given
    return widths


def format_minutes(minutes: int) -> str:
    """A target or a pause in working time: 45 min, 8 h, 1 h 30 min."""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return _("{minutes} min").format(minutes=rest)
    if not rest:
        return _("{hours} h").format(hours=hours)
    return _("{hours} h {minutes} min").format(hours=hours, minutes=rest)


def sla_summary(sla: SlaTerms) -> str:
    """One line: the plan, its calendar, and the targets of the ticket's priority."""
    plan = sla.plan or _("no contract: default targets")
    calendar = sla.calendar or _("round the clock")
    targets = _("registration {registration}, response {response}, resolution {resolution}").format(
        registration=format_minutes(sla.registration_minutes),
        response=format_minutes(sla.response_minutes),
        resolution=format_minutes(sla.resolution_minutes),
    )
    parts = [plan, calendar, targets]
    if sla.paused_minutes:
        parts.append(_("paused {time}").format(time=format_minutes(sla.paused_minutes)))
    return " · ".join(parts)


def mark_breach(due: str, breached: bool) -> str:
    """A deadline as shown, marked when the clock ran past it."""
    return _("{due} (breached)").format(due=due) if breached else due


def render_ticket(view: TicketView) -> RenderableType:
    """A ticket's header, thread and history for the terminal, times in the site's time zone."""
    zone = view.site_timezone
    header = Table.grid(padding=(0, 2))
    header.add_column(style="bold")
    header.add_column()
    title = Text(f"{view.number}  ", style="bold")
    title.append(view.subject)
    rows: list[tuple[str, str]] = [
        (_("Status"), view.status.label),
        (_("Priority"), f"{Priority(view.priority).label} ({view.priority.title})"),
        (_("Line"), str(view.line) + (f" · {view.team}" if view.team else "")),
        (_("Assignee"), view.assignee_login or "—"),
        (_("Client"), view.client_name or "—"),
        (_("Site"), view.site_name or "—"),
        (_("Contact"), view.contact_name or "—"),
        (_("Device"), view.device or "—"),
        (_("Category"), view.category or "—"),
        (_("Contract"), view.contract_number or "—"),
        *(
            [(_("Billing"), _(COVERAGE_WORDS[view.coverage or ""]))]
            if view.billable_one_off
            else []
        ),
        (_("Channel"), view.channel.label),
        (_("Received"), _when(view.received_at, zone)),
    ]
    sla = view.sla
    if sla is not None and view.channel is not ChannelKind.INTERNAL:  # the desk's own: no SLA
        rows += [
            (_("SLA"), sla_summary(sla)),
            (
                _("Response due"),
                mark_breach(_when(view.response_due_at, zone), sla.response_breached),
            ),
            (_("First response"), _when(view.first_response_at, zone)),
            (
                _("Resolution due"),
                mark_breach(_when(view.resolution_due_at, zone), sla.resolution_breached),
            ),
        ]
    if view.resolution_code:
        rows.append((_("Resolution"), f"{view.resolution_code}: {view.resolution_text or ''}"))
    for label, value in rows:
        header.add_row(Text(label), Text(value))
    parts: list[RenderableType] = [title, header, Rule(_("Thread"))]
    kinds = {
        MessageKind.INBOUND: _("client"),
        MessageKind.OUTBOUND: _("reply"),
        MessageKind.NOTE: _("note"),
        MessageKind.SYSTEM: _("system"),
    }
    for message in view.messages:
        line = Text(f"{_when(message.created_at, zone)}  {kinds[message.kind]}  ", style="dim")
        line.append(message.author or "—")
        if message.is_auto:
            line.append(f"  ({_('automatic')})", style="dim")
        parts.append(line)
        parts.append(Text(message.body))
        for name in message.attachments:
            parts.append(Text(f"📎 {name}", style="dim"))
        parts.append(Text(""))
    parts.append(Rule(_("History")))
    parts.extend(history_lines(view.events, lambda at: _when(at, zone)))
    return Group(*parts)
