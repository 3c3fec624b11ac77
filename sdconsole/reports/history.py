"""Provides a ticket's history as an audit trail people read: one translated phrase per event.

Events are stored with internal values (status names, priority numbers, message ids, ISO times);
`history_lines` turns them into what a service desk's trail says, e.g. "Status: open → waiting for
vendor". Shared by ``ticket show`` and the ticket screen. What people typed (reasons, resolution
summaries) and logins go in as `Text`, never as markup.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any, TypeVar

from rich.text import Text

from sdconsole.domain.model import ChannelKind, EventKind, LinkKind, MessageKind, Priority, Status
from sdconsole.domain.sla import AlertLevel, SlaClock
from sdconsole.domain.views import EventView
from sdconsole.i18n import N_, _, ngettext

E = TypeVar("E", bound=StrEnum)

ARROW = " → "
NOTHING = "—"

_INBOUND = {
    ChannelKind.EMAIL: N_("Client wrote by email"),
    ChannelKind.TELEGRAM: N_("Client wrote in Telegram"),
    ChannelKind.PHONE: N_("Client called"),
    ChannelKind.PORTAL: N_("Client wrote on the portal"),
    ChannelKind.MONITORING: N_("Monitoring alert received"),
    ChannelKind.IMPORT: N_("Request imported"),
}
_OUTBOUND = {
    ChannelKind.EMAIL: N_("Replied by email"),
    ChannelKind.TELEGRAM: N_("Replied in Telegram"),
    ChannelKind.PHONE: N_("Called the client"),
    ChannelKind.PORTAL: N_("Replied on the portal"),
}
_SLA = {
    (AlertLevel.WARNING, SlaClock.REGISTRATION): N_("SLA warning: registration due soon"),
    (AlertLevel.WARNING, SlaClock.RESPONSE): N_("SLA warning: response due soon"),
    (AlertLevel.WARNING, SlaClock.RESOLUTION): N_("SLA warning: resolution due soon"),
    (AlertLevel.BREACH, SlaClock.REGISTRATION): N_("SLA breached: registration overdue"),
    (AlertLevel.BREACH, SlaClock.RESPONSE): N_("SLA breached: response overdue"),
    (AlertLevel.BREACH, SlaClock.RESOLUTION): N_("SLA breached: resolution overdue"),
}
_FOLDED_STATUS = {
    EventKind.RESOLVED: Status.RESOLVED,
    EventKind.CLOSED: Status.CLOSED,
    EventKind.REOPENED: Status.OPEN,
    EventKind.MERGED: Status.CLOSED,
}
"""Events that say their own status change: the status event just before them is not repeated."""


def history_lines(events: Sequence[EventView], when: Callable[[datetime], str]) -> list[Text]:
    """One line per event in time order: when (formatted by `when`), who, and what happened.

    Stored order is not time order: an SLA breach is recorded when it is noticed, at the
    moment it happened.
    """
    lines = []
    for event in condense(sorted(events, key=lambda e: e.at)):
        line = Text(f"{when(event.at)}  ", style="dim")
        line.append(actor_label(event))
        line.append("  ")
        line.append_text(describe_event(event))
        lines.append(line)
    return lines


def condense(events: Sequence[EventView]) -> list[EventView]:
    """Drop a status event that the next event (same moment, same actor) already states.

    Resolving, closing, reopening and merging each record a ``status`` event and then their own
    event; "Resolved: fn.replaced" says everything "Status: open → resolved" does.
    """
    kept = []
    for event, following in zip(events, [*events[1:], None], strict=True):
        if not (
            event.kind == EventKind.STATUS
            and following is not None
            and following.at == event.at
            and following.actor == event.actor
            and not (following.details or {}).get("inverse")
        ):
            kept.append(event)
            continue
        kind = _kind(following.kind)
        if kind is None or _FOLDED_STATUS.get(kind) != event.after:
            kept.append(event)
    return kept


def actor_label(event: EventView) -> str:
    """Who did it: an engineer's login, or the translated "system"."""
    return event.actor if event.actor and event.actor != "system" else _("system")


def describe_event(event: EventView) -> Text:
    """The event as a phrase in the current language, with any reason after a dash."""
    details: Mapping[str, Any] = event.details if isinstance(event.details, dict) else {}
    kind = _kind(event.kind)
    describe = _DESCRIBERS.get(kind) if kind is not None else None
    if describe is None:
        # A kind this version does not know (a newer writer): show it as stored.
        return Text(f"{event.kind}  {_change(event.before, event.after, str)}")
    return describe(event, details)


# -- one describer per event kind ----------------------------------------------------------------


def _created(event: EventView, details: Mapping[str, Any]) -> Text:
    channel = _channel(details.get("channel"))
    parts = [
        _("Ticket created ({channel})").format(channel=channel) if channel else _("Ticket created")
    ]
    if details.get("priority"):
        parts.append(_priority(details["priority"]))
    if details.get("category"):
        parts.append(_("category {code}").format(code=details["category"]))
    if details.get("contract"):
        parts.append(_("contract {number}").format(number=details["contract"]))
    suggestions = details.get("suggestions")
    if isinstance(suggestions, list) and suggestions:
        codes = ", ".join(str(s.get("code")) for s in suggestions if isinstance(s, Mapping))
        parts.append(_("suggested categories: {codes}").format(codes=codes))
    linked = details.get("linked")
    if isinstance(linked, Mapping) and linked:
        found = ", ".join(
            _(_LINKED.get(f"{what}:{how}", "{what} by {how}")).format(what=what, how=how)
            for what, how in linked.items()
        )
        parts.append(found)
    reasons = details.get("priority_reasons")
    if isinstance(reasons, list) and reasons:
        parts.append("; ".join(_reason(r) for r in reasons if isinstance(r, Mapping)))
    return Text(" · ".join(parts))


_LINKED = {
    "client:inn": N_("client found by INN"),
    "contact:phone": N_("contact found by phone"),
    "device:reg_number": N_("register found by registration number"),
    "device:fn_serial": N_("register found by fiscal drive number"),
    "device:serial": N_("register found by serial number"),
}


def _message(event: EventView, details: Mapping[str, Any]) -> Text:
    kind = _enum(MessageKind, details.get("message_kind"))
    channel = _enum(ChannelKind, details.get("channel"))
    if kind is MessageKind.INBOUND:
        phrase = _INBOUND.get(channel, N_("Client wrote")) if channel else N_("Client wrote")
    elif kind is MessageKind.OUTBOUND:
        phrase = (
            _OUTBOUND.get(channel, N_("Replied to the client"))
            if channel
            else N_("Replied to the client")
        )
    elif kind is MessageKind.NOTE:
        phrase = N_("Internal note added")
    else:
        phrase = N_("Message added")
    return Text(_(phrase))


def _status(event: EventView, details: Mapping[str, Any]) -> Text:
    text = Text(_("Status: {change}").format(change=_change(event.before, event.after, _label)))
    if details.get("by") == "client":
        text.append(" " + _("(the client answered)"))
    return text


def _assignee(event: EventView, details: Mapping[str, Any]) -> Text:
    before, after = event.before, event.after
    if after is None:
        if before is None:
            return Text(_("Returned to the line's queue"))
        return Text(_("Returned to the line's queue (was with {login})").format(login=before))
    if before is None:
        if after == event.actor:
            return Text(_("Taken into work"))
        return Text(_("Assigned to {login}").format(login=after))
    return Text(_("Reassigned: {change}").format(change=_change(before, after, str)))


def _priority_change(event: EventView, details: Mapping[str, Any]) -> Text:
    text = Text(
        _("Priority: {change}").format(change=_change(event.before, event.after, _priority))
    )
    return _with_reason(text, details.get("reason"))


def _category(event: EventView, details: Mapping[str, Any]) -> Text:
    return Text(_("Category: {change}").format(change=_change(event.before, event.after, str)))


def _line_change(event: EventView, details: Mapping[str, Any]) -> Text:
    return Text(_("Moved: {change}").format(change=_change(event.before, event.after, _line)))


def _escalated(event: EventView, details: Mapping[str, Any]) -> Text:
    text = Text(_("Escalated: {change}").format(change=_change(event.before, event.after, _line)))
    if details.get("team"):
        text.append(f" · {details['team']}")
    if details.get("previous_owner"):
        text.append(" " + _("(was with {login})").format(login=details["previous_owner"]))
    return _with_reason(text, details.get("reason"))


def _time_logged(event: EventView, details: Mapping[str, Any]) -> Text:
    if details.get("billable") is False:
        return Text(_("Time logged: {minutes} min, not billable").format(minutes=event.after))
    return Text(_("Time logged: {minutes} min").format(minutes=event.after))


def _resolved(event: EventView, details: Mapping[str, Any]) -> Text:
    text = Text(_("Resolved: {code}").format(code=event.after) if event.after else _("Resolved"))
    return _with_reason(text, details.get("text"))


def _closed(event: EventView, details: Mapping[str, Any]) -> Text:
    return Text(_("Closed"))


def _reopened(event: EventView, details: Mapping[str, Any]) -> Text:
    was = _label(event.before) if event.before is not None else None
    if details.get("by") == "client":
        phrase = (
            _("Reopened by the client's answer (was {status})").format(status=was)
            if was
            else _("Reopened by the client's answer")
        )
    else:
        phrase = _("Reopened (was {status})").format(status=was) if was else _("Reopened")
    return _with_reason(Text(phrase), details.get("reason"))


def _linked(event: EventView, details: Mapping[str, Any]) -> Text:
    other = event.after
    link = _enum(LinkKind, details.get("link"))
    if link is LinkKind.DUPLICATE:
        if details.get("inverse"):
            return Text(_("{number} marked as a duplicate of this ticket").format(number=other))
        return Text(_("Marked as a duplicate of {number}").format(number=other))
    if link is LinkKind.PARENT:
        return Text(_("Linked to {number} (parent and child)").format(number=other))
    if link is LinkKind.PROBLEM:
        if details.get("inverse"):
            return Text(_("{number} is an incident of this problem").format(number=other))
        return Text(_("An incident of problem {number}").format(number=other))
    return Text(_("Linked to {number}").format(number=other))


def _merged(event: EventView, details: Mapping[str, Any]) -> Text:
    if details.get("inverse"):
        text = Text(_("{number} merged into this ticket").format(number=event.before))
    else:
        text = Text(_("Merged into {number}").format(number=event.after))
    moved = details.get("messages")
    if isinstance(moved, int) and moved > 0:
        text.append(
            " " + ngettext("({n} message moved)", "({n} messages moved)", moved).format(n=moved)
        )
    return text


def _first_response(event: EventView, details: Mapping[str, Any]) -> Text:
    if details.get("from"):
        return Text(_("First response (given on {number})").format(number=details["from"]))
    if details.get("reaction"):
        return Text(_("First response (reaction to the alert)"))
    return Text(_("First response"))


def _sla(event: EventView, details: Mapping[str, Any]) -> Text:
    level = _enum(AlertLevel, event.after)
    clock = _enum(SlaClock, details.get("clock"))
    phrase = _SLA.get((level, clock)) if level and clock else None
    if phrase is None:
        return Text(_("SLA: {change}").format(change=_change(event.before, event.after, str)))
    return Text(_(phrase))


COVERAGE_WORDS = {
    "covered": N_("covered by the contract"),
    "no_contract": N_("no contract in force: billable as a one-off work"),
    "not_included": N_("outside the contract's categories: billable as a one-off work"),
}


def _field(event: EventView, details: Mapping[str, Any]) -> Text:
    field = details.get("field")
    if field == "coverage":
        word = COVERAGE_WORDS.get(str(event.after))
        text = Text(_("Billing: {what}").format(what=_(word) if word else str(event.after)))
        if event.after != "covered":
            text.stylize("bold yellow")
        return text
    if field == "quality":
        return Text(
            _(
                "Resolved slower than usual: {minutes} working minutes, above the {p90} of 90 % "
                "of {category}"
            ).format(
                minutes=details.get("minutes", "?"),
                p90=_minutes_text(details.get("p90")),
                category=details.get("category", "?"),
            ),
            style="yellow",
        )
    if field == "rating":
        return Text(_("Rated {score} of 5 by the client").format(score=event.after))
    if field == "rating_follow_up":
        return Text(_("Low rating followed up: {note}").format(note=details.get("note") or "—"))
    change = _change(event.before, event.after, str)
    if field:
        return Text(_("{field} changed: {change}").format(field=field, change=change))
    return Text(_("Changed: {change}").format(change=change))


def _minutes_text(value: Any) -> str:
    return f"{value:.0f}" if isinstance(value, int | float) else "?"


def _routed(event: EventView, details: Mapping[str, Any]) -> Text:
    """ "Routed to line 2, team kkt, b.orlov: category …; b.orlov has the fewest …"."""
    target = _("line {line}").format(line=details.get("line", "?"))
    if details.get("team"):
        target += ", " + _("team {team}").format(team=details["team"])
    if event.after:
        target += f", {event.after}"
    reasons = "; ".join(_reason(r) for r in details.get("reasons") or () if isinstance(r, Mapping))
    phrase = _("Routed to {target}").format(target=target)
    return Text(f"{phrase}: {reasons}" if reasons else phrase)


def _reason(reason: Mapping[str, Any]) -> str:
    template = str(reason.get("template", ""))
    raw = reason.get("params")
    params: Mapping[str, Any] = raw if isinstance(raw, Mapping) else {}
    try:
        return _(template).format(**params)
    except (KeyError, IndexError, ValueError):
        return template


def _card(event: EventView, details: Mapping[str, Any]) -> Text:
    card = details.get("card", "?")
    what = event.after
    if what == "started":
        return Text(_("Diagnostic card {card} started").format(card=card))
    if what == "resolved":
        return Text(_("Diagnostic card {card} ended: resolved").format(card=card))
    if what == "escalated":
        return Text(_("Diagnostic card {card} ended: escalate").format(card=card))
    step, answer = details.get("step", "?"), details.get("answer", "?")
    return Text(
        _("Diagnostic card {card}: step {step} answered {answer}").format(
            card=card, step=step, answer=answer
        )
    )


def _delivery_failed(event: EventView, details: Mapping[str, Any]) -> Text:
    """ "Not delivered to a@b.ru: 550 5.1.1 no such user"."""
    recipients = ", ".join(str(r) for r in details.get("recipients") or ()) or NOTHING
    return Text(
        _("Not delivered to {recipients}: {reason}").format(
            recipients=recipients, reason=details.get("reason") or NOTHING
        )
    )


def notice_text(note: Mapping[str, Any]) -> str:
    """A stored channel notice (``message.notes``), translated."""
    return _reason(note)


_DESCRIBERS: dict[EventKind, Callable[[EventView, Mapping[str, Any]], Text]] = {
    EventKind.CREATED: _created,
    EventKind.MESSAGE: _message,
    EventKind.STATUS: _status,
    EventKind.ASSIGNEE: _assignee,
    EventKind.PRIORITY: _priority_change,
    EventKind.CATEGORY: _category,
    EventKind.LINE: _line_change,
    EventKind.ESCALATED: _escalated,
    EventKind.TIME_LOGGED: _time_logged,
    EventKind.RESOLVED: _resolved,
    EventKind.CLOSED: _closed,
    EventKind.REOPENED: _reopened,
    EventKind.LINKED: _linked,
    EventKind.MERGED: _merged,
    EventKind.FIRST_RESPONSE: _first_response,
    EventKind.SLA: _sla,
    EventKind.FIELD: _field,
    EventKind.ROUTED: _routed,
    EventKind.CARD: _card,
    EventKind.DELIVERY_FAILED: _delivery_failed,
}


# -- values --------------------------------------------------------------------------------------


def _kind(value: str) -> EventKind | None:
    return _enum(EventKind, value)


def _enum(kind: type[E], value: Any) -> E | None:
    try:
        return kind(value)
    except (TypeError, ValueError):
        return None


def _change(before: Any, after: Any, show: Callable[[Any], str]) -> str:
    """``before → after``, or just ``after`` when there was nothing before."""
    if before is None:
        return show(after) if after is not None else NOTHING
    return f"{show(before)}{ARROW}{show(after) if after is not None else NOTHING}"


def _label(value: Any) -> str:
    """A status by its translated label (an unknown value as stored)."""
    try:
        return Status(value).label
    except (TypeError, ValueError):
        return str(value)


def _priority(value: Any) -> str:
    """``P2 high`` from 2 or "P2" (an unknown value as stored)."""
    try:
        priority = Priority[value] if isinstance(value, str) else Priority(value)
    except (KeyError, TypeError, ValueError):
        return str(value)
    return f"{priority.label} {priority.title}"


def _line(value: Any) -> str:
    return _("line {number}").format(number=value)


def _channel(value: Any) -> str | None:
    channel = _enum(ChannelKind, value)
    return channel.label if channel else (str(value) if value else None)


def _with_reason(text: Text, reason: Any) -> Text:
    """Append what a person typed after a dash, on one line (whitespace runs collapsed)."""
    if isinstance(reason, str) and reason.strip():
        text.append(" — ")
        text.append(" ".join(reason.split()), style="italic")
    return text
