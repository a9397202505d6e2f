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
- Credentials: explicit keys (`access_key_id`, `secret_access_key`, `session_token`), else a web
  identity (`web_identity_role_arn` with a token read from `web_identity_token_file` or the
  environment variable `web_identity_token_env` each time credentials are fetched: STS
  AssumeRoleWithWebIdentity, as botocore does for EKS's IRSA), else the named `profile`, else
  botocore's default chain (environment, shared files, SSO, container and instance roles). With
  `role_arn`, those are the source credentials for STS AssumeRole (with `external_id`,
  `role_session_name`). Temporary credentials refresh themselves before expiry; STS is asked at
  `endpoint_url` too.
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
import os
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
    # web identity (Irsa, OidcAuthentication): the role and where its token is read from
    web_identity_role_arn: str | None = None
    web_identity_token_file: str | None = None
    web_identity_token_env: str | None = None
    # who these settings are for, in credential errors ("aws.yaml:1: connector 'deploy'")
    source: str = ""
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
            self._session = botocore_session(self.settings)
        return self._session

    @staticmethod
    def _config(*, local: bool = False) -> Any:
        return client_config(local=local)


def client_config(*, local: bool = False) -> Any:
    """The botocore Config of Corral's clients."""
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


def botocore_session(settings: AwsSettings) -> Any:
    """A botocore session with the credentials the settings describe (see the module docstring)."""
    import botocore.session

    session = botocore.session.Session(profile=None if settings.web_identity_role_arn else settings.profile)
    session.register_component("data_loader", shared_loader())
    if settings.access_key_id or settings.secret_access_key:
        # a connector gives both (ManualConfig); "" only when code gave one alone
        access_key, secret_key = settings.access_key_id or "", settings.secret_access_key or ""
        session.set_credentials(access_key, secret_key, settings.session_token)
    elif settings.web_identity_role_arn:
        session = _web_identity_session(settings, session, settings.web_identity_role_arn)
    if settings.role_arn:
        session = _assumed_role_session(settings, session, settings.role_arn)
    return session


def _sts_client_creator(settings: AwsSettings, source: Any) -> Any:
    """What botocore's credential fetchers call to make their STS client: at the settings'
    endpoint and Region, with Corral's retries (and the fetcher's own config, e.g. unsigned)."""

    def create(service: str, **kwargs: Any) -> Any:
        config = client_config(local=settings.endpoint_url is not None)
        extra = kwargs.pop("config", None)
        client = source.create_client(
            service,
            region_name=settings.region,
            endpoint_url=settings.endpoint_url,
            config=config.merge(extra) if extra is not None else config,
            **kwargs,
        )
        retry.install(client)
        CALLS.install(client)
        return client

    return create


def _web_identity_session(settings: AwsSettings, source: Any, role: str) -> Any:
    """A session whose credentials come from AssumeRoleWithWebIdentity (botocore's fetcher)."""
    from botocore.credentials import AssumeRoleWithWebIdentityCredentialFetcher

    fetcher = AssumeRoleWithWebIdentityCredentialFetcher(
        client_creator=_sts_client_creator(settings, source),
        web_identity_token_loader=WebIdentityToken(
            file=settings.web_identity_token_file, env=settings.web_identity_token_env
        ),
        role_arn=role,
        extra_args={"RoleSessionName": settings.role_session_name},
    )
    fetch = _explained(fetcher.fetch_credentials, settings, f"AssumeRoleWithWebIdentity of {role}")
    return _session_with(fetch, method="assume-role-with-web-identity")


def _assumed_role_session(settings: AwsSettings, source: Any, role: str) -> Any:
    """A session whose credentials come from AssumeRole with the source session's credentials."""
    from botocore.credentials import AssumeRoleCredentialFetcher

    extra_args: dict[str, Any] = {"RoleSessionName": settings.role_session_name}
    if settings.external_id:
        extra_args["ExternalId"] = settings.external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=_sts_client_creator(settings, source),
        source_credentials=source.get_credentials(),
        role_arn=role,
        extra_args=extra_args,
    )
    fetch = _explained(fetcher.fetch_credentials, settings, f"AssumeRole of {role}")
    return _session_with(fetch, method="assume-role")


def _explained(fetch: Any, settings: AwsSettings, what: str) -> Any:
    """fetch, whose failures say which connector (settings.source) and which STS call failed."""
    from botocore.exceptions import BotoCoreError, ClientError, CredentialRetrievalError

    def fetch_explained() -> Any:
        try:
            return fetch()
        except (BotoCoreError, ClientError) as error:
            who = f"{settings.source}: " if settings.source else ""
            raise CredentialRetrievalError(
                provider="STS", error_msg=f"{who}{what} failed: {error}"
            ) from error

    return fetch_explained


def _session_with(fetch: Any, *, method: str) -> Any:
    """A session whose only credentials are those `fetch` returns (refreshed before expiry)."""
    import botocore.session
    from botocore.credentials import CredentialProvider, CredentialResolver, DeferredRefreshableCredentials

    credentials = DeferredRefreshableCredentials(refresh_using=fetch, method=method)

    class Fetched(CredentialProvider):
        METHOD = CANONICAL_NAME = f"corral-{method}"

        def load(self) -> Any:
            return credentials

    session = botocore.session.Session()
    session.register_component("data_loader", shared_loader())
    session.register_component("credential_provider", CredentialResolver([Fetched()]))
    return session


@dataclass(frozen=True)
class WebIdentityToken:
    """Reads a web identity token (a JWT) each time credentials are fetched: tokens expire and are
    rotated (EKS rewrites the projected token file), so it is never kept."""

    file: str | None = None
    env: str | None = None

    def __call__(self) -> str:
        from botocore.exceptions import CredentialRetrievalError

        if self.env:
            token = os.environ.get(self.env, "").strip()
            if not token:
                raise CredentialRetrievalError(
                    provider="web identity", error_msg=f"environment variable {self.env} is not set"
                )
            return token
        try:
            with open(self.file or "", encoding="utf-8") as token_file:
                return token_file.read().strip()
        except OSError as error:
            raise CredentialRetrievalError(
                provider="web identity", error_msg=f"cannot read token file {self.file}: {error.strerror}"
            ) from None


@functools.cache
def shared_loader() -> Any:
    """One botocore data loader for the process: it caches the parsed service models, which
    makes a new session's first client several times cheaper."""
    from botocore.loaders import create_loader

    return create_loader()
