"""Alembic migrations of the store, run by `corral.store.Store` when it opens a database."""
