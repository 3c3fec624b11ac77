"""The headless rings never load Textual: workers and scripts must run without a UI."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS = [
    "sdconsole.domain.model",
    "sdconsole.domain.sla",
    "sdconsole.classifier",
    "sdconsole.storage.repositories",
    "sdconsole.services.intake",
    "sdconsole.services.tickets",
    "sdconsole.reports.ticket",
    "sdconsole.reports.sla",
    "sdconsole.reports.breaches",
    "sdconsole.services.breaches",
    "sdconsole.cli.report",
    "sdconsole.cli.main",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_module_does_not_import_textual(module: str) -> None:
    code = (
        f"import sys, {module}\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "", f"{module} pulls in {result.stdout.strip()}"


def test_domain_does_not_import_sqlalchemy_or_rich() -> None:
    code = (
        "import sys, sdconsole.domain.model, sdconsole.domain.sla, sdconsole.domain.text, "
        "sdconsole.domain.intake, sdconsole.domain.workflow, sdconsole.classifier\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'sqlmodel', 'rich', 'textual', 'typer'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == ""
