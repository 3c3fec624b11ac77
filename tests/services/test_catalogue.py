"""Catalogue and card files: strict YAML, the packaged catalogue and cards, and the store sync."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlmodel import select

from sdconsole.domain.catalogue import CatalogueError, Names
from sdconsole.domain.diagnostics import StepKind
from sdconsole.services import catalogue as service
from sdconsole.storage import Store
from sdconsole.storage.tables import Category

TEAMS = "teams:\n  kkt: {ru: ККТ, en: Registers}\n"
AREA = """\
code: kkt
name: {ru: ККТ, en: Registers}
defaults: {impact: 2, urgency: 2, line: 1, team: kkt}
children:
  - code: print
    name: {ru: Печать, en: Printing}
    card: kkt-no-print
    keywords: [не печата]
  - code: power
    name: {ru: Питание, en: Power}
    keywords: [не включа]
"""


def write(folder: Path, files: dict[str, str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def test_duplicate_keys_and_syntax_errors_name_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, {"a.yaml": "id: x\nsteps:\n  s1: {}\n  s1: {}\n"}) / "a.yaml"
    with pytest.raises(service.YamlError, match=r"a.yaml: line 4: duplicate key 's1' \(first"):
        service.read_yaml(path)
    path.write_text("id: [x\n", encoding="utf-8")
    with pytest.raises(service.YamlError, match=r"a.yaml: line 2"):
        service.read_yaml(path)


def test_python_objects_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path, {"a.yaml": "x: !!python/object/apply:os.system ['true']\n"})
    with pytest.raises(service.YamlError):
        service.read_yaml(path / "a.yaml")


def test_catalogue_folder_with_a_card_reference(tmp_path: Path) -> None:
    folder = write(tmp_path / "cat", {"teams.yaml": TEAMS, "10-kkt.yaml": AREA})
    catalogue = service.load_catalogue(folder, cards={"kkt-no-print"})
    assert catalogue.teams == {"kkt": Names("ККТ", "Registers")}
    assert [leaf.code for leaf in catalogue.leaves] == ["kkt.print", "kkt.power"]
    with pytest.raises(CatalogueError, match="card 'kkt-no-print' does not exist"):
        service.load_catalogue(folder, cards=set())


def test_a_folder_of_cards_reports_every_broken_file(tmp_path: Path) -> None:
    cards = service.resources("cards")
    folder = tmp_path / "cards"
    folder.mkdir()
    shutil.copy(str(cards / "fn-ofd-backlog.yaml"), folder / "fn-ofd-backlog.yaml")
    (folder / "copy.yaml").write_text(
        (folder / "fn-ofd-backlog.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    (folder / "broken.yaml").write_text("id: broken\nstart: s1\nsteps: [\n", encoding="utf-8")
    found, problems = service.read_cards(folder)
    assert list(found) == ["fn-ofd-backlog"]
    messages = [str(p) for p in problems]
    assert any(m.startswith("broken.yaml:") for m in messages)
    assert "fn-ofd-backlog.yaml: card id 'fn-ofd-backlog' is also in copy.yaml" in messages


def test_the_packaged_cards_and_catalogue() -> None:
    cards = service.default_cards()
    catalogue = service.default_catalogue()
    assert len(cards) >= 30
    assert len(catalogue.leaves) >= 1000
    areas = {area.code for area in catalogue.areas}
    assert {"kkt", "fn", "ofd", "egais", "chz", "pos", "1c", "peripherals", "payments"} <= areas
    assert {"network", "monitoring"} <= areas
    # Every card serves at least one incident type, and ends in an outcome on every path.
    used = {leaf.card for leaf in catalogue.leaves if leaf.card}
    assert set(cards) <= used, sorted(set(cards) - used)
    for card in cards.values():
        assert any(s.kind is StepKind.RESOLVED for s in card.steps.values()), card.id
        assert any(s.kind is StepKind.ESCALATE for s in card.steps.values()), card.id


def test_sync_adds_updates_and_retires(store: Store, tmp_path: Path) -> None:
    folder = write(tmp_path / "cat", {"teams.yaml": TEAMS, "10-kkt.yaml": AREA})
    catalogue = service.load_catalogue(folder)
    with store.transaction() as session:
        first = service.sync_catalogue(session=session, catalogue=catalogue)
    assert (first.added, first.updated, first.unchanged, first.retired) == (3, 0, 0, 0)
    with store.transaction() as session:
        again = service.sync_catalogue(session=session, catalogue=catalogue)
    assert (again.added, again.updated, again.unchanged, again.retired) == (0, 0, 3, 0)

    changed = AREA.replace("urgency: 2, line: 1", "urgency: 1, line: 1").replace(
        "  - code: power\n    name: {ru: Питание, en: Power}\n    keywords: [не включа]\n", ""
    )
    write(folder, {"10-kkt.yaml": changed})
    with store.transaction() as session:
        result = service.sync_catalogue(session=session, catalogue=service.load_catalogue(folder))
    assert (result.added, result.updated, result.unchanged, result.retired) == (0, 2, 0, 1)
    with store.reader() as session:
        rows = {c.code: c for c in session.exec(select(Category)).all()}
    assert rows["kkt.power"].is_active is False
    assert rows["kkt.print"].default_urgency == 1 and rows["kkt.print"].card_id == "kkt-no-print"
    assert rows["kkt.print"].parent_id == rows["kkt"].id
