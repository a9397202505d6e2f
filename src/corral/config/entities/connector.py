"""`connector:` documents: how to reach AWS, a Docker registry or a Git server.

Credentials are never written here: `...Ref` fields name `secret:` entities.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from .common import Entity, Model, field_error

# ---- AWS ----


class ManualConfigSpec(Model):
    access_key: str | None = None
    access_key_ref: str | None = None
    secret_key_ref: str
    session_token_ref: str | None = None  # temporary credentials: the session token's secret

    @model_validator(mode="after")
    def _one_access_key(self) -> ManualConfigSpec:
        if (self.access_key is None) == (self.access_key_ref is None):
            raise field_error("accessKey", "give either accessKey or accessKeyRef (a secret), exactly one")
        return self


class CrossAccountAccess(Model):
    cross_account_role_arn: str
    external_id: str | None = None


class ManualConfigCredential(Model):
    type: Literal["ManualConfig"]
    spec: ManualConfigSpec
    region: str | None = None
    cross_account_access: CrossAccountAccess | None = None


class InheritFromDelegateCredential(Model):
    """The default credential chain of wherever the step runs (env, profile, instance role)."""

    type: Literal["InheritFromDelegate"]
    spec: dict[str, Any] | None = None
    region: str | None = None
    cross_account_access: CrossAccountAccess | None = None


class IrsaSpec(Model):
    # older Harness releases kept the delegate selectors here (AwsIRSASpecDTO)
    delegate_selectors: list[str] = Field(default_factory=list)


class IrsaCredential(Model):
    """IAM Roles for Service Accounts: the web identity of the pod (process) that runs the step,
    from AWS_ROLE_ARN and AWS_WEB_IDENTITY_TOKEN_FILE (set by EKS for an annotated service account).
    The role comes from the pod, never from the connector."""

    type: Literal["Irsa"]
    spec: IrsaSpec | None = None
    region: str | None = None
    cross_account_access: CrossAccountAccess | None = None


class OidcSpec(Model):
    iam_role_arn: str
    # Corral extensions: Harness mints the OIDC token itself; Corral reads one (a JWT) from a
    # file or an environment variable of the process that runs the step, at each credential refresh
    web_identity_token_file: str | None = None
    web_identity_token_env: str | None = None

    @model_validator(mode="after")
    def _one_token_source(self) -> OidcSpec:
        if self.web_identity_token_file is not None and self.web_identity_token_env is not None:
            raise field_error(
                "webIdentityTokenEnv", "give webIdentityTokenFile or webIdentityTokenEnv, not both"
            )
        return self


class OidcCredential(Model):
    """AssumeRoleWithWebIdentity of `spec.iamRoleArn` with an OIDC token."""

    type: Literal["OidcAuthentication"]
    spec: OidcSpec
    region: str | None = None
    cross_account_access: CrossAccountAccess | None = None


AwsCredential = Annotated[
    ManualConfigCredential | InheritFromDelegateCredential | IrsaCredential | OidcCredential,
    Field(discriminator="type"),
]


class AwsConnectorSpec(Model):
    credential: AwsCredential
    # Corral extension: talk to another endpoint (the sandbox) instead of AWS
    endpoint_url: str | None = None
    execute_on_delegate: bool | None = None
    delegate_selectors: list[str] = Field(default_factory=list)
    aws_sdk_client_back_off_strategy_override: dict[str, Any] | None = None
    # Corral extension: Region -> URL of an SQS queue an EventBridge rule fills with that Region's
    # ECS events (`corral connector ecs-events`); steps then notice a finished deployment from events
    ecs_event_queues: dict[str, str] = Field(default_factory=dict)
    # Harness's own machinery: whether it tests the connector when saving it, and whether its
    # calls go through a proxy it configures (Corral's go through the process's HTTPS_PROXY)
    ignore_test_connection: bool | None = None
    proxy: bool | None = None


class AwsConnector(Entity):
    type: Literal["Aws"]
    spec: AwsConnectorSpec


# ---- Docker registry ----


class UsernamePasswordSpec(Model):
    username: str | None = None
    username_ref: str | None = None
    password_ref: str

    @model_validator(mode="after")
    def _one_username(self) -> UsernamePasswordSpec:
        if (self.username is None) == (self.username_ref is None):
            raise field_error("username", "give either username or usernameRef (a secret), exactly one")
        return self


class UsernamePasswordAuth(Model):
    type: Literal["UsernamePassword"]
    spec: UsernamePasswordSpec


class AnonymousAuth(Model):
    type: Literal["Anonymous"]
    spec: dict[str, Any] | None = None


DockerAuth = Annotated[UsernamePasswordAuth | AnonymousAuth, Field(discriminator="type")]


class DockerRegistryConnectorSpec(Model):
    docker_registry_url: str
    provider_type: Literal["DockerHub", "Harbor", "Quay", "Other"] = "Other"
    auth: DockerAuth
    execute_on_delegate: bool | None = None
    delegate_selectors: list[str] = Field(default_factory=list)


class DockerRegistryConnector(Entity):
    type: Literal["DockerRegistry"]
    spec: DockerRegistryConnectorSpec


# ---- Git ----


class GitHttpSpec(Model):
    username: str | None = None
    username_ref: str | None = None
    password_ref: str | None = None

    @model_validator(mode="after")
    def _both_or_neither(self) -> GitHttpSpec:
        has_user = self.username is not None or self.username_ref is not None
        if has_user != (self.password_ref is not None):
            raise field_error("passwordRef", "give a username and a passwordRef together, or neither")
        return self


class GitSshSpec(Model):
    ssh_key_ref: str


class _GitConnectorSpecBase(Model):
    url: str
    connection_type: Literal["Repo", "Account"] = "Repo"
    validation_repo: str | None = None
    branch: str | None = None
    execute_on_delegate: bool | None = None
    delegate_selectors: list[str] = Field(default_factory=list)


class GitHttpConnectorSpec(_GitConnectorSpecBase):
    type: Literal["Http"]
    spec: GitHttpSpec = Field(default_factory=GitHttpSpec)


class GitSshConnectorSpec(_GitConnectorSpecBase):
    type: Literal["Ssh"]
    spec: GitSshSpec


GitConnectorSpec = Annotated[GitHttpConnectorSpec | GitSshConnectorSpec, Field(discriminator="type")]


class GithubToken(Model):
    username: str | None = None
    username_ref: str | None = None
    token_ref: str


class GithubHttpAuth(Model):
    type: Literal["UsernameToken", "Anonymous"]
    spec: GithubToken | None = None

    @model_validator(mode="after")
    def _token_given(self) -> GithubHttpAuth:
        if self.type == "UsernameToken" and self.spec is None:
            raise field_error("spec", "required for UsernameToken: username and tokenRef")
        return self


class GithubAuthentication(Model):
    type: Literal["Http"]
    spec: GithubHttpAuth


class GithubConnectorSpec(Model):
    url: str
    type: Literal["Repo", "Account"] = "Repo"
    validation_repo: str | None = None
    authentication: GithubAuthentication
    api_access: dict[str, Any] | None = None
    execute_on_delegate: bool | None = None
    delegate_selectors: list[str] = Field(default_factory=list)


class GitConnector(Entity):
    type: Literal["Git"]
    spec: GitConnectorSpec


class GithubConnector(Entity):
    type: Literal["Github"]
    spec: GithubConnectorSpec


Connector = Annotated[
    AwsConnector | DockerRegistryConnector | GitConnector | GithubConnector, Field(discriminator="type")
]
CONNECTOR_TYPES = ("Aws", "DockerRegistry", "Git", "Github")
AnyConnector = AwsConnector | DockerRegistryConnector | GitConnector | GithubConnector


def connector_secret_refs(connector: AnyConnector) -> list[tuple[str, str]]:
    """(YAML path below `connector.spec`, secret identifier) for every secret it names."""
    refs: list[tuple[str, str]] = []
    if isinstance(connector, AwsConnector) and isinstance(connector.spec.credential, ManualConfigCredential):
        spec = connector.spec.credential.spec
        refs.append(("credential.spec.secretKeyRef", spec.secret_key_ref))
        if spec.access_key_ref:
            refs.append(("credential.spec.accessKeyRef", spec.access_key_ref))
        if spec.session_token_ref:
            refs.append(("credential.spec.sessionTokenRef", spec.session_token_ref))
    elif isinstance(connector, DockerRegistryConnector) and isinstance(
        connector.spec.auth, UsernamePasswordAuth
    ):
        refs.append(("auth.spec.passwordRef", connector.spec.auth.spec.password_ref))
        if connector.spec.auth.spec.username_ref:
            refs.append(("auth.spec.usernameRef", connector.spec.auth.spec.username_ref))
    elif isinstance(connector, GitConnector):
        auth = connector.spec.spec
        if isinstance(auth, GitHttpSpec):
            if auth.password_ref:
                refs.append(("spec.passwordRef", auth.password_ref))
            if auth.username_ref:
                refs.append(("spec.usernameRef", auth.username_ref))
        elif isinstance(auth, GitSshSpec):
            refs.append(("spec.sshKeyRef", auth.ssh_key_ref))
    elif isinstance(connector, GithubConnector):
        token = connector.spec.authentication.spec.spec
        if token is not None:
            refs.append(("authentication.spec.spec.tokenRef", token.token_ref))
            if token.username_ref:
                refs.append(("authentication.spec.spec.usernameRef", token.username_ref))
    return refs
