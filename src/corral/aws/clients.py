"""botocore clients made from a connector's settings, with Corral's retry and rate budget built in.

    settings = AwsSettings(region="eu-west-1", role_arn="arn:aws:iam::111122223333:role/deployer",
                           external_id="corral")
    clients = Clients.shared(settings)          # one per settings in the process
    with call_scope(deadline=time.monotonic() + 600):
        clients.ecs.update_service(cluster="prod", service="web", taskDefinition=arn)

- One botocore session per `Clients` (all sessions share one loader of botocore's service
  models, parsed once per process); clients are created on first use and cached (creating
  clients from one session is not thread-safe, so it happens under a lock; the clients themselves
  are safe to share between threads).
- Credentials: explicit keys (`access_key_id`, `secret_access_key`, `session_token`), else the
  named `profile`, else botocore's default chain (environment, shared files, SSO, container and
  instance roles). With `role_arn`, those are the source credentials for STS AssumeRole (with
  `external_id`, `role_session_name`); the assumed credentials refresh themselves before expiry.
- Endpoint: `endpoint_url` for every service when set (the sandbox); otherwise botocore's own
  resolution, which honours `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_<SERVICE>`.
- botocore's retries are off (`total_max_attempts=1`; note `max_attempts=1` would still mean one
  retry); `corral.aws.retry` retries throttling, 5xx and connection errors within the caller's
  deadline. Every ECS client draws from the process-wide `corral.aws.budget.RateBudget`; every
  client's attempts are counted in `corral.aws.budget.CALLS`.

botocore is imported on first use, so importing this module is cheap.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from typing import Any

from . import retry
from .budget import CALLS, RateBudget, default_budget

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
MAX_POOL_CONNECTIONS = 100  # per client: many deployments share one client from their own threads
USER_AGENT_EXTRA = "corral"


@dataclass(frozen=True)
class AwsSettings:
    """How to reach one AWS account and Region (what a connector resolves to)."""

    region: str
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    profile: str | None = None
    role_arn: str | None = None
    external_id: str | None = field(default=None, repr=False)
    role_session_name: str = "corral"
    # an SQS queue that an EventBridge rule fills with this Region's ECS events (corral.aws.events)
    ecs_events_queue_url: str | None = None


class Clients:
    """Lazily created, cached botocore clients for one `AwsSettings`; thread-safe."""

    _shared: dict[AwsSettings, Clients] = {}
    _shared_lock = threading.Lock()

    def __init__(self, settings: AwsSettings, *, budget: RateBudget | None = None) -> None:
        self.settings = settings
        self.budget = budget or default_budget()
        self._lock = threading.RLock()
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._account_id: str | None = None

    @classmethod
    def shared(cls, settings: AwsSettings) -> Clients:
        """The process-wide `Clients` for these settings (one session and connection pool each)."""
        with cls._shared_lock:
            found = cls._shared.get(settings)
            if found is None:
                found = cls._shared[settings] = cls(settings)
            return found

    @property
    def region(self) -> str:
        return self.settings.region

    def client(self, name: str) -> Any:
        """The botocore client for a service (botocore's name: "ecs", "application-autoscaling")."""
        found = self._clients.get(name)
        if found is not None:
            return found
        with self._lock:
            found = self._clients.get(name)
            if found is None:
                found = self._clients[name] = self._create(name)
            return found

    @property
    def ecs(self) -> Any:
        return self.client("ecs")

    @property
    def elbv2(self) -> Any:
        return self.client("elbv2")

    @property
    def autoscaling(self) -> Any:
        """Application Auto Scaling (not EC2 Auto Scaling)."""
        return self.client("application-autoscaling")

    @property
    def servicediscovery(self) -> Any:
        return self.client("servicediscovery")

    @property
    def sts(self) -> Any:
        return self.client("sts")

    @property
    def s3(self) -> Any:
        return self.client("s3")

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    @property
    def cloudwatch(self) -> Any:
        return self.client("cloudwatch")

    @property
    def logs(self) -> Any:
        return self.client("logs")

    @property
    def ecr(self) -> Any:
        return self.client("ecr")

    def account_id(self) -> str:
        """The account these credentials act in (STS GetCallerIdentity, asked once)."""
        if self._account_id is None:
            identity = self.sts.get_caller_identity()
            with self._lock:
                self._account_id = identity["Account"]
        return self._account_id

    def account_key(self) -> str:
        """What the account's API limits are keyed by: the endpoint URL if set, else the account id.

        Used by the rate budget and the shared pollers; asks STS only without an endpoint URL.
        """
        return self.settings.endpoint_url or self.account_id()

    # ------------------------------------------------------------------ internals

    def _create(self, name: str) -> Any:
        session = self._botocore_session()
        client = session.create_client(
            name,
            region_name=self.settings.region,
            endpoint_url=self.settings.endpoint_url,
            config=self._config(local=self.settings.endpoint_url is not None),
        )
        retry.install(client)
        CALLS.install(client)
        if name == "ecs":
            self.budget.install(client, scope=self.account_key, region=self.settings.region)
        return client

    def _botocore_session(self) -> Any:
        if self._session is None:
            import botocore.session

            settings = self.settings
            session = botocore.session.Session(profile=settings.profile)
            session.register_component("data_loader", shared_loader())
            if settings.access_key_id or settings.secret_access_key:
                session.set_credentials(
                    settings.access_key_id, settings.secret_access_key, settings.session_token
                )
            if settings.role_arn:
                session = self._assumed_role_session(session)
            self._session = session
        return self._session

    def _assumed_role_session(self, source: Any) -> Any:
        """A session whose credentials come from AssumeRole with the source session's credentials."""
        import botocore.session
        from botocore.credentials import (
            AssumeRoleCredentialFetcher,
            CredentialProvider,
            CredentialResolver,
            DeferredRefreshableCredentials,
        )

        settings = self.settings
        extra_args: dict[str, Any] = {"RoleSessionName": settings.role_session_name}
        if settings.external_id:
            extra_args["ExternalId"] = settings.external_id

        def sts_client(service: str, **kwargs: Any) -> Any:
            client = source.create_client(
                service,
                region_name=settings.region,
                endpoint_url=settings.endpoint_url,
                config=self._config(),
                **kwargs,
            )
            retry.install(client)
            CALLS.install(client)
            return client

        fetcher = AssumeRoleCredentialFetcher(
            client_creator=sts_client,
            source_credentials=source.get_credentials(),
            role_arn=settings.role_arn,
            extra_args=extra_args,
        )
        credentials = DeferredRefreshableCredentials(
            refresh_using=fetcher.fetch_credentials, method="assume-role"
        )

        class AssumedRole(CredentialProvider):  # type: ignore[misc]
            METHOD = CANONICAL_NAME = "corral-assume-role"

            def load(self) -> Any:
                return credentials

        session = botocore.session.Session()
        session.register_component("data_loader", shared_loader())
        session.register_component("credential_provider", CredentialResolver([AssumedRole()]))
        return session

    @staticmethod
    def _config(*, local: bool = False) -> Any:
        from botocore.config import Config

        # With a custom endpoint (a sandbox, a proxy) botocore must not prefix the host name:
        # Cloud Map's DiscoverInstances would go to data-<host>, which does not resolve.
        return Config(
            inject_host_prefix=not local,
            retries={"mode": "standard", "total_max_attempts": 1},
            connect_timeout=CONNECT_TIMEOUT,
            read_timeout=READ_TIMEOUT,
            max_pool_connections=MAX_POOL_CONNECTIONS,
            user_agent_extra=USER_AGENT_EXTRA,
        )


@functools.cache
def shared_loader() -> Any:
    """One botocore data loader for the process: it caches the parsed service models, which
    makes a new session's first client several times cheaper."""
    from botocore.loaders import create_loader

    return create_loader()
