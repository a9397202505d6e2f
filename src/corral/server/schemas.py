"""Request and response bodies of the API (they make the OpenAPI document)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# What runs where (GET /projects/{p}/status): the status model's own dataclasses are the schema,
# so `corral status --json` and the API answer the same shape (corral.status.model).
from corral.status.model import Deployment, ProjectStatus

DeploymentOut = Deployment
ProjectStatusOut = ProjectStatus

Name = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$", min_length=1, max_length=128)


class ProblemOut(BaseModel):
    file: str
    path: str
    message: str


class UserIn(BaseModel):
    name: str = Name
    groups: list[str] = Field(default_factory=list, max_length=100)
    admin: bool = False


class UserPatch(BaseModel):
    groups: list[str] | None = None
    admin: bool | None = None


class RoleOut(BaseModel):
    project: str
    role: Literal["viewer", "deployer", "admin"]
    production: bool


class RoleIn(BaseModel):
    role: Literal["viewer", "deployer", "admin"] | None = Field(
        description="the role on the project (`*` = every project); null removes it"
    )
    production: bool = Field(False, description="may deploy to Production environments")


class UserOut(BaseModel):
    name: str
    groups: list[str]
    admin: bool
    roles: list[RoleOut] = Field(default_factory=list)


class TokenIn(BaseModel):
    description: str = Field("", max_length=255)
    expires_in_days: float | None = Field(
        None, gt=0, le=3650, description="default: the server's token lifetime (90 days unless configured)"
    )


class TokenOut(BaseModel):
    id: str
    user: str
    description: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None


class NewTokenOut(TokenOut):
    token: str = Field(description="shown only now; the server keeps a hash of it")


class AuditOut(BaseModel):
    id: int
    at: float
    actor: str
    action: str
    target: str
    project: str | None
    detail: dict[str, Any]


class ProjectIn(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
    yaml: str = Field("", description="entity documents (service:, environment:, ...), separated by ---")


class YamlIn(BaseModel):
    yaml: str = Field(description="one or more entity documents, separated by ---")


class GitSyncIn(BaseModel):
    url: str = Field(
        min_length=1,
        max_length=2000,
        pattern=r"^(https?://|ssh://|git://|file://|git@|/)",
        description="repository URL (https, ssh; file:// or an absolute local path: global admins only)",
    )
    ref: str = Field("main", min_length=1, max_length=255, description="a branch, tag or commit")


class ProjectOut(BaseModel):
    name: str
    role: str | None
    git_url: str | None = None
    git_ref: str | None = None
    entities: dict[str, int] = Field(default_factory=dict)


class EntityOut(BaseModel):
    kind: str
    identifier: str
    name: str
    file: str
    scope: str | None


class EntityDocumentOut(EntityOut):
    document: dict[str, Any]


class SecretIn(BaseModel):
    value: str = Field(description="the plain value; stored encrypted, never returned")
    name: str | None = None


class RunIn(BaseModel):
    inputs: dict[str, Any] = Field(default_factory=dict, description="runtime inputs by path or tail")
    input_sets: list[str] = Field(default_factory=list)
    no_wait: bool = Field(
        False,
        description="fail a stage at once, changing nothing, when its ECS service is being deployed "
        "by another execution or anyone else (as `corral run --no-wait`)",
    )


class ExecutionRef(BaseModel):
    id: str
    status: str
    url: str


class StepOut(BaseModel):
    key: str
    stage_key: str
    identifier: str
    name: str
    type: str
    phase: str
    status: str
    attempt: int
    started_at: float | None
    ended_at: float | None
    duration: float | None
    outputs: dict[str, Any]
    error: str | None
    failure_type: str | None


class StageOut(BaseModel):
    key: str
    identifier: str
    name: str
    status: str
    started_at: float | None
    ended_at: float | None
    duration: float | None
    error: str | None
    rolled_back: bool


class VoteOut(BaseModel):
    voter: str
    decision: str  # Approve | Reject
    comment: str | None
    at: float


class ApprovalOut(BaseModel):
    step_key: str
    kind: str
    status: str
    message: str | None
    approvers: Any
    decision: str | None
    comment: str | None
    decided_by: str | None
    created_at: float
    decided_at: float | None
    votes: list[VoteOut] = Field(default_factory=list, description="each approver's decision, oldest first")


class ExecutionSummary(BaseModel):
    id: str
    project: str
    pipeline_id: str
    pipeline_name: str
    sequence_id: int
    status: str
    error: str | None
    triggered_by: str | None
    created_at: float
    started_at: float | None
    ended_at: float | None
    duration: float | None


class ExecutionOut(ExecutionSummary):
    inputs: dict[str, Any]
    stages: list[StageOut]
    steps: list[StepOut]
    approvals: list[ApprovalOut]


class LogLineOut(BaseModel):
    id: int
    step_key: str
    at: float
    section: str
    level: str
    message: str


class ApprovalIn(BaseModel):
    approve: bool = True
    comment: str | None = Field(None, max_length=4000)
    step: str | None = Field(None, description="the step key or identifier, when several wait")
    inputs: dict[str, Any] = Field(default_factory=dict)


class DelegateIn(BaseModel):
    name: str = Name
    tags: list[str] = Field(default_factory=list, max_length=100)


class DelegateOut(BaseModel):
    id: str
    name: str
    tags: list[str]
    created_at: float
    last_seen_at: float | None
    version: str | None


class NewDelegateOut(DelegateOut):
    token: str = Field(description="shown only now: the delegate sends it with each heartbeat")


class HeartbeatIn(BaseModel):
    version: str | None = Field(None, max_length=64)


class DelegateLogLineIn(BaseModel):
    step_key: str = Field(min_length=1, max_length=512)
    at: float
    section: str = Field(max_length=128)
    level: str = Field(max_length=8)
    message: str = Field(max_length=65536)


class DelegateLogsIn(BaseModel):
    """Log lines of a step running on the delegate; `batch` names them, so a batch sent again
    (its answer was lost) is written once."""

    execution_id: str = Field(min_length=1, max_length=32)
    batch: str = Field(min_length=1, max_length=256)
    lines: list[DelegateLogLineIn] = Field(max_length=1000)
