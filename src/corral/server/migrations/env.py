"""Alembic environment of the server's tables: own version table, the store's connection."""

from __future__ import annotations

from alembic import context

from corral.server.tables import metadata

VERSION_TABLE = "server_alembic_version"

connection = context.config.attributes["connection"]
context.configure(
    connection=connection, target_metadata=metadata, render_as_batch=True, version_table=VERSION_TABLE
)
with context.begin_transaction():
    context.run_migrations()
