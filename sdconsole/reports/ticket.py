"""Provides Rich renderables of tickets for the CLI (``ticket show``, ``ticket list``).

Every value that came from outside (subjects, bodies, names) goes in as `Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from sdconsole.domain.model import MessageKind, Priority
from sdconsole.domain.views import TicketView
from sdconsole.i18n import _


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def ticket_table(records: Sequence[dict[str, Any]]) -> Table:
    """The ``ticket list`` table."""
    table = Table(show_edge=False, header_style="bold")
    fixed = {"number": 9, "pri": 3, "status": 14, "line": 4, "assignee": 10, "created": 16}
    for key, title in (
        ("number", _("Number")),
        ("pri", _("Pri")),
        ("status", _("Status")),
        ("place", _("Site · client")),
        ("subject", _("Subject")),
        ("line", _("Line")),
        ("assignee", _("Assignee")),
        ("created", _("Created")),
    ):
        width = fixed.get(key)
        table.add_column(
            title,
            overflow="ellipsis",
            no_wrap=True,
            min_width=width,
            ratio=None if width else (2 if key == "subject" else 1),
        )
    for r in records:
        place = " · ".join(x for x in (r["site"], r["client"]) if x)
        table.add_row(
            Text(r["number"]),
            Text(r["priority"]),
            Text(r["status"]),
            Text(place),
            Text(r["subject"]),
            Text(str(r["line"])),
            Text(r["assignee"] or "—"),
            Text(_when(r["created_at"])),
        )
    return table


def render_ticket(view: TicketView) -> RenderableType:
    """A ticket's header, thread and history for the terminal."""
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
        (_("Channel"), view.channel.label),
        (_("Received"), _when(view.received_at)),
        (_("Response due"), _when(view.response_due_at)),
        (_("First response"), _when(view.first_response_at)),
        (_("Resolution due"), _when(view.resolution_due_at)),
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
        line = Text(f"{_when(message.created_at)}  {kinds[message.kind]}  ", style="dim")
        line.append(message.author or "—")
        if message.is_auto:
            line.append(f"  ({_('automatic')})", style="dim")
        parts.append(line)
        parts.append(Text(message.body))
        for name in message.attachments:
            parts.append(Text(f"📎 {name}", style="dim"))
        parts.append(Text(""))
    parts.append(Rule(_("History")))
    for event in view.events:
        change = (
            ""
            if event.before is None and event.after is None
            else (
                f"{event.before if event.before is not None else '—'} → "
                f"{event.after if event.after is not None else '—'}"
            )
        )
        parts.append(Text(f"{_when(event.at)}  {event.actor}  {event.kind}  {change}"))
    return Group(*parts)
