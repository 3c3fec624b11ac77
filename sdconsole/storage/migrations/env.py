"""Alembic environment: targets SQLModel.metadata; batch mode on SQLite."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import sdconsole.storage.tables  # noqa: F401  (registers the tables on the metadata)
from sdconsole.storage.migrate import include_object

config = context.config
target_metadata = SQLModel.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("sdconsole runs migrations with a connection; use storage.migrate")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
