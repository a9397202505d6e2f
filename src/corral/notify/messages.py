"""What a notification says: one `Notice` per event, as Slack blocks or as plain JSON."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_ICONS = {
    "PipelineStart": ":rocket:",
    "PipelineSuccess": ":white_check_mark:",
    "ApprovalWaiting": ":hourglass:",
}


@dataclass(frozen=True)
class Notice:
    """One event of one execution; text fields are already masked."""

    event: str  # PipelineStart | PipelineSuccess | PipelineFailed | ApprovalWaiting
    execution_id: str
    pipeline_id: str
    pipeline_name: str
    sequence_id: int
    project: str
    status: str
    error: str | None = None
    step: str | None = None  # the step waiting for approval
    message: str | None = None  # the approval's message

    def summary(self) -> str:
        run = f"{self.pipeline_name} #{self.sequence_id}"
        if self.event == "PipelineStart":
            return f"Pipeline {run} started"
        if self.event == "PipelineSuccess":
            return f"Pipeline {run} succeeded"
        if self.event == "ApprovalWaiting":
            return f"Pipeline {run} waits for approval at {self.step}"
        return f"Pipeline {run} ended: {self.status}" + (f": {self.error}" if self.error else "")


def webhook_payload(notice: Notice) -> dict[str, Any]:
    return {
        "event": notice.event,
        "summary": notice.summary(),
        "project": notice.project,
        "execution": {
            "id": notice.execution_id,
            "pipeline": notice.pipeline_id,
            "name": notice.pipeline_name,
            "sequenceId": notice.sequence_id,
            "status": notice.status,
            "error": notice.error,
        },
        "step": notice.step,
        "message": notice.message,
    }


def slack_payload(notice: Notice) -> dict[str, Any]:
    """`text` for clients that show no blocks; blocks with the details and the commands to act."""
    icon = _ICONS.get(notice.event, ":x:")
    fields = [
        f"*Project*\n{notice.project}",
        f"*Status*\n{notice.status}",
        f"*Execution*\n`{notice.execution_id}`",
    ]
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": f"{icon} *{notice.summary()}*"}},
        {"type": "section", "fields": [{"type": "mrkdwn", "text": text} for text in fields]},
    ]
    if notice.event == "ApprovalWaiting":
        text = (notice.message + "\n" if notice.message else "") + (
            f"`corral approve {notice.execution_id}` or `corral approve {notice.execution_id} --reject`"
        )
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {"text": f"{icon} {notice.summary()}", "blocks": blocks}
