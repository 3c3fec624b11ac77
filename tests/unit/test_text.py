"""Sanitising of untrusted text: control sequences removed, markup kept literal, safe file names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sdconsole.domain.text import _stripped, clean_body, clean_line, safe_filename, strip_control


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Касса \x1b[31mне\x1b[0m печатает", "Касса не печатает"),
        ("title\x1b]0;pwned\x07 ok", "title ok"),
        ("link \x1b]8;;http://evil\x1b\\text\x1b]8;;\x1b\\", "link text"),
        ("bell\x07 back\x08space", "bell backspace"),
        ("c1 \x9b31m csi", "c1  csi"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("dcs \x1bPq#0;2;0;0;0\x1b\\ done", "dcs  done"),
    ],
)
def test_strip_control_removes_terminal_sequences(raw: str, expected: str) -> None:
    assert strip_control(raw) == expected


@given(
    st.text(st.sampled_from("ая z\x1b[]0;m\x07\x9b\x9d\x9c\\\r\n\t\x00\x7f\u202e\u2066\u2028P")),
    st.booleans(),
)
def test_plain_text_shortcut_agrees_with_the_full_pass(text: str, keep_newlines: bool) -> None:
    assert strip_control(text, keep_newlines=keep_newlines) == _stripped(
        text, keep_newlines=keep_newlines
    )


def test_markup_is_kept_as_literal_text() -> None:
    subject = "[bold red]СРОЧНО[/bold red] [link=http://x]тут[/link]"
    assert clean_line(subject) == subject


def test_clean_line_folds_whitespace_and_bounds_length() -> None:
    assert clean_line("  a\r\n\tb  ") == "a b"
    assert clean_line("я" * 600, max_length=10) == "я" * 9 + "…"
    assert clean_line(None) == ""


def test_clean_body_normalises_newlines_and_blank_runs() -> None:
    assert clean_body("a\r\nb\rc\n\n\n\n\nd  \n") == "a\nb\nc\n\n\nd"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Windows\\system32\\cmd.exe", "cmd.exe"),
        ("отчёт Z.pdf", "отчёт Z.pdf"),
        ("..hidden", "hidden"),
        ("CON.txt", "_CON.txt"),
        ('a<b>c:"d|e?f*.txt', "a_b_c__d_e_f_.txt"),
        ("", "attachment"),
        ("\x1b[31m.", "attachment"),
        ("evil\x00name.doc", "evilname.doc"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_bounds_utf8_length_and_keeps_extension() -> None:
    result = safe_filename("ж" * 300 + ".xlsx")
    assert result.endswith(".xlsx")
    assert len(result.encode()) <= 200
