"""Provides online backups: SQLite's backup API, or pg_dump for PostgreSQL."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sdconsole.domain.errors import InvalidInput
from sdconsole.i18n import N_
from sdconsole.storage import Store


def backup(store: Store, target: Path) -> None:
    """Write a consistent copy of the live store to `target` (replaced atomically)."""
    target = target.expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if store.is_sqlite:
        source_path = store.engine.url.database
        if not source_path or source_path == ":memory:":
            raise InvalidInput(N_("An in-memory store cannot be backed up."))
        with sqlite3.connect(source_path) as source, sqlite3.connect(partial) as copy:
            source.backup(copy)
        copy.close()
    else:
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise InvalidInput(N_("pg_dump is not installed; install the PostgreSQL client."))
        url = store.engine.url.set(drivername="postgresql")
        env = dict(os.environ)
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        url = url.set(password=None)
        result = subprocess.run(
            [
                pg_dump,
                "--format=custom",
                f"--file={partial}",
                url.render_as_string(hide_password=False),
            ],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise InvalidInput(N_("pg_dump failed: {detail}"), detail=result.stderr.strip())
    os.replace(partial, target)
