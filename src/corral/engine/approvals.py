"""Deciding a HarnessApproval step the way Harness does: one vote per person, checked against
the step's rules, counted until the step is decided.

    outcome = cast_vote(store, request, voter="olga", groups=("ops",), approve=True, executor="ann")
    outcome.status        # Waiting (more approvals needed) | Approved | Rejected

- only a member of one of `approvers.userGroups` may vote (when the step names groups and the
  caller's groups are known: the server knows them, a local store has no users);
- the person who started the execution may not vote when `disallowPipelineExecutor` is true;
- `minimumCount` distinct approvals approve the step; one rejection rejects it;
- an approver gives values only for the inputs the step declares in `approverInputs`; the
  step's output holds every declared input (its default when nobody gave one).

Every executor (embedded, the server, Temporal) records votes through here, so the rules hold
wherever a decision comes from.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from corral.config.approvals import ApprovalRules
from corral.config.entities.common import strip_scope
from corral.errors import CorralError
from corral.store import ApprovalRecord, Store, VoteRecord

APPROVE = "Approve"
REJECT = "Reject"


class ApprovalRefused(CorralError):
    """The caller may not vote on this approval (not an approver, the executor, voted already)."""


class ApprovalInputError(CorralError):
    """The vote carries inputs the step does not declare."""


@dataclass(frozen=True)
class VoteOutcome:
    status: str  # Waiting | Approved | Rejected
    approvals: int
    needed: int
    step_key: str


def rules_of(request: ApprovalRecord) -> ApprovalRules:
    """The rules recorded with a waiting request (its rendered `approvers` and `approverInputs`)."""
    try:
        return ApprovalRules.from_spec(request.approvers, request.inputs)
    except ValueError as error:
        raise CorralError(f"approval step {request.step_key}: {error}") from None


def check_vote(
    rules: ApprovalRules,
    *,
    step_key: str,
    voter: str,
    groups: Sequence[str] | None,
    executor: str | None,
    inputs: Mapping[str, Any],
    votes: Sequence[VoteRecord],
) -> None:
    """Raise ApprovalRefused / ApprovalInputError when this vote may not be counted."""
    if rules.user_groups and groups is not None:
        mine = {strip_scope(g) for g in groups}
        if not mine & set(rules.user_groups):
            raise ApprovalRefused(
                f"{voter} is not in any of the approver groups of {step_key}: {', '.join(rules.user_groups)}"
            )
    if rules.disallow_pipeline_executor and executor is not None and voter == executor:
        raise ApprovalRefused(
            f"{voter} started this execution and {step_key} does not let the pipeline executor "
            "approve (approvers.disallowPipelineExecutor)"
        )
    if any(v.voter == voter for v in votes):
        approvals = sum(v.decision == APPROVE for v in votes)
        raise ApprovalRefused(
            f"{voter} has approved {step_key} already; it needs {rules.minimum_count - approvals} more "
            "approval(s) from other approvers (approvers.minimumCount)"
        )
    undeclared = sorted(str(name) for name in inputs if name not in rules.inputs)
    if undeclared:
        declared = ", ".join(sorted(rules.inputs)) or "none"
        raise ApprovalInputError(
            f"approver input {undeclared[0]!r} is not declared by {step_key} "
            f"(approverInputs declares: {declared})"
        )


def tally(rules: ApprovalRules, votes: Sequence[VoteRecord]) -> str:
    """Rejected at the first rejection; Approved once minimumCount distinct people approved."""
    if any(v.decision == REJECT for v in votes):
        return "Rejected"
    if len({v.voter for v in votes if v.decision == APPROVE}) >= rules.minimum_count:
        return "Approved"
    return "Waiting"


def given_inputs(rules: ApprovalRules, votes: Sequence[VoteRecord]) -> dict[str, Any]:
    """Every declared input: its default, overridden by the approvers in the order they voted."""
    values = dict(rules.inputs)
    for vote in votes:
        values.update({k: v for k, v in vote.inputs.items() if k in rules.inputs})
    return values


def activities(votes: Sequence[VoteRecord]) -> list[dict[str, Any]]:
    """The votes as the step's `approvalActivities` output."""
    return [
        {"user": v.voter, "action": v.decision, "comments": v.comment or "", "approvedAt": v.at}
        for v in votes
    ]


def cast_vote(
    store: Store,
    request: ApprovalRecord,
    *,
    voter: str,
    approve: bool,
    groups: Sequence[str] | None = None,
    comment: str | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> VoteOutcome:
    """Check and record one vote; close the request once the votes decide it."""
    execution = store.execution(request.execution_id)
    executor = execution.snapshot.get("triggeredBy") if execution is not None else None
    rules = rules_of(request)
    inputs = dict(inputs or {})

    def check() -> None:
        votes = store.votes(request.execution_id, request.command_id)
        check_vote(
            rules,
            step_key=request.step_key,
            voter=voter,
            groups=groups,
            executor=executor,
            inputs=inputs,
            votes=votes,
        )

    check()
    decision = APPROVE if approve else REJECT
    if not store.add_vote(
        request.execution_id,
        request.command_id,
        voter=voter,
        decision=decision,
        comment=comment,
        inputs=inputs,
    ):
        check()  # a vote of the same person landed in between: say so
    votes = store.votes(request.execution_id, request.command_id)
    status = tally(rules, votes)
    approvals = len({v.voter for v in votes if v.decision == APPROVE})
    if status != "Waiting":
        deciders = [v for v in votes if v.decision == (APPROVE if status == "Approved" else REJECT)]
        store.decide(
            request.execution_id,
            request.command_id,
            status=status,
            decision=APPROVE if status == "Approved" else REJECT,
            comment="; ".join(v.comment for v in deciders if v.comment) or None,
            by=", ".join(v.voter for v in deciders)[:255],
            inputs=given_inputs(rules, votes),
        )
    return VoteOutcome(status, approvals, rules.minimum_count, request.step_key)
