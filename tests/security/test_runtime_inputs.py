"""Run-time inputs are data: a deployer who types an expression as an input value gets that text
printed as typed, and no secret; values must fit their variable's type, checked before anything
runs (issue 12, item 3). Expressions written in project files (input sets, defaults, triggers)
keep working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from corral.config.project import load_project
from corral.engine import create_execution
from corral.engine.inputs import pipeline_inputs
from corral.store import Store
from tests.cli.helpers import corral
from tests.engine.helpers import pipeline, shell, stage, write_project
from tests.server.helpers import Live

from .scope_helpers import (
    ATTACK,
    S1,
    assert_hidden,
    echo_step,
    everything_said,
    make_shop,
    pipeline_doc,
    server_with,
    uses_s1,
)

ANNOUNCE = pipeline_doc(
    "announce",
    [uses_s1(), echo_step("say", "<+pipeline.variables.msg>")],
    [
        {"name": "msg", "type": "String", "value": "<+input>"},
        {"name": "count", "type": "Number", "value": "<+input>.default(1)"},
        {"name": "token", "type": "Secret", "value": "<+input>.default(s1)"},
        {"name": "region", "type": "String", "value": "<+input>.default(eu).allowedValues(eu,us)"},
        {"name": "version", "type": "String", "value": "<+input>.default(v1).regex(^v[0-9]+$)"},
    ],
)
NIGHTLY = {
    "inputSet": {
        "name": "Nightly",
        "identifier": "nightly",
        "pipeline": {
            "identifier": "announce",
            "variables": [
                {"name": "msg", "type": "String", "value": "run <+pipeline.sequenceId> of <+pipeline.name>"}
            ],
        },
    }
}


S1_FROM_ENV = {
    "secrets.yaml": "secret:\n  name: s1\n  identifier: s1\n  type: SecretText\n"
    "  spec:\n    secretManagerIdentifier: env\n    value: S1_VALUE\n"
}
MSG_VARIABLE = {"name": "MSG", "type": "String", "value": "<+pipeline.variables.msg>"}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[Live]:
    with server_with(tmp_path / "server") as live:
        yield live


def _messages(api: object, execution_id: str) -> list[str]:
    return [line["message"] for line in api.get(f"/executions/{execution_id}/logs")]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "typed",
    [
        ATTACK,
        '<+secrets.getValue("s1")>',
        '${secrets.getValue("s1")}',
        'x <+secrets.getValue("s1").substring(1)> y <+pipeline.name>',
    ],
)
def test_a_deployer_input_holding_an_expression_prints_as_typed(live: Live, typed: str) -> None:
    admin = live.client()
    make_shop(admin, ANNOUNCE)
    deployer = admin.user("dee", project="shop", role="deployer")
    execution_id = deployer.post(
        "/projects/shop/pipelines/announce/executions", {"inputs": {"msg": typed}}, 202
    ).json()["id"]
    execution = deployer.wait(execution_id)
    assert execution["status"] == "Success", execution
    messages = _messages(deployer, execution_id)
    assert f"msg={typed}" in messages
    assert f"token has {len(S1)} characters" in messages  # the pipeline's own use of s1 still works
    say = next(s for s in execution["steps"] if s["identifier"] == "say")
    assert say["outputs"] == {"out": typed}
    assert execution["inputs"]["pipeline.variables[0].value"] == typed
    assert_hidden(everything_said(admin, live, execution_id))


def test_expressions_in_input_sets_and_defaults_still_work(live: Live) -> None:
    admin = live.client()
    make_shop(admin, ANNOUNCE, NIGHTLY)
    execution_id = admin.post(
        "/projects/shop/pipelines/announce/executions", {"input_sets": ["nightly"]}, 202
    ).json()["id"]
    assert admin.wait(execution_id)["status"] == "Success"
    assert "msg=run 1 of announce" in _messages(admin, execution_id)


def test_trigger_inputs_keep_their_expressions(tmp_path: Path) -> None:
    """A trigger's inputs come from a project file: the server starts it with project_inputs."""
    root = write_project(tmp_path / "p", [yaml.safe_dump(ANNOUNCE, sort_keys=False)], extra=S1_FROM_ENV)
    project = load_project(root)
    store = Store.open(f"sqlite:///{tmp_path / 'corral.db'}")
    try:
        trigger = create_execution(
            project,
            "announce",
            store=store,
            project_inputs={"msg": "<+pipeline.name>"},
            triggered_by="trigger:t",
        )
        typed = create_execution(project, "announce", store=store, inputs={"msg": "<+pipeline.name>"})
    finally:
        store.close()
    assert trigger.snapshot["pipeline"]["variables"][0]["value"] == "<+pipeline.name>"
    assert "<+" not in str(typed.snapshot["pipeline"]["variables"][0]["value"])


@pytest.mark.parametrize(
    ("inputs", "path", "message"),
    [
        (
            {"msg": "hi", "count": "many"},
            "pipeline.variables[1].value",
            "variable 'count' is of type Number: expected a number, got 'many'",
        ),
        (
            {"msg": "hi", "token": "other_secret"},
            "pipeline.variables[2].value",
            "variable 'token' is of type Secret: expected the identifier of a secret of the project (it has s1), "
            "got 'other_secret'",
        ),
        (
            {"msg": {"nested": ATTACK}},
            "pipeline.variables[0].value",
            "variable 'msg' is of type String: expected text (a string, number or boolean), got",
        ),
        (
            {"msg": "hi", "region": "mars"},
            "pipeline.variables[3].value",
            "is not one of the allowed values: eu, us",
        ),
        (
            {"msg": "hi", "version": "latest"},
            "pipeline.variables[4].value",
            "does not match the pattern ^v[0-9]+$",
        ),
        (
            {"msg": "hi", "tag": ATTACK},
            "tag",
            "a value given at run time for a service, environment, infrastructure or manifest input is data",
        ),
    ],
)
def test_a_value_that_does_not_fit_its_type_is_refused_before_anything_runs(
    live: Live, inputs: dict[str, object], path: str, message: str
) -> None:
    admin = live.client()
    make_shop(admin, ANNOUNCE)
    deployer = admin.user("dee", project="shop", role="deployer")
    answer = deployer.post("/projects/shop/pipelines/announce/executions", {"inputs": inputs}, 422).json()
    assert [p["path"] for p in answer["problems"]] == [path], answer
    assert message in answer["problems"][0]["message"], answer
    assert admin.get("/executions") == []


def test_the_cli_prints_an_input_as_typed(tmp_path: Path) -> None:
    """`corral run --input` on one's own machine: the value is data there too."""
    root = write_project(
        tmp_path,
        [
            pipeline(
                "say",
                [
                    stage(
                        "s", [shell("echo", 'echo "msg=$MSG"', spec={"environmentVariables": [MSG_VARIABLE]})]
                    )
                ],
                variables=[{"name": "msg", "type": "String", "value": "<+input>"}],
            )
        ],
    )
    result = corral("run", "say", "--input", "msg=<+pipeline.name> ${HOME}", cwd=root)
    assert result.exit_code == 0, result.output
    assert "msg=<+pipeline.name> ${HOME}" in result.output


def test_pipeline_inputs_records_what_was_typed(tmp_path: Path) -> None:
    root = write_project(tmp_path, [yaml.safe_dump(ANNOUNCE, sort_keys=False)], extra=S1_FROM_ENV)
    filled = pipeline_inputs(load_project(root), "announce", inputs={"msg": ATTACK})
    assert filled.values["pipeline.variables[0].value"] == ATTACK
    assert ATTACK not in yaml.safe_dump(filled.raw)
