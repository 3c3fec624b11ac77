"""Provides the incident catalogue: a tree of service areas down to leaf incident types.

The catalogue is data (``sdconsole/resources/catalogue/*.yaml``, parsed by
`sdconsole.services.catalogue`); this module turns the parsed mappings into `IncidentType`
values and validates them. The file format is documented in docs/catalogue.md. In short:

* each file holds one **area** (a top-level node) with nested ``children``;
* a node's ``code`` is one segment (``[a-z0-9][a-z0-9-]*``); its full code joins the segments
  of its ancestors with dots (``kkt.atol.30f.no-print``);
* ``impact``, ``urgency``, ``line``, ``team`` and ``card`` are inherited from the nearest
  ancestor that sets them (``defaults`` of the area, or any node on the way);
* ``include: TEMPLATE`` adds the incident types of a named template as children of a node (the
  same faults for every model of a family); the child's name is the node's name, a colon and the
  template item's name (``АТОЛ 30Ф: не печатает чек``), its keywords the item's;
* a leaf (a node without children) is an incident type a ticket can be classified as.

Every problem is reported with its file and the path to the node, all of them at once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CODE_SEGMENT = re.compile(r"^[a-z0-9][a-z0-9-]*$")
"""One segment of a category code."""

LANGUAGES = ("ru", "en")
"""Every catalogue name is given in these languages."""

_NODE_KEYS = frozenset(
    {
        "code",
        "name",
        "description",
        "impact",
        "urgency",
        "line",
        "team",
        "card",
        "keywords",
        "children",
        "include",
        "defaults",
    }
)
_INHERITED = ("impact", "urgency", "line", "team", "card")


@dataclass(frozen=True, slots=True)
class Names:
    """A name in Russian and English."""

    ru: str
    en: str

    def get(self, language: str) -> str:
        """The name in `language` ("ru" or "en"); Russian for any other."""
        return self.en if language == "en" else self.ru


@dataclass(frozen=True, slots=True)
class IncidentType:
    """A node of the catalogue: an area, a group or (a leaf) an incident type.

    Attributes:
        code: the full dotted code, stable: tickets and cards refer to it.
        parent: the parent's code; None for an area.
        names: display names; a templated leaf's name includes its parent's.
        impact, urgency: defaults for the priority matrix (1 high … 3 low).
        line: the support line that takes it first (1–4).
        team: the team that works it.
        card: the diagnostic card's id, if one exists.
        keywords: words and word stems the cold-start classifier looks for.
        description: what the incident is, in Russian (for engineers and the classifier).
        leaf: whether tickets are classified as this node.
    """

    code: str
    parent: str | None
    names: Names
    impact: int
    urgency: int
    line: int
    team: str
    card: str | None = None
    keywords: tuple[str, ...] = ()
    description: str = ""
    leaf: bool = False

    @property
    def area(self) -> str:
        """The top-level node's code."""
        return self.code.partition(".")[0]

    @property
    def level(self) -> int:
        """1 for an area, 2 for its children, and so on."""
        return self.code.count(".") + 1


@dataclass(frozen=True, slots=True)
class CatalogueProblem:
    """One thing wrong in a catalogue file."""

    source: str
    where: str
    message: str

    def __str__(self) -> str:
        return (
            f"{self.source}: {self.where}: {self.message}"
            if self.where
            else (f"{self.source}: {self.message}")
        )


class CatalogueError(ValueError):
    """The catalogue files do not describe a valid catalogue; `problems` lists why."""

    def __init__(self, problems: Sequence[CatalogueProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = list(problems)


@dataclass(frozen=True, slots=True)
class CatalogueSource:
    """One parsed catalogue file: its name (for messages) and its top-level mapping."""

    name: str
    data: Any


@dataclass(frozen=True)
class Catalogue:
    """The validated catalogue: nodes in file and tree order, parents before children."""

    nodes: tuple[IncidentType, ...]
    teams: Mapping[str, Names]
    _by_code: dict[str, IncidentType] = field(init=False, repr=False, compare=False)
    _children: dict[str | None, list[IncidentType]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_code = {node.code: node for node in self.nodes}
        children: dict[str | None, list[IncidentType]] = {}
        for node in self.nodes:
            children.setdefault(node.parent, []).append(node)
        object.__setattr__(self, "_by_code", by_code)
        object.__setattr__(self, "_children", children)

    def __len__(self) -> int:
        return len(self.nodes)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def get(self, code: str) -> IncidentType | None:
        """The node with this full code, if any."""
        return self._by_code.get(code)

    def children(self, code: str | None) -> list[IncidentType]:
        """The children of a node (of the root for None), in file order."""
        return list(self._children.get(code, ()))

    def ancestors(self, code: str) -> list[IncidentType]:
        """The node's ancestors, the area first (the node itself excluded)."""
        found: list[IncidentType] = []
        node = self._by_code.get(code)
        while node is not None and node.parent is not None:
            node = self._by_code.get(node.parent)
            if node is not None:
                found.append(node)
        return found[::-1]

    @property
    def areas(self) -> list[IncidentType]:
        """The top-level nodes."""
        return self.children(None)

    @property
    def leaves(self) -> list[IncidentType]:
        """The incident types tickets are classified as."""
        return [node for node in self.nodes if node.leaf]

    def path_names(self, code: str, language: str = "ru") -> str:
        """``Area › group › leaf`` names of a node, for screens and the classifier."""
        node = self._by_code[code]
        return " › ".join(n.names.get(language) for n in [*self.ancestors(code), node])

    def stats(self) -> dict[str, Any]:
        """Counts per level and per area (``sdconsole catalogue stats``)."""
        levels = Counter(node.level for node in self.nodes)
        leaf_levels = Counter(node.level for node in self.nodes if node.leaf)
        areas: dict[str, dict[str, int]] = {}
        for area in self.areas:
            inside = [n for n in self.nodes if n.area == area.code]
            areas[area.code] = {
                "nodes": len(inside),
                "leaves": sum(1 for n in inside if n.leaf),
                "with_card": sum(1 for n in inside if n.leaf and n.card),
            }
        leaves = self.leaves
        return {
            "nodes": len(self.nodes),
            "leaves": len(leaves),
            "leaves_with_card": sum(1 for n in leaves if n.card),
            "cards_referenced": len({n.card for n in leaves if n.card}),
            "teams": len(self.teams),
            "levels": {str(level): levels[level] for level in sorted(levels)},
            "leaves_by_level": {str(level): leaf_levels[level] for level in sorted(leaf_levels)},
            "areas": areas,
        }


def build_catalogue(
    sources: Iterable[CatalogueSource],
    *,
    teams: Mapping[str, Names],
    cards: Iterable[str] | None = None,
) -> Catalogue:
    """Validate the parsed catalogue files and build the catalogue.

    Args:
        sources: the area files; templates may be defined in any of them and used in all.
        teams: the known teams (every node's team must be one of them).
        cards: ids of the known diagnostic cards; None skips the check of card references.

    Raises:
        CatalogueError: with every problem found, each with its file and node path.
    """
    builder = _Builder(teams, None if cards is None else set(cards))
    sources = list(sources)
    for source in sources:
        builder.collect_templates(source)
    for source in sources:
        builder.add_area(source)
    if builder.problems:
        raise CatalogueError(builder.problems)
    return Catalogue(tuple(builder.nodes), dict(teams))


def parse_names(value: Any) -> Names | None:
    """``{ru: …, en: …}`` as `Names`; None when either is missing or not text."""
    if not isinstance(value, Mapping):
        return None
    ru, en = value.get("ru"), value.get("en")
    if not (isinstance(ru, str) and ru.strip() and isinstance(en, str) and en.strip()):
        return None
    return Names(ru.strip(), en.strip())


class _Builder:
    def __init__(self, teams: Mapping[str, Names], cards: set[str] | None) -> None:
        self.teams = teams
        self.cards = cards
        self.nodes: list[IncidentType] = []
        self.codes: dict[str, str] = {}
        self.templates: dict[str, tuple[str, list[Any]]] = {}
        self.problems: list[CatalogueProblem] = []

    def problem(self, source: str, where: str, message: str) -> None:
        self.problems.append(CatalogueProblem(source, where, message))

    def collect_templates(self, source: CatalogueSource) -> None:
        if not isinstance(source.data, Mapping):
            return
        templates = source.data.get("templates") or {}
        if not isinstance(templates, Mapping):
            self.problem(source.name, "templates", "must be a mapping of name to a list of items")
            return
        for name, items in templates.items():
            where = f"templates.{name}"
            if name in self.templates:
                other = self.templates[name][0]
                self.problem(source.name, where, f"template defined again (first in {other})")
            elif not isinstance(items, list) or not items:
                self.problem(source.name, where, "must be a non-empty list of incident types")
            else:
                self.templates[str(name)] = (source.name, items)

    def add_area(self, source: CatalogueSource) -> None:
        data = source.data
        if not isinstance(data, Mapping):
            self.problem(source.name, "", "must be a mapping with code, name and children")
            return
        body = {k: v for k, v in data.items() if k != "templates"}
        self.add_node(source.name, body, parent=None, inherited={}, prefix_names=None)

    def add_node(
        self,
        source: str,
        data: Any,
        *,
        parent: IncidentType | None,
        inherited: dict[str, Any],
        prefix_names: Names | None,
    ) -> None:
        parent_code = parent.code if parent else None
        if not isinstance(data, Mapping):
            self.problem(source, parent_code or "", "a node must be a mapping")
            return
        segment = data.get("code")
        if not isinstance(segment, str) or not CODE_SEGMENT.match(segment):
            where = f"{parent_code}.?" if parent_code else "?"
            self.problem(
                source, where, f"code {segment!r} must be lower-case letters, digits and '-'"
            )
            return
        code = f"{parent_code}.{segment}" if parent_code else segment
        for key in sorted(set(data) - _NODE_KEYS):
            self.problem(source, code, f"unknown key {key!r}")
        if code in self.codes:
            self.problem(source, code, f"duplicate code (first in {self.codes[code]})")
            return
        self.codes[code] = source

        names = parse_names(data.get("name"))
        if names is None:
            self.problem(source, code, "name needs both ru and en texts")
            names = Names(code, code)
        if prefix_names is not None:
            names = Names(f"{prefix_names.ru}: {names.ru}", f"{prefix_names.en}: {names.en}")

        defaults = data.get("defaults") or {}
        if not isinstance(defaults, Mapping):
            self.problem(source, code, "defaults must be a mapping")
            defaults = {}
        for key in sorted(set(defaults) - set(_INHERITED)):
            self.problem(source, code, f"unknown key {key!r} in defaults")
        values = {**inherited, **defaults, **{k: data[k] for k in _INHERITED if k in data}}

        children = data.get("children") or []
        include = data.get("include")
        if not isinstance(children, list):
            self.problem(source, code, "children must be a list")
            children = []
        template_items: list[Any] = []
        if include is not None:
            names_included = include if isinstance(include, list) else [include]
            for template in names_included:
                if template not in self.templates:
                    self.problem(source, code, f"unknown template {template!r}")
                else:
                    template_items.extend(self.templates[template][1])

        keywords = _keywords(data.get("keywords"))
        if keywords is None:
            self.problem(source, code, "keywords must be a list of texts")
            keywords = ()
        description = data.get("description") or ""
        if isinstance(description, Mapping):
            description = description.get("ru") or ""
        if not isinstance(description, str):
            self.problem(source, code, "description must be a text")
            description = ""

        leaf = not children and not template_items
        node = self.make_node(
            source,
            code,
            parent_code,
            names,
            values,
            keywords=keywords,
            description=description.strip(),
            leaf=leaf,
        )
        if node is None:
            return
        self.nodes.append(node)
        for child in children:
            self.add_node(source, child, parent=node, inherited=values, prefix_names=None)
        for item in template_items:
            self.add_node(source, item, parent=node, inherited=values, prefix_names=names)

    def make_node(
        self,
        source: str,
        code: str,
        parent: str | None,
        names: Names,
        values: Mapping[str, Any],
        *,
        keywords: tuple[str, ...],
        description: str,
        leaf: bool,
    ) -> IncidentType | None:
        ok = True
        impact, urgency, line = (values.get(k) for k in ("impact", "urgency", "line"))
        for key, value, allowed in (
            ("impact", impact, (1, 2, 3)),
            ("urgency", urgency, (1, 2, 3)),
            ("line", line, (1, 2, 3, 4)),
        ):
            if value not in allowed or isinstance(value, bool):
                shown = "missing" if value is None else repr(value)
                self.problem(source, code, f"{key} must be one of {allowed}, got {shown}")
                ok = False
        team = values.get("team")
        if team not in self.teams:
            shown = "missing" if team is None else repr(team)
            self.problem(source, code, f"team {shown} is not one of the known teams")
            ok = False
        card = values.get("card")
        if card is not None and not isinstance(card, str):
            self.problem(source, code, "card must be a card id")
            ok = False
        elif card is not None and self.cards is not None and card not in self.cards:
            self.problem(source, code, f"card {card!r} does not exist")
            ok = False
        if leaf and not keywords:
            self.problem(source, code, "an incident type needs keywords for the classifier")
            ok = False
        if not ok:
            return None
        return IncidentType(
            code=code,
            parent=parent,
            names=names,
            impact=int(impact),  # type: ignore[arg-type]
            urgency=int(urgency),  # type: ignore[arg-type]
            line=int(line),  # type: ignore[arg-type]
            team=str(team),
            card=card,
            keywords=keywords,
            description=description,
            leaf=leaf,
        )


def _keywords(value: Any) -> tuple[str, ...] | None:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(k, str | int) for k in value):
        return None
    found: list[str] = []
    for keyword in value:
        text = str(keyword).strip().lower()
        if text and text not in found:
            found.append(text)
    return tuple(found)
