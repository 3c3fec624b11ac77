"""Entities in a request's text: ИНН, РН ККТ, ЗН ККТ, ЗН ФН and phones, by shape and checksum."""

from __future__ import annotations

from sdconsole.classifier.features import Entities, extract_entities

# The DOMAIN.md §2.6 sample: its РН verifies against this ИНН and register serial.
INN, SERIAL, RN, FN = "7701234560", "00106109661742", "0001234567052923", "7380440700123456"


def test_nothing_in_plain_text() -> None:
    assert not extract_entities("Касса не печатает чек, помогите")


def test_named_identifiers() -> None:
    text = (
        f"Добрый день! ИНН {INN}, ЗН ККТ {SERIAL}, РН ККТ {RN}.\n"
        f"ФН № {FN} заканчивается. Звоните +7 (912) 345-67-89 или 8 343 222 33 44."
    )
    found = extract_entities(text)
    assert found.inns == (INN,)
    assert found.kkt_serials == (SERIAL,)
    assert found.reg_numbers == (RN,)
    assert found.fn_serials == (FN,)
    assert found.numbers16 == ()
    assert found.phones == ("+79123456789", "+73432223344")


def test_a_register_number_is_recognised_by_its_check_digits() -> None:
    found = extract_entities(f"инн:{INN}; заводской номер {SERIAL}; касса {RN} не работает")
    assert found.reg_numbers == (RN,)
    assert found.numbers16 == ()


def test_unnamed_16_digit_numbers_are_left_to_the_store() -> None:
    found = extract_entities(f"касса 0001234567052924 и накопитель {FN}")
    assert found.reg_numbers == () and found.fn_serials == ()
    assert found.numbers16 == ("0001234567052924", FN)


def test_invalid_inn_and_spaced_numbers() -> None:
    found = extract_entities("ИНН 7701234561, наш второй 7707 0838 93")
    assert found.inns == ("7707083893",)  # the first fails its check digit


def test_a_phone_is_not_an_inn() -> None:
    found = extract_entities("тел. 89123456789")
    assert found == Entities(phones=("+79123456789",))
