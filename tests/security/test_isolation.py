"""Issue 12, item 1: the server runs no user code. A project admin's ShellScript step, run by a
real server over HTTP, reaches none of the server's data folder, database, key, environment,
other projects or Git cache, and leaves nothing running or lying around; an ordinary script
prints what it always printed. A server that cannot isolate (not root) refuses such steps
unless started with --allow-local-steps. `corral run` keeps running steps locally.

The server tests run as root (as CI does): the server then makes its `corral-step` users.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from corral.engine import ExecutorOptions, run_pipeline
from corral.engine.step_process import StepProcesses
from corral.store import Store
from tests.cli.helpers import corral
from tests.engine.helpers import FAST, write_project
from tests.engine.helpers import pipeline as engine_pipeline
from tests.engine.helpers import shell as engine_shell
from tests.engine.helpers import stage as engine_stage
from tests.server.helpers import HELLO, Live, live_server, pipeline, shell

from .isolation_helpers import processes_running, server_as_nobody, step_messages, wait_for_line

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the server isolates steps only as root")

FAKE_AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/isolationFAKEKEY0123"
FAKE_AWS_KEY_ID = "AKIAISOLATIONTEST0001"
BETA_CONTENT = "BETA-PROJECT-FILE-CONTENT-5521"
GIT_CACHE_CONTENT = "GIT-CACHE-CONTENT-8812"
ATTEMPTS = (
    "key",
    "database",
    "data folder",
    "parent environ",
    "server environ",
    "aws env",
    "beta folder",
    "beta files",
    "git cache",
    "write data folder",
    "write own project folder",
    "write beta folder",
    "write database",
    "write key",
)


@pytest.fixture
def live(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Live]:
    """A server whose own environment holds AWS keys, as a server on EC2 or with keys would."""
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", FAKE_AWS_SECRET)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", FAKE_AWS_KEY_ID)
    with live_server(tmp_path / "server") as running:
        yield running


def attack_script(data: Path, server_pid: int, left: str) -> str:
    """What a project admin tried: each attempt prints only whether it worked."""
    return "\n".join(
        [
            f"D='{data}'",
            'try() { label=$1; shift; if out=$("$@" 2>/dev/null) && [ -n "$out" ]; then '
            'echo "READ $label: $out"; else echo "BLOCKED $label"; fi; }',
            'try key cat "$D/.corral/secrets.key"',
            'try database cat "$D/.corral/corral.db"',
            'try "data folder" ls -A "$D"',
            "try 'parent environ' cat /proc/$PPID/environ",
            f"try 'server environ' cat /proc/{server_pid}/environ",
            "try 'aws env' sh -c 'env | grep AWS'",
            "try 'beta folder' ls -A \"$D/projects/beta\"",
            "try 'beta files' sh -c 'cat \"$D\"/projects/beta/*/*.yaml'",
            "try 'git cache' cat \"$D/git-cache/marker\"",
            "try 'write data folder' sh -c 'echo x > \"$D/planted\" && echo yes'",
            "try 'write own project folder' sh -c 'echo x > \"$D/projects/alpha/planted\" && echo yes'",
            "try 'write beta folder' sh -c 'echo x > \"$D/projects/beta/planted\" && echo yes'",
            "try 'write database' sh -c ': >> \"$D/.corral/corral.db\" && echo yes'",
            "try 'write key' sh -c ': >> \"$D/.corral/secrets.key\" && echo yes'",
            'KEY=$(cat "$D/.corral/secrets.key" 2>/dev/null)',
            'ENVIRON=$(cat /proc/$PPID/environ 2>/dev/null | tr "\\0" " ")',
            'echo "ID $(id)"',
            f"echo left-for-the-next-step > /tmp/{left}",
            "setsid sleep 987.25 </dev/null >/dev/null 2>&1 &",
            "echo finished",
        ]
    )


def test_a_project_admins_script_reaches_nothing_of_the_server(live: Live, tmp_path: Path) -> None:
    admin = live.client()
    data = live.server.settings.data_dir
    (data / "git-cache").mkdir()
    (data / "git-cache" / "marker").write_text(GIT_CACHE_CONTENT)
    admin.post("/projects", {"name": "alpha"}, 201)
    beta = pipeline("beta_pipe", [shell("say", f"echo {BETA_CONTENT}")])
    admin.post("/projects", {"name": "beta", "yaml": beta}, 201)
    mallory = admin.user("mallory", project="alpha", role="admin")
    left = f"corral-isolation-{uuid.uuid4().hex}"
    steal = pipeline(
        "steal",
        [
            shell(
                "steal",
                attack_script(data, os.getpid(), left),
                outputVariables=[
                    {"name": "key", "type": "String", "value": "KEY"},
                    {"name": "environ", "type": "String", "value": "ENVIRON"},
                ],
            )
        ],
    )
    mallory.put("/projects/alpha/entities", {"yaml": steal}, 200)
    execution_id = mallory.post("/projects/alpha/pipelines/steal/executions", {}, 202).json()["id"]
    events = mallory.events(execution_id)
    execution = mallory.wait(execution_id)
    messages = step_messages(mallory, execution_id)

    assert execution["status"] == "Success", execution
    assert [f"BLOCKED {label}" for label in ATTEMPTS] == [
        m for m in messages if m.startswith(("BLOCKED", "READ"))
    ]
    [identity] = [m for m in messages if m.startswith("ID ")]
    assert "uid=0(" not in identity and "(corral-step" in identity  # a user of its own...
    assert identity.split("groups=")[1].count("(") == 1  # ...in its own group only
    assert execution["steps"][0]["outputs"] == {"key": "", "environ": ""}

    seen = "\n".join([json.dumps(events), json.dumps(execution), json.dumps(messages)])
    key = (data / ".corral" / "secrets.key").read_bytes().strip().decode()
    for secret in (key, FAKE_AWS_SECRET, FAKE_AWS_KEY_ID, BETA_CONTENT, GIT_CACHE_CONTENT, "SQLite format 3"):
        assert secret not in seen, secret
    server_environ = Path("/proc/self/environ").read_bytes().decode(errors="replace").split("\0")
    assert not [entry for entry in server_environ if len(entry) >= 12 and entry in seen]
    for planted in (
        data / "planted",
        data / "projects" / "alpha" / "planted",
        data / "projects" / "beta" / "planted",
    ):
        assert not planted.exists()
    # nothing the script left behind survives the step
    assert processes_running("987.25") == []
    assert not Path("/tmp", left).exists()


def test_an_ordinary_script_prints_what_it_always_printed(live: Live) -> None:
    admin = live.client()
    files = pipeline(
        "files",
        [
            shell(
                "files",
                "ls pipeline; echo note > note.txt; cat note.txt; "
                'test "$HOME" = "$PWD" && echo "home is the working folder"; '
                "touch $TMPDIR/scratch && echo scratch; ulimit -u",
            )
        ],
    )
    admin.post("/projects", {"name": "demo", "yaml": "---\n".join([HELLO, files])}, 201)
    deployer = admin.user("dana", project="demo", role="deployer")
    value = """it's "quoted" & $HOME"""
    run = deployer.post("/projects/demo/pipelines/hello/executions", {"inputs": {"who": value}}, 202)
    execution = deployer.wait(run.json()["id"])
    assert execution["status"] == "Success"
    assert step_messages(deployer, run.json()["id"])[:2] == [f"hello {value}", "done"]
    assert execution["steps"][0]["outputs"] == {"out": "fine"}

    run = deployer.post("/projects/demo/pipelines/files/executions", {}, 202)
    assert deployer.wait(run.json()["id"])["status"] == "Success"
    messages = step_messages(deployer, run.json()["id"])
    assert "files.yaml" in messages and "hello.yaml" in messages  # the project's own files...
    assert messages[-4:] == ["note", "home is the working folder", "scratch", "4096"]  # 4096: processes
    assert not (live.server.settings.data_dir / "projects" / "demo" / "note.txt").exists()  # ...a copy


def test_abort_ends_every_process_the_script_started(live: Live) -> None:
    admin = live.client()
    script = "setsid sleep 987.5 </dev/null >/dev/null 2>&1 & echo started; sleep 61.5"
    admin.post("/projects", {"name": "demo", "yaml": pipeline("slow", [shell("slow", script)])}, 201)
    execution_id = admin.post("/projects/demo/pipelines/slow/executions", {}, 202).json()["id"]
    wait_for_line(admin, execution_id, "started")
    assert processes_running("987.5") and processes_running("61.5")
    admin.post(f"/executions/{execution_id}/abort", {}, 202)
    assert admin.wait(execution_id)["status"] == "Aborted"
    assert processes_running("987.5") == [] and processes_running("61.5") == []


def test_a_server_that_is_not_root_refuses_scripts_unless_allowed() -> None:
    with server_as_nobody() as admin:
        admin.post("/projects", {"name": "demo", "yaml": HELLO}, 201)
        refused = admin.post("/projects/demo/pipelines/hello/executions", {}, 409).json()["detail"]
        assert refused.startswith(
            "pipeline/hello.yaml: pipeline.stages[0].stage.spec.execution.steps[0].step: "
        )
        assert "does not run as root" in refused and "--allow-local-steps" in refused and "unsafe" in refused
        assert admin.get("/executions") == []  # nothing started

    with server_as_nobody("--allow-local-steps") as admin:
        admin.post("/projects", {"name": "demo", "yaml": HELLO}, 201)
        execution_id = admin.post("/projects/demo/pipelines/hello/executions", {}, 202).json()["id"]
        assert admin.wait(execution_id, timeout=60)["status"] == "Success"
        assert step_messages(admin, execution_id)[:2] == ["hello world", "done"]


def test_corral_run_keeps_running_scripts_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRAL_TEST_VISIBLE", "from-my-shell")
    script = 'id -u; pwd; echo "$CORRAL_TEST_VISIBLE"'
    write_project(tmp_path, [engine_pipeline("local", [engine_stage("s", [engine_shell("say", script)])])])
    result = corral("run", "local", cwd=tmp_path)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert ["  [s/say] 0", f"  [s/say] {tmp_path.resolve()}", "  [s/say] from-my-shell"] == [
        line for line in lines if line.startswith("  [s/say]")
    ]


def test_an_isolated_step_gets_a_bounded_copy_of_the_project(tmp_path: Path) -> None:
    project = tmp_path / "project"
    script = "cat files/small.txt"
    write_project(project, [engine_pipeline("copy", [engine_stage("s", [engine_shell("say", script)])])])
    (project / "files").mkdir()
    (project / "files" / "small.txt").write_text("small file")
    options = ExecutorOptions(**FAST, step_processes=StepProcesses(mode="isolated", copy_limit=4000))
    store = Store.open(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        done = run_pipeline(project, "copy", store=store, options=options)
        assert done.status == "Success", done.steps
        (project / "files" / "large.txt").write_text("y" * 4000)
        too_big = run_pipeline(project, "copy", store=store, options=options)
    finally:
        store.close()
    assert too_big.status == "Failed"
    [step] = too_big.steps
    assert "the project's files hold more than 4000 bytes" in (step.error or ""), step.error


def test_a_refused_step_fails_before_its_script_runs(tmp_path: Path) -> None:
    """What a refusing server's runner does with a script step that reaches it all the same
    (an execution made before the server was restarted without --allow-local-steps)."""
    project = tmp_path / "project"
    script = f"touch {tmp_path / 'ran'}"
    write_project(project, [engine_pipeline("p", [engine_stage("s", [engine_shell("say", script)])])])
    options = ExecutorOptions(**FAST, step_processes=StepProcesses.refused("not here: --allow-local-steps"))
    store = Store.open(f"sqlite:///{tmp_path / 'runs.db'}")
    try:
        done = run_pipeline(project, "p", store=store, options=options)
    finally:
        store.close()
    assert done.status == "Failed" and done.steps[0].error == "not here: --allow-local-steps"
    assert not (tmp_path / "ran").exists()


def test_a_script_cannot_read_another_running_step(live: Live) -> None:
    """Steps running at the same time run as different users: one cannot read the other's
    environment, script or files."""
    admin = live.client()
    secret = "BETA-RUNNING-STEP-SECRET-3301"
    waiting = shell(
        "hold",
        f"echo {secret} > mine.txt; echo ready; sleep 61.25",
        environmentVariables=[{"name": "HELD", "type": "String", "value": secret}],
    )
    admin.post("/projects", {"name": "beta", "yaml": pipeline("hold", [waiting])}, 201)
    spy = (
        "cat /proc/[0-9]*/environ /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' '\\n' | grep -c 'BETA-RUNNING-STEP-SECRE[T]'; "
        "cat /tmp/corral-step-*/script.sh /tmp/corral-step-*/work/* 2>/dev/null | grep -c 'BETA-RUNNING-STEP-SECRE[T]'; "
        "echo spied"
    )
    admin.post("/projects", {"name": "alpha", "yaml": pipeline("spy", [shell("spy", spy)])}, 201)
    mallory = admin.user("mallory", project="alpha", role="admin")
    held = admin.post("/projects/beta/pipelines/hold/executions", {}, 202).json()["id"]
    wait_for_line(admin, held, "ready")
    spied = mallory.post("/projects/alpha/pipelines/spy/executions", {}, 202).json()["id"]
    mallory.wait(spied)
    admin.post(f"/executions/{held}/abort", {}, 202)
    admin.wait(held)
    messages = step_messages(mallory, spied)
    assert messages == ["0", "0", "spied"]
