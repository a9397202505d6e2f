"""The notifier: turns the executor's status updates into notices and posts them from a thread."""

from __future__ import annotations

import json
import logging
import queue
import re
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from corral.notify.messages import Notice, slack_payload, webhook_payload

if TYPE_CHECKING:
    from corral.config.project import Project
    from corral.store import ExecutionRecord, Store

log = logging.getLogger("corral.notify")

TIMEOUT = 5.0  # seconds per post
CLOSE_WAIT = 10.0  # how long close() waits for queued notices
_SECRET_REF = re.compile(r"""<\+secrets\.getValue\(\s*["']([^"']+)["']\s*\)>""")
_FAILED = frozenset({"Failed", "Aborted", "Expired", "ApprovalRejected"})


@dataclass(frozen=True)
class Target:
    type: str  # slack | webhook
    url: str
    events: frozenset[str]

    def shown(self) -> str:
        """The URL without its path: webhook paths are secrets (Slack's are)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}/***"


class Notifier:
    """on_update(execution_id, update) for ExecutorOptions; sends in the background."""

    def __init__(
        self,
        targets: list[Target],
        record: ExecutionRecord,
        *,
        mask: Callable[[str], str] = lambda text: text,
        approval_message: Callable[[str], str | None] = lambda step_key: None,
    ) -> None:
        self.targets = targets
        self.record = record
        self.mask = mask
        self.approval_message = approval_message
        self.failures: list[str] = []  # what could not be sent, for tests and callers
        self._queue: queue.Queue[Notice | None] = queue.Queue()
        self._started = False
        self._thread = threading.Thread(target=self._send_all, name="corral-notify", daemon=True)
        self._thread.start()

    def on_update(self, execution_id: str, update: Any) -> None:
        notice = self._notice(update)
        if notice is not None:
            self._queue.put(notice)

    def close(self, timeout: float = CLOSE_WAIT) -> None:
        self._queue.put(None)
        self._thread.join(timeout)

    def _notice(self, update: Any) -> Notice | None:
        kind = type(update).__name__
        base = {
            "execution_id": self.record.id,
            "pipeline_id": self.record.pipeline_id,
            "pipeline_name": self.record.pipeline_name,
            "sequence_id": self.record.sequence_id,
            "project": self.record.project,
            "status": update.status,
        }
        if kind == "PipelineUpdate":
            if update.status == "Running" and not self._started:
                self._started = True
                return Notice("PipelineStart", **base)
            if update.status in ("Success", "IgnoreFailed"):
                return Notice("PipelineSuccess", **base)
            if update.status in _FAILED:
                return Notice("PipelineFailed", **base, error=update.error)
        elif kind == "StepUpdate" and update.status == "ApprovalWaiting":
            return Notice("ApprovalWaiting", **base, step=update.key)
        return None

    def _send_all(self) -> None:
        while (notice := self._queue.get()) is not None:
            if notice.event == "ApprovalWaiting" and notice.step:
                notice = _with(notice, message=self.approval_message(notice.step))
            notice = _with(
                notice,
                error=self.mask(notice.error) if notice.error else None,
                message=self.mask(notice.message) if notice.message else None,
            )
            for target in self.targets:
                if notice.event in target.events:
                    self._post(target, notice)

    def _post(self, target: Target, notice: Notice) -> None:
        body = slack_payload(notice) if target.type == "slack" else webhook_payload(notice)
        request = urllib.request.Request(
            target.url,
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "corral"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError) as error:
            reason = getattr(error, "reason", None) or error
            if isinstance(error, urllib.error.HTTPError):
                reason = f"HTTP {error.code} {error.reason}"
            message = f"{target.type} notification {notice.event} to {target.shown()} failed: {reason}"
            self.failures.append(self.mask(message))
            log.warning("%s", self.mask(message))


def _with(notice: Notice, **changes: Any) -> Notice:
    from dataclasses import replace

    return replace(notice, **changes)


def notifier_for(project: Project, store: Store, execution_id: str) -> Notifier | None:
    """The project's notifier for the execution, or None when corral.yaml configures none.
    A URL whose secret cannot be read is logged and skipped."""
    from corral.config.secrets import SecretResolver
    from corral.errors import ConfigError
    from corral.expressions.masking import mask_text

    configured = project.settings.project.notifications
    record = store.execution(execution_id)
    if not configured or record is None:
        return None
    resolver = SecretResolver(project)
    targets: list[Target] = []
    for index, setting in enumerate(configured):
        try:
            url = _SECRET_REF.sub(lambda match: resolver.value(match.group(1)), setting.url)
        except ConfigError as error:
            log.warning("notifications[%d].url: %s; not sent there", index, error)
            continue
        targets.append(Target(setting.type, url, frozenset(setting.events)))

    def mask(text: str) -> str:
        return mask_text(text, resolver.masked_values())

    def approval_message(step_key: str) -> str | None:
        # the executor opens the request just after it reports the step waiting
        for _ in range(20):
            for request in store.requests(execution_id):
                if request.step_key == step_key:
                    return request.message
            time.sleep(0.05)
        return None

    return Notifier(targets, record, mask=mask, approval_message=approval_message)
