"""Run-time inputs are data in a ShellScript body (issue 12, item 3), replayed as a deployer
through the real server: whatever quoting the script puts around `<+pipeline.variables.msg>`
(none, "...", '...', $'...', heredocs, $(...), backticks), a value with quotes, $(...),
backticks, `;` and newlines is printed as it is and runs nothing; ordinary values print what
Harness prints; values written in the project are pasted as before."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from tests.server.helpers import Api, live_server, shell

from .taint_helpers import custom_pipeline, put_project, run, step_output

MSG = "<+pipeline.variables.msg>"
# each step prints the input once, its own way
FORMS = {
    "bare": f"echo {MSG}",
    "double": f'echo "{MSG}"',
    "single": f"echo '{MSG}'",
    "ansi": f"echo $'{MSG}'",
    "heredoc": f"cat <<EOF\n{MSG}\nEOF",
    "quotedheredoc": f"cat <<'EOF'\n{MSG}\nEOF",
    "tabheredoc": f'cat <<-"END"\n\t{MSG}\n\tEND',
    "substitution": f'echo "$(echo "{MSG}")"',
    "backticks": f'X=`echo "{MSG}"`; echo "$X"',
    "assigned": f'X={MSG}; echo "$X"',
    "printf": f"printf '%s\\n' {MSG}",
    "loop": f'for word in {MSG}; do echo "[$word]"; done',
    "stagevariable": 'echo "<+stage.variables.who>"',
    "comment": f"# {MSG}\necho commented",
}
VARIABLES = [
    {"name": "msg", "type": "String", "value": "<+input>"},
    {"name": "fromfile", "type": "String", "value": "echo pasted; echo as-written"},
]


@pytest.fixture(scope="module")
def deployer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Api, Path]]:
    """A deployer of project `shop`, and a folder whose marker file a payload tries to create:
    world-writable, so a step (which may run as an unprivileged user) could create it."""
    marks = Path(tempfile.mkdtemp(prefix="corral-shell-inputs-"))
    marks.chmod(0o1777)
    with live_server(tmp_path_factory.mktemp("shell-inputs") / "server") as live:
        admin = live.client()
        steps = [shell(name, script) for name, script in FORMS.items()]
        put_project(
            admin,
            "shop",
            [
                custom_pipeline("forms", steps, VARIABLES),
                custom_pipeline(
                    "upper", [shell("upper", "echo <+pipeline.variables.msg.toUpperCase()>")], VARIABLES
                ),
                custom_pipeline("file", [shell("file", "<+pipeline.variables.fromfile>")], VARIABLES),
                custom_pipeline("arith", [shell("arith", f"echo $(( {MSG} + 1 ))")], VARIABLES),
                custom_pipeline("terminator", [shell("quoted", FORMS["quotedheredoc"])], VARIABLES),
                custom_pipeline("unquoted", [shell("unquoted", FORMS["heredoc"])], VARIABLES),
                custom_pipeline("whole", [shell("whole", "<+input>")], VARIABLES),
                custom_pipeline("command", [shell("command", f"set -e\n{MSG} && echo ran")], VARIABLES),
                custom_pipeline("control", [shell("control", f"touch {marks / 'control'}")], VARIABLES),
            ],
        )
        yield admin.user("dora", project="shop", role="deployer"), marks
    shutil.rmtree(marks, ignore_errors=True)


def test_a_step_could_create_the_marker(deployer: tuple[Api, Path]) -> None:
    # the control: what the tests below look for is a file a step can make
    api, marks = deployer
    assert run(api, "shop", "control", {"msg": "-", "who": "-"})["status"] == "Success"
    assert (marks / "control").exists()


def attacks(marker: Path) -> list[str]:
    return [
        'hi"; echo $(cat ../../.corral/secrets.key | rev)',  # the attack of the issue
        f'hi"; touch {marker}; echo "',
        f"hi'; touch {marker}; echo '",
        f"$(touch {marker})",
        f"`touch {marker}`",
        f"a; touch {marker}",
        f"one\ntouch {marker}\ntwo",
        f"${{IFS}}$(touch {marker})' \"\\",
    ]


def harness_prints(script: str, value: str) -> str:
    """What Harness prints: the value pasted into the script's text, run by bash."""
    done = subprocess.run(
        ["bash", "-c", script.replace(MSG, value)], capture_output=True, text=True, check=True
    )
    return done.stdout.rstrip("\n")


def test_ordinary_values_print_what_harness_prints(deployer: tuple[Api, Path]) -> None:
    api, _ = deployer
    for value in ("hello world", "v1.2.3", "eu-west-1:prod/web@2"):
        execution = run(api, "shop", "forms", {"msg": value, "who": value})
        assert execution["status"] == "Success", execution
        printed = step_output(api, execution["id"])
        # `X=hello world` runs a command named `world` under Harness; Corral assigns the value
        expected = {
            form: value if form in ("assigned", "stagevariable") else harness_prints(script, value)
            for form, script in FORMS.items()
        }
        assert printed == expected
    assert printed["loop"] == "[eu-west-1:prod/web@2]"
    assert expected["loop"] == "[eu-west-1:prod/web@2]"


def test_an_input_never_becomes_shell_code_whatever_the_quoting(deployer: tuple[Api, Path]) -> None:
    api, folder = deployer
    marker = folder / "pwned"
    started = {  # all at once: the server runs them side by side, as it would for many users
        payload: api.post(
            "/projects/shop/pipelines/forms/executions", {"inputs": {"msg": payload, "who": payload}}, 202
        ).json()["id"]
        for payload in attacks(marker)
    }
    for payload, execution_id in started.items():
        execution = api.wait(execution_id, timeout=120)
        assert execution["status"] == "Success", (payload, execution)
        printed = step_output(api, execution["id"])
        # a value that is not plain words stays one word, as if the script had quoted it
        expected = {**dict.fromkeys(FORMS, payload), "comment": "commented", "loop": f"[{payload}]"}
        assert printed == expected, payload
        assert not marker.exists(), payload


def test_derived_values_stay_data(deployer: tuple[Api, Path]) -> None:
    api, folder = deployer
    payload = f"x$(touch {folder / 'pwned'})"
    execution = run(api, "shop", "upper", {"msg": payload, "who": "-"})
    assert step_output(api, execution["id"]) == {"upper": payload.upper()}
    assert not (folder / "pwned").exists()


def test_a_value_that_would_end_a_quoted_heredoc_is_refused(deployer: tuple[Api, Path]) -> None:
    api, folder = deployer
    marker = folder / "pwned"
    execution = run(api, "shop", "terminator", {"msg": f"x\nEOF\ntouch {marker}", "who": "-"})
    assert execution["status"] == "Failed"
    [step] = execution["steps"]
    assert "the value of <+pipeline.variables.msg> would end the heredoc <<EOF early" in step["error"]
    assert "source.spec.script" in step["error"]
    assert not marker.exists()
    assert step_output(api, execution["id"]) == {}  # nothing ran
    # in an unquoted heredoc the value is a reference: its lines never end the heredoc
    payload = f"x\nEOF\ntouch {marker}"
    execution = run(api, "shop", "unquoted", {"msg": payload, "who": "-"})
    assert step_output(api, execution["id"]) == {"unquoted": payload}
    assert not marker.exists()


def test_arithmetic_takes_whole_numbers_only(deployer: tuple[Api, Path]) -> None:
    api, folder = deployer
    execution = run(api, "shop", "arith", {"msg": "41", "who": "-"})
    assert step_output(api, execution["id"]) == {"arith": "42"}
    marker = folder / "pwned"
    execution = run(api, "shop", "arith", {"msg": f"a[$(touch {marker})]", "who": "-"})
    assert execution["status"] == "Failed"
    assert "a run-time value there must be a whole number" in execution["steps"][0]["error"]
    assert not marker.exists()


def test_a_run_time_input_cannot_be_the_script(deployer: tuple[Api, Path]) -> None:
    api, folder = deployer
    execution = run(api, "shop", "whole", {"script": f"touch {folder / 'pwned'}", "msg": "-", "who": "-"})
    assert execution["status"] == "Failed"
    assert "the script's text cannot be a run-time input" in execution["steps"][0]["error"]
    assert not (folder / "pwned").exists()


def test_values_written_in_the_project_are_pasted_as_before(deployer: tuple[Api, Path]) -> None:
    # editors wrote them (variables, defaults, input sets, triggers): Harness's behaviour stays
    api, _ = deployer
    execution = run(api, "shop", "file", {"msg": "-", "who": "-"})
    assert step_output(api, execution["id"]) == {"file": "pasted\nas-written"}


def test_a_run_time_input_cannot_name_the_command(deployer: tuple[Api, Path]) -> None:
    api, folder = deployer
    execution = run(api, "shop", "command", {"msg": f"touch {folder / 'pwned'}", "who": "-"})
    assert execution["status"] == "Failed"
    assert "stands where bash expects a command" in execution["steps"][0]["error"]
    assert not (folder / "pwned").exists()


# -- every quoting bash knows, with real bash and many payloads (no server: fast) ---------

CONTEXTS = {
    **FORMS,
    "words": f"echo x{MSG}y",
    "midsingle": f"echo 'a {MSG} b'",
    "middouble": f'echo "a {MSG} b"',
    "default": f'echo "${{UNSET:-{MSG}}}"',
    "baredefault": f"echo ${{UNSET:-{MSG}}}",
    "nested": f'echo "$(echo "$(echo \'{MSG}\')")"',
    "herestring": f"cat <<< {MSG}",
    "subshell": f"(echo {MSG})",
    "ifthen": f'if true; then echo "{MSG}"; fi',
    "heredocsub": f"cat <<EOF\n$(echo '{MSG}')\nEOF",
}
# what a value that is not plain words prints, when it is not just the value
PRINTS = {"midsingle": "a {} b", "middouble": "a {} b", "words": "x{}y", "loop": "[{}]"}


@pytest.mark.parametrize("form", sorted(set(CONTEXTS) - {"stagevariable", "comment"}))
def test_every_quoting_prints_the_value_and_runs_nothing(form: str, tmp_path: Path) -> None:
    from corral.expressions import ExpressionContext
    from corral.expressions.shell_quoting import render_script
    from corral.expressions.taint import runtime_text

    marker = tmp_path / "pwned"
    plain = ["hello world", "", "v1.2.3", "a  b "]
    for payload in [*attacks(marker), *plain, "'", '"', "\\", "$", "`", "*", "~", "#x", "a\tb", "{a,b}"]:
        ctx = ExpressionContext(values={"pipeline": {"variables": {"msg": runtime_text(payload)}}})
        script, environment = render_script(CONTEXTS[form], ctx, path="spec.source.spec.script")
        done = subprocess.run(
            ["bash", "-c", script],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", **environment},
        )
        assert not marker.exists(), (form, payload, script)
        if payload in plain and form not in ("assigned", "herestring"):
            expected = harness_prints(CONTEXTS[form], payload)  # the same words as Harness
        else:  # (where Harness's pasted value fails, as `X=hello world`, Corral keeps the value)
            expected = PRINTS.get(form, "{}").format(payload)
        assert done.stdout.rstrip("\n") == expected, (form, payload, script, done.stderr)


SHELL_TEXT = st.text(alphabet=st.sampled_from(list("ab $()`'\";&|<>*?[]{}#~!\n\t%=\\-EOF")), max_size=24)
EXACT = ["bare", "double", "single", "ansi", "heredoc", "quotedheredoc", "tabheredoc", "assigned", "default"]


@settings(max_examples=300, deadline=None)
@given(payload=SHELL_TEXT, form=st.sampled_from(EXACT))
def test_any_text_is_printed_exactly(payload: str, form: str) -> None:
    from corral.expressions import ExpressionContext
    from corral.expressions.shell_quoting import PLAIN_WORDS, ShellQuotingError, render_script
    from corral.expressions.taint import runtime_text

    assume(PLAIN_WORDS.fullmatch(payload) is None or form != "bare")  # plain words split as Harness's
    ctx = ExpressionContext(values={"pipeline": {"variables": {"msg": runtime_text(payload)}}})
    try:
        script, environment = render_script(CONTEXTS[form], ctx, path="s")
    except ShellQuotingError as error:  # only a line that would end the quoted heredoc
        assert form in ("quotedheredoc", "tabheredoc") and "would end the heredoc" in error.detail
        return
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **environment}
    )
    if form == "tabheredoc":  # <<- strips leading tabs from every line, the value's too (as Harness)
        payload = "\n".join(line.lstrip("\t") for line in payload.split("\n"))
    assert done.stdout == payload + "\n", (script, done.stderr)


ARITHMETIC = {
    "expansion": (f"echo $(( {MSG} + 1 ))", "42"),
    "command": (f"(( x = {MSG} + 1 )); echo $x", "42"),
    "subscript": (f'a=(0 42); echo "${{a[{MSG}-40]}}"', "42"),
    "offset": (f'y=0123456789; echo "${{y:{MSG}-40:2}}"', "12"),
    "let": (f'let "x = {MSG} + 1"; echo $x', "42"),
    "declare": (f"declare -i x={MSG}+1; echo $x", "42"),
    "test": (f'[[ "{MSG}" -eq 41 ]] && echo 42', "42"),
}


@pytest.mark.parametrize("form", sorted(ARITHMETIC))
def test_arithmetic_contexts_take_whole_numbers_only(form: str, tmp_path: Path) -> None:
    from corral.expressions import ExpressionContext
    from corral.expressions.shell_quoting import ShellQuotingError, render_script
    from corral.expressions.taint import runtime_text

    template, expected = ARITHMETIC[form]
    marker = tmp_path / "pwned"
    for payload in (f"a[$(touch {marker})]", "x", "41 + 0", "__CORRAL_V2"):
        ctx = ExpressionContext(values={"pipeline": {"variables": {"msg": runtime_text(payload)}}})
        with pytest.raises(ShellQuotingError, match="a run-time value there must be a whole number"):
            render_script(template, ctx, path="s")
    ctx = ExpressionContext(values={"pipeline": {"variables": {"msg": runtime_text("41")}}})
    script, environment = render_script(template, ctx, path="s")
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env={"PATH": "/usr/bin:/bin", **environment}
    )
    assert done.stdout.rstrip("\n") == expected, (script, done.stderr)
