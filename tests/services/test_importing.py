"""Tests of CSV import against a real store (SQLite and PostgreSQL): formats, checks, upserts."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import SQLModel, select

from sdconsole.domain.clock import FixedClock
from sdconsole.domain.errors import ImportFailed
from sdconsole.services.importing import (
    ImportKind,
    ImportRowsFailed,
    ImportService,
    ImportSummary,
)
from sdconsole.services.importing.csv_table import MAX_ISSUES
from sdconsole.storage import Store
from sdconsole.storage.tables import BusinessCalendar, Client, Contract, Device, Engineer, SlaPlan

DATA = Path(__file__).parent.parent / "data" / "import"

CLIENTS_HEADER = "external_id,parent,kind,name,inn,address,timezone\n"
SHOP_ROWS = (
    "LE-1,,legal_entity,ООО Ромашка,7701234560,,\n"
    'S-1,LE-1,site,Магазин 1,,"г. Казань, ул. Баумана, д. 1",Europe/Moscow\n'
)


@pytest.fixture
def service(store: Store, clock: FixedClock) -> ImportService:
    return ImportService(store, clock)


@pytest.fixture
def sla_plan(store: Store) -> str:
    with store.transaction() as session:
        calendar = BusinessCalendar(code="std", name="Standard")
        session.add(calendar)
        session.flush()
        assert calendar.id is not None
        session.add(SlaPlan(code="STANDARD", name="Standard", calendar_id=calendar.id))
    return "STANDARD"


def run(service: ImportService, kind: ImportKind, text: str, **kwargs: bool) -> ImportSummary:
    return service.import_bytes(kind, text.encode("utf-8"), source="test.csv", **kwargs)


def failure(service: ImportService, kind: ImportKind, data: str | bytes) -> ImportRowsFailed:
    raw = data.encode("utf-8") if isinstance(data, str) else data
    with pytest.raises(ImportRowsFailed) as caught:
        service.import_bytes(kind, raw, source="test.csv")
    return caught.value


def messages(error: ImportRowsFailed) -> list[str]:
    return [str(issue) for issue in error.issues]


def count(store: Store, model: type[SQLModel]) -> int:
    with store.reader() as session:
        return int(session.exec(select(func.count()).select_from(model)).one())


def clients_by_key(store: Store) -> dict[str, Client]:
    with store.reader() as session:
        return {c.external_id or "": c for c in session.exec(select(Client))}


# -- encodings, delimiters, headers ---------------------------------------------------------------


def test_cp1251_semicolon_file_with_russian_header(store: Store, service: ImportService) -> None:
    data = (DATA / "clients_1c_cp1251.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # really Windows-1251, as 1C writes it
    summary = service.import_bytes(ImportKind.CLIENTS, data, source="clients.csv")
    assert summary == ImportSummary(ImportKind.CLIENTS, created=6)
    clients = clients_by_key(store)
    romashka = clients["LE-ROMASHKA"]
    assert romashka.name == 'ООО "Ромашка"'
    assert (romashka.kind, romashka.inn, romashka.kpp) == (
        "legal_entity",
        "7701234560",
        "770101001",
    )
    assert romashka.email == "buh@romashka.example"
    assert romashka.parent_id == clients["CH-ROMASHKA"].id
    shop = clients["S-0142"]
    assert shop.name == "Магазин №142"
    assert shop.address == "г. Екатеринбург, ул. Ленина, д. 1"
    assert shop.timezone == "Asia/Yekaterinburg"
    assert shop.parent_id == romashka.id
    assert clients["S-0201"].parent_id == clients["LE-IVANOV"].id
    assert clients["LE-IVANOV"].inn == "500100732259"
    assert shop.created_at is not None and shop.created_at.tzinfo is not None


def test_utf8_bom_comma_file_with_english_header(store: Store, service: ImportService) -> None:
    data = (DATA / "clients_bom.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    summary = service.import_bytes(ImportKind.CLIENTS, data, source="clients_bom.csv")
    assert summary.created == 3
    clients = clients_by_key(store)
    assert "CH-LUTIK" in clients  # the BOM did not stick to the first header name
    assert clients["S-L01"].address == "г. Екатеринбург, ул. Малышева, д. 5"
    assert clients["S-L01"].parent_id == clients["LE-LUTIK"].id


def test_headers_ignore_case_spaces_and_underscores(store: Store, service: ImportService) -> None:
    text = "  EXTERNAL ID ;Вид; наименование ;ЧАСОВОЙ_ПОЯС;Адрес\nS-9;магазин;Точка;UTC;ул. Мира\n"
    assert run(service, ImportKind.CLIENTS, text).created == 1
    assert clients_by_key(store)["S-9"].timezone == "UTC"


def test_unknown_columns_are_named(store: Store, service: ImportService) -> None:
    error = failure(service, ImportKind.CLIENTS, "external_id,kind,name,Инн2,adress\n1,chain,X,,\n")
    assert len(error.issues) == 1
    assert "line 1: unknown columns: Инн2, adress" in messages(error)[0]
    assert count(store, Client) == 0


def test_missing_required_columns_are_named(service: ImportService) -> None:
    error = failure(service, ImportKind.CLIENTS, "external_id,name\n1,X\n")
    assert messages(error) == ["line 1: required columns missing: kind"]


def test_a_column_given_twice_is_refused(service: ImportService) -> None:
    error = failure(service, ImportKind.CLIENTS, "Код,external_id,kind,name\n1,1,chain,X\n")
    assert messages(error) == ["line 1, column external_id: repeats the column Код"]


def test_text_that_is_neither_utf8_nor_cp1251_is_refused(service: ImportService) -> None:
    with pytest.raises(ImportFailed, match="not UTF-8, UTF-16 or Windows-1251"):
        service.import_bytes(ImportKind.CLIENTS, b"external_id,kind,name\n\x98,chain,x\n")


def test_utf16_without_a_byte_order_mark_is_refused(service: ImportService) -> None:
    data = "external_id,kind,name\nC-1,chain,X\n".encode("utf-16-le")
    with pytest.raises(ImportFailed, match="not UTF-8, UTF-16 or Windows-1251"):
        service.import_bytes(ImportKind.CLIENTS, data)


def test_excel_unicode_text_is_read(store: Store, service: ImportService) -> None:
    # Excel's "Unicode text": UTF-16 with a byte-order mark, tab-separated.
    data = "Код\tВид\tНаименование\nCH-1\tсеть\tПродукты Урала\n".encode("utf-16")
    summary = service.import_bytes(ImportKind.CLIENTS, data)
    assert summary.created == 1
    with store.reader() as session:
        assert session.exec(select(Client.name)).one() == "Продукты Урала"


def test_an_empty_file_is_refused(service: ImportService) -> None:
    with pytest.raises(ImportFailed, match="empty"):
        service.import_bytes(ImportKind.CLIENTS, b"")


# -- validation: line numbers, columns, nothing written --------------------------------------------


def test_two_bad_rows_are_both_reported_and_nothing_is_written(
    store: Store, service: ImportService
) -> None:
    data = (DATA / "clients_bad.csv").read_bytes()
    with pytest.raises(ImportRowsFailed) as caught:
        service.import_bytes(ImportKind.CLIENTS, data, source="clients_bad.csv")
    assert messages(caught.value) == [
        "line 3, column inn: 7701234561 is not a valid INN (check digit)",
        "line 5, column timezone: unknown time zone Europe/Kazan; use an IANA name such as "
        "Europe/Moscow or Asia/Yekaterinburg",
    ]
    assert caught.value.exit_code == 2
    assert count(store, Client) == 0


def test_line_numbers_are_physical_lines(service: ImportService) -> None:
    text = (
        CLIENTS_HEADER
        + "\n"  # a blank line still counts
        + 'S-1,,site,Shop,,"line one\nline two",Europe/Moscow\n'  # a value over two lines
        + "S-2,,site,Shop 2,,Somewhere,Mars/Olympus\n"
    )
    error = failure(service, ImportKind.CLIENTS, text)
    assert [issue.line for issue in error.issues] == [5]


def test_a_row_with_extra_values_is_reported(service: ImportService) -> None:
    text = CLIENTS_HEADER + "S-1,,site,Shop,,г. Казань, ул. Баумана,Europe/Moscow\n"
    error = failure(service, ImportKind.CLIENTS, text)
    assert "line 2: 8 values, but the header has 7 columns" in messages(error)[0]


def test_issue_reports_use_the_files_own_column_names(service: ImportService) -> None:
    text = "Код;Вид;Наименование;ИНН\nLE-1;юрлицо;ООО Ромашка;77012345\n"
    error = failure(service, ImportKind.CLIENTS, text)
    assert messages(error) == ["line 2, column ИНН: 77012345 is not a valid INN (10 or 12 digits)"]


def test_a_lost_leading_zero_is_hinted(service: ImportService) -> None:
    text = "external_id,kind,name,inn\nLE-1,legal_entity,X,274062111\n"
    assert "leading zero" in messages(failure(service, ImportKind.CLIENTS, text))[0]


def test_all_problems_are_collected_up_to_the_cap(store: Store, service: ImportService) -> None:
    rows = "".join(f"LE-{i},,legal_entity,X,7701234561,,\n" for i in range(MAX_ISSUES + 10))
    error = failure(service, ImportKind.CLIENTS, CLIENTS_HEADER + rows)
    assert len(error.issues) == MAX_ISSUES
    assert error.total == MAX_ISSUES + 10
    assert str(error) == "test.csv: nothing was imported; problems found: 60."


def test_required_values_and_enumerations(service: ImportService) -> None:
    text = CLIENTS_HEADER + ",,chain,X,,,\nLE-1,,holding,,,,\n"
    assert messages(failure(service, ImportKind.CLIENTS, text)) == [
        "line 2, column external_id: a value is required",
        "line 3, column kind: holding is not one of: chain, legal_entity, site",
        "line 3, column name: a value is required",
    ]


def test_a_site_needs_a_time_zone_and_an_address(service: ImportService) -> None:
    text = CLIENTS_HEADER + "S-1,,site,Shop,,,\n"
    assert messages(failure(service, ImportKind.CLIENTS, text)) == [
        "line 2, column address: a site needs an address",
        "line 2, column timezone: a site needs a time zone (IANA name)",
    ]


def test_a_key_given_twice_is_reported(service: ImportService) -> None:
    text = CLIENTS_HEADER + "CH-1,,chain,A,,,\nch-1,,chain,B,,,\nCH-1,,chain,C,,,\n"
    assert messages(failure(service, ImportKind.CLIENTS, text)) == [
        "line 4, column external_id: CH-1 repeats line 2"
    ]
    logins = "login,name\nivanov,A\nIvanov,B\n"
    assert messages(failure(service, ImportKind.ENGINEERS, logins)) == [
        "line 3, column login: Ivanov repeats line 2"
    ]


def test_a_trailing_delimiter_is_harmless_but_values_under_it_are_not(
    store: Store, service: ImportService
) -> None:
    text = "external_id;kind;name;\nCH-1;chain;A;\nCH-2;chain;B;oops\n"
    assert messages(failure(service, ImportKind.CLIENTS, text)) == [
        "line 3: a value under column 4, which has no name"
    ]
    assert run(service, ImportKind.CLIENTS, "external_id;kind;name;\nCH-1;chain;A;\n").created == 1


def test_malformed_quoting_is_reported_with_its_line(service: ImportService) -> None:
    text = 'external_id,kind,name\nCH-1,chain,A\nCH-2,chain,"B"C\n'
    assert messages(failure(service, ImportKind.CLIENTS, text))[0].startswith(
        "line 3: malformed CSV:"
    )


def test_active_is_a_yes_no_column(store: Store, service: ImportService) -> None:
    text = "external_id,kind,name,Активен\nCH-1,chain,A,нет\nCH-2,chain,B,\nCH-3,chain,C,да\n"
    run(service, ImportKind.CLIENTS, text)
    clients = clients_by_key(store)
    assert [clients[k].is_active for k in ("CH-1", "CH-2", "CH-3")] == [False, True, True]
    bad = "external_id,kind,name,active\nCH-1,chain,A,может быть\n"
    assert messages(failure(service, ImportKind.CLIENTS, bad)) == [
        "line 2, column active: может быть is not yes or no (1/0, да/нет)"
    ]


# -- the client tree -------------------------------------------------------------------------------


def test_children_may_come_before_their_parents(store: Store, service: ImportService) -> None:
    text = (
        CLIENTS_HEADER
        + "S-1,LE-1,site,Shop,,Somewhere,Europe/Moscow\n"
        + "LE-1,CH-1,legal_entity,Entity,7701234560,,\n"
        + "CH-1,,chain,Chain,,,\n"
    )
    assert run(service, ImportKind.CLIENTS, text).created == 3
    clients = clients_by_key(store)
    assert clients["S-1"].parent_id == clients["LE-1"].id
    assert clients["LE-1"].parent_id == clients["CH-1"].id
    assert clients["CH-1"].parent_id is None


def test_a_parent_may_already_be_in_the_store(store: Store, service: ImportService) -> None:
    run(service, ImportKind.CLIENTS, CLIENTS_HEADER + "LE-1,,legal_entity,Entity,,,\n")
    run(service, ImportKind.CLIENTS, CLIENTS_HEADER + "S-1,LE-1,site,Shop,,Somewhere,UTC\n")
    clients = clients_by_key(store)
    assert clients["S-1"].parent_id == clients["LE-1"].id


def test_parents_must_exist_and_be_of_a_higher_level(store: Store, service: ImportService) -> None:
    text = (
        CLIENTS_HEADER
        + "S-1,NOPE,site,Shop,,Somewhere,UTC\n"
        + "S-2,S-3,site,Shop,,Somewhere,UTC\n"
        + "S-3,,site,Shop,,Somewhere,UTC\n"
        + "CH-1,S-3,chain,Chain,,,\n"
        + "CH-2,CH-2,chain,Chain,,,\n"
    )
    assert messages(failure(service, ImportKind.CLIENTS, text)) == [
        "line 2, column parent: no client with external id NOPE in the store or this file",
        "line 3, column parent: a site cannot belong to S-3, which is a site",
        "line 5, column parent: a chain cannot belong to S-3, which is a site",
        "line 6, column parent: a client cannot be its own parent",
    ]
    assert count(store, Client) == 0


def test_a_manager_is_an_engineer_login(store: Store, service: ImportService) -> None:
    run(service, ImportKind.ENGINEERS, "login,name\nivanov,Иванов\n")
    text = "external_id,kind,name,manager\nCH-1,chain,Chain,IVANOV\nCH-2,chain,Chain,sidorov\n"
    assert messages(failure(service, ImportKind.CLIENTS, text)) == [
        "line 3, column manager: no engineer with login sidorov"
    ]
    run(service, ImportKind.CLIENTS, "external_id,kind,name,manager\nCH-1,chain,Chain,IVANOV\n")
    with store.reader() as session:
        engineer = session.exec(select(Engineer)).one()
    assert clients_by_key(store)["CH-1"].manager_id == engineer.id


# -- idempotency -----------------------------------------------------------------------------------


def test_reimport_updates_changed_rows_and_never_duplicates(
    store: Store, service: ImportService, clock: FixedClock
) -> None:
    data = (DATA / "clients_1c_cp1251.csv").read_bytes()
    service.import_bytes(ImportKind.CLIENTS, data)
    again = service.import_bytes(ImportKind.CLIENTS, data)
    assert again == ImportSummary(ImportKind.CLIENTS, unchanged=6)
    created_at = clients_by_key(store)["S-0143"].created_at
    changed = data.replace(
        "Магазин №143".encode("cp1251"), "Магазин №143 (закрыт)".encode("cp1251")
    )
    third = service.import_bytes(ImportKind.CLIENTS, changed)
    assert third == ImportSummary(ImportKind.CLIENTS, updated=1, unchanged=5)
    assert count(store, Client) == 6
    shop = clients_by_key(store)["S-0143"]
    assert shop.name == "Магазин №143 (закрыт)"
    assert shop.created_at == created_at


def test_dry_run_counts_but_writes_nothing(store: Store, service: ImportService) -> None:
    summary = run(service, ImportKind.CLIENTS, CLIENTS_HEADER + SHOP_ROWS, dry_run=True)
    assert summary == ImportSummary(ImportKind.CLIENTS, created=2, dry_run=True)
    assert count(store, Client) == 0


def test_an_absent_column_keeps_the_stored_value_and_an_empty_cell_clears_it(
    store: Store, service: ImportService
) -> None:
    run(
        service,
        ImportKind.CLIENTS,
        "external_id,kind,name,phone,inn\nLE-1,legal_entity,X,+7 1,7701234560\n",
    )
    run(service, ImportKind.CLIENTS, "external_id,kind,name,phone\nLE-1,legal_entity,X,\n")
    entity = clients_by_key(store)["LE-1"]
    assert entity.inn == "7701234560"
    assert entity.phone is None


# -- contracts -------------------------------------------------------------------------------------


def test_contracts_from_a_1c_file(store: Store, service: ImportService, sla_plan: str) -> None:
    service.import_bytes(ImportKind.CLIENTS, (DATA / "clients_1c_cp1251.csv").read_bytes())
    data = (DATA / "contracts.csv").read_bytes()
    assert service.import_bytes(ImportKind.CONTRACTS, data).created == 2
    with store.reader() as session:
        contracts = {c.external_id: c for c in session.exec(select(Contract))}
        plan = session.exec(select(SlaPlan)).one()
    first, second = contracts["C-2026-001"], contracts["C-2026-002"]
    clients = clients_by_key(store)
    assert (first.number, first.kind, first.client_id) == (
        "12/2026-АО",
        "subscription",
        clients["LE-ROMASHKA"].id,
    )
    assert (first.valid_from.isoformat(), str(first.valid_to)) == ("2026-01-01", "2026-12-31")
    assert first.sla_plan_id == plan.id
    assert first.categories == ["kkt", "ofd"]
    assert (first.price, first.currency) == (Decimal("45000"), "RUB")
    assert (second.kind, second.hours_per_month, second.valid_to) == (
        "hours_package",
        Decimal("10.5"),
        None,
    )
    assert service.import_bytes(ImportKind.CONTRACTS, data).unchanged == 2


def test_contract_references_and_dates_are_checked(
    store: Store, service: ImportService, sla_plan: str
) -> None:
    run(service, ImportKind.CLIENTS, CLIENTS_HEADER + SHOP_ROWS)
    text = (
        "external_id;number;client;kind;valid_from;valid_to;sla_plan;price\n"
        "C-1;1;LE-1;разовый;01.02.2026;31.01.2026;STANDARD;100\n"
        "C-2;2;LE-404;за обращение;2026-02-01;;GOLD;1.234,5\n"
        "C-3;3;LE-1;monthly;2026-02-30;;STANDARD;-5\n"
    )
    assert messages(failure(service, ImportKind.CONTRACTS, text)) == [
        "line 2, column valid_to: 2026-01-31 is before the start date 2026-02-01",
        "line 3, column client: no client with external id LE-404",
        "line 3, column sla_plan: no SLA plan with code GOLD",
        "line 3, column price: 1.234,5 is not a number",
        "line 4, column kind: monthly is not one of: hours_package, one_off, per_request, "
        "subscription",
        "line 4, column valid_from: 2026-02-30 is not a date; use YYYY-MM-DD or DD.MM.YYYY",
        "line 4, column price: -5 is out of range (0 or more, at most two decimals, below "
        "1000000000000)",
    ]
    assert count(store, Contract) == 0


def test_contract_billing_terms(store: Store, service: ImportService, sla_plan: str) -> None:
    run(service, ImportKind.CLIENTS, CLIENTS_HEADER + SHOP_ROWS)
    text = (
        "Код;Номер;Клиент;Вид;Дата начала;SLA;Часов в месяц;Цена;Ставка;Прайс-лист;"
        "Округление;Минимум минут;Перенос часов;Уведомить за\n"
        "C-1;1;LE-1;пакет часов;2026-01-01;STANDARD;10;25 000;2 200,50;"
        "kkt.fn.replace=3 500|ofd=1500;15;30;1;45\n"
        "C-2;2;LE-1;за обращение;2026-01-01;STANDARD;;;;;;;;\n"
    )
    assert service.import_bytes(ImportKind.CONTRACTS, text.encode()).created == 2
    with store.reader() as session:
        contracts = {c.external_id: c for c in session.exec(select(Contract))}
    first, second = contracts["C-1"], contracts["C-2"]
    assert first.hourly_rate == Decimal("2200.50")
    assert first.price_list == {"kkt.fn.replace": "3500", "ofd": "1500"}
    assert (first.rounding_minutes, first.minimum_minutes) == (15, 30)
    assert (first.carry_over_months, first.notify_days) == (1, 45)
    assert (second.rounding_minutes, second.carry_over_months, second.notify_days) == (1, 0, 30)
    assert second.price_list == {}
    bad = (
        "external_id;number;client;kind;valid_from;sla_plan;price_list;rounding_minutes\n"
        "C-3;3;LE-1;разовый;2026-01-01;STANDARD;замена ФН 3500;0\n"
    )
    assert messages(failure(service, ImportKind.CONTRACTS, bad)) == [
        "line 2, column price_list: замена ФН 3500 is not a price list such as "
        "kkt.fn.replace=3500|ofd=1500",
        "line 2, column rounding_minutes: 0 is not a whole number from 1 to 1440",
    ]


def test_an_empty_reference_is_reported_once(service: ImportService, sla_plan: str) -> None:
    text = "external_id;number;client;kind;valid_from;sla_plan\nC-1;1;;абонемент;2026-01-01;\n"
    assert messages(failure(service, ImportKind.CONTRACTS, text)) == [
        "line 2, column client: a value is required",
        "line 2, column sla_plan: a value is required",
    ]
    devices = "external_id,site\nD-1,\n"
    assert messages(failure(service, ImportKind.DEVICES, devices)) == [
        "line 2, column site: a value is required"
    ]


# -- devices ---------------------------------------------------------------------------------------


def test_devices_with_a_checked_reg_number(store: Store, service: ImportService) -> None:
    service.import_bytes(ImportKind.CLIENTS, (DATA / "clients_1c_cp1251.csv").read_bytes())
    data = (DATA / "devices.csv").read_bytes()
    assert service.import_bytes(ImportKind.DEVICES, data).created == 2
    with store.reader() as session:
        kkt = session.exec(select(Device).where(Device.external_id == "D-0142-1")).one()
    assert (kkt.kind, kkt.serial, kkt.reg_number) == ("kkt", "00106109661742", "0001234567052923")
    assert (kkt.fn_serial, str(kkt.fn_valid_until), kkt.fn_registrations_left) == (
        "7380440700123456",
        "2026-03-20",
        27,
    )
    assert (kkt.ffd, kkt.ofd_name, kkt.site_id) == (
        "1.2",
        "Такском",
        clients_by_key(store)["S-0142"].id,
    )
    assert service.import_bytes(ImportKind.DEVICES, data).unchanged == 2


def test_device_checks(store: Store, service: ImportService) -> None:
    service.import_bytes(ImportKind.CLIENTS, (DATA / "clients_1c_cp1251.csv").read_bytes())
    text = (
        "external_id,site,kind,serial,reg_number,fn_serial,ffd,fn_registrations_left\n"
        "D-1,S-0142,ККТ,00106109661742,0001234567052924,7380440700123456,1.2,\n"
        "D-2,LE-ROMASHKA,kkt,,,,,\n"
        "D-3,S-0142,toaster,,12345,738044070012345,2.0,many\n"
    )
    assert messages(failure(service, ImportKind.DEVICES, text)) == [
        "line 2, column reg_number: 0001234567052924 does not match INN 7701234560 and serial "
        "00106109661742 (check digits)",
        "line 3, column site: LE-ROMASHKA is a legal_entity, not a site",
        "line 4, column kind: toaster is not one of: kkt, pos, scale, scanner, server, terminal, "
        "utm",
        "line 4, column reg_number: 12345 is not a valid registration number (16 digits)",
        "line 4, column fn_serial: 738044070012345 is not a valid fiscal drive number (16 digits)",
        "line 4, column ffd: 2.0 is not one of: 1.0, 1.05, 1.1, 1.2",
        "line 4, column fn_registrations_left: many is not a whole number from 0 to 99",
    ]
    assert count(store, Device) == 0


def test_reg_number_check_is_skipped_without_an_inn(store: Store, service: ImportService) -> None:
    run(service, ImportKind.CLIENTS, CLIENTS_HEADER + "S-1,,site,Shop,,Somewhere,UTC\n")
    text = "external_id,site,serial,reg_number\nD-1,S-1,00106109661742,0001234567999999\n"
    assert run(service, ImportKind.DEVICES, text).created == 1


# -- engineers -------------------------------------------------------------------------------------


def test_engineers_are_matched_by_login(store: Store, service: ImportService) -> None:
    data = (DATA / "engineers.csv").read_bytes()
    assert service.import_bytes(ImportKind.ENGINEERS, data).created == 2
    with store.reader() as session:
        ivanov = session.exec(select(Engineer).where(Engineer.login == "ivanov")).one()
    assert (ivanov.name, ivanov.role, ivanov.lines) == ("Иванов Пётр", "engineer", [1, 2])
    assert (ivanov.teams, ivanov.telegram_id, ivanov.timezone) == (
        ["kkt", "egais"],
        "123456789",
        "Europe/Moscow",
    )
    text = 'login,name,role,lines\nIVANOV,Иванов Пётр,lead,"2,1"\n'
    assert run(service, ImportKind.ENGINEERS, text) == ImportSummary(
        ImportKind.ENGINEERS, updated=1
    )
    with store.reader() as session:
        ivanov = session.exec(select(Engineer).where(Engineer.login == "ivanov")).one()
    assert (ivanov.role, ivanov.lines, ivanov.teams) == ("lead", [1, 2], ["kkt", "egais"])
    assert count(store, Engineer) == 2


def test_engineer_checks(service: ImportService) -> None:
    text = (
        "login,name,role,lines,telegram_id,timezone,external_id\n"
        "ivan ov,Иванов,boss,1|5,@ivanov,Moscow,E-1\n"
        "petrova,Петрова,,,,,E-1\n"
    )
    assert messages(failure(service, ImportKind.ENGINEERS, text)) == [
        "line 2, column login: ivan ov is not a login (Latin letters, digits, . _ @ -)",
        "line 2, column role: boss is not one of: admin, engineer, lead",
        "line 2, column lines: 1|5 is not a list of support lines 1-4, e.g. 1,2 or 1|2",
        "line 2, column telegram_id: @ivanov is not a numeric Telegram user id",
        "line 2, column timezone: unknown time zone Moscow; use an IANA name such as "
        "Europe/Moscow or Asia/Yekaterinburg",
        "line 3, column external_id: E-1 repeats line 2",
    ]
