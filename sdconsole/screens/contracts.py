"""Provides `ContractScreen`: the client tree with each node's contracts, SLA, contacts, devices.

The left side is the client tree (chain → legal entity → shop), narrowed by the search line
(name, ИНН or code); the right side shows the chosen node: its place in the tree, address, local
time and technical manager; every contract that covers it (its own and its ancestors') with
validity, what happens when it ends, the SLA plan's targets per priority and their calendars,
the hours included and used this month; the contacts; the devices with their fiscal drives.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, Static, Tree

from sdconsole.bindings import translate_bindings
from sdconsole.domain.model import ContractKind
from sdconsole.domain.views import ClientCard, ClientNode, ContractView
from sdconsole.i18n import N_, _
from sdconsole.messages import StoreFailed
from sdconsole.storage import repositories

_KINDS = {
    "subscription": N_("subscription"),
    "hours": N_("hours package"),
    "per_request": N_("per request"),
    "one_off": N_("one-off"),
    "chain": N_("chain"),
    "entity": N_("legal entity"),
    "site": N_("shop"),
}


EXPAND_UP_TO = 200
"""A tree of at most this many nodes is shown unfolded."""


def _kind(value: str) -> str:
    label = _KINDS.get(value)
    return _(label) if label else value


def _span(minutes: int) -> str:
    if minutes % (24 * 60) == 0 and minutes >= 24 * 60:
        return _("{n} d").format(n=minutes // (24 * 60))
    if minutes % 60 == 0 and minutes >= 60:
        return _("{n} h").format(n=minutes // 60)
    return _("{n} min").format(n=minutes)


def _day(value: date | None) -> str:
    return value.strftime("%d.%m.%Y") if value else "—"


def _money(value: Decimal) -> str:
    return f"{value:,.2f}".replace(",", " ").removesuffix(".00")


def _terms(contract: ContractView) -> list[str]:
    """The contract's money terms in words, the ones it sets."""
    terms = []
    if contract.price is not None:
        per = {
            "subscription": N_("{price} a month"),
            "hours_package": N_("{price} a month"),
            "per_request": N_("{price} a request"),
            "one_off": N_("{price} a work"),
        }.get(contract.kind)
        price = _money(contract.price)
        terms.append(_(per).format(price=price) if per else price)
    if contract.request_price is not None:
        terms.append(_("{price} a request").format(price=_money(contract.request_price)))
    if contract.hourly_rate is not None:
        terms.append(_("{price} an hour over").format(price=_money(contract.hourly_rate)))
    if contract.rounding_minutes > 1 or contract.minimum_minutes:
        terms.append(
            _("time rounded up to {step} min, at least {minimum}").format(
                step=contract.rounding_minutes, minimum=contract.minimum_minutes
            )
        )
    if contract.carry_over_months:
        terms.append(
            _("unused hours kept {months} months").format(months=contract.carry_over_months)
        )
    if contract.price_list:
        terms.append(", ".join(f"{code} {price}" for code, price in contract.price_list))
    if contract.valid_to is not None:
        terms.append(_("notice {days} days before the end").format(days=contract.notify_days))
    return terms


class ContractScreen(Screen[None]):
    """Clients and their contracts; searchable."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", N_("Back"), id="contracts.back"),
        Binding("slash", "search", N_("Search"), id="contracts.search"),
        Binding("o", "open_queue", N_("This client's queue"), id="contracts.queue"),
        Binding("g", "telegram_code", N_("Telegram code"), id="contracts.telegram", show=False),
        Binding("n", "new_contract", N_("New contract"), id="contracts.new"),
        Binding("e", "edit_contract", N_("Edit contract"), id="contracts.edit"),
        Binding("question_mark", "help", N_("Help"), id="contracts.help"),
    ]

    DEFAULT_CSS = """
    ContractScreen {
        #contracts-search { height: 3; }
        #contracts-tree { width: 40%; border-right: vkey $foreground 20%; }
        #contracts-detail { padding: 0 1; }
    }
    """

    def __init__(self) -> None:
        super().__init__()
        translate_bindings(self)
        self.card: ClientCard | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        yield Input(id="contracts-search", placeholder=_("Client: name, ИНН or code; Enter finds"))
        with Horizontal():
            yield Tree(_("Clients"), id="contracts-tree")
            with VerticalScroll(id="contracts-detail"):
                yield Static(
                    _("Choose a client on the left (Enter) to see its contracts."),
                    id="contracts-card",
                )
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("Clients and contracts")
        self.query_one(Tree).focus()
        self._load_tree("")

    # -- the tree ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="contracts-tree", exit_on_error=False)
    def _load_tree(self, search: str) -> None:
        try:
            with self.app.store.reader() as session:  # type: ignore[attr-defined]
                nodes = repositories.client_nodes(session=session, search=search)
        except Exception as error:  # noqa: BLE001 - shown, never a crash
            self.post_message(StoreFailed(str(error)))
            return
        # Search results and small trees open fully; a big tree shows its chains folded.
        expand = bool(search.strip()) or len(nodes) <= EXPAND_UP_TO
        self.app.call_from_thread(self._show_tree, nodes, expand)

    def _show_tree(self, nodes: list[ClientNode], expand: bool) -> None:
        tree: Tree[int] = self.query_one(Tree)
        tree.clear()
        children: dict[int | None, list[ClientNode]] = {}
        for node in nodes:
            children.setdefault(node.parent_id, []).append(node)
        known = {node.id for node in nodes}

        def add(parent: object, node: ClientNode) -> None:
            label = Text(node.name)
            if node.inn:
                label.append(f"  {node.inn}", style="dim")
            below = children.get(node.id, [])
            if below:
                branch = parent.add(label, data=node.id, expand=expand)  # type: ignore[attr-defined]
                for child in below:
                    add(branch, child)
            else:
                parent.add_leaf(label, data=node.id)  # type: ignore[attr-defined]

        for node in nodes:
            if node.parent_id is None or node.parent_id not in known:
                add(tree.root, node)
        tree.root.expand()
        if not nodes:
            tree.root.add_leaf(Text(_("No client matches."), style="dim"))

    def action_search(self) -> None:
        self.query_one("#contracts-search", Input).focus()

    @on(Input.Submitted, "#contracts-search")
    def search(self, event: Input.Submitted) -> None:
        self._load_tree(event.value)
        self.query_one(Tree).focus()

    @on(Tree.NodeSelected)
    def node_selected(self, event: Tree.NodeSelected[int]) -> None:
        if event.node.data is not None:
            self.show_client(event.node.data)

    def show_client(self, client_id: int) -> None:
        self._load_card(client_id)

    # -- the card ------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="contracts-card", exit_on_error=False)
    def _load_card(self, client_id: int) -> None:
        now = self.app.clock.now()  # type: ignore[attr-defined]
        try:
            with self.app.store.reader() as session:  # type: ignore[attr-defined]
                card = repositories.client_card(session=session, client_id=client_id, now=now)
        except Exception as error:  # noqa: BLE001 - shown, never a crash
            self.post_message(StoreFailed(str(error)))
            return
        if card is not None:
            self.app.call_from_thread(self._show_card, card, now)

    def _show_card(self, card: ClientCard, now: datetime) -> None:
        self.card = card
        self.query_one("#contracts-card", Static).update(self.render_card(card, now))

    def render_card(self, card: ClientCard, now: datetime) -> RenderableType:
        today = now.date()
        parts: list[RenderableType] = []
        title = Text(" › ".join(card.path), style="bold")
        parts.append(title)
        facts = Text(_kind(card.node.kind), style="dim")
        if card.node.inn:
            facts.append(f" · ИНН {card.node.inn}")
        if card.node.external_id:
            facts.append(" · " + _("code {code}").format(code=card.node.external_id))
        if card.address:
            facts.append(f" · {card.address}")
        if card.timezone:
            local = now.astimezone(ZoneInfo(card.timezone)).strftime("%H:%M")
            facts.append(
                " · " + _("local time {time} ({zone})").format(time=local, zone=card.timezone)
            )
        parts.append(facts)
        parts.append(
            Text(
                _("Technical manager: {manager} · open tickets: {n}").format(
                    manager=card.manager or "—", n=card.open_tickets
                )
            )
        )
        parts.append(Text(""))
        parts.append(Text(_("Contracts"), style="bold underline"))
        if not card.contracts:
            parts.append(
                Text(
                    _(
                        "No contract covers this client: its requests are one-off work and are "
                        "measured on the default targets."
                    ),
                    style="yellow",
                )
            )
        for contract in card.contracts:
            parts.extend(self._contract(contract, today))
        parts.append(Text(""))
        parts.append(Text(_("Contacts"), style="bold underline"))
        if card.contacts:
            contacts = Table(box=None, padding=(0, 2), show_header=True, header_style="dim")
            for heading in (_("Name"), _("Position"), _("Email"), _("Phone"), "Telegram"):
                contacts.add_column(heading)
            for contact in card.contacts:
                contacts.add_row(
                    Text(contact.name),
                    Text(contact.position),
                    Text(contact.email),
                    Text(contact.phone),
                    Text(contact.telegram),
                )
            parts.append(contacts)
        else:
            parts.append(Text(_("none"), style="dim"))
        parts.append(Text(""))
        parts.append(Text(_("Devices"), style="bold underline"))
        if card.devices:
            devices = Table(box=None, padding=(0, 2), show_header=True, header_style="dim")
            for heading in (_("Model"), "ЗН", "РН", "ФН", _("Keys until"), _("Health")):
                devices.add_column(heading)
            for device in card.devices:
                days = device.fn_days_left(today)
                until = Text(_day(device.fn_valid_until))
                if days is not None and days <= 30:
                    until.stylize("bold red" if days < 0 else "bold yellow")
                devices.add_row(
                    Text(device.model),
                    Text(device.serial),
                    Text(device.reg_number),
                    Text(device.fn_serial),
                    until,
                    Text(device.health_state or "—"),
                )
            parts.append(devices)
        else:
            parts.append(Text(_("none"), style="dim"))
        return Group(*parts)

    def _contract(self, contract: ContractView, today: date) -> list[RenderableType]:
        head = Text(f"{contract.number}", style="bold")
        head.append(f"  {_kind(contract.kind)}")
        if contract.holder:
            head.append("  · " + _("with {holder}").format(holder=contract.holder), style="dim")
        validity = Text(
            _("valid {start} – {end}").format(
                start=_day(contract.valid_from), end=_day(contract.valid_to)
            )
            if contract.valid_to is not None
            else _("valid from {start}, no end date").format(start=_day(contract.valid_from))
        )
        days = contract.days_left(today)
        if not contract.in_force(today):
            state = (
                _("not yet in force")
                if contract.valid_from > today
                else _("ended")
                if contract.is_active
                else _("withdrawn")
            )
            validity.append(f" · {state}", style="bold red")
        elif days is not None:
            validity.append(
                " · " + _("{n} days left").format(n=days),
                style="bold yellow" if days <= 30 else "",
            )
        if contract.valid_to is not None:
            after = (
                _("then contract {number} takes over").format(number=contract.successor)
                if contract.successor
                else _(
                    "after that: no contract follows; requests become one-off billable work "
                    "on the default targets"
                )
            )
            validity.append(f" · {after}", style="dim")
        lines: list[RenderableType] = [Text(""), head, validity]
        plan = Text(_("SLA plan: {plan}").format(plan=contract.plan or "—"))
        plan.append(" · " + _("warning at {pct} %").format(pct=contract.plan_warning_pct))
        lines.append(plan)
        if contract.hours_per_month is not None:
            used = contract.minutes_this_month / 60
            hours = Text(
                _("Hours this month: {used:.1f} of {included:g} used").format(
                    used=used, included=contract.hours_per_month
                )
            )
            if used > contract.hours_per_month:
                hours.stylize("bold red")
            lines.append(hours)
        elif contract.minutes_this_month:
            lines.append(
                Text(
                    _("Billable time this month: {used:.1f} h").format(
                        used=contract.minutes_this_month / 60
                    )
                )
            )
        terms = _terms(contract)
        if terms:
            lines.append(Text(_("Billing: {terms}").format(terms=" · ".join(terms))))
        if contract.categories:
            lines.append(
                Text(_("Covers: {categories}").format(categories=", ".join(contract.categories)))
            )
        if contract.targets:
            targets = Table(box=None, padding=(0, 2), show_header=True, header_style="dim")
            for heading in (
                _("Priority"),
                _("Registration"),
                _("First response"),
                _("Resolution"),
                _("Calendar"),
            ):
                targets.add_column(heading)
            for target in contract.targets:
                targets.add_row(
                    f"{target.priority.label} {target.priority.title}",
                    _span(target.registration_minutes),
                    _span(target.response_minutes),
                    _span(target.resolution_minutes),
                    Text(target.calendar),
                )
            lines.append(targets)
        return lines

    def action_open_queue(self) -> None:
        from sdconsole.screens.queue import QueueScreen

        if self.card is None:
            self.notify(_("Choose a client first."))
            return
        card = self.card
        self.app.pop_screen()
        if isinstance(self.app.screen, QueueScreen):
            self.app.screen.show_client(card.node.id, card.node.name)

    def action_telegram_code(self) -> None:
        """A one-time code that binds a contact's Telegram chat to the bot."""
        from sdconsole.screens.dialogs import Field, FormDialog, TextViewer
        from sdconsole.services.telegram import issue_code

        if self.card is None or not self.card.contacts:
            self.notify(_("Choose a client with contacts first."))
            return
        contacts = self.card.contacts
        settings = self.app.settings.telegram  # type: ignore[attr-defined]
        hours = settings.code_hours if settings is not None else 72

        def issue(values: dict[str, str] | None) -> None:
            if not values:
                return
            contact = next(c for c in contacts if str(c.id) == values["contact"])
            code = issue_code(
                self.app.store,  # type: ignore[attr-defined]
                self.app.clock,  # type: ignore[attr-defined]
                contact.id,
                engineer_id=self.app.actor.engineer_id,  # type: ignore[attr-defined]
                hours=hours,
            )
            self.app.push_screen(
                TextViewer(
                    _("Telegram code for {name}").format(name=contact.name),
                    _(
                        "Ask the contact to send the bot:\n\n    /start {code}\n\n"
                        "The code works once and for {hours} hours."
                    ).format(code=code, hours=hours),
                )
            )

        options = tuple((f"{c.name} {c.phone}".strip(), str(c.id)) for c in contacts)
        self.app.push_screen(
            FormDialog(
                _("Telegram code"),
                [Field("contact", _("Contact"), "select", options, options[0][1], True)],
            ),
            issue,
        )

    # -- editing contracts (leads) ------------------------------------------------------------

    def action_new_contract(self) -> None:
        """A new contract for the client shown."""
        if self.card is None:
            self.notify(_("Choose a client first."))
            return
        today = self.app.clock.now().date()  # type: ignore[attr-defined]
        values = {"kind": "subscription", "valid_from": today.isoformat(), "notify_days": "30"}
        self._contract_form(
            _("New contract for {client}").format(client=self.card.node.name), values, None
        )

    def action_edit_contract(self) -> None:
        """Change one of the client's contracts (the first in force, or chosen)."""
        from sdconsole.screens.dialogs import Field, FormDialog

        if self.card is None or not self.card.contracts:
            self.notify(_("Choose a client with a contract first."))
            return
        contracts = self.card.contracts
        if len(contracts) == 1:
            self._edit(contracts[0].id)
            return
        options = tuple((f"{c.number} · {_kind(c.kind)}", str(c.id)) for c in contracts)

        def chosen(values: dict[str, str] | None) -> None:
            if values:
                self._edit(int(values["contract"]))

        self.app.push_screen(
            FormDialog(
                _("Which contract?"),
                [Field("contract", _("Contract"), "select", options, options[0][1], True)],
                submit=_("Edit"),
            ),
            chosen,
        )

    def _edit(self, contract_id: int) -> None:
        from sdconsole.services.contracts import ContractService

        values = ContractService(self.app.store, self.app.clock).values_of(contract_id)  # type: ignore[attr-defined]
        if values is None:
            self.notify(_("The contract is gone; reload."), severity="error")
            return
        self._contract_form(
            _("Contract {number}").format(number=values["number"]), values, contract_id
        )

    def _contract_form(
        self, title: str, values: dict[str, str], contract_id: int | None, error: str = ""
    ) -> None:
        from sdconsole.domain.errors import SdError
        from sdconsole.screens.dialogs import Field, FormDialog
        from sdconsole.services.contracts import ContractService

        service = ContractService(self.app.store, self.app.clock)  # type: ignore[attr-defined]
        plans = tuple((f"{code} · {name}", code) for code, name in service.plans())
        kinds = tuple((_kind(k.value), k.value) for k in ContractKind)
        v = values.get
        fields = [
            Field("number", _("Number"), value=v("number", ""), required=True),
            Field("kind", _("Kind"), "select", kinds, v("kind", ""), True),
            Field(
                "valid_from", _("Valid from (YYYY-MM-DD)"), value=v("valid_from", ""), required=True
            ),
            Field("valid_to", _("Valid to (empty: no end)"), value=v("valid_to", "")),
            Field("sla_plan", _("SLA plan"), "select", plans, v("sla_plan", ""), True),
            Field(
                "categories",
                _("Categories covered (kkt|ofd; empty: all)"),
                value=v("categories", ""),
            ),
            Field(
                "hours_per_month",
                _("Hours a month (hours package)"),
                value=v("hours_per_month", ""),
            ),
            Field("price", _("Price: a month, a request or a work"), value=v("price", "")),
            Field(
                "hourly_rate",
                _("Hourly rate (overage, uncovered work)"),
                value=v("hourly_rate", ""),
            ),
            Field(
                "request_price", _("Price of a request (per request)"), value=v("request_price", "")
            ),
            Field(
                "price_list",
                _("Price list (kkt.fn.replace=3500|ofd=1500)"),
                value=v("price_list", ""),
            ),
            Field(
                "rounding_minutes",
                _("Round each time entry up to, minutes"),
                value=v("rounding_minutes", "1"),
            ),
            Field(
                "minimum_minutes",
                _("Bill each time entry at least, minutes"),
                value=v("minimum_minutes", "0"),
            ),
            Field(
                "carry_over_months",
                _("Unused hours carry over, months"),
                value=v("carry_over_months", "0"),
            ),
            Field(
                "notify_days",
                _("Tell the contacts this many days before the end"),
                value=v("notify_days", "30"),
            ),
            Field("notes", _("Notes"), "area", value=v("notes", "")),
        ]
        node = self.card.node if self.card else None

        def save(entered: dict[str, str] | None) -> None:
            if not entered:
                return
            try:
                service.save(
                    entered,
                    actor=self.app.actor,  # type: ignore[attr-defined]
                    client_id=node.id if node else None,
                    contract_id=contract_id,
                )
            except SdError as refused:
                self._contract_form(title, entered, contract_id, str(refused))
                return
            self.notify(_("Contract {number} saved.").format(number=entered["number"]))
            if node is not None:
                self.show_client(node.id)

        self.app.push_screen(FormDialog(title, fields, submit=_("Save"), error=error), save)

    def action_help(self) -> None:
        from sdconsole.screens.dialogs import HelpScreen

        self.app.push_screen(HelpScreen(self))

    @on(StoreFailed)
    def show_failure(self, message: StoreFailed) -> None:
        self.notify(message.error, title=_("Cannot read the store"), severity="error")
