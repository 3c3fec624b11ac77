"""Provides the XDG paths sdconsole uses: config file, data folder, default store, attachments."""

from __future__ import annotations

import os
from pathlib import Path


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/sdconsole`` (default ``~/.config/sdconsole``)."""
    return _xdg("XDG_CONFIG_HOME", ".config") / "sdconsole"


def data_dir() -> Path:
    """``$XDG_DATA_HOME/sdconsole`` (default ``~/.local/share/sdconsole``)."""
    return _xdg("XDG_DATA_HOME", ".local/share") / "sdconsole"


def config_file() -> Path:
    """The config file: ``$SDCONSOLE_CONFIG``, else ``config.toml`` in the config folder."""
    explicit = os.environ.get("SDCONSOLE_CONFIG")
    return Path(explicit) if explicit else config_dir() / "config.toml"


def default_store_url() -> str:
    """The SQLite store used when nothing else is configured."""
    return f"sqlite:///{data_dir() / 'sdconsole.db'}"


def demo_store_url() -> str:
    """Where `sdconsole demo` builds its store."""
    return f"sqlite:///{data_dir() / 'demo.db'}"
