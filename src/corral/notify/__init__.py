"""Notifications: Slack-compatible and generic JSON webhooks on pipeline events.

    # corral.yaml
    project:
      notifications:
        - type: slack                                   # {"text": ..., "blocks": [...]}
          url: <+secrets.getValue("slack_hook")>
          events: [PipelineFailed, ApprovalWaiting]     # default: all four
        - type: webhook                                 # {"event": ..., "execution": {...}}
          url: https://hooks.example.com/corral

    notifier = notifier_for(project, store, execution_id)   # None when none is configured
    options.on_update = notifier.on_update                  # an ExecutorOptions callback
    notifier.close()                                        # send what is queued, then stop

Events: PipelineStart, PipelineSuccess, PipelineFailed (failed, aborted, expired or rejected;
the status says which) and ApprovalWaiting. Messages are sent from a background thread, so a
slow endpoint never holds the pipeline up; a failure to notify is logged and nothing else.
Secret values (the URL included) never appear in messages or in the log.

Modules: messages.py (what is sent), sender.py (the queue and HTTP posts).
"""

from corral.notify.messages import Notice, slack_payload, webhook_payload
from corral.notify.sender import Notifier, notifier_for

__all__ = ["Notice", "Notifier", "notifier_for", "slack_payload", "webhook_payload"]
