"""Provides folding of quoted history and signatures out of an e-mail reply's plain text.

`fold` splits a message body into what the writer wrote this time (the reply), their sign-off
block (the signature) and the history they quoted, so that a ticket shows the new text first and
the rest behind a toggle. Nothing is dropped: the three parts are consecutive slices of the input,

    fold(text).reply + fold(text).signature + fold(text).quoted == text

and every part that is not empty begins at the start of a line. Blank lines between the parts stay
with the part above them, so a caller that displays `reply` usually wants `reply.rstrip()`.

Folding is conservative, because a false fold hides what a client wrote, which is worse than
showing too much:

* Only a quote that runs to the end of the text is folded (top-posting, the way Outlook, mail.ru,
  Yandex and Gmail reply). A bottom-posted reply is kept whole; of an interleaved one (answers
  written between quoted lines) only the quoted lines after the last answer are folded.
* A quote starts at the first of the ">" lines that end the text (blank lines between them
  allowed); at an attribution line in front of them ("On <date>, <name> wrote:", "12.03.2024
  10:15, Иван Петров пишет:", "… написал(а):", The Bat!'s "Вы писали <date>:"); at
  "-----Original Message-----" / "-----Исходное сообщение-----"; or at an Outlook header block
  ("From: / Sent: / To: / Subject:", "От: / Отправлено: / Кому: / Тема:").
* History without ">" marks (what HTML mail becomes as plain text) is folded only after such a
  separator or header block, or after an attribution that begins with "On", a weekday or a date
  and names an <address>: Gmail's "On … <a@b> wrote:", Yandex's "12.03.2024, 10:15, "Иван"
  <ivan@example.ru>:", mail.ru's "Пятница, 12 марта 2024, 10:15 +03:00 от Иван <ivan@mail.ru>:",
  Gmail-ru's "пт, 12 апр. 2024 г. в 10:15, Иван <ivan@example.ru>:".
* A quote is not folded when the nearest visible line above it ends with ":" ("Касса пишет:",
  "Вот письмо поставщика:"): the writer is showing it on purpose.
* A forwarded message ("---------- Forwarded message ---------", "-------- Пересылаемое
  сообщение --------") is what the sender meant to send: nothing from its marker on is folded,
  and a reply that holds one keeps its signature too (the forwarded mail's sign-off is last).
  Outlook writes the same header block for a forward as for a reply; the text alone cannot tell
  them apart, so a caller that knows the message is a forward ("FW:", "Пересл.:") should not fold.
* A signature is the RFC 3676 "-- " block, or a sign-off ("С уважением,", "Спасибо!", "Sent from
  my iPhone", "Отправлено из мобильной Почты Mail.ru") followed by at most a few short lines, none
  of which ends with "?" or ":", at the end of the reply.
* The reply is never left blank: a text that is all quote (or all signature) is kept as reply.

The scan is linear in the text's length: the text is searched for literal markers with
precompiled expressions, and only the lines around a hit are examined. Texts with thousands of
look-alike lines (":"-ended lines, "From:" lines) stop the search early, which folds less.
"""

from __future__ import annotations

import heapq
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["FoldedText", "fold"]


@dataclass(frozen=True, slots=True)
class FoldedText:
    """A message body split for display; `reply + signature + quoted` is the original text.

    Attributes:
        reply: what the writer wrote this time, with the blank lines that follow it.
        quoted: the history they quoted, from its header line (or first ">" line) to the end.
        signature: their sign-off block, between the reply and the quoted history.
    """

    reply: str
    quoted: str
    signature: str

    @property
    def folded(self) -> bool:
        """Whether anything was folded away from the reply."""
        return bool(self.quoted or self.signature)


# Horizontal white space: everything `\s` matches except the line feed (CR included).
_H = r"[^\S\n]"

# Upper bounds on the lines examined as attribution, header and signature lines.
_MAX_ATTRIBUTION_LINE = 200
_MAX_ATTRIBUTION = 400
_MAX_FIELD_LINE = 300
_MAX_SIGNATURE_LINE = 80
_MAX_DELIMITED_SIGNATURE_LINE = 120
_MAX_DELIMITED_SIGNATURE_LINES = 12
_MAX_SIGN_OFF_LINES = 6
_MAX_THANKS_LINES = 4
# How far up from a hit a candidate may start (attribution lines, header fields, a rule line).
_MAX_LINES_ABOVE_HIT = 8
# Candidate lines examined before the search for the quote gives up (and folds less).
_MAX_HITS = 1000
# Lines ending with ":" looked at as possible attributions.
_MAX_COLON_LINES = 20_000
# Look-alikes of one forwarded-message marker examined before the search stops.
_MAX_FORWARD_HITS = 2000

# Kinds of candidate lines.
_ATTRIBUTION = "attribution"
_HEADER = "header"
_SEPARATOR = "separator"

_NONSPACE_RE = re.compile(r"\S")
# The last line whose first visible character is not ">" (matched from the end, by backtracking
# a single greedy `.*`: linear). The first line of the text is checked by _UNQUOTED_LINE_RE.
_LAST_UNQUOTED_RE = re.compile(rf".*\n{_H}*[^\s>]", re.DOTALL)
_UNQUOTED_LINE_RE = re.compile(rf"{_H}*[^\s>]")

# --- forwarded messages ---------------------------------------------------------------------
# Literal needles find candidates fast; the whole line is then checked.
# (CPython's str.find is slow on needles that end in a common letter: they end in "сообщ".)
_FORWARD_NEEDLES = (
    "orwarded",
    "ересылаемое сообщ",
    "ересланное сообщ",
    "еренаправленное сообщ",
    "ереадресованное сообщ",
    "ереадресованного сообщ",
)
_FORWARD_LINE_RE = re.compile(
    r"""
    [-_=~*\s]*
    (?: forwarded\ message | пересылаемое\ сообщение | пересланное\ сообщение
      | перенаправленное\ сообщение | переадресованное\ сообщение )
    [-_=~*\s]*
  | begin\ forwarded\ message\s*:
  | начало\ переадресованного\ сообщения\s*:
    """,
    re.IGNORECASE | re.VERBOSE,
)

# --- separators and header blocks -----------------------------------------------------------
_SEPARATOR_NEEDLES = ("riginal", "eply Message", "сходное сообщ", "ригинальное сообщ")
_SEPARATOR_LINE_RE = re.compile(
    r"""
    -{2,}\s*
    (?: original\ message | reply\ message | исходное\ сообщение | оригинальное\ сообщение )
    \s*-{2,}
    """,
    re.IGNORECASE | re.VERBOSE,
)
# A horizontal rule that Outlook puts above its header block.
_RULE_LINE_RE = re.compile(r"(?:_{5,}|-{5,}|={5,})")
_FROM_NEEDLES = ("From:", "От:")
_FIELD_RE = re.compile(
    rf"{_H}*\*?{_H}*"
    r"(From|Sent|Date|To|Cc|Bcc|Subject|От|Отправлено|Дата|Кому|Копия|Тема)"
    rf"{_H}*\*?{_H}*:"
)
_FIELD_KINDS = {
    "From": "from",
    "От": "from",
    "Sent": "date",
    "Date": "date",
    "Отправлено": "date",
    "Дата": "date",
    "To": "to",
    "Кому": "to",
    "Cc": "cc",
    "Bcc": "cc",
    "Копия": "cc",
    "Subject": "subject",
    "Тема": "subject",
}
# Other header fields a quoted or bounced message may show; they do not count as evidence.
_OTHER_FIELD_RE = re.compile(
    rf"{_H}*(?:message-id|reply-to|return-path|sender|in-reply-to|references|mime-version"
    r"|content-[a-z-]+|importance|priority|x-[a-z0-9-]+|важность|ответить)"
    rf"{_H}*:",
    re.IGNORECASE,
)
_MAX_HEADER_BLOCK_LINES = 12
_MAX_CONTINUATION_LINES = 2

# --- attribution lines ----------------------------------------------------------------------
# Every attribution ends a line with ":" after a verb ("на-писал(а)"), an address or a time;
# the line is then read whole. A literal ":" is found much faster than a set of endings.
_LINE_END_COLON_RE = re.compile(rf":{_H}*$", re.MULTILINE)
_ATTRIBUTION_ENDINGS = ("wrote", "writes", "пишет", "писал", "писала", "писали", "(а)", ">")
_WEEKDAYS = (
    "понедельник|вторник|среда|четверг|пятница|суббота|воскресенье|пн|вт|ср|чт|пт|сб|вс"
    "|monday|tuesday|wednesday|thursday|friday|saturday|sunday"
    "|mon|tues?|wed|thu(?:rs?)?|fri|sat|sun"
)
_MONTHS = (
    "янв|фев|мар|апр|ма[йя]|июн|июл|авг|сен|окт|ноя|дек"
    "|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec"
)
# How an attribution begins: "On", a weekday, or a date (after Yahoo's optional "---").
_ATTRIBUTION_START_RE = re.compile(
    rf"""
    [-–—]*\s*
    (?: on\s
      | (?:{_WEEKDAYS})\.?,?\s+(?:\d|{_MONTHS})
      | \d{{1,4}}[./-]\d{{1,2}}[./-]\d{{1,4}}
      | \d{{1,2}}\.?\s+(?:{_MONTHS})
    )
    """,
    re.IGNORECASE | re.VERBOSE,
)
_VERB_END_RE = re.compile(
    r"(?<!\w)(?:wrote|writes|пишет|написал(?:а|и|\(а\))?|писал(?:а|и|\(а\))?)\s*:$"
)
# The Bat!: "Вы писали 12 марта 2024 г., 10:15:".
_BAT_RE = re.compile(r"вы писали\s.{0,80}:", re.IGNORECASE)
_ANGLE_EMAIL_RE = re.compile(r"<\s*[^\s<>@]+@[^\s<>]+")
_ADDRESS_TAIL_RE = re.compile(r"\s[^\s<>@]+@[\w.-]+\.[a-z]{2,}\s*$", re.IGNORECASE)
_EMAIL_END_RE = re.compile(r"(?:<\s*|\s)[^\s<>@]+@[^\s<>]+\s*>?\s*:$")
_DIGIT_RE = re.compile(r"\d")
_TIME_RE = re.compile(r"\d{1,2}:\d{2}")
_SENTENCE_END = (".", "!", "?", ";")

# --- signatures -----------------------------------------------------------------------------
# A sign-off after which the writer may put their name on the same line.
_REGARDS = (
    r"с\s+уважением|с\s+ув\.?|с\s+наилучшими\s+пожеланиями|с\s+благодарностью"
    r"|(?:best|kind|kindest|warm|warmest|with)\s+regards|regards|sincerely"
    r"|yours\s+(?:sincerely|truly|faithfully)|respectfully"
)
# A sign-off that stands alone on its line.
_THANKS = (
    r"спасибо|большое\s+спасибо|заранее\s+спасибо|спасибо\s+заранее|заранее\s+благодарю"
    r"|благодарю|всего\s+доброго|всего\s+хорошего|всего\s+наилучшего"
    r"|хорошего\s+дня|thanks|thank\s+you|many\s+thanks|thanks\s+in\s+advance|thanks\s+again"
    r"|best|best\s+wishes|all\s+the\s+best|cheers"
)
# The name that may follow on the same line is one to four capitalised words.
_REGARDS_RE = re.compile(
    rf"(?i:{_REGARDS})(?:[,.!]?|[,.]?(?:\s+[A-ZА-ЯЁ][^\s,!?:;@<>()\d]{{0,20}}){{1,4}}\.?)"
)
_THANKS_RE = re.compile(rf"(?:{_THANKS})\s*[,.!]*", re.IGNORECASE)
_MOBILE_RE = re.compile(
    r"""
    (?: sent\s+(?:from|with|via|using) | send\s+from | get\s+outlook\s+for
      | отправлено\s+(?:с|со|из|через) | получено\s+(?:с|из) )
    \s.{1,60}
    """,
    re.IGNORECASE | re.VERBOSE,
)
# A device or a mail app must be named: "Отправлено из бухгалтерии" is not a sign-off.
_MOBILE_WORD_RE = re.compile(
    r"""
    \bmy\s | iphone | ipad | android | mobile | мобильн | mail\.ru | mymail | gmail | yahoo
    | яндекс | yandex | outlook | windows | samsung | galaxy | huawei | honor | xiaomi | redmi
    | blackberry | смартфон | планшет | устройств | sparrow | \bios\b
    """,
    re.IGNORECASE | re.VERBOSE,
)


def fold(text: str) -> FoldedText:
    """Split an e-mail body into the new reply, its signature and the quoted history.

    The split is exact, ``reply + signature + quoted == text``; `quoted` and `signature` are
    empty when nothing was recognised, and `reply` keeps at least one visible character whenever
    `text` has one (a text that is all quote is returned whole as the reply).

    Args:
        text: the plain-text body of one message, LF or CRLF line ends.

    Returns:
        The three consecutive parts of `text`.
    """
    first_visible = _NONSPACE_RE.search(text)
    if first_visible is None:
        return FoldedText(reply=text, quoted="", signature="")
    scan = _Scan(text, first_visible.start())
    quote_at = scan.quote_start()
    body_end = len(text) if quote_at is None else quote_at
    # A forwarded message ends the reply: its own sign-off is part of what was forwarded.
    signature_at = scan.signature_start(body_end) if scan.limit >= body_end else None
    reply_end = body_end if signature_at is None else signature_at
    return FoldedText(
        reply=text[:reply_end],
        quoted=text[body_end:],
        signature=text[reply_end:body_end],
    )


class _Scan:
    """The search for the quote's and the signature's first lines in one text."""

    __slots__ = ("first_visible", "limit", "tail", "text")

    def __init__(self, text: str, first_visible: int) -> None:
        self.text = text
        self.first_visible = first_visible
        self.limit = self._forward_marker()
        self.tail = self._quoted_tail()

    # --- lines ---------------------------------------------------------------------------------

    def _line_start(self, pos: int) -> int:
        return self.text.rfind("\n", 0, pos) + 1

    def _line_end(self, pos: int) -> int:
        end = self.text.find("\n", pos)
        return len(self.text) if end < 0 else end

    def _previous_line(self, start: int) -> tuple[int, int] | None:
        """The bounds of the line above the one that begins at `start`."""
        if start == 0:
            return None
        return self._line_start(start - 1), start - 1

    def _lines_up(self, end: int) -> Iterator[tuple[int, int]]:
        """Lines of ``text[:end]`` from the last one up, as (start, end) offsets."""
        if end == 0:
            return
        line_end = end - 1 if self.text[end - 1] == "\n" else end
        while True:
            start = self._line_start(line_end)
            yield start, line_end
            if start == 0:
                return
            line_end = start - 1

    def _visible_before(self, start: int) -> bool:
        """Whether a line that begins at `start` leaves visible text above it."""
        return self.first_visible < start

    def _may_start_quote(self, start: int) -> bool:
        """Whether a quote may begin at `start`: not first, and not presented by a line above.

        A quote whose nearest visible line above ends with ":" ("Касса пишет:", "Вот письмо
        поставщика:") is something the writer shows on purpose, and stays in the reply.
        """
        if not self._visible_before(start):
            return False
        for count, (line_start, line_end) in enumerate(self._lines_up(start)):
            line = self.text[line_start:line_end].strip()
            if line:
                return not line.endswith(":")
            if count > 20:
                break
        return True

    # --- what bounds the search ----------------------------------------------------------------

    def _forward_marker(self) -> int:
        """The start of the first line that opens a forwarded message, or the text's length.

        After _MAX_FORWARD_HITS look-alikes of one marker the search stops there, as if a
        forwarded message began on that line: the text below it is then never folded.
        """
        text = self.text
        best = len(text)
        for needle in _FORWARD_NEEDLES:
            pos = text.find(needle, 0, best)
            for _ in range(_MAX_FORWARD_HITS):
                if pos < 0:
                    break
                start, end = self._line_start(pos), self._line_end(pos)
                if _FORWARD_LINE_RE.fullmatch(text[start:end].strip()):
                    best = start
                    break
                pos = text.find(needle, end, best)
            else:
                best = min(best, self._line_start(pos)) if pos >= 0 else best
        return best

    def _quoted_tail(self) -> int | None:
        """The first line of the ">"-quoted block that ends the text, if the text ends so."""
        text = self.text
        last = _LAST_UNQUOTED_RE.match(text)
        if last is not None:
            after = text.find("\n", last.end())
        elif _UNQUOTED_LINE_RE.match(text):
            after = text.find("\n")
        else:
            after = 0
        if after < 0:
            return None
        marker = text.find(">", after)
        if marker < 0 or marker > self.limit:
            return None
        return self._line_start(marker)

    # --- the quote -----------------------------------------------------------------------------

    def quote_start(self) -> int | None:
        """The offset of the quote's first line, or None when nothing is to be folded.

        Candidates are examined from the top; the first valid one wins. After _MAX_HITS
        candidates the search gives up, which can only fold less than it might have.
        """
        region_end = self.limit if self.tail is None else min(self.limit, self.tail)
        best: int | None = None
        if self.tail is not None and self._may_start_quote(self.tail):
            best = self.tail
        streams = [
            self._attribution_hits(region_end),
            *(self._field_hits(needle, region_end) for needle in _FROM_NEEDLES),
            *(self._separator_hits(needle, region_end) for needle in _SEPARATOR_NEEDLES),
        ]
        header_scanned = 0
        hits = heapq.merge(*streams)
        for pos, kind in itertools.islice(hits, _MAX_HITS):
            if best is not None and pos > best and self._far_below(best, pos):
                break
            if kind == _HEADER:
                if pos < header_scanned:
                    continue
                start, header_scanned = self._header_block(pos)
            elif kind == _ATTRIBUTION:
                start = self._attribution(pos)
            else:
                start = self._separator(pos)
            if (
                start is not None
                and (best is None or start < best)
                and self._may_start_quote(start)
            ):
                best = start
        return best

    def _far_below(self, start: int, pos: int) -> bool:
        """Whether `pos` is too far below `start` to begin a candidate above it."""
        return self.text.count("\n", start, pos) > _MAX_LINES_ABOVE_HIT

    def _attribution_hits(self, end: int) -> Iterator[tuple[int, str]]:
        """Lines before `end` that end like an attribution: "wrote:", "пишет:", ">:", "10:15:".

        Only the first _MAX_COLON_LINES lines that end with ":" are looked at.
        """
        text = self.text
        colons = _LINE_END_COLON_RE.finditer(text, 0, end)
        for match in itertools.islice(colons, _MAX_COLON_LINES):
            pos = match.start()
            before = text[max(0, pos - 12) : pos].rstrip()
            if before.endswith(_ATTRIBUTION_ENDINGS) or before[-1:].isdigit():
                yield pos, _ATTRIBUTION
            elif _ADDRESS_TAIL_RE.search(text, max(0, pos - 120), pos):
                yield pos, _ATTRIBUTION  # mail.ru with no name: "… от ivan@mail.ru:"

    def _field_hits(self, needle: str, end: int) -> Iterator[tuple[int, str]]:
        """Lines before `end` that begin with the header field `needle` ("From:", "От:")."""
        text = self.text
        pos = text.find(needle, 0, end)
        while pos >= 0:
            if _FIELD_RE.match(text, self._line_start(pos), pos + len(needle) + 8):
                yield pos, _HEADER
            pos = text.find(needle, pos + len(needle), end)

    def _separator_hits(self, needle: str, end: int) -> Iterator[tuple[int, str]]:
        """Lines before `end` that hold `needle`, a word of "-----Original Message-----"."""
        text = self.text
        pos = text.find(needle, 0, end)
        while pos >= 0:
            line_end = self._line_end(pos)
            yield pos, _SEPARATOR
            pos = text.find(needle, line_end, end)

    def _separator(self, pos: int) -> int | None:
        start, end = self._line_start(pos), self._line_end(pos)
        line = self.text[start:end].strip()
        return start if _SEPARATOR_LINE_RE.fullmatch(line) else None

    def _header_block(self, pos: int) -> tuple[int | None, int]:
        """A quote that starts with the header block around `pos`, and where the block ends."""
        text = self.text
        start = self._line_start(pos)
        for _ in range(_MAX_HEADER_BLOCK_LINES // 2):
            above = self._previous_line(start)
            if above is None or not self._is_field(*above):
                break
            start = above[0]
        kinds: set[str] = set()
        line_start, lines, continuation = start, 0, 0
        while line_start < len(text) and lines < _MAX_HEADER_BLOCK_LINES:
            line_end = self._line_end(line_start)
            field = _FIELD_RE.match(text, line_start, line_end)
            if field is not None:
                kinds.add(_FIELD_KINDS[field.group(1)])
                continuation = 0
            elif _OTHER_FIELD_RE.match(text, line_start, line_end):
                continuation = 0
            else:
                line = text[line_start:line_end].strip()
                if (
                    not line
                    or line.startswith(">")
                    or continuation >= _MAX_CONTINUATION_LINES
                    or len(line) > _MAX_FIELD_LINE
                ):
                    break
                continuation += 1
            lines += 1
            line_start = line_end + 1
        if len(kinds) < 3 or "from" not in kinds or not kinds & {"date", "subject"}:
            return None, line_start
        above = self._previous_line(start)
        if above is not None and _RULE_LINE_RE.fullmatch(text[above[0] : above[1]].strip()):
            start = above[0]
        return start, line_start

    def _is_field(self, start: int, end: int) -> bool:
        """Whether the line [start, end) is a header field ("Sent: …", "Message-ID: …")."""
        text = self.text
        return bool(_FIELD_RE.match(text, start, end) or _OTHER_FIELD_RE.match(text, start, end))

    def _attribution(self, pos: int) -> int | None:
        """A quote that starts with an attribution whose last line ends at `pos`."""
        text = self.text
        found = self._attribution_lines(self._line_start(pos), self._line_end(pos))
        if found is None:
            return None
        start, strong = found
        body = _NONSPACE_RE.search(text, self._line_end(pos))
        if body is not None and text[body.start()] == ">":
            body_line = self._line_start(body.start())
            return start if self.tail is not None and body_line >= self.tail else None
        return start if strong else None

    def _attribution_lines(self, start: int, end: int) -> tuple[int, bool] | None:
        """The first line and strength of an attribution that ends on the line [start, end).

        An attribution may be wrapped over up to three lines. It is strong (what follows it is
        quoted even without ">") when it begins with "On", a weekday or a date and holds an
        <address>. A weaker one (a dated "… пишет:", "ivan@example.ru wrote:", The Bat!'s
        "Вы писали …:") only names the author of a ">" quote that follows it.
        """
        text = self.text
        last = text[start:end].strip()
        if not last or last.startswith(">") or len(last) > _MAX_ATTRIBUTION_LINE:
            return None
        parts, starts = [last], [start]
        for _ in range(2):
            above = self._previous_line(starts[0])
            if above is None:
                break
            line = text[above[0] : above[1]].strip()
            if (
                not line
                or line.startswith(">")
                or line.endswith(_SENTENCE_END)
                or len(line) > _MAX_ATTRIBUTION_LINE
            ):
                break
            parts.insert(0, line)
            starts.insert(0, above[0])
        verb = _VERB_END_RE.search(last) is not None
        for index in range(len(parts)):
            joined = " ".join(parts[index:])
            if len(joined) > _MAX_ATTRIBUTION or not _ATTRIBUTION_START_RE.match(joined):
                continue
            emailed = _ANGLE_EMAIL_RE.search(joined) or _EMAIL_END_RE.search(joined)
            if emailed and _DIGIT_RE.search(joined):
                if verb or _EMAIL_END_RE.search(joined):
                    return starts[index], True
            wrapped = index < len(parts) - 1
            dated = _TIME_RE.search(joined) if wrapped else _DIGIT_RE.search(joined)
            if verb and dated:
                return starts[index], False
        if (verb and "@" in last) or _BAT_RE.fullmatch(last):
            return start, False
        return None

    # --- the signature -------------------------------------------------------------------------

    def signature_start(self, end: int) -> int | None:
        """The offset of the signature's first line in ``text[:end]``, or None."""
        text = self.text
        best: int | None = None
        after, longest, unsafe = 0, 0, False
        for count, (start, line_end) in enumerate(self._lines_up(end)):
            raw = text[start:line_end]
            line = raw.strip()
            if not line:
                if count > 4 * _MAX_DELIMITED_SIGNATURE_LINES:
                    break
                continue
            limits = _signature_limits(raw, line)
            if (
                limits is not None
                and after <= limits[0]
                and longest <= limits[1]
                and not unsafe
                and self._visible_before(start)
            ):
                best = start
            after += 1
            longest = max(longest, len(line))
            unsafe = unsafe or line.startswith(">") or line.endswith((":", "?"))
            if after > _MAX_DELIMITED_SIGNATURE_LINES:
                break
        return best


def _signature_limits(raw: str, line: str) -> tuple[int, int] | None:
    """For a line that opens a signature: how many lines may follow it, and how long."""
    if raw.rstrip("\r") == "-- " or line == "--":
        return _MAX_DELIMITED_SIGNATURE_LINES, _MAX_DELIMITED_SIGNATURE_LINE
    if len(line) > _MAX_SIGNATURE_LINE:
        return None
    if _REGARDS_RE.fullmatch(line):
        return _MAX_SIGN_OFF_LINES, _MAX_SIGNATURE_LINE
    if _THANKS_RE.fullmatch(line):
        return _MAX_THANKS_LINES, _MAX_SIGNATURE_LINE
    if _MOBILE_RE.fullmatch(line) and _MOBILE_WORD_RE.search(line):
        return _MAX_SIGN_OFF_LINES, _MAX_SIGNATURE_LINE
    return None
