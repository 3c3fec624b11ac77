"""Provides `python -m sdconsole`."""

from sdconsole.cli.main import run

run()
