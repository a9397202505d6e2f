"""ECS's own events, read from an SQS queue, tell the shared pollers when to look.

Polling DescribeServices is how every tool notices that a deployment is done, and it spends the
account's ECS read budget. ECS also publishes what happens to EventBridge ("ECS Deployment State
Change", "ECS Service Action", "ECS Task State Change"). With a rule that sends them to an SQS
queue (`corral connector ecs-events` makes both) and the queue's URL in the AWS connector
(`ecsEventQueues: {us-east-1: https://sqs...}`), Corral reads the queue instead of polling:

- one `EcsEventFeed` per (account or endpoint, queue) in the process: one thread long-polls the
  queue (ReceiveMessage, 20 s, 10 messages), deletes what it read and hands each event to the
  `ServicePoller`s of its Region that subscribed;
- a poller asks for a DescribeServices round shortly (`NUDGE_DELAY`) after an event that can
  decide a wait: a deployment COMPLETED / FAILED / rolled back, a service action (steady state,
  tasks failing to start or be placed), a task of the newest deployment STOPPED. Routine events
  (a deployment in progress, tasks starting, old tasks stopping) cost no call;
- while the feed is live (its last receive succeeded), pollers only poll every
  `SAFETY_INTERVAL` seconds between events, in case an event is lost (EventBridge delivers at
  least once, but a misconfigured rule delivers nothing). When the feed fails, pollers fall back to
  their normal interval at once.

The verdict always comes from DescribeServices, never from an event alone: an event only says
when to look. One queue serves one Corral process (server or CLI run): readers of a shared queue
would take each other's messages. Events sent before a service was watched do not nudge it
(SQS's SentTimestamp), so a queue that filled up while nobody read it costs nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from .retry import call_scope

if TYPE_CHECKING:
    from .clients import Clients

log = logging.getLogger(__name__)

WAIT_SECONDS = 20  # SQS long poll (its maximum)
SAFETY_INTERVAL = 30.0  # seconds between rounds while events arrive
NUDGE_DELAY = 0.1  # events of one moment (completed, steady state) share one round
RETRY_SECONDS = 5.0  # after a failed receive
DETAIL_TYPES = ("ECS Deployment State Change", "ECS Service Action", "ECS Task State Change")
QUIET_DEPLOYMENT_EVENTS = frozenset({"SERVICE_DEPLOYMENT_IN_PROGRESS"})
QUIET_SERVICE_ACTIONS = frozenset({"SERVICE_DESIRED_COUNT_UPDATED"})


@dataclass(frozen=True)
class ServiceEvent:
    """What an ECS event says about one service, reduced to what a poller needs."""

    cluster: str  # name
    service: str  # name
    kind: str  # the event's detail-type
    name: str  # eventName, or the task's lastStatus for task state changes
    deployment_id: str | None  # the deployment it is about (a task's startedBy)
    sent_at: float  # epoch seconds, SQS SentTimestamp

    def decides(self, primary_deployment_id: str | None) -> bool:
        """Can this event end a wait? `primary_deployment_id`: the newest deployment last seen."""
        if self.kind == "ECS Deployment State Change":
            return self.name not in QUIET_DEPLOYMENT_EVENTS
        if self.kind == "ECS Service Action":
            return self.name not in QUIET_SERVICE_ACTIONS
        # a task stopping: news only if it belongs to the newest deployment (or we cannot tell)
        return self.name == "STOPPED" and (
            primary_deployment_id is None or self.deployment_id in (None, primary_deployment_id)
        )


class Subscriber(Protocol):
    """What a feed calls: a poller of one cluster (see `corral.aws.poller.ServicePoller`)."""

    cluster: str

    def on_event(self, event: ServiceEvent) -> None: ...

    def on_feed_lost(self) -> None: ...


def _name(arn_or_name: str) -> str:
    return arn_or_name.rsplit("/", 1)[-1]


def parse(body: str, sent_at: float) -> ServiceEvent | None:
    """The service event in an SQS message body (an EventBridge event), or None if it is not one."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    if not isinstance(event, dict) or event.get("source") != "aws.ecs":
        return None
    kind, detail = event.get("detail-type"), event.get("detail") or {}
    resources = [r for r in event.get("resources") or [] if isinstance(r, str)]
    if kind == "ECS Task State Change":
        group = str(detail.get("group") or "")
        if not group.startswith("service:") or not detail.get("clusterArn"):
            return None
        started_by = str(detail.get("startedBy") or "")
        return ServiceEvent(
            cluster=_name(detail["clusterArn"]),
            service=group.split(":", 1)[1],
            kind=kind,
            name=str(detail.get("lastStatus") or ""),
            deployment_id=started_by if started_by.startswith("ecs-svc/") else None,
            sent_at=sent_at,
        )
    if kind not in DETAIL_TYPES:
        return None
    service_arn = next((r for r in resources if ":service/" in r), None)
    if service_arn is None:
        return None
    path = service_arn.split(":service/", 1)[1].split("/")
    if detail.get("clusterArn"):
        cluster = _name(detail["clusterArn"])
    elif len(path) == 2:  # the long ARN format names the cluster
        cluster = path[0]
    else:
        return None
    return ServiceEvent(
        cluster=cluster,
        service=path[-1],
        kind=kind,
        name=str(detail.get("eventName") or ""),
        deployment_id=detail.get("deploymentId"),
        sent_at=sent_at,
    )


class EcsEventFeed:
    """Reads one SQS queue of ECS events for the pollers that subscribed; see the module docstring."""

    _registry: dict[tuple[str, str], EcsEventFeed] = {}
    _registry_lock = threading.Lock()

    def __init__(self, clients: Clients, queue_url: str) -> None:
        self.queue_url = queue_url
        self.received = 0  # events read (for tests and benchmarks)
        self._clients = clients
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._thread: threading.Thread | None = None
        self._down = False  # optimistic until a receive fails: a lost feed makes pollers look at once

    @classmethod
    def for_queue(cls, clients: Clients, queue_url: str) -> EcsEventFeed:
        """The process's feed of this queue (one reader per queue)."""
        key = (clients.account_key(), queue_url)
        with cls._registry_lock:
            feed = cls._registry.get(key)
            if feed is None:
                feed = cls._registry[key] = cls(clients, queue_url)
            return feed

    @property
    def live(self) -> bool:
        """Whether events can be trusted to say when to look: no receive has failed since the
        last that succeeded. A new feed counts as live; if its first receive fails (at once, it
        does not wait), its subscribers are told and poll as usual."""
        return not self._down

    def subscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber not in self._subscribers:
                self._subscribers.append(subscriber)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="corral-ecs-events", daemon=True)
                self._thread.start()

    def unsubscribe(self, subscriber: Subscriber) -> None:
        with self._lock:
            if subscriber in self._subscribers:
                self._subscribers.remove(subscriber)

    def dispatch(self, events: Iterable[ServiceEvent]) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for event in events:
            for subscriber in subscribers:
                if subscriber.cluster == event.cluster:
                    subscriber.on_event(event)

    # ------------------------------------------------------------------ internals

    def _run(self) -> None:
        sqs = self._clients.client("sqs")
        wait = 0  # the first receive answers at once, so the feed is known to work (or not) early
        while True:
            with self._lock:
                if not self._subscribers:
                    self._thread = None
                    return
            try:
                with call_scope(deadline=time.monotonic() + WAIT_SECONDS + 15):
                    answer = sqs.receive_message(
                        QueueUrl=self.queue_url,
                        MaxNumberOfMessages=10,
                        WaitTimeSeconds=wait,
                        AttributeNames=["SentTimestamp"],
                    )
                    messages = answer.get("Messages", [])
                    if messages:
                        sqs.delete_message_batch(
                            QueueUrl=self.queue_url,
                            Entries=[
                                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]}
                                for i, m in enumerate(messages)
                            ],
                        )
            except Exception as exc:  # the pollers go back to polling until the queue answers again
                if not self._down:
                    log.warning("reading ECS events from %s failed; polling instead: %s", self.queue_url, exc)
                    self._down = True
                    with self._lock:
                        subscribers = list(self._subscribers)
                    for subscriber in subscribers:
                        subscriber.on_feed_lost()
                time.sleep(RETRY_SECONDS)
                continue
            self._down = False
            wait = WAIT_SECONDS
            events = []
            for message in messages:
                sent = float((message.get("Attributes") or {}).get("SentTimestamp", 0)) / 1000
                event = parse(message.get("Body", ""), sent or time.time())
                if event is not None:
                    events.append(event)
            self.received += len(events)
            self.dispatch(events)
