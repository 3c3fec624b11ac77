"""Catalogues: every marked string is translated in ru and en; the language is chosen right."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from sdconsole import i18n
from sdconsole.domain.model import Status

ROOT = Path(__file__).resolve().parent.parent


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tools() -> ModuleType:
    return _load("sdconsole_i18n_tools", ROOT / "scripts" / "i18n.py")


@pytest.mark.parametrize("language", ["ru", "en"])
def test_catalogue_has_every_string(tools: ModuleType, language: str) -> None:
    missing = tools.missing(language)
    assert missing == [], (
        f"{language} catalogue misses {len(missing)} strings (run `make i18n`, then translate): "
        f"{missing[:10]}"
    )


def test_compiled_catalogues_match_the_sources(tmp_path: Path) -> None:
    """The .mo files the app loads are compiled from the .po files in git (not stale)."""
    hook = _load("sdconsole_hatch_build", ROOT / "scripts" / "hatch_build.py")
    locale = ROOT / "sdconsole" / "locale"
    for po in locale.glob("*/LC_MESSAGES/*.po"):
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"{mo} missing: reinstall (pip install -e .) or run `make i18n`"
    copy = tmp_path / "sdconsole" / "locale"
    for po in locale.glob("*/LC_MESSAGES/*.po"):
        target = copy / po.relative_to(locale)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(po.read_bytes())
    for fresh in hook.compile_catalogues(tmp_path):
        installed = locale / fresh.relative_to(copy)
        assert fresh.read_bytes() == installed.read_bytes(), (
            f"{installed} is stale: run `make i18n`"
        )


def test_russian_translation_and_plural_forms() -> None:
    i18n.set_language("ru")
    try:
        assert Status.WAITING_CLIENT.label == "ждёт клиента"
        assert i18n.ngettext("{n} ticket", "{n} tickets", 1).format(n=1) == "1 заявка"
        assert i18n.ngettext("{n} ticket", "{n} tickets", 3).format(n=3) == "3 заявки"
        assert i18n.ngettext("{n} ticket", "{n} tickets", 11).format(n=11) == "11 заявок"
    finally:
        i18n.set_language("en")
    assert Status.WAITING_CLIENT.label == "waiting for client"


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"LANG": "ru_RU.UTF-8"}, "ru"),
        ({"LANG": "en_US.UTF-8"}, "en"),
        ({"LANG": "de_DE.UTF-8"}, "en"),
        ({"LANGUAGE": "ru:en", "LANG": "de_DE.UTF-8"}, "ru"),
        ({"LC_ALL": "C.UTF-8", "LANG": "ru_RU.UTF-8"}, "en"),
        ({"LC_ALL": "C", "LANGUAGE": "ru"}, "en"),
        ({"LANG": "en_GB.UTF-8", "LANGUAGE": "ru"}, "ru"),
        ({}, "en"),
    ],
)
def test_language_from_environment(environ: dict[str, str], expected: str) -> None:
    assert i18n.language_from_environment(environ) == expected


def test_settings_language_wins_over_lang(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "ru_RU.UTF-8")
    assert i18n.set_language(None) == "ru"
    assert i18n.set_language("en") == "en"
    assert i18n.set_language("xx") == "en"
