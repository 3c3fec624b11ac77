"""Provides `parse_mail`: a raw RFC 5322 message, as real mailers write them, to `ParsedMail`.

Real mail is messy: undeclared, mislabelled and broken charsets, RFC 2047 words in the wrong
places, RFC 2231 file names, HTML-only letters, forwarded letters inside letters, bounces and
out-of-office replies. Parsing never raises for bad content: what cannot be decoded is replaced
and said so in `ParsedMail.notes`; only a payload that is not a mail at all raises `NotAMail`.
The raw bytes are kept by intake, so nothing a best-effort decode misses is lost.
"""

from __future__ import annotations

import codecs
import email
import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header
from email.message import Message
from email.policy import Compat32
from email.utils import getaddresses, parseaddr, parsedate_to_datetime
from enum import StrEnum
from functools import partial

from sdconsole.domain.intake import DeliveryFailure, InboundAttachment, Notice, Sender
from sdconsole.i18n import N_

MAX_DEPTH = 8
"""How deep forwarded letters and multiparts are followed; deeper parts stay in the raw mail."""

DEFAULT_ATTACHMENT_LIMIT = 25 * 1024 * 1024


class NotAMail(ValueError):
    """The payload has no header a mail must have: it cannot be a letter."""


class MailKind(StrEnum):
    """What kind of letter it is, for intake's loop protection."""

    REGULAR = "regular"
    GENERATED = "generated"
    """Machine-generated or bulk (RFC 3834 auto-generated, a list, a newsletter): may open a
    ticket, never acknowledged."""
    AUTO_REPLY = "auto_reply"
    """An automatic answer (RFC 3834 auto-replied, out of office): never acknowledged, never
    opens a ticket, never moves a clock."""
    BOUNCE = "bounce"
    """A delivery status notification or a mailer-daemon's failure report."""


@dataclass(frozen=True, slots=True)
class ParsedMail:
    """A decoded letter. Every text field is untrusted."""

    message_id: str | None
    subject: str
    sender: Sender
    to: tuple[str, ...]
    cc: tuple[str, ...]
    date: datetime | None
    text: str
    html: str | None
    references: tuple[str, ...]
    """In-Reply-To first, then References, newest first, without duplicates."""
    kind: MailKind
    attachments: tuple[InboundAttachment, ...] = ()
    notes: tuple[Notice, ...] = ()
    failure: DeliveryFailure | None = None
    body_digest: str = ""
    """sha256 of the bytes after the header block, line ends made LF: the same letter
    delivered twice, by any transport, has one."""

    @property
    def idempotency_key(self) -> str:
        """The key a replay of this letter is recognised by, across mailboxes and UIDVALIDITY
        changes: its Message-ID and body digest (a mailer that reuses a Message-ID for another
        letter does not lose the second one)."""
        return f"{self.message_id or 'no-message-id'}|{self.body_digest[:32]}"


# -- charsets ------------------------------------------------------------------------------

_CHARSET_ALIASES = {
    "win-1251": "cp1251",
    "windows-1251": "cp1251",
    "x-cp1251": "cp1251",
    "cp-1251": "cp1251",
    "koi8r": "koi8_r",
    "koi8": "koi8_r",
    "x-mac-cyrillic": "mac_cyrillic",
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "",
    "unknown-8bit": "",
    "us-ascii": "ascii",
    "ansi_x3.4-1968": "ascii",
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "iso-8859-8-i": "iso-8859-8",
    "ks_c_5601-1987": "cp949",
}
_RUSSIAN_FALLBACKS = ("cp1251", "koi8_r")


def _codec(charset: str | None) -> str:
    """A Python codec name for a declared charset, or "" when unknown."""
    if not charset:
        return ""
    name = charset.strip().strip("\"'").lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return ""
    try:
        return codecs.lookup(name).name
    except LookupError:
        return ""


_CYRILLIC_WORD = re.compile(r"[а-яё]{2,}|[А-ЯЁ][а-яё]+|[А-ЯЁ]{2,}")
_LOWER_CYRILLIC = re.compile(r"[а-яё]")


def _russian_score(text: str) -> int:
    """How much this looks like Russian: lowercase Cyrillic letters inside all-Cyrillic words.

    A koi8-r text decoded as windows-1251 (or the reverse) comes out mostly in capitals, and a
    Western text decoded as windows-1251 mixes Cyrillic into Latin words: both score low.
    """
    return sum(len(_LOWER_CYRILLIC.findall(word)) for word in _CYRILLIC_WORD.findall(text))


def decode_bytes(data: bytes, charset: str | None, *, header: bool = False) -> tuple[str, bool]:
    """Decode a body or header, trusting the declared charset only as far as the text bears
    it out: mail from Russian mailers is often undeclared or mislabelled.

    Returns:
        The text, and whether characters had to be replaced (the decode was lossy).
    """
    declared = _codec(charset)
    if b"\x1b$" in data or b"\x1b(" in data:
        try:
            return data.decode(declared or "iso2022_jp"), False
        except (UnicodeDecodeError, LookupError):
            if declared != "iso2022_jp":
                try:
                    return data.decode("iso2022_jp"), False
                except UnicodeDecodeError:
                    pass
    if not any(b >= 0x80 for b in data):
        text = data.decode("ascii", "replace")
        return (_decode_utf7(text) if declared == "utf-7" else text), False
    if declared in ("utf-8", ""):
        try:
            return data.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    candidates: list[tuple[str, str]] = []
    if declared and declared != "utf-8":
        try:
            text = data.decode(declared)
        except UnicodeDecodeError:
            pass
        else:
            if not _single_byte(declared):
                return text, False  # a multi-byte charset that decodes cleanly is right
            candidates.append((declared, text))
    if declared != "utf-8":
        try:
            return data.decode("utf-8"), False  # labelled 8-bit, but valid UTF-8: it is UTF-8
        except UnicodeDecodeError:
            pass
    for fallback in _RUSSIAN_FALLBACKS:
        if fallback != declared:
            candidates.append((fallback, data.decode(fallback, "replace")))
    if candidates:
        declared_score = _russian_score(candidates[0][1]) if declared else -1
        best_name, best_text = max(candidates, key=lambda item: _russian_score(item[1]))
        best = _russian_score(best_text)
        eight_bit = sum(1 for b in data if b >= 0x80)
        clearly_russian = best >= max(2 if header else 8, eight_bit // 2)
        # Override a declared charset only when another one reads as clearly Russian.
        if declared and candidates[0][0] == declared and best_name != declared:
            if not clearly_russian or best <= declared_score * 2:
                return candidates[0][1], False
        if not declared and not clearly_russian:
            return data.decode("cp1252", "replace"), False  # Western mail with no label
        return best_text, "\ufffd" in best_text
    text = data.decode(declared or "utf-8", "replace")
    return text, True


def _single_byte(codec: str) -> bool:
    """Whether every byte string decodes in this codec (so a clean decode proves nothing)."""
    return codec.startswith(("cp", "iso8859", "koi8", "mac", "latin", "windows", "kz1048"))


def _decode_utf7(text: str) -> str:
    try:
        return text.encode("ascii").decode("utf-7")
    except (UnicodeDecodeError, UnicodeEncodeError):
        return text


def decode_header_value(value: object, hint: str | None = None) -> str:
    """A header's text: RFC 2047 words decoded, raw 8-bit bytes guessed (`hint`: the letter's
    declared charset), folding undone."""
    if value is None:
        return ""
    raw = str(value)
    if any("\udc80" <= ch <= "\udcff" for ch in raw) or "\x1b" in raw:
        # 8-bit bytes in a header (no RFC 2047), kept by the parser as surrogate escapes.
        raw = decode_bytes(raw.encode("ascii", "surrogateescape"), hint, header=True)[0]
    raw = re.sub(r"\r?\n[ \t]+", " ", raw)
    if "=?" not in raw:
        return raw.strip()
    try:
        parts = decode_header(raw)
    except (ValueError, LookupError, AssertionError):
        return raw.strip()
    out: list[str] = []
    for chunk, charset in parts:
        if isinstance(chunk, str):
            out.append(chunk)
        else:
            out.append(decode_bytes(chunk, charset)[0])
    return "".join(out).strip()


class _LenientPolicy(Compat32):
    """compat32, but a header with raw 8-bit bytes reads as a string, never as a `Header`
    object that the rest of the email package cannot split."""

    def header_fetch_parse(self, name: str, value: str) -> str:
        # Raw 8-bit bytes stay surrogate-escaped; `decode_header_value` guesses their charset
        # with the letter's own charset as the hint.
        return value


_POLICY = _LenientPolicy()


# -- addresses and ids ---------------------------------------------------------------------

_MSGID_RE = re.compile(r"<([^<>\s]+)>")


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a header (``<a@b> <c@d>``), without brackets; a bare id is taken."""
    found = [v for v in _MSGID_RE.findall(value or "") if v.isprintable()]
    bare = (value or "").strip()
    if not found and "@" in bare and not re.search(r"\s", bare) and bare.isprintable():
        found = [bare]
    return [v[:400] for v in found]


def _address_list(msg: Message, name: str) -> tuple[str, ...]:
    values = [str(v) for v in msg.get_all(name, [])]
    return tuple(addr.lower() for _name, addr in getaddresses(values) if "@" in addr)


_ENCODED_WORD = re.compile(r"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


_PLACEHOLDER = re.compile(r"sdencodedword(\d+)x")


class _Numbered:
    """Replaces each encoded word by a numbered placeholder with no commas or quotes."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, _match: re.Match[str]) -> str:
        self.count += 1
        return f"sdencodedword{self.count - 1}x"


def _restore(words: list[str], match: re.Match[str]) -> str:
    return words[int(match.group(1))]


def _sender(msg: Message, hint: str | None) -> Sender:
    """Who wrote: addresses are split with the encoded words set aside, so that a comma inside
    an encoded name ("Bürling, Andreas") does not split it."""
    for header in ("From", "Sender", "Reply-To", "Return-Path"):
        value = msg.get(header)
        if not value:
            continue
        words = _ENCODED_WORD.findall(str(value))
        masked = _ENCODED_WORD.sub(_Numbered(), str(value))
        pairs = getaddresses([masked])
        found = next(((n, a) for n, a in pairs if "@" in a), None)
        if found is not None:
            name = _PLACEHOLDER.sub(partial(_restore, words), found[0])
            name = decode_header_value(name, hint).strip().strip('"').strip()
            return Sender(name=name, email=found[1].strip().lower())
        name, address = parseaddr(decode_header_value(value, hint))
        if name or address:
            return Sender(name=(name or address).strip())
    return Sender()


def _charset_hint(msg: Message) -> str | None:
    """The first charset the letter declares anywhere: the best guess for raw 8-bit headers."""
    try:
        return next((c for c in msg.get_charsets() if c), None)
    except (ValueError, LookupError, AttributeError):
        return None


def _date(msg: Message) -> datetime | None:
    value = msg.get("Date")
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if parsed is None:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


# -- bodies --------------------------------------------------------------------------------


@dataclass
class _Walk:
    """What the walk over the MIME tree collected."""

    attachment_limit: int
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[InboundAttachment] = field(default_factory=list)
    notes: list[Notice] = field(default_factory=list)
    report: Message | None = None
    original_headers: Message | None = None
    lossy: bool = False


def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except (ValueError, AssertionError, LookupError):
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _text_of(part: Message, walk: _Walk) -> str:
    text, lossy = decode_bytes(_payload(part), part.get_content_charset())
    walk.lossy = walk.lossy or lossy
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except (ValueError, LookupError, AssertionError):
        name = None
    if name is None:
        raw = part.get_param("name")
        name = raw if isinstance(raw, str) else None
    return decode_header_value(name, part.get_content_charset()) if name else ""


_EXTENSIONS = {
    "text/plain": ".txt",
    "text/html": ".html",
    "text/calendar": ".ics",
    "message/rfc822": ".eml",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    "image/gif": ".gif",
    "application/pdf": ".pdf",
}


def _attach(part: Message, walk: _Walk, *, data: bytes | None = None, name: str = "") -> None:
    content_type = part.get_content_type()
    payload = _payload(part) if data is None else data
    filename = name or _filename(part)
    if not filename:
        content_id = (part.get("Content-ID") or "").strip("<> ")
        stem = content_id.split("@")[0] if content_id else f"part-{len(walk.attachments) + 1}"
        filename = stem + _EXTENSIONS.get(content_type, ".bin")
    limit = walk.attachment_limit
    if len(payload) > limit:
        walk.notes.append(
            Notice(
                N_(
                    "The attachment {name} ({size}) is over the {limit} limit: it is kept in"
                    " the original letter only."
                ),
                (("name", filename), ("size", _size(len(payload))), ("limit", _size(limit))),
            )
        )
        return
    walk.attachments.append(InboundAttachment(filename, content_type, payload))


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{max(1, n // 1024)} KB"


def _is_attachment(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if disposition == "attachment":
        return True
    maintype = part.get_content_maintype()
    if maintype == "text" and part.get_content_subtype() in ("plain", "html"):
        return False
    return True


def _walk(part: Message, walk: _Walk, depth: int) -> None:
    if depth > MAX_DEPTH:
        walk.notes.append(
            Notice(
                N_("Parts nested deeper than {depth} levels are kept in the original letter only."),
                (("depth", str(MAX_DEPTH)),),
            )
        )
        return
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        _enclosed(part, walk, depth)
        return
    if part.is_multipart():
        children = [p for p in (part.get_payload() or []) if isinstance(p, Message)]
        if content_type == "multipart/alternative":
            _alternative(children, walk, depth)
            return
        if content_type == "multipart/report":
            walk.report = part
        for child in children:
            _walk(child, walk, depth + 1)
        return
    if content_type == "message/delivery-status":
        return  # read from the report part by `_failure`
    if content_type in ("text/rfc822-headers", "message/rfc822-headers"):
        walk.original_headers = email.message_from_bytes(_payload(part), policy=_POLICY)
        return
    if _is_attachment(part):
        _attach(part, walk)
        return
    if content_type == "text/html":
        walk.html.append(_text_of(part, walk))
    else:
        walk.plain.append(_text_of(part, walk))


def _alternative(children: list[Message], walk: _Walk, depth: int) -> None:
    """The best version of the body: plain text read, HTML kept; files in it still attached."""
    plain = [c for c in children if c.get_content_type() == "text/plain" and not _is_file(c)]
    html = [c for c in children if c.get_content_type() == "text/html" and not _is_file(c)]
    rich = [c for c in children if c.is_multipart()]
    for child in rich:
        # multipart/related (HTML with its inline images) or a nested alternative.
        sub = _Walk(walk.attachment_limit)
        _walk(child, sub, depth + 1)
        walk.attachments.extend(sub.attachments)
        walk.notes.extend(sub.notes)
        walk.lossy = walk.lossy or sub.lossy
        if not html and sub.html:
            walk.html.extend(sub.html)
        if not plain and sub.plain:
            walk.plain.extend(sub.plain)
    for child in plain[-1:]:
        text = _text_of(child, walk)
        if text.strip() or not html:
            walk.plain.append(text)
    for child in html[-1:]:
        walk.html.append(_text_of(child, walk))
    for child in children:
        if child not in plain and child not in html and child not in rich:
            _walk(child, walk, depth + 1)


def _is_file(part: Message) -> bool:
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    return disposition == "attachment"


def _enclosed(part: Message, walk: _Walk, depth: int) -> None:
    """A forwarded (or bounced) letter: attached whole as .eml, and its text shown inline."""
    inner = part.get_payload()
    inner_msg = inner[0] if isinstance(inner, list) and inner else None
    if not isinstance(inner_msg, Message):
        _attach(part, walk)
        return
    if walk.report is not None and walk.original_headers is None:
        walk.original_headers = inner_msg
    raw = inner_msg.as_bytes(policy=inner_msg.policy) if _serialisable(inner_msg) else b""
    subject = decode_header_value(inner_msg.get("Subject")) or "message"
    if raw:
        _attach(part, walk, data=raw, name=f"{subject[:80]}.eml")
    if walk.report is not None:
        return  # a bounce's copy of our letter is not the client's text
    sub = _Walk(walk.attachment_limit)
    _walk(inner_msg, sub, depth + 1)
    walk.attachments.extend(sub.attachments)
    walk.notes.extend(sub.notes)
    text = "\n".join(t for t in sub.plain if t.strip()) or "\n".join(
        html_to_text(h) for h in sub.html
    )
    sender = decode_header_value(inner_msg.get("From"))
    date = decode_header_value(inner_msg.get("Date"))
    walk.plain.append(
        "\n".join(
            [
                "---------- Forwarded message ----------",
                f"From: {sender}",
                f"Date: {date}",
                f"Subject: {subject}",
                "",
                text.strip(),
            ]
        )
    )


def _serialisable(msg: Message) -> bool:
    try:
        msg.as_bytes()
    except (UnicodeError, LookupError, ValueError, TypeError, KeyError):
        return False
    return True


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: scripts and styles dropped, blocks on their own lines."""
    import html_text
    import lxml.etree

    if not html.strip():
        return ""
    try:
        return str(html_text.extract_text(html, guess_layout=True)).strip()
    except (lxml.etree.LxmlError, ValueError):
        return re.sub(r"<[^>]*>", " ", html).strip()


# -- automatic mail ------------------------------------------------------------------------

_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|answer)|out of (the )?office|autoreply|"
    r"автоответ|автоматический ответ|abwesenheitsnotiz|r[ée]ponse automatique|"
    r"i am out of|i'm out of|отсутствую|нахожусь в отпуске|в отпуске)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered|delivery (status notification|failure|has failed|problem)|"
    r"returned mail|mail delivery (failed|failure|subsystem)|failure notice|"
    r"delivery notification|non.?delivery|could not be delivered|"
    r"недоставленное|не (было )?доставлено|не удалось доставить|ошибка доставки|"
    r"delayed mail|delivery delayed|error sending your mail|returned to sender|"
    r"возвращенное|отчет о доставке)",
    re.IGNORECASE,
)
_DAEMON = re.compile(
    r"^(mailer-?daemon|post_?master|mail-daemon|mail\.delivery\.system|mdaemon)(@|$)",
    re.IGNORECASE,
)
_DAEMON_NAME = re.compile(
    r"^(mail delivery (system|subsystem)|mailer.daemon|system administrator|postmaster)$",
    re.IGNORECASE,
)


def _kind(msg: Message, sender: Sender, subject: str, walk: _Walk) -> MailKind:
    report_type = ""
    if walk.report is not None:
        report_type = str(walk.report.get_param("report-type") or "").lower()
    if report_type == "delivery-status" or msg.get("X-Failed-Recipients"):
        return MailKind.BOUNCE
    daemon = bool(_DAEMON.match(sender.email or sender.name) or _DAEMON_NAME.match(sender.name))
    if daemon and (_BOUNCE_SUBJECT.search(subject) or walk.report):
        return MailKind.BOUNCE
    if not sender.email and _BOUNCE_SUBJECT.search(subject):
        return MailKind.BOUNCE
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto.startswith("auto-replied") or auto.startswith("auto-notified"):
        return MailKind.AUTO_REPLY
    if any(
        msg.get(name)
        for name in ("X-Autoreply", "X-Autorespond", "X-Autoreply-From", "X-Mail-Autoreply")
    ):
        return MailKind.AUTO_REPLY
    if _AUTO_SUBJECT.match(subject):
        return MailKind.AUTO_REPLY
    if report_type in ("disposition-notification", "feedback-report"):
        return MailKind.AUTO_REPLY
    if daemon:
        return MailKind.GENERATED
    precedence = (msg.get("Precedence") or "").strip().lower()
    if auto and auto != "no":
        return MailKind.GENERATED
    if precedence in ("bulk", "junk", "list", "auto_reply") or msg.get("List-Id"):
        return MailKind.GENERATED
    if msg.get("X-Auto-Response-Suppress", "").strip().lower() in ("all", "oof"):
        return MailKind.GENERATED
    return MailKind.REGULAR


_DIAGNOSTIC_RE = re.compile(r"^(diagnostic-code|status)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE)
_QUOTED_MSGID = re.compile(r"^\s*message-id\s*:\s*(<[^>]+>)", re.IGNORECASE | re.MULTILINE)


def _failure(msg: Message, walk: _Walk, text: str) -> DeliveryFailure:
    """What the bounce says failed: the original Message-ID, the recipients, the reason."""
    ids: list[str] = []
    if walk.original_headers is not None:
        ids.extend(message_ids(str(walk.original_headers.get("Message-ID") or "")))
    ids.extend(_MSGID_RE.findall(" ".join(_QUOTED_MSGID.findall(text))))
    recipients: list[str] = []
    reason = ""
    status = ""
    if walk.report is not None:
        for part in walk.report.walk():
            if part.get_content_type() != "message/delivery-status":
                continue
            for block in part.get_payload() or []:
                if not isinstance(block, Message):
                    continue
                final = str(block.get("Final-Recipient") or block.get("Original-Recipient") or "")
                if final:
                    recipients.append(final.split(";")[-1].strip().lower())
                reason = reason or decode_header_value(block.get("Diagnostic-Code"))
                status = status or str(block.get("Status") or "")
    failed = msg.get("X-Failed-Recipients")
    if failed:
        recipients.extend(a.strip().lower() for a in str(failed).split(",") if "@" in a)
    if not reason:
        match = _DIAGNOSTIC_RE.search(text)
        reason = match.group(2).strip() if match else ""
    reason = re.sub(r"\s+", " ", reason or status).strip()[:500]
    return DeliveryFailure(
        original_ids=tuple(dict.fromkeys(ids)),
        recipients=tuple(dict.fromkeys(r for r in recipients if r)),
        reason=reason,
    )


# -- the entry point -----------------------------------------------------------------------

_HEADER_END = re.compile(rb"\r?\n\r?\n|\r\r")
_FIRST_HEADER = re.compile(
    rb"^(Return-Path|Received|From|Message-ID|Date|Subject|To|MIME-Version|X-[\w-]+):[ \t]",
    re.IGNORECASE | re.MULTILINE,
)
_MAIL_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "received",
    "return-path",
    "content-type",
    "mime-version",
)


def parse_mail(raw: bytes, *, attachment_limit: int = DEFAULT_ATTACHMENT_LIMIT) -> ParsedMail:
    """Decode a letter, best effort.

    Args:
        raw: the message exactly as the server gave it (any line ends: LF, CRLF, bare CR).
        attachment_limit: files larger than this are left in the raw mail, with a note.

    Raises:
        NotAMail: the payload has none of the headers a mail has.
    """
    if b"\r" in raw and b"\r\n" not in raw:
        raw = raw.replace(b"\r", b"\n")  # old Mac line ends: the parser wants LF or CRLF
    msg = email.message_from_bytes(raw, policy=_POLICY)
    if not {key.lower() for key in msg.keys()}.intersection(_MAIL_HEADERS):
        # Some exports put a banner line ("---- Original message ----") before the headers.
        start = _FIRST_HEADER.search(raw[:2048])
        if start is not None and start.start() > 0:
            raw = raw[start.start() :]
            msg = email.message_from_bytes(raw, policy=_POLICY)
        if not {key.lower() for key in msg.keys()}.intersection(_MAIL_HEADERS):
            raise NotAMail("no mail header (From, To, Subject, Date, Content-Type, …)")
    walk = _Walk(attachment_limit)
    _walk(msg, walk, 0)
    hint = _charset_hint(msg)
    subject = decode_header_value(msg.get("Subject"), hint)
    sender = _sender(msg, hint)
    html = "\n".join(walk.html) if walk.html else None
    text = "\n\n".join(t.strip("\n") for t in walk.plain if t.strip())
    if not text and html:
        text = html_to_text(html)
    notes = list(walk.notes)
    if walk.lossy:
        notes.append(
            Notice(N_("Some characters of this letter could not be decoded; the original is kept."))
        )
    kind = _kind(msg, sender, subject, walk)
    failure = _failure(msg, walk, text) if kind == MailKind.BOUNCE else None
    references: list[str] = []
    for header in ("In-Reply-To", "References"):
        ids = message_ids(str(msg.get(header) or ""))
        references.extend(ids if header == "In-Reply-To" else reversed(ids))
    message_id = next(iter(message_ids(str(msg.get("Message-ID") or ""))), None)
    match = _HEADER_END.search(raw)
    # Line ends vary with the transport (a file, mbox, IMAP): the same letter has one digest.
    body = (raw[match.end() :] if match else b"").replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return ParsedMail(
        message_id=message_id,
        subject=subject,
        sender=sender,
        to=_address_list(msg, "To"),
        cc=_address_list(msg, "Cc"),
        date=_date(msg),
        text=text,
        html=html,
        references=tuple(dict.fromkeys(references)),
        kind=kind,
        attachments=tuple(walk.attachments),
        notes=tuple(dict.fromkeys(notes)),
        failure=failure,
        body_digest=hashlib.sha256(body).hexdigest(),
    )
