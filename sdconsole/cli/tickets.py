"""Provides `sdconsole ticket new | show | list | import | rate | follow-up | log-time`."""

from __future__ import annotations

import csv
import os
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer

from sdconsole.cli.common import (
    TableFormat,
    TextFormat,
    err_console,
    handle_errors,
    print_json,
    state,
)
from sdconsole.domain.model import Priority, Status, parse_ticket_number, ticket_number
from sdconsole.domain.sla import PAUSED_DUE
from sdconsole.i18n import N_, _

app = typer.Typer(help="Create, show and list tickets.", no_args_is_help=True)

LIST_FIELDS = (
    "number",
    "status",
    "priority",
    "client",
    "site",
    "subject",
    "line",
    "assignee",
    "channel",
    "created_at",
    "due_at",
)
"""The stable columns of ``ticket list`` (JSON keys, CSV header), in order."""


@app.command("new")
@handle_errors
def new(
    ctx: typer.Context,
    subject: Annotated[str, typer.Option(help="One-line summary of the request.")],
    text: Annotated[str, typer.Option(help="What the caller said.")] = "",
    client: Annotated[
        str | None, typer.Option(help="Client or site: external id, INN or id.")
    ] = None,
    caller: Annotated[str, typer.Option(help="Caller's name.")] = "",
    phone: Annotated[str, typer.Option(help="Caller's phone (finds the contact).")] = "",
    email: Annotated[str, typer.Option(help="Caller's e-mail (finds the contact).")] = "",
    category: Annotated[str | None, typer.Option(help="Incident category code.")] = None,
    priority: Annotated[str | None, typer.Option(help="P1..P4 (default: from category).")] = None,
    key: Annotated[
        str | None,
        typer.Option(help="Idempotency key of this submission; repeating it never duplicates."),
    ] = None,
    fmt: Annotated[TextFormat, typer.Option("--format", help="text or json.")] = TextFormat.TEXT,
) -> None:
    """Register a request taken by phone (the phone-call form); prints the new ticket's number."""
    from sdconsole.domain.errors import Conflict, InvalidInput, NotFound
    from sdconsole.domain.text import clean_line

    if not clean_line(subject):
        raise InvalidInput(N_("A subject is required: one line saying what the caller needs."))
    from sdconsole.domain.intake import InboundMessage, Sender
    from sdconsole.domain.model import ChannelKind, ClientKind
    from sdconsole.services.intake import IntakeService, Outcome
    from sdconsole.storage import repositories

    cli = state(ctx)
    store = cli.store()
    clock = cli.clock()
    client_id = site_id = None
    if client:
        with store.reader() as session:
            found = repositories.client_by_ref(session=session, ref=client)
            if found is None:
                raise NotFound(N_("No client {ref}."), ref=client)
            if found.kind == ClientKind.SITE:
                site_id = found.id
            else:
                client_id = found.id
    parsed_priority = None
    if priority:
        try:
            parsed_priority = Priority[priority.upper()]
        except KeyError:
            raise InvalidInput(N_("Priority must be one of P1, P2, P3, P4.")) from None
    submission = key or f"cli-{uuid.uuid4()}"
    raw = "\n".join(
        f"{k}: {v}"
        for k, v in (
            ("subject", subject),
            ("text", text),
            ("client", client or ""),
            ("caller", caller),
            ("phone", phone),
            ("email", email),
            ("category", category or ""),
            ("priority", priority or ""),
        )
    ).encode()
    message = InboundMessage(
        channel=ChannelKind.PHONE,
        idempotency_key=submission,
        received_at=clock.now(),
        sender=Sender(name=caller, phone=phone, email=email),
        subject=subject,
        body=text,
        raw=raw,
        client_id=client_id,
        site_id=site_id,
        category_code=category,
        priority=parsed_priority,
    )
    if category:
        with store.reader() as session:
            if repositories.category_by_code(session=session, code=category) is None:
                raise NotFound(N_("No category with code {code}."), code=category)
    result = IntakeService.from_settings(store, clock, state(ctx).settings).ingest(message)
    if result.outcome == Outcome.DEAD_LETTER or result.ticket_id is None:
        raise InvalidInput(
            N_("The request could not be registered: {reason}"), reason=result.reason
        )
    if result.outcome == Outcome.DUPLICATE:
        if result.conflicting:
            raise Conflict(
                N_("Key {key} was used for {number} with other details; use a new --key."),
                key=submission,
                number=ticket_number(result.ticket_id),
            )
        err_console.print(
            _("Already registered as {number} (same --key).").format(
                number=ticket_number(result.ticket_id)
            ),
            markup=False,
        )
    if fmt == "json":
        print_json(
            {
                "number": ticket_number(result.ticket_id),
                "id": result.ticket_id,
                "outcome": result.outcome.value,
            }
        )
    else:
        typer.echo(ticket_number(result.ticket_id))


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. SD-000123 or 123.")],
    fmt: Annotated[TextFormat, typer.Option("--format", help="text or json.")] = TextFormat.TEXT,
) -> None:
    """Print a ticket with its thread and history."""
    from dataclasses import asdict

    from sdconsole.domain.errors import InvalidInput, NotFound
    from sdconsole.storage import repositories

    ticket_id = parse_ticket_number(number)
    if ticket_id is None:
        raise InvalidInput(N_("Not a ticket number: {value}"), value=number)
    with state(ctx).store().reader() as session:
        view = repositories.ticket_view(session=session, ticket_id=ticket_id)
    if view is None:
        raise NotFound(N_("No ticket {number}."), number=ticket_number(ticket_id))
    if fmt == "json":
        data = {"number": view.number, **asdict(view)}
        print_json(data)
        return
    from rich.console import Console

    from sdconsole.reports.ticket import render_ticket

    Console(highlight=False).print(render_ticket(view))


@app.command("list")
@handle_errors
def list_(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(help="Only these statuses (repeatable); 'active' means every open status."),
    ] = None,
    client: Annotated[
        str | None, typer.Option(help="Client or site: external id, INN or id.")
    ] = None,
    assignee: Annotated[str | None, typer.Option(help="Engineer login.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=100_000)] = 100,
    fmt: Annotated[
        TableFormat, typer.Option("--format", help="table, json or csv.")
    ] = TableFormat.TABLE,
) -> None:
    """List tickets, newest first."""
    from sdconsole.domain.errors import InvalidInput, NotFound
    from sdconsole.domain.model import OPEN_STATUSES
    from sdconsole.storage import repositories

    statuses: list[Status] = []
    for value in status or []:
        if value == "active":
            statuses.extend(OPEN_STATUSES)
            continue
        try:
            statuses.append(Status(value))
        except ValueError:
            raise InvalidInput(
                N_("Unknown status {value}; use one of: {choices}."),
                value=value,
                choices=", ".join(s.value for s in Status),
            ) from None
    with state(ctx).store().reader() as session:
        client_id = assignee_id = None
        if client:
            found = repositories.client_by_ref(session=session, ref=client)
            if found is None:
                raise NotFound(N_("No client {ref}."), ref=client)
            client_id = found.id
        if assignee:
            engineer = repositories.engineer_by_login(session=session, login=assignee)
            if engineer is None:
                raise NotFound(N_("No active engineer with login {login}."), login=assignee)
            assignee_id = engineer.id
        rows = repositories.list_tickets(
            session=session,
            statuses=statuses,
            client_id=client_id,
            assignee_id=assignee_id,
            limit=limit,
        )
    records = [
        {
            "number": ticket_number(r["id"]),
            "status": r["status"],
            "priority": Priority(r["priority"]).label,
            "client": r["client"] or "",
            "site": r["site"] or "",
            "subject": r["subject"],
            "line": r["line"],
            "assignee": r["assignee"],
            "channel": r["channel"],
            "created_at": r["created_at"],
            # No clock runs on a finished or paused ticket: no deadline rather than year 9999.
            "due_at": r["due_at"] if r["due_at"] != PAUSED_DUE else None,
        }
        for r in rows
    ]
    if fmt == "json":
        print_json(records)
    elif fmt == "csv":
        from sdconsole.cli.common import to_jsonable

        writer = csv.DictWriter(sys.stdout, fieldnames=LIST_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(to_jsonable(records))
    elif fmt == "table":
        from rich.console import Console

        from sdconsole.reports.ticket import ticket_table

        console = Console(highlight=False)
        # A terminal (or an explicit COLUMNS) sets the width; a pipe or a file gets every
        # character, since whoever reads it in `less -S` or an editor can scroll sideways.
        fit = console.is_terminal or os.environ.get("COLUMNS", "").isdigit()
        table = ticket_table(records, width=console.width if fit else None)
        if not fit and table.width is not None:
            console.width = table.width
        console.print(table)
    else:
        raise InvalidInput(N_("Unknown format {value}; use table, json or csv."), value=fmt)


@app.command("import")
@handle_errors
def import_(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="CSV file of requests (UTF-8 or Windows-1251).")],
    fmt: Annotated[TextFormat, typer.Option("--format", help="text or json.")] = TextFormat.TEXT,
) -> None:
    """Register requests from a CSV file through the intake pipeline (idempotent by request id).

    Columns: key, subject (required); received_at, client, text, caller, phone, email,
    category, priority. See docs/import-formats.md.
    """
    from sdconsole.cli.imports import print_problems
    from sdconsole.domain.errors import InvalidInput
    from sdconsole.services.importing.csv_table import ImportRowsFailed
    from sdconsole.services.importing.requests import import_requests
    from sdconsole.services.intake import IntakeService

    cli = state(ctx)
    if not path.is_file():
        raise InvalidInput(N_("No such file: {path}"), path=str(path))
    try:
        summary = import_requests(
            cli.store(),
            cli.clock(),
            path,
            intake=IntakeService.from_settings(cli.store(), cli.clock(), cli.settings),
        )
    except ImportRowsFailed as error:
        print_problems(error)
        raise typer.Exit(error.exit_code) from None
    if fmt == "json":
        print_json(
            {
                "created": summary.created,
                "appended": summary.appended,
                "duplicate": summary.duplicate,
            }
        )
    else:
        typer.echo(
            _(
                "{created} created, {appended} added to existing tickets, {duplicate} already "
                "imported"
            ).format(
                created=summary.created, appended=summary.appended, duplicate=summary.duplicate
            )
        )


def _ticket_id(number: str) -> int:
    from sdconsole.domain.errors import InvalidInput

    ticket_id = parse_ticket_number(number)
    if ticket_id is None:
        raise InvalidInput(N_("Not a ticket number: {value}"), value=number)
    return ticket_id


@app.command("rate")
@handle_errors
def rate(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. SD-000123 or 123.")],
    score: Annotated[int, typer.Option(min=1, max=5, help="The client's score, 1 to 5.")],
    comment: Annotated[str, typer.Option(help="What the client said.")] = "",
) -> None:
    """Record the rating a client gave a resolved ticket on the phone (3 or less: flagged)."""
    from sdconsole.domain.model import ChannelKind
    from sdconsole.services.ratings import RatingService

    cli = state(ctx)
    ticket_id = _ticket_id(number)
    RatingService(cli.store(), cli.clock()).record(
        ticket_id, score, actor=cli.actor(), comment=comment, channel=ChannelKind.PHONE
    )
    typer.echo(
        _("{number} rated {score} of 5.").format(number=ticket_number(ticket_id), score=score)
    )


@app.command("follow-up")
@handle_errors
def follow_up(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. SD-000123 or 123.")],
    note: Annotated[str, typer.Option(help="What was done about the low rating.")],
) -> None:
    """Close the follow-up of a low rating with what was done (leads only)."""
    from sdconsole.services.ratings import RatingService

    cli = state(ctx)
    ticket_id = _ticket_id(number)
    RatingService(cli.store(), cli.clock()).follow_up(ticket_id, note, actor=cli.actor())
    typer.echo(_("Follow-up of {number} closed.").format(number=ticket_number(ticket_id)))


@app.command("log-time")
@handle_errors
def log_time(
    ctx: typer.Context,
    number: Annotated[str, typer.Argument(help="Ticket number, e.g. SD-000123 or 123.")],
    minutes: Annotated[int, typer.Option(min=1, max=1440, help="Minutes spent.")],
    note: Annotated[str, typer.Option(help="What the time went on.")] = "",
    billable: Annotated[
        bool, typer.Option("--billable/--internal", help="Whether the client is billed for it.")
    ] = True,
) -> None:
    """Log time spent on a ticket (as the engineer named by --as)."""
    from sdconsole.services.tickets import TicketService

    cli = state(ctx)
    ticket_id = _ticket_id(number)
    TicketService(cli.store(), cli.clock()).log_time(
        ticket_id, minutes, actor=cli.actor(), billable=billable, note=note
    )
    done = (
        _("{minutes} min logged on {number}.")
        if billable
        else _("{minutes} min of internal time logged on {number}.")
    )
    typer.echo(done.format(minutes=minutes, number=ticket_number(ticket_id)))
