"""Builders for service tests: a small client tree with a contract, and inbound messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sdconsole.config import RoutingSettings
from sdconsole.domain.intake import InboundAttachment, InboundMessage, Sender
from sdconsole.domain.model import ChannelKind, Priority
from sdconsole.storage import Store
from sdconsole.storage.tables import (
    BusinessCalendar,
    Category,
    Client,
    Contact,
    Contract,
    SlaPlan,
    SlaTarget,
)


@dataclass(frozen=True)
class World:
    chain_id: int
    site_id: int
    contact_id: int
    contract_id: int


def make_world(store: Store, now: datetime) -> World:
    """A chain with one site, a shop manager, a 24/7 plan and a subscription contract."""
    with store.transaction() as session:
        chain = Client(
            kind="chain", name="Продукты Урала", external_id="CH-1", created_at=now, updated_at=now
        )
        session.add(chain)
        session.flush()
        site = Client(
            kind="site",
            name="Магазин №7",
            parent_id=chain.id,
            address="Екатеринбург, ул. Ленина, 1",
            timezone="Asia/Yekaterinburg",
            external_id="S-7",
            created_at=now,
            updated_at=now,
        )
        session.add(site)
        session.flush()
        contact = Contact(
            client_id=site.id,
            name="Ольга Петрова",
            email="olga@shop7.example",
            phone="+79120000007",
            created_at=now,
        )
        calendar = BusinessCalendar(code="24x7", name="24/7", is_24x7=True)
        session.add_all([contact, calendar])
        session.flush()
        plan = SlaPlan(code="gold", name="Gold", calendar_id=calendar.id)
        session.add(plan)
        session.flush()
        for priority, response, resolution in (
            (1, 15, 240),
            (2, 30, 480),
            (3, 120, 1440),
            (4, 1440, 4320),
        ):
            session.add(
                SlaTarget(
                    plan_id=plan.id,
                    priority=priority,
                    response_minutes=response,
                    resolution_minutes=resolution,
                )
            )
        contract = Contract(
            number="Д-2026/7",
            client_id=chain.id,
            kind="subscription",
            valid_from=date(2026, 1, 1),
            sla_plan_id=plan.id,
        )
        session.add(contract)
        session.add(
            Category(
                code="kkt.print",
                name_ru="ККТ не печатает",
                name_en="Register does not print",
                line=1,
                team="kkt",
                default_impact=2,
                default_urgency=1,
                keywords=["не печатает", "чек", "бумаг"],
            )
        )
        session.flush()
        assert chain.id and site.id and contact.id and contract.id
        return World(chain.id, site.id, contact.id, contract.id)


def email(
    key: str,
    at: datetime,
    *,
    subject: str = "Касса не печатает чеки",
    body: str = "Добрый день! Касса не печатает чек.",
    sender: str = "olga@shop7.example",
    in_reply_to: tuple[str, ...] = (),
    is_auto: bool = False,
    attachments: tuple[InboundAttachment, ...] = (),
    priority: Priority | None = None,
) -> InboundMessage:
    return InboundMessage(
        channel=ChannelKind.EMAIL,
        idempotency_key=key,
        received_at=at,
        sender=Sender(name="Ольга", email=sender),
        subject=subject,
        body=body,
        raw=f"Message-ID: {key}\r\nSubject: {subject}\r\n\r\n{body}".encode(),
        channel_message_id=key,
        in_reply_to=in_reply_to,
        is_auto=is_auto,
        attachments=attachments,
        priority=priority,
    )


MANUAL = RoutingSettings(assign=False)
"""Routing that leaves new tickets unassigned: for worlds where engineers take tickets by hand."""
