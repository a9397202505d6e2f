"""The server's own tables, next to the store's: users, API tokens, project roles, delegates, audit.

    users         a person or a robot: name, the user groups it belongs to, a global admin flag
    tokens        API tokens: only a SHA-256 of the token is kept; expiry and revocation
    project_roles one role per user and project (`*` = every project): admin, deployer or viewer,
                  and whether the user may deploy to Production environments
    projects      the projects the server holds, and the Git repository one was synced from
    delegates     registered delegates: tags, a hashed token, when they were last heard from
    audit_log     every change and every run: who, what, on what, when
    trigger_polls each trigger's last poll: when, its error, whether its first poll is done
    trigger_tags  every tag a trigger has seen, once (unique): digest, first seen, its execution

`migrations/` creates them with its own Alembic version table, so the store's migrations and
these evolve apart.
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

users = Table(
    "server_users",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("groups", Text, nullable=False),  # JSON list of user group identifiers
    Column("admin", Boolean, nullable=False),
    Column("created_at", Float, nullable=False),
)

tokens = Table(
    "server_tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("user_name", String(128), nullable=False),
    Column("hash", String(64), nullable=False, unique=True),
    Column("description", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Column("last_used_at", Float),
)

project_roles = Table(
    "server_project_roles",
    metadata,
    Column("user_name", String(128), primary_key=True),
    Column("project", String(128), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("production", Boolean, nullable=False),
)

projects = Table(
    "server_projects",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("git_url", Text),
    Column("git_ref", String(255)),
    Column("git_commit", String(64)),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
)

delegates = Table(
    "server_delegates",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("tags", Text, nullable=False),  # JSON list
    Column("hash", String(64), nullable=False, unique=True),
    Column("created_at", Float, nullable=False),
    Column("last_seen_at", Float),
    Column("version", String(64)),
)

audit_log = Table(
    "server_audit_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("actor", String(128), nullable=False),
    Column("action", String(64), nullable=False),
    Column("target", Text, nullable=False),
    Column("project", String(128)),
    Column("detail", Text, nullable=False),  # JSON object
    Index("ix_server_audit_at", "at"),
)

trigger_polls = Table(
    "server_trigger_polls",
    metadata,
    Column("project", String(128), primary_key=True),
    Column("trigger_id", String(128), primary_key=True),
    Column("first_poll_at", Float, nullable=False),  # tags seen before it never run
    Column("last_poll_at", Float, nullable=False),
    Column("last_error", Text),
)

trigger_tags = Table(
    "server_trigger_tags",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("project", String(128), nullable=False),
    Column("trigger_id", String(128), nullable=False),
    Column("tag", String(255), nullable=False),
    Column("digest", String(128)),
    Column("first_seen", Float, nullable=False),
    Column("status", String(16), nullable=False),  # Existing, Started, Failed
    Column("execution_id", String(64)),
    Column("error", Text),
    # the one guard against a double run: whoever inserts the row runs the tag
    UniqueConstraint("project", "trigger_id", "tag", name="uq_server_trigger_tags"),
)
