"""Users, their API tokens and their roles per project.

A token is `crl_` + 32 random bytes (URL-safe base64); it is shown once, when made, and only
its SHA-256 is stored (a random 256-bit token needs no slow hash: there is nothing to guess).
A token may expire and may be revoked; a revoked or expired token authenticates nobody.

Roles per project (`*` = every project): viewer < deployer < admin. Deploying to an
environment of type Production needs the `production` right on top of deployer. A global
admin (`users.admin`) may do everything, manage users and read the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

from sqlalchemy import Engine, delete, insert, select, update

from .database import dumps, loads
from .tables import project_roles, tokens, users

ROLES = ("viewer", "deployer", "admin")
ALL_PROJECTS = "*"
TOKEN_PREFIX = "crl_"


@dataclass(frozen=True)
class User:
    name: str
    groups: tuple[str, ...]
    admin: bool


@dataclass(frozen=True)
class Role:
    project: str
    role: str
    production: bool


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user: str
    description: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # -- users ---------------------------------------------------------------------------

    def add_user(self, name: str, *, groups: list[str] | None = None, admin: bool = False) -> User:
        with self.engine.begin() as conn:
            conn.execute(
                insert(users).values(
                    name=name, groups=dumps(sorted(set(groups or []))), admin=admin, created_at=time.time()
                )
            )
        return User(name, tuple(sorted(set(groups or []))), admin)

    def update_user(self, name: str, *, groups: list[str] | None = None, admin: bool | None = None) -> None:
        values: dict[str, object] = {}
        if groups is not None:
            values["groups"] = dumps(sorted(set(groups)))
        if admin is not None:
            values["admin"] = admin
        if values:
            with self.engine.begin() as conn:
                conn.execute(update(users).where(users.c.name == name).values(**values))

    def user(self, name: str) -> User | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(users).where(users.c.name == name)).first()
        return None if row is None else User(row.name, tuple(loads(row.groups)), bool(row.admin))

    def users(self) -> list[User]:
        with self.engine.begin() as conn:
            rows = conn.execute(select(users).order_by(users.c.name)).all()
        return [User(r.name, tuple(loads(r.groups)), bool(r.admin)) for r in rows]

    def has_admin(self) -> bool:
        with self.engine.begin() as conn:
            return (
                conn.execute(select(users.c.name).where(users.c.admin.is_(True)).limit(1)).first() is not None
            )

    # -- roles ---------------------------------------------------------------------------

    def set_role(self, user: str, project: str, role: str | None, *, production: bool = False) -> None:
        """Give `user` `role` on `project` (None removes it)."""
        with self.engine.begin() as conn:
            conn.execute(
                delete(project_roles).where(
                    project_roles.c.user_name == user, project_roles.c.project == project
                )
            )
            if role is not None:
                conn.execute(
                    insert(project_roles).values(
                        user_name=user, project=project, role=role, production=production
                    )
                )

    def roles(self, user: str) -> list[Role]:
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(project_roles)
                .where(project_roles.c.user_name == user)
                .order_by(project_roles.c.project)
            ).all()
        return [Role(r.project, r.role, bool(r.production)) for r in rows]

    def role(self, user: str, project: str) -> Role | None:
        """The user's role on the project: its own, else the one for every project."""
        found = {r.project: r for r in self.roles(user)}
        return found.get(project) or found.get(ALL_PROJECTS)

    # -- tokens --------------------------------------------------------------------------

    def create_token(
        self, user: str, *, description: str = "", expires_in: float | None = None
    ) -> tuple[str, TokenInfo]:
        """A new token for the user: (the token, shown once; what is kept of it)."""
        token = new_token()
        now = time.time()
        info = TokenInfo(
            uuid.uuid4().hex, user, description, now, now + expires_in if expires_in else None, None, None
        )
        with self.engine.begin() as conn:
            conn.execute(
                insert(tokens).values(
                    id=info.id,
                    user_name=user,
                    hash=token_hash(token),
                    description=description,
                    created_at=now,
                    expires_at=info.expires_at,
                )
            )
        return token, info

    def authenticate(self, token: str) -> User | None:
        """The user a live (not revoked, not expired) token belongs to."""
        now = time.time()
        with self.engine.begin() as conn:
            row = conn.execute(select(tokens).where(tokens.c.hash == token_hash(token))).first()
            if row is None or row.revoked_at is not None or (row.expires_at and row.expires_at <= now):
                return None
            if row.last_used_at is None or now - row.last_used_at > 60:  # not a write per request
                conn.execute(update(tokens).where(tokens.c.id == row.id).values(last_used_at=now))
        return self.user(row.user_name)

    def tokens(self, user: str | None = None) -> list[TokenInfo]:
        query = select(tokens).order_by(tokens.c.created_at)
        if user is not None:
            query = query.where(tokens.c.user_name == user)
        with self.engine.begin() as conn:
            rows = conn.execute(query).all()
        return [
            TokenInfo(
                r.id, r.user_name, r.description, r.created_at, r.expires_at, r.revoked_at, r.last_used_at
            )
            for r in rows
        ]

    def token_of(self, token: str) -> TokenInfo | None:
        """What is kept of a token, found by the token itself."""
        with self.engine.begin() as conn:
            row = conn.execute(select(tokens.c.id).where(tokens.c.hash == token_hash(token))).first()
        return None if row is None else self.token(row.id)

    def token(self, token_id: str) -> TokenInfo | None:
        return next((t for t in self.tokens() if t.id == token_id), None)

    def revoke_token(self, token_id: str) -> bool:
        with self.engine.begin() as conn:
            done = conn.execute(
                update(tokens)
                .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
                .values(revoked_at=time.time())
            ).rowcount
        return bool(done)
