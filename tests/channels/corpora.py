"""Provides readers for the mail corpora in ../shared/data and their expected parse results.

The corpora are read in place (never copied into the project). `expected_onlyoffice` and
`expected_zammad` turn each corpus's own expected-result format into `Expected` values; the
bodies there are each tool's own rendering, so tests compare them loosely (`words`).
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
MISSING = (
    f"the mail corpora are not here ({DATA}): they ship with the developers' share, not with"
    " the project"
)


@dataclass(frozen=True)
class Expected:
    """What a corpus says a mail parses to."""

    subject: str
    from_email: str
    from_name: str
    body: str
    attachments: tuple[str, ...]


def mail_files() -> list[Path]:
    """Every mail of every corpus (not the expected results, not the non-mail fixtures)."""
    roots = [
        DATA / "mail-onlyoffice-ru" / "eml",
        DATA / "mail-zammad" / "mail",
        DATA / "mail-zammad" / "extra",
        DATA / "mail-bounces-sisimai" / "maildir",
        DATA / "mail-parser-fixtures",
    ]
    files: list[Path] = []
    for root in roots:
        for path in sorted(root.rglob("*")):
            if not path.is_file() or path.suffix in (".md", ".csv", ".xml", ".yml", ".html"):
                continue
            if "talon" in path.parts and path.suffix != ".eml":
                continue  # talon's signature samples are bodies, not mails
            files.append(path)
    return files


def mbox_files() -> list[Path]:
    """The corpora's Unix mbox files."""
    return sorted((DATA / "mail-bounces-sisimai" / "mailbox").glob("*"))


def expected_onlyoffice() -> Iterator[tuple[Path, Expected]]:
    """(mail, expected) pairs from ONLYOFFICE's Right_Parsing XML files."""
    for xml_path in sorted((DATA / "mail-onlyoffice-ru" / "expected").glob("*.xml")):
        mail = DATA / "mail-onlyoffice-ru" / "eml" / (xml_path.stem + ".eml")
        if not mail.exists():
            continue
        root = ET.parse(xml_path).getroot()
        text = root.findtext("TextBody") or ""
        body = text or _strip_html(html.unescape(root.findtext("HtmlBody") or ""))
        names = tuple(
            node.findtext("FileName") or ""
            for node in root.iter()
            if node.find("FileName") is not None
        )
        yield (
            mail,
            Expected(
                subject=root.findtext("Subject") or "",
                from_email=(root.findtext("From/Email") or "").lower(),
                from_name=root.findtext("From/Name") or "",
                body=body,
                attachments=names,
            ),
        )


class _AnyTagLoader(yaml.SafeLoader):
    """A SafeLoader that reads Ruby-tagged YAML (``!ruby/hash:…``) as plain data."""


def _any_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_scalar(node)


_AnyTagLoader.add_multi_constructor("!", _any_tag)


def expected_zammad() -> Iterator[tuple[Path, Expected]]:
    """(mail, expected) pairs from Zammad's mail*.yml files."""
    for yml in sorted((DATA / "mail-zammad" / "mail").glob("*.yml")):
        mail = yml.with_suffix(".box")
        if not mail.exists():
            continue
        data = yaml.load(yml.read_text(encoding="utf-8", errors="replace"), Loader=_AnyTagLoader)
        if not isinstance(data, dict):
            continue
        body = str(data.get("body") or "")
        if "html" in str(data.get("content_type") or ""):
            body = _strip_html(body)
        names = tuple(
            str(a.get("filename") or "")
            for a in data.get("attachments") or ()
            if isinstance(a, dict)
        )
        yield (
            mail,
            Expected(
                subject=str(data.get("subject") or ""),
                from_email=str(data.get("from_email") or "").lower(),
                from_name=str(data.get("from_display_name") or ""),
                body=body,
                attachments=names,
            ),
        )


def _strip_html(text: str) -> str:
    text = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", text)
    return html.unescape(re.sub(r"<[^>]+>", " ", text))


_WORD = re.compile(r"\w{3,}")


def words(text: str) -> set[str]:
    """The words (3+ letters, lower case) of a text, for loose body comparison."""
    return {w.lower() for w in _WORD.findall(text)}


def normal(text: str) -> str:
    """Whitespace collapsed, for exact comparison of one-line fields."""
    return " ".join(text.split())
