"""Provides text normalisation for the classifier and the entities found in a request's text.

Entities are what links a request to the store without a person: the client's ИНН, the cash
register's registration number (РН ККТ) or serial (ЗН ККТ), the fiscal drive's serial (ЗН ФН)
and phone numbers. They are found by shape and, where the identifier has one, by checksum
(ИНН check digits; РН ККТ check digits when the ИНН and the register serial are in the text
too, DOMAIN.md §2.5). A bare 16-digit number can be a РН ККТ or a ЗН ФН; intake tells them
apart by looking both up among the known devices.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sdconsole.domain.identifiers import check_reg_number, is_valid_inn

_WORD = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)

_NUMBER = re.compile(r"(?<![\d+])\d(?:[\d \u00a0-]{8,22}\d)?(?!\d)")
"""A run of digits, allowing the single spaces and hyphens people type inside long numbers."""

_INN_CONTEXT = re.compile(r"\bинн\b\s*[:№#]?\s*(\d{10}|\d{12})\b", re.IGNORECASE)
_SERIAL_CONTEXT = re.compile(
    r"(?:\bзн\b(?:\s*ккт)?|заводск\w*\s+номер\w*|серийн\w*\s+номер\w*|\bs/?n\b|\bсер\.?\s*№)"
    r"\s*(?:ккт|кассы)?\s*[:№#]?\s*([0-9]{8,20})",
    re.IGNORECASE,
)
_FN_CONTEXT = re.compile(
    r"(?:\bфн\b|фискальн\w*\s+накопител\w*)\s*(?:№|номер|зн)?\s*[:№#]?\s*(\d{16})\b",
    re.IGNORECASE,
)
_RN_CONTEXT = re.compile(
    r"(?:\bрн\b(?:\s*ккт)?|регистрационн\w*\s+номер\w*)\s*[:№#]?\s*(\d{16})\b", re.IGNORECASE
)
_PHONE = re.compile(
    r"(?<![\d\w])(?:\+7|8|7)[\s\u00a0-]*\(?(\d{3})\)?[\s\u00a0-]*(\d{3})[\s\u00a0-]*(\d{2})"
    r"[\s\u00a0-]*(\d{2})(?!\d)"
)


def normalise(text: str) -> list[str]:
    """Lower-case words with ё folded to е (Russian mail spells it both ways)."""
    return [w.replace("ё", "е") for w in _WORD.findall(text.lower())]


@dataclass(frozen=True, slots=True)
class Entities:
    """Identifiers found in a text, each in its canonical form, in order of appearance.

    Attributes:
        inns: ИНН with valid check digits.
        reg_numbers: 16-digit numbers called a РН ККТ in the text, or whose check digits
            verify against an ИНН and a register serial of the same text.
        fn_serials: 16-digit numbers called a ЗН ФН / ФН in the text.
        numbers16: other 16-digit numbers (a РН ККТ or a ЗН ФН: look both up).
        kkt_serials: numbers called a register's serial (ЗН ККТ, заводской номер, S/N).
        phones: Russian phone numbers as ``+7XXXXXXXXXX``.
    """

    inns: tuple[str, ...] = ()
    reg_numbers: tuple[str, ...] = ()
    fn_serials: tuple[str, ...] = ()
    numbers16: tuple[str, ...] = ()
    kkt_serials: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return any(
            (
                self.inns,
                self.reg_numbers,
                self.fn_serials,
                self.numbers16,
                self.kkt_serials,
                self.phones,
            )
        )


def extract_phones(text: str) -> tuple[str, ...]:
    """The phone numbers of a text, as ``+7`` and ten digits, each once."""
    return _unique("+7" + "".join(m.groups()) for m in _PHONE.finditer(text))


def extract_entities(text: str) -> Entities:
    """The identifiers of a request's text (subject and body)."""
    phones = extract_phones(text)
    phone_digits = {p[2:] for p in phones}
    numbers = [_digits(m.group(0)) for m in _NUMBER.finditer(text)]
    numbers = [n for n in numbers if n[-10:] not in phone_digits or len(n) not in (10, 11)]

    inns = _unique(
        [m.group(1) for m in _INN_CONTEXT.finditer(text) if is_valid_inn(m.group(1))]
        + [n for n in numbers if len(n) in (10, 12) and is_valid_inn(n)]
    )
    kkt_serials = _unique(m.group(1) for m in _SERIAL_CONTEXT.finditer(text))
    fn_serials = list(_unique(m.group(1) for m in _FN_CONTEXT.finditer(text)))
    reg_numbers = list(_unique(m.group(1) for m in _RN_CONTEXT.finditer(text)))
    # A 16-digit number whose check digits verify is a РН ККТ whatever the text calls it.
    for number in (n for n in numbers if len(n) == 16):
        if (
            any(
                check_reg_number(number, inn, serial) is None
                for inn in inns
                for serial in kkt_serials
            )
            and number not in reg_numbers
        ):
            reg_numbers.append(number)
            if number in fn_serials:
                fn_serials.remove(number)
    named = set(reg_numbers) | set(fn_serials) | set(kkt_serials)
    numbers16 = _unique(n for n in numbers if len(n) == 16 and n not in named)
    return Entities(
        inns=inns,
        reg_numbers=tuple(reg_numbers),
        fn_serials=tuple(fn_serials),
        numbers16=numbers16,
        kkt_serials=kkt_serials,
        phones=phones,
    )


def _digits(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    seen: list[str] = []
    for value in values:
        if value not in seen:
            seen.append(value)
    return tuple(seen)
