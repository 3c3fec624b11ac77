"""Folding quoted history and signatures out of e-mail replies: the forms Russian and English
mail clients write, what must never be folded, and talon's fixtures read in place."""

from __future__ import annotations

import email
import html
import re
from email import policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdconsole.domain.quoting import FoldedText, fold

TALON = Path(__file__).resolve().parents[3] / "shared" / "data" / "mail-parser-fixtures" / "talon"
TALON_MISSING = (
    "talon's reply fixtures (../shared/data/mail-parser-fixtures/talon, see SOURCE.md there) "
    "are not in this checkout"
)


def _check_parts(text: str, result: FoldedText) -> None:
    """The invariant every result keeps: consecutive slices, a visible reply."""
    assert result.reply + result.signature + result.quoted == text
    if text.strip():
        assert result.reply.strip()


def _parts(text: str) -> tuple[str, str, str]:
    result = fold(text)
    _check_parts(text, result)
    return result.reply, result.signature, result.quoted


# --- quoted history -------------------------------------------------------------------------

REPLY = "Добрый день!\nПерезагрузил кассу, ошибка 235 осталась.\n\n"

QUOTES = {
    "mail.ru": (
        "Пятница, 12 марта 2024, 10:15 +03:00 от Служба поддержки <support@example.ru>:\n"
        "\n"
        "Здравствуйте, Иван!\n"
        "Перезагрузите кассу и проверьте подключение ФН.\n"
    ),
    "mail.ru, English date": (
        "Thu, 26 Jun 2014 14:00:51 +0400 от Служба поддержки <support@example.ru>:\nЗдравствуйте!\n"
    ),
    "Yandex": (
        '12.03.2024, 10:15, "Служба поддержки" <support@example.ru>:\n'
        "Здравствуйте, Иван!\n"
        "Обновите прошивку ККТ до версии 5.8.13.\n"
    ),
    "Yandex, quoted with >": (
        '12.03.2024, 10:15, "Служба поддержки" <support@example.ru>:\n'
        "> Здравствуйте, Иван!\n"
        "> Обновите прошивку ККТ.\n"
    ),
    "Gmail-ru": (
        "пт, 12 апр. 2024 г. в 10:15, Служба поддержки <support@example.ru>:\n"
        "\n"
        "> Здравствуйте!\n"
        ">\n"
        "> Пришлите, пожалуйста, фото ошибки.\n"
    ),
    "Gmail-ru wrapped over two lines": (
        "пт, 12 апр. 2024 г. в 10:15, Служба технической поддержки ООО «Ромашка» <\n"
        "support@example.ru>:\n"
        "\n"
        "> Здравствуйте!\n"
    ),
    "Gmail-ru, older": (
        "12 марта 2024 г., 10:15 пользователь Служба поддержки <support@example.ru> написал:\n"
        "\n"
        "> Здравствуйте!\n"
    ),
    "написал(а)": (
        "Понедельник, 1 апреля 2024 г. в 10:00, Ольга Смирнова <o.smirnova@example.ru> "
        "написал(а):\n"
        "> Какая у вас модель кассы?\n"
    ),
    "написала": "12.03.2024 10:15, Ольга Смирнова написала:\n> Какая у вас модель кассы?\n",
    "Thunderbird-ru": (
        "12.03.2024 10:15, Служба поддержки пишет:\n> Здравствуйте!\n>\n> Перезагрузите кассу.\n"
    ),
    "The Bat!": "Вы писали 12 марта 2024 г., 10:15:\n\n> Касса не печатает чеки.\n",
    "Outlook-ru separator": (
        "-----Исходное сообщение-----\n"
        "От: Служба поддержки [mailto:support@example.ru]\n"
        "Отправлено: 12 марта 2024 г. 10:15\n"
        "Кому: Иван Петров\n"
        "Тема: RE: Касса не печатает чеки\n"
        "\n"
        "Здравствуйте!\n"
    ),
    "Outlook-ru header block": (
        "________________________________\n"
        "От: Служба поддержки <support@example.ru>\n"
        "Отправлено: вторник, 12 марта 2024 г. 10:15\n"
        "Кому: Иван Петров <ivan@example.ru>\n"
        "Копия: Ольга Смирнова <o.smirnova@example.ru>\n"
        "Тема: RE: Касса не печатает чеки\n"
        "\n"
        "Здравствуйте!\n"
    ),
    "Outlook header block": (
        "From: Support [mailto:support@example.com]\n"
        "Sent: Tuesday, March 12, 2024 10:15 AM\n"
        "To: Ivan Petrov\n"
        "Subject: RE: The receipt printer is offline\n"
        "\n"
        "Hello Ivan,\n"
    ),
    "Outlook bold header block, wrapped": (
        "*From:* Support [mailto:\n"
        "support@example.com]\n"
        "*Sent:* Tuesday, March 12, 2024 10:15 AM\n"
        "*To:* Ivan Petrov\n"
        "*Subject:* RE: The receipt printer is offline\n"
    ),
    "Original Message": (
        "-----Original Message-----\n"
        "From: Support <support@example.com>\n"
        "Sent: Tuesday, March 12, 2024 10:15 AM\n"
        "\n"
        "Hello\n"
    ),
    "Original Message, spaced": "----- Original Message -----\nFrom: support@example.com\n\nHi\n",
    "English On ... wrote": (
        "On Tue, Mar 12, 2024 at 10:15 AM, Support <support@example.com> wrote:\n"
        "\n"
        "> Hello Ivan,\n"
        ">\n"
        "> please restart the register.\n"
    ),
    "English On ... wrote, wrapped": (
        "On Fri, May 6, 2011 at 6:03 PM, Roman Tkachenko from Hacker News\n"
        "<roman@definebox.com> wrote:\n"
        "\n"
        "> Test.\n"
    ),
    "English On ... wrote, no address": "On 04/19/2011 07:10 AM, Roman Tkachenko wrote:\n> Test\n",
    "Apple Mail, attribution inside the quote": (
        "> On 22 Aug 2015, at 19:21, Adam <adam@example.com> wrote:\n>\n> Hi there!\n"
    ),
    "Yahoo's dashes": (
        "--- On Wed, 4/4/12, support@example.com <support@example.com> wrote:\n"
        "\n"
        "From: support@example.com <support@example.com>\n"
        "Subject: Booking\n"
    ),
    "> lines with blank lines between": "> Здравствуйте!\n\n> Перезагрузите кассу.\n\n\n>\n",
    "> quoted headers (Hotmail)": (
        "> Subject: Test\n> From: support@example.com\n> Date: Mon, 2 Apr 2012 17:44:22 +0400\n"
    ),
}


@pytest.mark.parametrize("quote", QUOTES.values(), ids=QUOTES.keys())
def test_quoted_history_is_folded(quote: str) -> None:
    reply, signature, quoted = _parts(REPLY + quote)
    assert (reply, signature, quoted) == (REPLY, "", quote)


def test_crlf_text_folds_and_keeps_its_line_ends() -> None:
    text = "Ответ\r\n\r\n12.03.2024 10:15, Поддержка пишет:\r\n> текст\r\n"
    assert _parts(text) == ("Ответ\r\n\r\n", "", text[len("Ответ\r\n\r\n") :])


def test_only_the_quote_after_the_last_interleaved_answer_is_folded() -> None:
    text = (
        "Добрый день.\n\n"
        "12.03.2024 10:15, Поддержка пишет:\n"
        "> Какая модель кассы?\n"
        "Атол 30Ф\n"
        "> Спасибо, ждём фото.\n"
    )
    reply, _, quoted = _parts(text)
    assert "Атол 30Ф" in reply and quoted == "> Спасибо, ждём фото.\n"


# --- never folded ---------------------------------------------------------------------------

KEPT = {
    "all quote": "> только цитата\n>\n> и ещё строка\n",
    "attribution and quote, nothing else": (
        "On Tue, Mar 12, 2024, Support <support@example.com> wrote:\n> Здравствуйте!\n"
    ),
    "bottom-posted": "12.03.2024 10:15, Поддержка пишет:\n> Какая модель?\nАтол 30Ф\n",
    "interleaved, answer last": (
        "Добрый день.\n\nOn 12.03.2024 10:15, Support <s@example.com> wrote:\n"
        "> Model?\nAtol 30F\n> Firmware?\n5.8.13\n"
    ),
    "Gmail forward": (
        "Посмотрите, пожалуйста.\n\n"
        "---------- Forwarded message ---------\n"
        "От: ОФД <noreply@ofd.example.ru>\n"
        "Date: вт, 12 мар. 2024 г. в 10:15\n"
        "Subject: Ошибка передачи чеков\n"
        "To: <ivan@example.ru>\n\n"
        "Чеки не поступают в ОФД с 10.03.2024.\n"
        "\n"
        "С уважением,\nОФД\n"
    ),
    "Gmail-ru forward": (
        "Пересылаю.\n\n---------- Пересылаемое сообщение ---------\n"
        "От: ОФД <noreply@ofd.example.ru>\nDate: 12 мар. 2024 г.\nSubject: Ошибка\n\nТекст\n"
    ),
    "Yandex / mail.ru forward": (
        "Пересылаю письмо ОФД.\n\n"
        "-------- Пересылаемое сообщение --------\n"
        '12.03.2024, 10:15, "ОФД" <noreply@ofd.example.ru>:\n'
        "\n"
        "Чеки не поступают.\n"
        "\n"
        "-------- Конец пересылаемого сообщения --------\n"
    ),
    "Thunderbird-ru forward": (
        "См. ниже.\n\n-------- Перенаправленное сообщение --------\n"
        "Тема: Ошибка\nДата: Tue, 12 Mar 2024 10:15:00 +0300\nОт: ОФД <noreply@ofd.example.ru>\n"
        "Кому: ivan@example.ru\n\nТекст\n"
    ),
    "Apple Mail forward": (
        "FYI\n\nBegin forwarded message:\n\n"
        "From: OFD <noreply@ofd.example.com>\nSubject: Error\nDate: 12 March 2024\n\nText\n"
    ),
    "error message shown with >": "Добрый день!\nПри печати чека касса пишет:\n> Ошибка ФН 235\n",
    "pasted header block": (
        "Вот письмо от поставщика:\n\n"
        "От: ООО «Поставщик» <info@supplier.example.ru>\n"
        "Отправлено: 12 марта 2024 г. 10:15\n"
        "Кому: Иван Петров\n"
        "Тема: Поставка ФН\n\n"
        "ФН будут в пятницу.\n"
    ),
    "a From: line alone": "From: Сергей Обухов\nДобрый день.\nКасса не печатает.\n",
    "a dated sentence that says who wrote": (
        "Вчера в 10:15 кассир написал:\nчек не пробивается, сумма 1 250,00\n"
    ),
    "a date line with an address but no colon": (
        "Касса не печатает.\n\n12.03.2024 10:15 писали на support@example.ru\nответа нет\n"
    ),
}


@pytest.mark.parametrize("text", KEPT.values(), ids=KEPT.keys())
def test_text_that_must_not_be_folded_is_kept_whole(text: str) -> None:
    result = fold(text)
    _check_parts(text, result)
    assert result == FoldedText(reply=text, quoted="", signature="")
    assert not result.folded


def test_forward_inside_the_quoted_history_is_folded_with_it() -> None:
    quote = (
        "-----Original Message-----\n\nFYI\n\n---------- Forwarded message ----------\n"
        "From: bob@example.com\nDate: Tue, Sep 4, 2012 at 1:35 PM\nSubject: Two\n\nText\n"
    )
    assert _parts("Blah\n\n" + quote) == ("Blah\n\n", "", quote)


@pytest.mark.parametrize("text", ["", "   ", "\n\n", " \r\n\t"])
def test_blank_text_is_the_reply(text: str) -> None:
    assert fold(text) == FoldedText(reply=text, quoted="", signature="")


# --- signatures -----------------------------------------------------------------------------

BODY = "Касса снова не печатает чеки.\nНомер ККТ 0001234567890123.\n\n"

SIGNATURES = {
    "RFC 3676 delimiter": "-- \nИван Петров\nООО «Ромашка»\n+7 (495) 123-45-67\n",
    "delimiter without its space": "--\nИван Петров\n",
    "С уважением": (
        "С уважением,\n"
        "Иван Петров\n"
        "главный бухгалтер\n"
        "ООО «Ромашка»\n"
        "тел. +7 (495) 123-45-67\n"
        "ivan.petrov@romashka.example.ru\n"
    ),
    "С уважением, name on the line": "С уважением, Иван Петров\n",
    "Спасибо": "Спасибо!\nИван\n",
    "Sent from my iPhone": "Sent from my iPhone\n",
    "Отправлено с iPhone": "Отправлено с iPhone\n",
    "Отправлено из мобильной Почты Mail.ru": "Отправлено из мобильной Почты Mail.ru\n",
    "Яндекс Почта": "Отправлено из мобильного приложения Яндекс Почты\n",
    "sign-off then mobile line": "С уважением,\nИван\n\nОтправлено с iPhone\n",
    "Best regards": "Best regards,\nIvan Petrov\n",
}


@pytest.mark.parametrize("signature", SIGNATURES.values(), ids=SIGNATURES.keys())
def test_signature_is_folded(signature: str) -> None:
    assert _parts(BODY + signature) == (BODY, signature, "")


def test_signature_sits_between_reply_and_quote() -> None:
    signature = "С уважением,\nИван\n\nОтправлено с iPhone\n\n"
    quote = '12.03.2024, 10:15, "Поддержка" <support@example.ru>:\nЗдравствуйте!\n'
    assert _parts(BODY + signature + quote) == (BODY, signature, quote)


NOT_SIGNATURES = {
    "thanks in a sentence": "Спасибо, всё заработало!\nИван\n",
    "a question after the thanks": "Спасибо!\nЕщё вопрос: как закрыть смену?\nИван\n",
    "a list after the thanks": "Спасибо.\nНужно:\n1. ФН\n2. кабель\n",
    "more than a few lines after the sign-off": "С уважением,\n" + "строка\n" * 8,
    "long lines after the sign-off": (
        "С уважением,\n"
        "ещё забыл сказать, что после обновления касса перестала видеть сканер штрихкодов.\n"
    ),
    "not a device": "Отправлено из бухгалтерии вчера\n",
    "a sentence that starts like a sign-off": "Best of luck with the release\n",
    "a log after a delimiter": "--\n" + "ERROR 235: ФН не отвечает, повтор через 10 с\n" * 14,
}


@pytest.mark.parametrize("tail", NOT_SIGNATURES.values(), ids=NOT_SIGNATURES.keys())
def test_lines_that_only_look_like_a_signature_stay(tail: str) -> None:
    assert _parts(BODY + tail) == (BODY + tail, "", "")


def test_a_reply_that_is_only_a_sign_off_stays_the_reply() -> None:
    for text in ("Спасибо!\n", "С уважением,\nИван\n", "Sent from my iPhone"):
        assert _parts(text) == (text, "", "")
    quote = '12.03.2024, 10:15, "Поддержка" <support@example.ru>:\nЗдравствуйте!\n'
    assert _parts("Спасибо!\n\n" + quote) == ("Спасибо!\n\n", "", quote)


def test_folded_tells_whether_anything_was_taken_out() -> None:
    assert not FoldedText(reply="a", quoted="", signature="").folded
    assert FoldedText(reply="a", quoted="> b", signature="").folded
    assert FoldedText(reply="a", quoted="", signature="-- \nc").folded


# --- invariant and complexity ---------------------------------------------------------------

_PIECES = [
    "Ответ",
    "> цитата",
    ">",
    "",
    " ",
    "-- ",
    "--",
    "С уважением,",
    "Иван",
    "Спасибо!",
    "Sent from my iPhone",
    "-----Original Message-----",
    "---------- Forwarded message ---------",
    "From: a@example.com",
    "Sent: Tuesday",
    "To: b",
    "Subject: c",
    "От: Иван <ivan@example.ru>",
    "Отправлено: 12 марта",
    "Тема: касса",
    "12.03.2024 10:15, Иван пишет:",
    '12.03.2024, 10:15, "Иван" <ivan@example.ru>:',
    "On Tue, Mar 12, 2024 at 10:15 AM, Ivan <ivan@example.com> wrote:",
    "касса пишет:",
]


@given(st.lists(st.sampled_from(_PIECES), max_size=25), st.sampled_from(["\n", "\r\n"]))
def test_parts_always_rebuild_the_text(pieces: list[str], newline: str) -> None:
    text = newline.join(pieces)
    result = fold(text)
    _check_parts(text, result)
    for part in (result.signature, result.quoted):
        assert not part or result.reply.endswith("\n")


@pytest.mark.parametrize(
    "text",
    [
        "Ответ\n" + ">\n" * 100_000,
        "Ответ\n" + "> > > строка цитаты\n\n" * 50_000,
        ">" * 1_000_000,
        "Ответ\n" + "a:\n" * 200_000,
        "Ответ\n" + "From: x\nTo: y\n" * 60_000,
        "Ответ\n" + "Иван пишет:\n" * 60_000,
        "Ответ\n" + "On 1.2.2024 10:15, a <a@b> wrote:\n" * 30_000,
        "Ответ\n" + "---------- Forwarded\n" * 60_000,
        " " * 1_000_000 + "x",
        "x" * 1_000_000,
        "Ответ\n" + "-- \n" * 200_000,
        "Ответ\n" + "<" * 500_000 + "@" * 500_000,
    ],
    ids=[
        "100k > lines",
        "nested quotes and blanks",
        "one line of >",
        "colon lines",
        "header fields",
        "attribution look-alikes",
        "introduced attributions",
        "forward look-alikes",
        "spaces",
        "one long line",
        "delimiters",
        "angle brackets",
    ],
)
def test_pathological_inputs_fold_without_backtracking(text: str) -> None:
    """Not timed: a catastrophic expression would take minutes here, not milliseconds."""
    _check_parts(text, fold(text))


# --- talon's fixtures, read in place --------------------------------------------------------


def _no_space(text: str) -> str:
    return re.sub(r"\s", "", text)


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


def _plain_body(path: Path) -> str:
    message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
    assert isinstance(message, EmailMessage)
    part = message.get_body(preferencelist=("plain",))
    assert isinstance(part, EmailMessage)
    content = part.get_content()
    assert isinstance(content, str)
    return content


def _html_to_text(markup: str) -> str:
    """A crude tag strip: block tags end lines, everything else is dropped."""
    markup = re.sub(r"(?is)<(head|style|script)\b.*?</\1\s*>|<!--.*?-->", " ", markup)
    markup = re.sub(r"\s+", " ", markup)
    markup = re.sub(r"(?i)<br\s*/?>|</?(?:p|div|blockquote|hr|tr|li|h\d)\b[^>]*>", "\n", markup)
    markup = re.sub(r"<[^>]*>", "", markup)
    return "\n".join(line.strip() for line in html.unescape(markup).split("\n"))


def _talon(folder: str, pattern: str) -> list[Path]:
    if not (TALON / folder).is_dir():
        pytest.skip(TALON_MISSING)
    paths = sorted((TALON / folder).glob(pattern))
    assert paths, f"no {pattern} in {TALON / folder}"
    return paths


def _expected_standard_reply(path: Path) -> str:
    """talon's expectation: the `<name>_reply_text` file, else "Hello" (its test's default)."""
    expected = path.with_name(path.stem + "_reply_text")
    return expected.read_text(encoding="utf-8").strip() if expected.is_file() else "Hello"


def test_talon_standard_replies() -> None:
    """talon keeps the signature in its reply, so ours is `reply + signature`.

    Each mail either matches talon's reply (up to trailing white space) or is kept whole, as a
    bottom-posted reply is: a fold never differs from talon's.
    """
    paths = _talon("standard_replies", "*.eml")
    exact = 0
    for path in paths:
        text = _plain_body(path)
        result = fold(text)
        _check_parts(text, result)
        ours, expected = result.reply + result.signature, _expected_standard_reply(path)
        if _normalised(ours) == _normalised(expected):
            exact += 1
        else:
            assert not result.folded, f"{path.name}: folded, but not as talon does"
    assert exact >= 0.9 * len(paths), f"{exact} of {len(paths)}"


def test_talon_standard_replies_fold_the_signatures_they_carry() -> None:
    _talon("standard_replies", "*.eml")
    iphone = fold(_plain_body(TALON / "standard_replies" / "iphone.eml"))
    assert iphone.signature.strip() == "Sent from my iPhone"
    sparrow = fold(_plain_body(TALON / "standard_replies" / "sparrow.eml"))
    assert sparrow.signature.startswith("-- \nxxx\nSent with Sparrow")


HTML_REPLY = "Hi. I am fine.\n\nThanks,\nAlex"


def test_talon_html_replies_after_a_crude_tag_strip() -> None:
    """talon's HTML replies all say `HTML_REPLY`; compared without white space, as talon does.

    Without <blockquote> marks the quote of an attribution with no <address> (Thunderbird's
    HTML) is kept, which is allowed; folding into the reply is not.
    """
    paths = _talon("html_replies", "*.html")
    matched = 0
    for path in paths:
        text = _html_to_text(path.read_text(encoding="utf-8"))
        result = fold(text)
        _check_parts(text, result)
        ours = _no_space(result.reply + result.signature)
        assert ours.startswith(_no_space(HTML_REPLY)), path.name
        matched += ours == _no_space(HTML_REPLY)
    assert matched >= len(paths) - 1, f"{matched} of {len(paths)}"


@pytest.mark.parametrize("name", ["mail_ru.html", "yandex_ru.html"])
def test_talon_russian_webmail_html_replies(name: str) -> None:
    path = _talon("html_replies", name)[0]
    result = fold(_html_to_text(path.read_text(encoding="utf-8")))
    assert _no_space(result.reply + result.signature) == _no_space(HTML_REPLY)
    assert result.signature.split() == ["Thanks,", "Alex"]
    assert result.quoted.splitlines()[0].endswith("<abc@example.com>:")


@pytest.mark.parametrize(
    ("name", "expected"),
    [("OLK_SRC_BODY_SECTION.html", "Reply"), ("reply-separated-by-hr.html", "Hi there")],
)
def test_talon_html_header_blocks(name: str, expected: str) -> None:
    """Outlook's header block ends the reply; talon also drops "Bob" above the rule, we keep it."""
    path = _talon(".", name)[0]
    text = _html_to_text(path.read_text(encoding="utf-8"))
    result = fold(text)
    _check_parts(text, result)
    assert result.quoted.startswith("From:")
    assert _no_space(result.reply).startswith(_no_space(expected))


def test_talon_reply_that_shares_its_block_with_the_quote() -> None:
    path = _talon(".", "reply-quotations-share-block.eml")[0]
    result = fold(_plain_body(path))
    assert result.reply.strip().startswith("Hi Katharine.")
    assert "From" not in result.reply + result.signature
    assert result.quoted.startswith("--- On Wed, 4/4/12")


def test_talon_signatures_are_folded_right_or_not_at_all() -> None:
    """talon's signature samples need the sender's name to be found; we find the sign-offs."""
    bodies = _talon("signature/emails/stripped", "*_body")
    found = 0
    for body in bodies:
        expected = body.with_name(body.name.removesuffix("_body") + "_signature")
        result = fold(body.read_text(encoding="utf-8"))
        if result.signature:
            assert _normalised(result.signature) == _normalised(expected.read_text("utf-8"))
            found += 1
    assert found >= 1
    russian = fold((TALON / "signature" / "emails" / "P" / "unicode_msg").read_text("utf-8"))
    assert russian.signature == "С уважением,\nСергей Обухов\n"
    assert russian.reply.startswith("From: Сергей Обухов\nДобрый день.")
