"""Provides pure checks of Russian business identifiers and 1C-style values; standard library only.

ИНН (taxpayer number) carries weighted check digits; РН ККТ (cash-register registration number)
ends in a CRC of the owner's ИНН and the register's factory serial; ЗН ФН is 16 digits. Dates and
decimals are read the way 1C exports write them (``31.12.2026``, ``1 500,50``) as well as in ISO
form. Every function here is cheap enough to run on each imported row.
"""

from __future__ import annotations

import binascii
import functools
import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

INN10_WEIGHTS = (2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
INN12_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)

_DIGITS = re.compile(r"\d+")
_KPP = re.compile(r"\d{4}[0-9A-Z]{2}\d{3}")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_RU_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_MIDNIGHT = re.compile(r"\s+0?0:00(:00)?$")
"""1C writes date-only values with a midnight time, e.g. ``31.12.2026 0:00:00``."""
_DECIMAL = re.compile(r"-?\d+(?:[.,]\d+)?")
_GROUP_SEPARATORS = str.maketrans("", "", " \u00a0\u202f\u2009'")
"""Thousands separators 1C and Excel put into numbers: space, no-break spaces, apostrophe."""


class IdProblem(StrEnum):
    """Why an identifier was refused."""

    FORMAT = "format"
    """Wrong length or not digits."""
    CHECKSUM = "checksum"
    """Well-formed, but the check digits do not match."""


def _weighted(digits: str, weights: tuple[int, ...]) -> int:
    return sum(int(d) * w for d, w in zip(digits, weights, strict=False)) % 11 % 10


@functools.lru_cache(maxsize=4096)
def check_inn(value: str) -> IdProblem | None:
    """Check an ИНН: 10 digits (organisation) or 12 digits (individual) with check digits.

    Remembered for the last few thousand values: a fleet's health reports, a price list's rows
    repeat their owners' few ИНН a hundred thousand times.

    Returns:
        None when valid, else why not.
    """
    if not _DIGITS.fullmatch(value) or len(value) not in (10, 12):
        return IdProblem.FORMAT
    if len(value) == 10:
        ok = _weighted(value, INN10_WEIGHTS) == int(value[9])
    else:
        ok = _weighted(value, INN12_WEIGHTS_11) == int(value[10]) and _weighted(
            value, INN12_WEIGHTS_12
        ) == int(value[11])
    return None if ok else IdProblem.CHECKSUM


def is_valid_inn(value: str) -> bool:
    """Whether `value` is a well-formed ИНН with correct check digits."""
    return check_inn(value) is None


def check_kpp(value: str) -> IdProblem | None:
    """Check a КПП: 9 characters, the 5th and 6th may be capital Latin letters."""
    return None if _KPP.fullmatch(value) else IdProblem.FORMAT


def crc16_ccitt(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: polynomial 0x1021, initial 0xFFFF, no reflection, no final XOR.

    `binascii.crc_hqx` is that CRC (the XMODEM/BinHex one) in C, given the initial value: a
    hundred thousand health reports each check one РН.
    """
    return binascii.crc_hqx(data, 0xFFFF)


def reg_number_check(sequence: str, inn: str, serial: str) -> str:
    """The six check digits of a РН ККТ.

    The CRC runs over the ASCII string of the 10-digit sequence number, the ИНН left-padded with
    zeros to 12 characters and the factory serial (ЗН ККТ) left-padded with zeros to 20, and is
    written as a zero-padded decimal (the rule of KassArray's ``GetFullRNM``).

    Args:
        sequence: the first ten digits of the РН (the ФНС sequence number).
        inn: the ИНН of the register's owner.
        serial: the register's factory serial, up to 20 characters.
    """
    text = sequence.rjust(10, "0") + inn.rjust(12, "0") + serial.rjust(20, "0")
    return f"{crc16_ccitt(text.encode('ascii')):06d}"


def check_reg_number(
    value: str, inn: str | None = None, serial: str | None = None
) -> IdProblem | None:
    """Check a РН ККТ: 16 digits; with the owner's ИНН and the ЗН ККТ, also its check digits.

    Returns:
        None when valid (or when the check digits cannot be verified for want of ИНН or serial).
    """
    if not _DIGITS.fullmatch(value) or len(value) != 16:
        return IdProblem.FORMAT
    if not inn or not serial or len(serial) > 20 or not serial.isascii():
        return None
    return None if reg_number_check(value[:10], inn, serial) == value[10:] else IdProblem.CHECKSUM


def check_fn_serial(value: str) -> IdProblem | None:
    """Check a ЗН ФН (fiscal drive number): exactly 16 digits."""
    return None if _DIGITS.fullmatch(value) and len(value) == 16 else IdProblem.FORMAT


def parse_date(text: str) -> date:
    """Read ``YYYY-MM-DD`` or ``DD.MM.YYYY`` (1C), optionally followed by a midnight time.

    Raises:
        ValueError: neither form, or no such day.
    """
    value = _MIDNIGHT.sub("", text.strip())
    if match := _ISO_DATE.fullmatch(value):
        year, month, day = (int(g) for g in match.groups())
    elif match := _RU_DATE.fullmatch(value):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise ValueError(f"not a date: {text!r}")
    return date(year, month, day)


def parse_decimal(text: str) -> Decimal:
    """Read a decimal written with a comma or a dot, with optional thousands spaces.

    ``1 500,50``, ``1500.50`` and ``1500`` are accepted; exponents, NaN and two separators are not.

    Raises:
        ValueError: not such a number.
    """
    value = text.strip().translate(_GROUP_SEPARATORS)
    if not _DECIMAL.fullmatch(value):
        raise ValueError(f"not a decimal: {text!r}")
    try:
        return Decimal(value.replace(",", "."))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid literals
        raise ValueError(f"not a decimal: {text!r}") from None
