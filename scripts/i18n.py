"""Provides the catalogue workflow: extract marked strings, update the .po files, check them.

    python scripts/i18n.py update   # add new strings to ru/en catalogues, drop obsolete ones
    python scripts/i18n.py check    # exit 1 listing strings a catalogue misses

English msgstrs equal their msgids (the source is English); Russian ones are written by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "sdconsole"
LOCALE = PACKAGE / "locale"
KEYWORDS = {"_": None, "N_": None, "ngettext": (1, 2)}
# Names spelt the same in Russian; any other Russian msgstr equal to its msgid is a copy to redo.
SAME_IN_RUSSIAN = frozenset({"Telegram", "Email", "1C", "API", "SLA"})


def extract() -> Catalog:
    """Every marked string in the package's Python sources."""
    catalog = Catalog(project="sdconsole", charset="utf-8")
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=[("**.py", "python")], keywords=KEYWORDS
    ):
        catalog.add(message, locations=[(f"sdconsole/{filename}", lineno)])
    return catalog


def po_path(language: str) -> Path:
    return LOCALE / language / "LC_MESSAGES" / "sdconsole.po"


def load(language: str) -> Catalog:
    path = po_path(language)
    if not path.exists():
        return Catalog(locale=language, project="sdconsole", charset="utf-8")
    with path.open("rb") as handle:
        return read_po(handle, locale=language)


def missing(language: str, template: Catalog | None = None) -> list[str]:
    """Message ids in the source that the language's catalogue lacks or leaves untranslated."""
    template = template or extract()
    catalog = load(language)
    gaps = []
    for message in template:
        if not message.id:
            continue
        entry = catalog.get(message.id)
        strings = entry.string if entry is not None else None
        if isinstance(strings, tuple | list):
            ok = all(strings)
        else:
            ok = bool(strings)
        if entry is None or not ok or entry.fuzzy:
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def update() -> None:
    for language in ("en", "ru"):
        # Catalog.update shares the template's Message objects: one template per language.
        template = extract()
        catalog = load(language)
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        catalog.fuzzy = False  # a fuzzy header would drop Plural-Forms from the .mo
        for message in catalog:
            if not message.id:
                continue
            message.flags.discard("fuzzy")
            if language == "en":
                message.string = message.id if isinstance(message.id, str) else tuple(message.id)
            elif message.id in SAME_IN_RUSSIAN:
                message.string = message.id
            elif message.string == message.id or (
                isinstance(message.id, tuple | list) and tuple(message.string) == tuple(message.id)
            ):
                message.string = "" if isinstance(message.id, str) else ("", "", "")
        path = po_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(
                handle,
                catalog,
                width=100,
                omit_header=False,
                sort_output=True,
                include_lineno=False,
            )


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "update":
        update()
    gaps = {language: missing(language) for language in ("en", "ru")}
    for language, ids in gaps.items():
        for message_id in ids:
            print(f"{language}: missing translation: {message_id!r}")
    return 1 if any(gaps.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
