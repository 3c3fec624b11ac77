"""Tests of the pure identifier checks: ИНН, КПП, РН ККТ, ЗН ФН, 1C dates and decimals."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdconsole.domain.identifiers import (
    IdProblem,
    check_fn_serial,
    check_inn,
    check_kpp,
    check_reg_number,
    crc16_ccitt,
    is_valid_inn,
    parse_date,
    parse_decimal,
    reg_number_check,
)

SAMPLE_INN = "7701234560"
SAMPLE_SERIAL = "00106109661742"
SAMPLE_RN = "0001234567052923"
"""The sample of DOMAIN.md §2.6, which DOMAIN.md §2.5 says passes the РН check."""


@pytest.mark.parametrize("inn", ["7701234560", "6601000006", "5406000000", "500100732259"])
def test_valid_inns_pass(inn: str) -> None:
    assert check_inn(inn) is None
    assert is_valid_inn(inn)


@pytest.mark.parametrize(
    "inn",
    [
        "7701234561",  # 10 digits, wrong check digit
        "500100732258",  # 12 digits, wrong 12th digit
        "500100732249",  # 12 digits, wrong 11th digit
    ],
)
def test_wrong_check_digits_are_a_checksum_problem(inn: str) -> None:
    assert check_inn(inn) is IdProblem.CHECKSUM


@pytest.mark.parametrize("inn", ["", "770123456", "77012345600", "770123456O", "7701 234560"])
def test_malformed_inns_are_a_format_problem(inn: str) -> None:
    assert check_inn(inn) is IdProblem.FORMAT


def test_every_single_digit_change_of_a_10_digit_inn_is_caught() -> None:
    # The last weight pattern makes any one wrong check digit detectable.
    wrong = [SAMPLE_INN[:9] + str(d) for d in range(10) if str(d) != SAMPLE_INN[9]]
    assert all(check_inn(inn) is IdProblem.CHECKSUM for inn in wrong)


@pytest.mark.parametrize(
    ("kpp", "ok"),
    [("770101001", True), ("7701AB001", True), ("77010100", False), ("7701ab001", False)],
)
def test_kpp_format(kpp: str, ok: bool) -> None:
    assert (check_kpp(kpp) is None) is ok


def test_crc16_is_ccitt_false() -> None:
    # The published check value of CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF).
    assert crc16_ccitt(b"123456789") == 0x29B1


@given(st.binary(max_size=64))
def test_crc16_matches_the_bitwise_definition(data: bytes) -> None:
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = (((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1) & 0xFFFF
    assert crc16_ccitt(data) == crc


def test_the_domain_sample_reg_number_passes() -> None:
    assert reg_number_check(SAMPLE_RN[:10], SAMPLE_INN, SAMPLE_SERIAL) == SAMPLE_RN[10:]
    assert check_reg_number(SAMPLE_RN, SAMPLE_INN, SAMPLE_SERIAL) is None


def test_inn_and_serial_are_left_padded_with_zeros() -> None:
    # ЗН without its leading zeros pads back to the same 20 characters: same check digits.
    assert reg_number_check("1234567", SAMPLE_INN, "106109661742") == "052923"
    # Right padding would give something else for the sample.
    text = SAMPLE_RN[:10] + SAMPLE_INN.ljust(12, "0") + SAMPLE_SERIAL.ljust(20, "0")
    assert f"{crc16_ccitt(text.encode()):06d}" != SAMPLE_RN[10:]


@pytest.mark.parametrize("rn", ["0001234567052924", "0001234568052923"])
def test_a_wrong_reg_number_fails_its_check(rn: str) -> None:
    assert check_reg_number(rn, SAMPLE_INN, SAMPLE_SERIAL) is IdProblem.CHECKSUM


def test_reg_number_of_another_owner_fails() -> None:
    assert check_reg_number(SAMPLE_RN, "6601000006", SAMPLE_SERIAL) is IdProblem.CHECKSUM


@pytest.mark.parametrize("rn", ["", "000123456705292", "00012345670529230", "000123456705292X"])
def test_reg_number_must_be_16_digits(rn: str) -> None:
    assert check_reg_number(rn) is IdProblem.FORMAT


def test_reg_number_check_digits_are_skipped_without_inn_or_serial() -> None:
    assert check_reg_number("0001234567999999") is None
    assert check_reg_number("0001234567999999", inn=SAMPLE_INN) is None
    assert check_reg_number("0001234567999999", serial=SAMPLE_SERIAL) is None


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("7380440700123456", True),
        ("738044070012345", False),
        ("73804407001234567", False),
        ("738044070012345A", False),
    ],
)
def test_fn_serial_is_16_digits(value: str, ok: bool) -> None:
    assert (check_fn_serial(value) is None) is ok


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-20", date(2026, 3, 20)),
        ("20.03.2026", date(2026, 3, 20)),
        ("1.3.2026", date(2026, 3, 1)),
        ("20.03.2026 0:00:00", date(2026, 3, 20)),
        (" 2026-03-20 ", date(2026, 3, 20)),
    ],
)
def test_dates_in_iso_and_1c_form(text: str, expected: date) -> None:
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text", ["", "20/03/2026", "2026-02-30", "31.04.2026", "20.03.26", "20.03.2026 12:30:00"]
)
def test_bad_dates_raise(text: str) -> None:
    with pytest.raises(ValueError, match="not a date|day is out of range|month must be"):
        parse_date(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500", Decimal("1500")),
        ("1500.50", Decimal("1500.50")),
        ("1500,50", Decimal("1500.50")),
        ("1 500,50", Decimal("1500.50")),
        ("1\u00a0500,5", Decimal("1500.5")),
        ("-3", Decimal("-3")),
    ],
)
def test_decimals_with_comma_or_dot(text: str, expected: Decimal) -> None:
    assert parse_decimal(text) == expected


@pytest.mark.parametrize("text", ["", "1.500,50", "1e3", "NaN", "12,", "abc", "1,2,3"])
def test_bad_decimals_raise(text: str) -> None:
    with pytest.raises(ValueError, match="not a decimal"):
        parse_decimal(text)
