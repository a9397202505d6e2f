"""Alembic environment: the store passes its open connection in `config.attributes`."""

from __future__ import annotations

from alembic import context

from corral.store.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # `alembic` run by hand: use the URL from the config
    from sqlalchemy import create_engine

    engine = create_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
        context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
