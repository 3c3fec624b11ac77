"""Provides the incident catalogue and the diagnostic cards from their YAML files, and the sync
of the catalogue into the store's category table.

The packaged files live in ``sdconsole/resources/catalogue`` (``teams.yaml`` and one file per
area) and ``sdconsole/resources/cards`` (one card per file); formats in docs/catalogue.md and
docs/diagnostic-cards.md. Both are read once per process (`default_catalogue`, `default_cards`).
"""

from __future__ import annotations

import functools
import importlib.resources
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml
from sqlmodel import Session, select

from sdconsole.domain.catalogue import (
    Catalogue,
    CatalogueError,
    CatalogueProblem,
    CatalogueSource,
    Names,
    build_catalogue,
    parse_names,
)
from sdconsole.domain.diagnostics import Card, CardError, CardProblem, parse_card
from sdconsole.storage.tables import Category

Directory = Path | Traversable


def resources(name: str) -> Traversable:
    """A folder of the packaged resources."""
    return importlib.resources.files("sdconsole") / "resources" / name


_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""LibYAML's parser where the wheel has it (ten times faster on the catalogue)."""


class _StrictLoader(_SafeLoader):  # type: ignore[valid-type]
    """Safe YAML that refuses duplicate keys (a repeated step id would silently replace one)."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None,
                None,
                f"duplicate key {key!r} (first on line {seen[key] + 1})",
                key_node.start_mark,
            )
        seen[key] = key_node.start_mark.line
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class YamlError(ValueError):
    """A file is not readable YAML; the message names the file and the line."""


def read_yaml(path: Path | Traversable) -> Any:
    """One YAML document, strictly (no duplicate keys, no Python objects)."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise YamlError(f"{path.name}: not UTF-8 text ({error.reason})") from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        reason = getattr(error, "problem", None) or str(error)
        raise YamlError(f"{path.name}:{where}: {reason}") from None


def _yaml_files(directory: Directory) -> list[Path | Traversable]:
    return sorted(
        (f for f in directory.iterdir() if f.is_file() and f.name.endswith((".yaml", ".yml"))),
        key=lambda f: f.name,
    )


# -- diagnostic cards -------------------------------------------------------------------------


def read_cards(directory: Directory) -> tuple[dict[str, Card], list[CardProblem]]:
    """Every card of a folder, and every problem of the files that are not valid cards."""
    cards: dict[str, Card] = {}
    sources: dict[str, str] = {}
    problems: list[CardProblem] = []
    for path in _yaml_files(directory):
        try:
            card = parse_card(read_yaml(path), source=path.name)
        except YamlError as error:
            problems.append(CardProblem(path.name, "", str(error).partition(": ")[2]))
            continue
        except CardError as error:
            problems.extend(error.problems)
            continue
        if card.id in cards:
            other = sources[card.id]
            problems.append(CardProblem(path.name, "", f"card id {card.id!r} is also in {other}"))
            continue
        cards[card.id] = card
        sources[card.id] = path.name
    return cards, problems


def load_cards(directory: Directory) -> dict[str, Card]:
    """The cards of a folder.

    Raises:
        CardError: with every problem of every file.
    """
    cards, problems = read_cards(directory)
    if problems:
        raise CardError(problems)
    return cards


@functools.cache
def default_cards() -> dict[str, Card]:
    """The packaged diagnostic cards."""
    return load_cards(resources("cards"))


# -- the catalogue ----------------------------------------------------------------------------


def load_catalogue(directory: Directory, *, cards: Iterable[str] | None = None) -> Catalogue:
    """The catalogue of a folder: ``teams.yaml`` and the area files.

    Args:
        cards: the card ids references must resolve to; None skips that check.

    Raises:
        CatalogueError: with every problem found.
    """
    problems: list[CatalogueProblem] = []
    teams: dict[str, Names] = {}
    sources: list[CatalogueSource] = []
    for path in _yaml_files(directory):
        try:
            data = read_yaml(path)
        except YamlError as error:
            problems.append(CatalogueProblem(path.name, "", str(error).partition(": ")[2]))
            continue
        if path.name in ("teams.yaml", "teams.yml"):
            teams.update(_teams(path.name, data, problems))
        else:
            sources.append(CatalogueSource(path.name, data))
    if not teams:
        problems.append(CatalogueProblem("teams.yaml", "", "no teams defined"))
    try:
        catalogue = build_catalogue(sources, teams=teams, cards=cards)
    except CatalogueError as error:
        problems.extend(error.problems)
    if problems:
        raise CatalogueError(problems)
    return catalogue


def _teams(source: str, data: Any, problems: list[CatalogueProblem]) -> dict[str, Names]:
    teams = data.get("teams") if isinstance(data, Mapping) else None
    if not isinstance(teams, Mapping):
        problems.append(CatalogueProblem(source, "", "must hold teams: {code: {ru: …, en: …}}"))
        return {}
    found: dict[str, Names] = {}
    for code, value in teams.items():
        names = parse_names(value)
        if names is None:
            problems.append(CatalogueProblem(source, str(code), "name needs ru and en texts"))
        else:
            found[str(code)] = names
    return found


@functools.cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, its card references checked against the packaged cards."""
    return load_catalogue(resources("catalogue"), cards=default_cards())


# -- the store --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SyncResult:
    """What `sync_catalogue` changed in the category table."""

    added: int
    updated: int
    unchanged: int
    retired: int


def sync_catalogue(*, session: Session, catalogue: Catalogue) -> SyncResult:
    """Make the category table match the catalogue, matching rows by code.

    Nodes missing from the catalogue are retired (``is_active`` false), never deleted: tickets
    keep their category. Parents are set from the tree. The caller commits.
    """
    rows = {row.code: row for row in session.exec(select(Category)).all()}
    added = updated = unchanged = 0
    for node in catalogue.nodes:  # parents come before children
        row = rows.get(node.code)
        values: dict[str, Any] = {
            "parent_id": rows[node.parent].id if node.parent else None,
            "name_ru": node.names.ru[:300],
            "name_en": node.names.en[:300],
            "default_impact": node.impact,
            "default_urgency": node.urgency,
            "line": node.line,
            "team": node.team,
            "card_id": node.card,
            "keywords": list(node.keywords),
            "is_active": True,
        }
        if row is None:
            row = Category(code=node.code, **values)
            session.add(row)
            session.flush()
            rows[node.code] = row
            added += 1
        elif any(getattr(row, key) != value for key, value in values.items()):
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            updated += 1
        else:
            unchanged += 1
    retired = 0
    for code, row in rows.items():
        if code not in catalogue and row.is_active:
            row.is_active = False
            session.add(row)
            retired += 1
    session.flush()
    return SyncResult(added, updated, unchanged, retired)
