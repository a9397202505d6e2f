"""Registered delegates: a name, selector tags, a token (kept hashed) and when each was last seen."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select, update

from .accounts import new_token, token_hash
from .database import dumps, loads
from .tables import delegates


@dataclass(frozen=True)
class Delegate:
    id: str
    name: str
    tags: tuple[str, ...]
    created_at: float
    last_seen_at: float | None
    version: str | None


class Delegates:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def register(self, name: str, tags: list[str]) -> tuple[str, Delegate]:
        """A new delegate and its token (shown once)."""
        token = new_token()
        delegate = Delegate(uuid.uuid4().hex, name, tuple(sorted(set(tags))), time.time(), None, None)
        with self.engine.begin() as conn:
            conn.execute(
                insert(delegates).values(
                    id=delegate.id,
                    name=name,
                    tags=dumps(list(delegate.tags)),
                    hash=token_hash(token),
                    created_at=delegate.created_at,
                )
            )
        return token, delegate

    def by_token(self, token: str) -> Delegate | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(delegates).where(delegates.c.hash == token_hash(token))).first()
        return None if row is None else _delegate(row)

    def by_name(self, name: str) -> Delegate | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(delegates).where(delegates.c.name == name)).first()
        return None if row is None else _delegate(row)

    def heartbeat(self, delegate_id: str, *, version: str | None = None) -> None:
        values: dict[str, object] = {"last_seen_at": time.time()}
        if version is not None:
            values["version"] = version
        with self.engine.begin() as conn:
            conn.execute(update(delegates).where(delegates.c.id == delegate_id).values(**values))

    def all(self) -> list[Delegate]:
        with self.engine.begin() as conn:
            return [_delegate(r) for r in conn.execute(select(delegates).order_by(delegates.c.name))]


def _delegate(r: Any) -> Delegate:
    return Delegate(r.id, r.name, tuple(loads(r.tags)), r.created_at, r.last_seen_at, r.version)
