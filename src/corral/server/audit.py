"""The audit log: every change and every run, who did it and when."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, insert, select

from .database import dumps, loads
from .tables import audit_log


@dataclass(frozen=True)
class AuditEntry:
    id: int
    at: float
    actor: str
    action: str  # project.create, entity.put, secret.put, execution.run, token.revoke, ...
    target: str
    project: str | None
    detail: dict[str, Any]


class AuditLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self, actor: str, action: str, target: str, *, project: str | None = None, **detail: Any
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                insert(audit_log).values(
                    at=time.time(),
                    actor=actor,
                    action=action,
                    target=target,
                    project=project,
                    detail=dumps(detail),
                )
            )

    def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        project: str | None = None,
        limit: int = 100,
    ) -> list[AuditEntry]:
        """Newest first."""
        query = select(audit_log).order_by(audit_log.c.id.desc()).limit(limit)
        if actor is not None:
            query = query.where(audit_log.c.actor == actor)
        if action is not None:
            query = query.where(audit_log.c.action == action)
        if project is not None:
            query = query.where(audit_log.c.project == project)
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
        return [AuditEntry(r.id, r.at, r.actor, r.action, r.target, r.project, loads(r.detail)) for r in rows]
