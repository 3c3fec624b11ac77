"""Provides sanitising of untrusted text: terminal control sequences, markup and file names.

Everything a client, a mail server or a cash register sends is data. Control sequences are
removed at intake (a stored subject never carries ESC); Rich/Textual markup is not removed —
the text is kept as written and the UI renders it as plain `Text`, never as markup.
"""

from __future__ import annotations

import re
import unicodedata

# CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-byte ESC sequences, and C1 CSI/OSC.
_ANSI_RE = re.compile(
    r"""
    \x1b\[[0-?]*[ -/]*[@-~]          # CSI
  | \x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?  # OSC, terminated by BEL or ST (or cut short)
  | \x1b[PX^_][^\x1b]*(?:\x1b\\)?    # DCS, SOS, PM, APC strings
  | \x1b[@-Z\\-_]                    # other Fe escapes
  | \x9b[0-?]*[ -/]*[@-~]            # 8-bit CSI
  | \x9d[^\x07\x9c]*(?:\x07|\x9c)?   # 8-bit OSC
    """,
    re.VERBOSE,
)
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_BIDI_RE = re.compile(r"[\u202a-\u202e\u2066-\u2069]")
_WS_RE = re.compile(r"\s+")

MAX_FILENAME_BYTES = 200
_WINDOWS_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}


def strip_control(text: str, *, keep_newlines: bool = True) -> str:
    """Remove terminal escape sequences, C0/C1 controls and bidi overrides from `text`.

    Tabs become spaces; CR LF and lone CR become LF. With ``keep_newlines=False`` newlines
    are removed too (for one-line fields such as subjects and names).
    """
    if text.isprintable():  # no escape, control, bidi override, tab or line break: as it is
        return text
    return _stripped(text, keep_newlines=keep_newlines)


def _stripped(text: str, *, keep_newlines: bool) -> str:
    text = _ANSI_RE.sub("", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    text = _CONTROL_RE.sub("", text)
    text = _BIDI_RE.sub("", text)
    if not keep_newlines:
        text = text.replace("\n", " ")
    return text


def clean_line(text: str | None, *, max_length: int = 500) -> str:
    """Make a one-line field (subject, name) safe: no controls, folded spaces, bounded length."""
    if not text:
        return ""
    text = _WS_RE.sub(" ", strip_control(text, keep_newlines=False)).strip()
    if len(text) > max_length:
        text = text[: max_length - 1].rstrip() + "…"
    return text


def clean_body(text: str | None) -> str:
    """Make a multi-line body safe: no controls, no trailing blanks, at most two blank lines."""
    if not text:
        return ""
    lines = [line.rstrip() for line in strip_control(text).split("\n")]
    out: list[str] = []
    blank = 0
    for line in lines:
        blank = blank + 1 if not line else 0
        if blank <= 2:
            out.append(line)
    return "\n".join(out).strip("\n")


def safe_filename(name: str | None, *, default: str = "attachment") -> str:
    """Turn an attachment's declared file name into one safe to write and to show.

    Drops any directory part (both separators), controls, leading dots, characters Windows
    forbids and reserved device names; keeps Cyrillic; bounds the UTF-8 length while keeping
    the extension.
    """
    if not name:
        return default
    name = unicodedata.normalize("NFC", strip_control(name, keep_newlines=False))
    name = name.replace("\\", "/").split("/")[-1]
    name = re.sub(r'[<>:"|?*]', "_", name)
    name = _WS_RE.sub(" ", name).strip().lstrip(".").strip()
    if not name:
        return default
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    if stem.split(".")[0].upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    ext = ext[:16]
    suffix = f".{ext}" if ext else ""
    budget = MAX_FILENAME_BYTES - len(suffix.encode())
    encoded = stem.encode()
    if len(encoded) > budget:
        stem = encoded[:budget].decode("utf-8", "ignore").rstrip()
    return (stem + suffix) or default
