"""One shared poller per (account or endpoint, Region, cluster) for every step waiting on ECS.

Tools that poll each deployment on its own exhaust the account's ECS read buckets after a
handful of parallel deployments. Here every waiting step of the process shares one poller per
cluster, which describes all watched services together, 10 per DescribeServices call:

    poller = ServicePoller.for_cluster(clients, "prod")
    with poller.watch("web") as watch:
        service = watch.wait(lambda s: is_done(s, deployment_id), deadline=time.monotonic() + 1800,
                             abort=stop_event)

- `ServicePoller.for_cluster(clients, cluster)` returns the process's poller for that key
  (cluster by name or ARN). The first `Clients` given is used until the poller falls idle.
- `poller.watch(name_or_arn) -> Watch`; `watch.wait(predicate, *, deadline, abort)` blocks until
  `predicate(description)` is true and returns that description. It only looks at descriptions
  fetched after `wait` was called (so a description from before an UpdateService can never
  satisfy it), then at each change. It raises `TimeoutError` at the deadline (a
  `time.monotonic()` value), `corral.aws.retry.Aborted` when `abort` is set, and the AWS error
  when describing failed with a non-retryable error (e.g. ClusterNotFoundException).
  The predicate runs in the waiting thread; descriptions are shared between waiters (read-only).
- A service that DescribeServices reports in `failures` is described as `{"status": "MISSING"}`
  (plus `"reason"` if the reason is not MISSING); a deleted service is first INACTIVE, as in ECS.
- `watch.latest()` is the newest description (or None); `watch.close()` (or leaving the `with`)
  stops watching. A description "changes" when its status, counts, task definition,
  `deployments`, `taskSets` or newest event id change.

Interval policy (`PollPolicy`): one background thread per poller, alive only while something is
watched, runs *rounds* (one DescribeServices per 10 watched services). After a round that saw a
change the next comes after `fast` (0.5 s); each quiet round multiplies the interval by `growth`
(1.5) up to `slowest` (5 s): 0.5, 0.75, 1.1, 1.7, 2.5, 3.8, 5, 5, ... A new watch, a new `wait` and
`watch.hint_soon(seconds)` (a waiter that knows a change is due, e.g. a drain ending) bring the
next round forward; rounds never start less than `min_gap` (0.25 s) apart, so waiters arriving
together share one round. A round's calls are retried for `round_window` seconds (30); failures
that outlast that are logged and the next round tries again.

Forecasts: a waiter that knows its service cannot be done before some moment on ECS's clock (a
rolling deployment's tasks waiting out their 40 s; ecs/settle_forecast.py) says so with
`watch.expect(endpoint_time)`. The poller learns the endpoint's clock from the `Date` of each
DescribeServices answer (aws/ecs_clock.py: it errs early, never late) and, until that moment,
describes the service at most every `sparse` seconds (default `slowest`: a deployment that starts
failing meanwhile is seen as soon as without a forecast), once at the moment, then `fast` apart,
backing off by `after_forecast` (0.25) of the time since. A forecast may be a window
(`watch.expect(start, until=end)`: a load-balanced service settles anywhere between its tasks'
RUNNING and the end of the old targets' drain, which AWS says can end at once): `window_rounds`
(75) rounds evenly over it, no closer than `fast` nor further apart than `slowest`, then the
back-off from its end. Rounds describe every watched service, so the soonest need of any watch
decides. With a live event feed the events say when to look instead.

`TaskPoller` does the same for standalone tasks (Run Task): DescribeTasks, 100 tasks a call,
missing tasks described as `{"lastStatus": "MISSING"}`. `ServiceDeploymentPoller` does it for
service deployments (ECS's own strategies): DescribeServiceDeployments, 20 ARNs a call, its own
token bucket; an ARN ECS does not know is `{"status": "MISSING", "failure": <ECS's entry>}`.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, ClassVar, Self

from .budget import BudgetTimeout
from .ecs_clock import EcsClock
from .events import NUDGE_DELAY, SAFETY_INTERVAL, EcsEventFeed, ServiceEvent
from .pagination import (
    DESCRIBE_SERVICE_DEPLOYMENTS_CHUNK,
    DESCRIBE_SERVICES_CHUNK,
    DESCRIBE_TASKS_CHUNK,
    chunked,
)
from .retry import Aborted, call_scope, is_retryable_error

if TYPE_CHECKING:
    from .clients import Clients

log = logging.getLogger(__name__)

Description = dict[str, Any]
Predicate = Callable[[Description], bool]

ABORT_CHECK_SECONDS = 0.1  # how often a waiter with an abort event looks at it


@dataclass(frozen=True)
class PollPolicy:
    """How often a poller describes its cluster's watched resources (see the module docstring)."""

    fast: float = 0.5
    growth: float = 1.5
    slowest: float = 5.0
    min_gap: float = 0.25
    round_window: float = 30.0
    with_events: float = SAFETY_INTERVAL  # between rounds while an ECS event feed is live
    # most between rounds while a watch's forecast (Watch.expect) is ahead; None: `slowest`, what
    # a quiet round waits at most anyway, so a deployment that starts failing meanwhile is seen
    # as soon as without a forecast
    sparse: float | None = None
    # once a forecast moment has come, rounds `fast` apart, then this share of the time since it
    after_forecast: float = 0.25
    # a forecast window (Watch.expect's `until`: a load-balanced service's health checks and
    # drain, settle_forecast.py): this many rounds evenly over it, `fast` to `slowest` apart; the
    # share `after_forecast` of the time since its end after it
    window_rounds: int = 75


class _Entry:
    """What the poller knows about one watched identifier; shared by all watches of it."""

    def __init__(self, identifier: str, lock: threading.Lock) -> None:
        self.identifier = identifier
        self.description: Description | None = None
        self.signature: Any = None
        self.change_seq = 0  # bumped when the signature changes or an error is delivered
        self.fetched_at = -math.inf  # monotonic start of the round that last answered
        self.error: BaseException | None = None
        self.handles = 0
        self.eager_handles = 0  # watches that want a round at once (not content with events)
        self.since = time.time()  # wall clock: events sent before the watch began are old news
        self.forecast: float | None = None  # endpoint time before which nothing can settle (expect)
        self.forecast_came: float | None = None  # local moment the first round at or after it began
        self.forecast_until: float | None = None  # endpoint time the forecast window ends (expect)
        self.fetched_at_endpoint: float | None = None  # the endpoint's clock when `description` came
        # ... when the last description before it (of another signature) was fetched, the last time
        self.previous_fetched_at_endpoint: float | None = None
        self.changed = threading.Condition(lock)


class Watch:
    """A handle on one watched service or task of a poller (`ServiceWatch`, `TaskWatch`)."""

    def __init__(self, poller: ClusterPoller, entry: _Entry, *, lazy: bool = False) -> None:
        self._poller = poller
        self._entry = entry
        self._lazy = lazy
        self._closed = False

    @property
    def identifier(self) -> str:
        return self._entry.identifier

    def wait(
        self,
        predicate: Predicate,
        *,
        deadline: float | None = None,
        abort: threading.Event | None = None,
        lazy: bool = False,
        first_after: float = 0.0,
    ) -> Description:
        """Block until `predicate(description)` holds for a description fetched after this call.

        `lazy`: with a live event feed, the first round waits for an event (or the safety
        interval) instead of coming at once; without one it makes no difference.
        `first_after`: the first round for this wait comes no sooner than this many seconds (the
        waiter has just read the resource some other way, e.g. in UpdateService's answer)."""
        started = time.monotonic()
        self._poller._request_round(started + max(first_after, self._poller._first_round_delay(lazy)))
        seen = -1
        entry = self._entry
        while True:
            with entry.changed:
                while not (entry.fetched_at >= started and entry.change_seq != seen):
                    entry.changed.wait(self._wait_slice(deadline, abort))
                seen = entry.change_seq
                error, description = entry.error, entry.description
            if error is not None:
                raise error
            assert description is not None
            if predicate(description):
                return description

    def _wait_slice(self, deadline: float | None, abort: threading.Event | None) -> float | None:
        """How long to sleep before looking again; raises when closed, aborted or out of time."""
        if self._closed:
            raise RuntimeError(f"the watch of {self.identifier} was closed")
        if abort is not None and abort.is_set():
            raise Aborted(f"aborted while waiting for {self._poller.kind} {self.identifier}")
        timeout = None
        if deadline is not None:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                raise TimeoutError(
                    f"{self._poller.kind} {self.identifier} in cluster {self._poller.cluster}: "
                    f"the condition was not met before the deadline (last seen: {self._summary()})"
                )
        if abort is not None:
            timeout = ABORT_CHECK_SECONDS if timeout is None else min(timeout, ABORT_CHECK_SECONDS)
        return timeout

    def _summary(self) -> str:
        description = self._entry.description
        if description is None:
            return "nothing yet"
        keys = ("status", "lastStatus", "desiredCount", "runningCount", "pendingCount")
        return ", ".join(f"{k}={description[k]}" for k in keys if k in description)

    def latest(self) -> Description | None:
        """The newest description fetched (any age), or None before the first answer."""
        with self._entry.changed:
            return self._entry.description

    def expect(self, endpoint_time: float | None, *, until: float | None = None) -> None:
        """The waiter knows its condition cannot hold before `endpoint_time` (epoch seconds on the
        endpoint's clock, the clock of ECS's timestamps; see settle_forecast.py): until then a
        round for it every `PollPolicy.sparse` seconds, one at that moment, then rounds `fast`
        apart, backing off with the time since. `until`: it will most likely hold by then (a
        window it may hold anywhere in): `PollPolicy.window_rounds` rounds evenly over the
        window, backing off after it. None: the normal interval again."""
        with self._poller._lock:
            if endpoint_time != self._entry.forecast:
                self._entry.forecast, self._entry.forecast_came = endpoint_time, None
            self._entry.forecast_until = until if endpoint_time is not None else None
            self._poller._wakeup.notify()

    def endpoint_times(self, description: Description) -> tuple[float | None, float | None]:
        """At least what the endpoint's clock read (to the second, from `Date`) when the service
        was last described as it was before `description`, and when `description` came; (None,
        None) if `description` is no longer the newest or the endpoint sends no Date."""
        with self._entry.changed:
            if self._entry.description is description:
                return self._entry.previous_fetched_at_endpoint, self._entry.fetched_at_endpoint
        return None, None

    @property
    def clock(self) -> EcsClock:
        return self._poller.clock

    def hint_soon(self, seconds: float) -> None:
        """Ask for a round within `seconds` (a change is due then); rounds stay `min_gap` apart."""
        self._poller._request_round(time.monotonic() + max(0.0, seconds))

    def close(self) -> None:
        """Stop watching; the poller's thread ends when nothing is watched any more."""
        if not self._closed:
            self._closed = True
            self._poller._release(self._entry, lazy=self._lazy)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


ServiceWatch = Watch
TaskWatch = Watch

_registry: dict[tuple[type, str, str, str], ClusterPoller] = {}
_registry_lock = threading.Lock()


class ClusterPoller:
    """Shared machinery of `ServicePoller` and `TaskPoller`: the registry, rounds and watches."""

    kind: ClassVar[str] = "resource"
    chunk_size: ClassVar[int] = 10
    uses_events: ClassVar[bool] = False  # whether an ECS event feed can tell it when to look

    def __init__(self, clients: Clients, cluster: str, *, policy: PollPolicy | None = None) -> None:
        self.cluster = cluster_name(cluster)
        self.policy = policy or PollPolicy()
        self.rounds = 0  # rounds run (each costs one describe call per chunk of watched resources)
        self.calls = 0  # describe calls made (a call's retries, if any, not counted)
        self._clients = clients
        self._lock = threading.Lock()
        self._wakeup = threading.Condition(self._lock)
        self._entries: dict[str, _Entry] = {}
        self._thread: threading.Thread | None = None
        self._interval = self.policy.fast
        self._next_round = math.inf  # the soonest round asked for (a watch, a wait, a hint, an event)
        self._last_round = -math.inf
        self._round_ended = math.inf  # none yet: until the first round, only requests count
        self._quiet_interval = self.policy.fast  # after the last round, by the interval policy
        self.clock = EcsClock()  # the endpoint's clock, from the Date of each describe answer
        self._feed: EcsEventFeed | None = None

    @classmethod
    def for_cluster(cls, clients: Clients, cluster: str, *, policy: PollPolicy | None = None) -> Self:
        """The process's poller for (clients' account or endpoint, Region, cluster).

        `policy` applies when this call creates the poller; an existing poller keeps its own.
        """
        key = (cls, clients.account_key(), clients.region, cluster_name(cluster))
        with _registry_lock:
            poller = _registry.get(key)
            if poller is None:
                poller = _registry[key] = cls(clients, cluster, policy=policy)
        assert isinstance(poller, cls)
        with poller._lock:
            if not poller._entries:
                poller._clients = clients  # an idle poller takes the newest credentials
            queue = clients.settings.ecs_events_queue_url
            if queue and cls.uses_events and (poller._feed is None or poller._feed.queue_url != queue):
                if poller._feed is not None:
                    poller._feed.unsubscribe(poller)
                poller._feed = EcsEventFeed.for_queue(clients, queue)
                if poller._thread is not None:
                    poller._feed.subscribe(poller)
        return poller

    @property
    def feed(self) -> EcsEventFeed | None:
        """The ECS event feed that tells this poller when to look, if its connector has one."""
        return self._feed

    def _events_live(self) -> bool:
        return self._feed is not None and self._feed.live

    def _first_round_delay(self, lazy: bool) -> float:
        return self.policy.with_events if lazy and self._events_live() else 0.0

    def on_event(self, event: ServiceEvent) -> None:
        """An ECS event about a service of this cluster (called by the feed's thread)."""
        with self._lock:
            for entry in self._entries.values():
                if _name(entry.identifier) != event.service or event.sent_at < entry.since - 1:
                    continue
                if event.decides(_primary_id(entry.description)):
                    self._schedule(time.monotonic() + NUDGE_DELAY)

    def on_feed_lost(self) -> None:
        """The feed stopped answering: poll at the normal interval from now on."""
        with self._lock:
            self._interval = self.policy.fast
            self._schedule(time.monotonic())

    def watch(self, identifier: str, *, lazy: bool = False, first_after: float = 0.0) -> Watch:
        """Start watching a service (or task) by name, id or ARN.

        `lazy`: content with rounds that ECS events ask for while the event feed is live (see
        `corral.aws.events`); an eager watch keeps the normal interval for the whole poller.
        `first_after`: no round for this watch sooner than this many seconds (see `Watch.wait`)."""
        with self._lock:
            entry = self._entries.get(identifier)
            if entry is None:
                entry = self._entries[identifier] = _Entry(identifier, self._lock)
            entry.handles += 1
            entry.eager_handles += not lazy
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"corral-{self.kind}-poller-{self.cluster}", daemon=True
                )
                self._thread.start()
                if self._feed is not None:
                    self._feed.subscribe(self)
            self._schedule(time.monotonic() + max(first_after, self._first_round_delay(lazy)))
        return Watch(self, entry, lazy=lazy)

    @property
    def polling(self) -> bool:
        """Whether the background thread is running (it is while anything is watched)."""
        with self._lock:
            return self._thread is not None

    @property
    def interval(self) -> float:
        """The current quiet-round interval in seconds."""
        return self._interval

    def watched(self) -> list[str]:
        with self._lock:
            return sorted(self._entries)

    # ------------------------------------------------------------------ subclass parts

    def _describe(self, identifiers: list[str]) -> dict[str, Description]:
        raise NotImplementedError

    def _signature(self, description: Description) -> Any:
        raise NotImplementedError

    # ------------------------------------------------------------------ internals

    def _schedule(self, at: float) -> None:
        """Bring the next round forward to `at` (caller holds the lock)."""
        if at < self._next_round:
            self._next_round = at
            self._wakeup.notify()

    def _request_round(self, at: float) -> None:
        with self._lock:
            self._schedule(at)

    def _release(self, entry: _Entry, *, lazy: bool = False) -> None:
        with self._lock:
            entry.handles -= 1
            entry.eager_handles -= not lazy
            if entry.handles <= 0 and self._entries.get(entry.identifier) is entry:
                del self._entries[entry.identifier]
            entry.changed.notify_all()
            self._wakeup.notify()

    def _run(self) -> None:
        try:
            self._loop()
        except BaseException:
            # a bug must not leave waiters hanging behind a dead thread: the next watch starts anew
            log.exception("the %s poller of cluster %s stopped", self.kind, self.cluster)
            with self._lock:
                self._thread = None
                if self._feed is not None:
                    self._feed.unsubscribe(self)
            raise

    def _loop(self) -> None:
        while True:
            with self._lock:
                while True:
                    if not self._entries:
                        self._thread = None
                        self._round_ended = math.inf  # a poller that starts again starts afresh
                        if self._feed is not None:  # under the lock: a new watch re-subscribes after
                            self._feed.unsubscribe(self)
                        return
                    start_at = max(self._due(), self._last_round + self.policy.min_gap)
                    delay = start_at - time.monotonic()
                    if delay <= 0:
                        break
                    self._wakeup.wait(delay)
                identifiers = sorted(self._entries)
                self._next_round = math.inf  # requests made during the round schedule the next
                started = self._last_round = time.monotonic()
            changed = self._round(identifiers, started)
            with self._lock:
                self.rounds += 1
                policy = self.policy
                self._interval = (
                    policy.fast if changed else min(self._interval * policy.growth, policy.slowest)
                )
                interval = self._interval
                if self._events_live() and not any(e.eager_handles for e in self._entries.values()):
                    interval = (
                        policy.with_events
                    )  # events say when to look; this round is in case one is lost
                self._quiet_interval = interval
                self._round_ended = time.monotonic()
                self._wakeup.notify()

    def _due(self) -> float:
        """When the next round should start (caller holds the lock): the soonest asked for, or
        the soonest any watched entry needs by the interval policy and its forecast."""
        end, policy = self._round_ended, self.policy
        sparse = policy.slowest if policy.sparse is None else policy.sparse
        due = self._next_round
        if end == math.inf:
            return due
        forecasts = not self._events_live()  # with events, they say when to look: no dense rounds
        for entry in self._entries.values():
            at = None
            if forecasts and entry.forecast is not None:
                at = self.clock.earliest_local(entry.forecast)
            if at is None:
                wanted = end + self._quiet_interval
            elif entry.forecast_came is None and at > end + policy.fast:
                wanted = min(at, end + max(self._quiet_interval, sparse))
            else:  # the forecast moment has come: dense, backing off with the time since it
                if entry.forecast_came is None:
                    entry.forecast_came = min(at, end)
                since = end - entry.forecast_came
                until = None
                if entry.forecast_until is not None:
                    until = self.clock.earliest_local(entry.forecast_until)
                if until is not None and end < until:  # inside the window: evenly over it
                    step = (until - at) / max(1, policy.window_rounds)
                    wanted = end + min(policy.slowest, max(policy.fast, step))
                else:
                    if until is not None:
                        since = end - until
                    wanted = end + min(policy.slowest, max(policy.fast, since * policy.after_forecast))
            due = min(due, wanted)
        return due

    def _round(self, identifiers: list[str], started: float) -> bool:
        changed = False
        for chunk in chunked(identifiers, self.chunk_size):
            self.calls += 1
            error: Exception | None = None
            try:
                with call_scope(deadline=started + self.policy.round_window):
                    answers = self._describe(chunk)
            except Exception as exc:
                if is_retryable_error(exc) or isinstance(exc, BudgetTimeout):
                    log.warning(
                        "describing %s in cluster %s failed, trying again: %s", chunk, self.cluster, exc
                    )
                    continue
                log.debug("describing %s in cluster %s failed", chunk, self.cluster, exc_info=True)
                answers, error = {}, exc
            with self._lock:
                for identifier in chunk:
                    entry = self._entries.get(identifier)
                    if entry is not None:
                        changed |= self._deliver(
                            entry, answers.get(identifier), error, started, self.clock.now_at_least()
                        )
        return changed

    def _deliver(
        self,
        entry: _Entry,
        description: Description | None,
        error: BaseException | None,
        started: float,
        endpoint_time: float | None = None,
    ) -> bool:
        """Record one answer for an entry (caller holds the lock); True if it changed."""
        changed = False
        if error is not None:
            entry.error = error
            entry.change_seq += 1
        elif description is not None:
            signature = self._signature(description)
            changed = entry.description is None or entry.error is not None or signature != entry.signature
            entry.error = None
            entry.description, entry.signature = description, signature
            if changed:
                entry.previous_fetched_at_endpoint = entry.fetched_at_endpoint
            entry.fetched_at_endpoint = endpoint_time
            if changed:
                entry.change_seq += 1
        else:
            return False  # neither described nor reported missing: ask again next round
        entry.fetched_at = started
        entry.changed.notify_all()
        return changed


class ServicePoller(ClusterPoller):
    """Batches DescribeServices (10 a call) for every service watched on one cluster."""

    kind = "service"
    uses_events = True
    chunk_size = DESCRIBE_SERVICES_CHUNK

    def _describe(self, identifiers: list[str]) -> dict[str, Description]:
        sent = time.monotonic()
        answer = self._clients.ecs.describe_services(cluster=self.cluster, services=identifiers)
        headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        self.clock.observe(sent, time.monotonic(), headers.get("date"))
        found: dict[str, Description] = {}
        for service in answer.get("services", []):
            for identifier in identifiers:
                if identifier in (service.get("serviceName"), service.get("serviceArn")):
                    found[identifier] = service
        for failure in answer.get("failures", []):
            for identifier in _failed(identifiers, failure, found):
                found[identifier] = _missing("status", failure)
        return found

    def _signature(self, description: Description) -> Any:
        events = description.get("events") or [{}]
        return (
            description.get("status"),
            description.get("desiredCount"),
            description.get("runningCount"),
            description.get("pendingCount"),
            description.get("taskDefinition"),
            description.get("deployments"),
            description.get("taskSets"),
            events[0].get("id"),
        )


class TaskPoller(ClusterPoller):
    """Batches DescribeTasks (100 a call) for every standalone task watched on one cluster."""

    kind = "task"
    chunk_size = DESCRIBE_TASKS_CHUNK

    def _describe(self, identifiers: list[str]) -> dict[str, Description]:
        answer = self._clients.ecs.describe_tasks(cluster=self.cluster, tasks=identifiers)
        found: dict[str, Description] = {}
        for task in answer.get("tasks", []):
            arn = task.get("taskArn", "")
            for identifier in identifiers:
                if identifier == arn or arn.endswith("/" + identifier):
                    found[identifier] = task
        for failure in answer.get("failures", []):
            for identifier in _failed(identifiers, failure, found):
                found[identifier] = _missing("lastStatus", failure)
        return found

    def _signature(self, description: Description) -> Any:
        containers = tuple(
            (c.get("name"), c.get("lastStatus"), c.get("healthStatus"), c.get("exitCode"), c.get("reason"))
            for c in description.get("containers", [])
        )
        return (
            description.get("lastStatus"),
            description.get("desiredStatus"),
            description.get("healthStatus"),
            description.get("stopCode"),
            description.get("stoppedReason"),
            description.get("version"),
            containers,
        )


class ServiceDeploymentPoller(ClusterPoller):
    """Batches DescribeServiceDeployments (20 ARNs a call, ECS's limit) for every service deployment
    watched on one cluster; ECS gives this API its own token bucket (`ecs_limits`)."""

    kind = "service deployment"
    chunk_size = DESCRIBE_SERVICE_DEPLOYMENTS_CHUNK

    def _describe(self, identifiers: list[str]) -> dict[str, Description]:
        answer = self._clients.ecs.describe_service_deployments(serviceDeploymentArns=identifiers)
        found: dict[str, Description] = {}
        for deployment in answer.get("serviceDeployments", []):
            if deployment.get("serviceDeploymentArn") in identifiers:
                found[deployment["serviceDeploymentArn"]] = deployment
        for failure in answer.get("failures", []):
            for identifier in _failed(identifiers, failure, found):
                found[identifier] = _missing("status", failure) | {"failure": failure}
        return found

    def _signature(self, description: Description) -> Any:
        # everything a waiter reports as it changes; `updatedAt` alone is no news
        return {k: v for k, v in description.items() if k != "updatedAt"}


def cluster_name(cluster: str | None) -> str:
    """A cluster's name from its name or ARN (`arn:aws:ecs:...:cluster/NAME`); None is "default"."""
    if not cluster:
        return "default"
    return cluster.rsplit("/", 1)[-1] if cluster.startswith("arn:") else cluster


def _name(identifier: str) -> str:
    return identifier.rsplit("/", 1)[-1]


def _primary_id(description: Description | None) -> str | None:
    for deployment in (description or {}).get("deployments") or []:
        if deployment.get("status") == "PRIMARY":
            return str(deployment.get("id")) if deployment.get("id") else None
    return None


def _failed(identifiers: list[str], failure: dict[str, Any], found: dict[str, Description]) -> list[str]:
    """The identifiers a DescribeServices/DescribeTasks failure entry is about."""
    arn = failure.get("arn", "")
    return [i for i in identifiers if i not in found and (arn == i or arn.endswith("/" + i))]


def _missing(status_key: str, failure: dict[str, Any]) -> Description:
    reason = failure.get("reason", "MISSING")
    return {status_key: "MISSING"} if reason == "MISSING" else {status_key: "MISSING", "reason": reason}
