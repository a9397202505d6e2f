"""Names that are the same thing in the reference system."""

from __future__ import annotations

import copy

import pytest

from corral.expressions import ExpressionContext, render
from corral.expressions.aliases import ALIASES

ARTIFACT = {
    "image": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1.4",
    "tag": "1.4",
    "imagePath": "app",
    "digest": "sha256:feed",
    "metadata": {"image": "app:1.4", "url": "https://example.com"},
}


@pytest.mark.parametrize("field", ["image", "tag", "imagePath", "digest", "metadata.image", "metadata.url"])
@pytest.mark.parametrize("given", ["artifacts", "artifact"])
def test_artifact_is_the_primary_artifact(field: str, given: str) -> None:
    values = {"artifacts": {"primary": ARTIFACT}} if given == "artifacts" else {"artifact": ARTIFACT}
    ctx = ExpressionContext(values=values)
    assert render(f"<+artifact.{field}>", ctx) == render(f"<+artifacts.primary.{field}>", ctx)
    assert render(f"<+artifact.{field}>", ctx) is not None


def test_service_variables_both_ways() -> None:
    by_short_name = ExpressionContext(values={"serviceVariables": {"port": 8080}})
    by_service = ExpressionContext(values={"service": {"name": "web", "variables": {"port": 8080}}})
    for ctx in (by_short_name, by_service):
        assert render("<+serviceVariables.port>", ctx) == 8080
        assert render("<+service.variables.port>", ctx) == 8080
    assert render("<+service.name>", by_service) == "web"


def test_step_outputs_of_the_current_stage() -> None:
    outputs = {"steps": {"rollingDeploy": {"output": {"serviceName": "web"}}}}
    for values in ({"execution": outputs}, {"stage": {"spec": {"execution": outputs}}}):
        ctx = ExpressionContext(values=values)
        assert render("<+execution.steps.rollingDeploy.output.serviceName>", ctx) == "web"
        assert render("<+stage.spec.execution.steps.rollingDeploy.output.serviceName>", ctx) == "web"


def test_documented_roots_are_plain_data() -> None:
    ctx = ExpressionContext(
        values={
            "env": {"name": "prod", "variables": {"domain": "example.com"}},
            "infra": {"cluster": "main", "region": "eu-west-1"},
            "pipeline": {"executionId": "e-1", "sequenceId": 12, "name": "deploy"},
            "stage": {"name": "Deploy", "identifier": "deploy"},
        }
    )
    text = "<+env.name>|<+env.variables.domain>|<+infra.cluster>|<+infra.region>|"
    text += "<+pipeline.executionId>|<+pipeline.sequenceId>|<+pipeline.name>|<+stage.name>"
    assert render(text, ctx) == "prod|example.com|main|eu-west-1|e-1|12|deploy|Deploy"


def test_aliases_do_not_modify_the_callers_values() -> None:
    values = {"stage": {"name": "s", "spec": {}}, "execution": {"steps": {}}, "artifact": ARTIFACT}
    before = copy.deepcopy(values)
    render("<+stage.spec.execution.steps> <+artifacts.primary.tag>", ExpressionContext(values=values))
    assert values == before


def test_the_alias_table_is_small_and_documented() -> None:
    from corral.expressions import aliases

    assert len(ALIASES) <= 5
    for alias, canonical in ALIASES:
        assert f"<+{alias}." in (aliases.__doc__ or "")
        assert f"<+{canonical}." in (aliases.__doc__ or "")
