"""Derived secret values stay secret (issue 12, item 4), replayed through the real server with
real shell steps: values computed from a secret (toUpperCase, concat, substring, split,
replace, JSON, a joined string and their base64), every percent-encoding and escaped form of a
secret, a multi-line PEM key line by line, and a secret quoted in an exception's text never
appear in a log line, an output, an API answer, the database or a webhook body; secrets under
4 characters are refused, and never masked inside other words."""

from __future__ import annotations

import base64
import hashlib
import http.server
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corral.expressions.context import MASK
from tests.cli.helpers import corral
from tests.engine.helpers import pipeline, stage, write_project
from tests.engine.helpers import shell as shell_step
from tests.server.helpers import Api, Live, live_server, shell

from .taint_helpers import custom_pipeline, put_project, run, step_output

SECRET = "Zq9x-Kp2m/W7 vR&t+Lq=="
_BODY = base64.b64encode(hashlib.sha512(b"corral test key").digest() * 4).decode()
PEM = "\n".join(
    [
        "-----BEGIN PRIVATE KEY-----",
        *(_BODY[i : i + 64] for i in range(0, len(_BODY), 64)),
        "-----END PRIVATE KEY-----",
    ]
)
TOKEN = '<+secrets.getValue("token")>'
DERIVED = {
    "UPPER": ('<+secrets.getValue("token").toUpperCase()>', SECRET.upper()),
    "LOWER": ('<+secrets.getValue("token").toLowerCase()>', SECRET.lower()),
    "CONCAT": ('<+secrets.getValue("token").concat("-tail")>', SECRET + "-tail"),
    "SUB": ('<+secrets.getValue("token").substring(5, 14)>', SECRET[5:14]),
    "PART": ('<+secrets.getValue("token").split("-")[1]>', SECRET.split("-")[1]),
    "REPLACED": ('<+secrets.getValue("token").replace("/", "_")>', SECRET.replace("/", "_")),
    "JSONED": (
        '<+json.format(secrets.getValue("token").split("-"))>',
        json.dumps(SECRET.split("-"), separators=(",", ":")),
    ),
    "JOINED": ('<+"user:" + secrets.getValue("token")>', "user:" + SECRET),
}
ENCODE = """import json, re, sys
from urllib.parse import quote, quote_plus
value = sys.argv[1]
print("quote:", quote(value, safe=""))
print("path:", quote(value))
print("plus:", quote_plus(value))
print("lower:", re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(value, safe="")))
print("every:", "".join("%%%02X" % b for b in value.encode()))
print("every-lower:", "".join("%%%02x" % b for b in value.encode()))
print("json:", json.dumps(value))
print("repr:", repr(value))
print("doubled:", json.dumps(json.dumps(value)))
"""


def encodings(value: str) -> list[str]:
    raw = value.encode()
    return [
        value,
        quote(value, safe=""),
        quote(value),
        quote_plus(value),
        re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quote(value, safe="")),
        "".join(f"%{b:02X}" for b in raw),
        "".join(f"%{b:02x}" for b in raw),
        json.dumps(value),
        repr(value),
        json.dumps(json.dumps(value)),
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        raw.hex(),
    ]


def pem_forms() -> list[str]:
    lines = PEM.split("\n")[1:-1]
    wrapped = base64.encodebytes(PEM.encode()).decode().split("\n")
    return [
        PEM,
        json.dumps(PEM),
        repr(PEM),
        PEM.replace("\n", "\\n"),
        *lines,
        *(w for w in wrapped if len(w) > 8),
    ]


def forbidden() -> list[str]:
    """Every form that must never be shown."""
    found = encodings(SECRET) + pem_forms()
    for _, value in DERIVED.values():
        found += [value, base64.b64encode(value.encode()).decode()]
    found.append(base64.b64encode(("user:" + SECRET).encode()).decode())
    return found


def assert_hidden(text: str | bytes, where: str) -> None:
    for form in forbidden():
        needle: str | bytes = form.encode() if isinstance(text, bytes) else form
        assert needle not in text, f"{where} shows {form!r}"


def _steps() -> list[dict[str, Any]]:
    derived_script = "\n".join(
        [f'echo "{name.lower()}: ${name}"' for name in DERIVED]
        + [
            f'echo "inline: {DERIVED["UPPER"][0]}"',
            'echo "upper64: $(printf %s "$UPPER" | base64 -w0)"',
            'echo "joined64: $(printf %s "$JOINED" | base64 -w0)"',
            'echo "sha: $(printf %s "$UPPER" | sha256sum | cut -c1-64)"',
            'OUT="$CONCAT"',
        ]
    )
    derived = shell(
        "derived",
        derived_script,
        environmentVariables=[{"name": n, "type": "String", "value": e} for n, (e, _) in DERIVED.items()],
        outputVariables=[{"name": "out", "type": "String", "value": "OUT"}],
    )
    encoded = shell(
        "encoded",
        f'python3 - "$TOKEN" <<\'PY\'\n{ENCODE}PY\nprintf \'b64: %s\\n\' "$(printf %s "$TOKEN" | base64 -w0)"',
        environmentVariables=[{"name": "TOKEN", "type": "Secret", "value": TOKEN}],
    )
    pem_script = (
        'echo "$PEM"\n'
        'python3 -c \'import json, os; print(repr(os.environ["PEM"])); print(json.dumps(os.environ["PEM"]))\'\n'
        'printf %s "$PEM" | awk \'{printf "%s\\\\n", $0}\'; echo\n'
        'printf %s "$PEM" | base64\n'
        'KEY="$PEM"'
    )
    pem = shell(
        "pem",
        pem_script,
        environmentVariables=[{"name": "PEM", "type": "Secret", "value": '<+secrets.getValue("pem")>'}],
        outputVariables=[{"name": "key", "type": "String", "value": "KEY"}],
    )
    # json.select quotes the path it cannot read: here a value computed from the secret
    failing = shell(
        "failing",
        "echo never",
        environmentVariables=[
            {
                "name": "X",
                "type": "String",
                "value": '<+json.select(secrets.getValue("token").toUpperCase(), "{}")>',
            }
        ],
    )
    return [derived, encoded, pem, failing]


@pytest.fixture(scope="module")
def leaked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Live, Api, dict[str, Any]]]:
    """The pipeline run as a deployer; the server, the deployer's client and the execution."""
    with live_server(tmp_path_factory.mktemp("masking") / "server") as live:
        admin = live.client()
        put_project(
            admin,
            "vault",
            [custom_pipeline("derive", _steps())],
            secrets={"token": SECRET, "pem": PEM},
        )
        deployer = admin.user("dora", project="vault", role="deployer")
        execution = run(deployer, "vault", "derive", {"who": "-"})
        yield live, deployer, execution


def test_each_derived_form_is_masked_in_logs_and_outputs(leaked: tuple[Live, Api, dict[str, Any]]) -> None:
    _, api, execution = leaked
    printed = step_output(api, execution["id"])
    lines = set(printed["derived"].split("\n"))
    # the step had the values (the digest of one), and every line that showed one is masked
    assert f"sha: {hashlib.sha256(SECRET.upper().encode()).hexdigest()}" in lines
    assert {f"{name.lower()}: {MASK}" for name in DERIVED} <= lines
    assert {f"inline: {MASK}", f"upper64: {MASK}"} <= lines
    assert any(line.startswith("joined64: ") and MASK in line for line in lines)
    encoded = printed["encoded"].split("\n")
    assert len(encoded) == 10 and all(MASK in line for line in encoded), encoded
    assert MASK in printed["pem"] and "-----" not in printed["pem"].replace(MASK, "")
    by_id = {step["identifier"]: step for step in execution["steps"]}
    assert by_id["derived"]["outputs"] == {"out": MASK}
    assert by_id["pem"]["outputs"] == {"key": MASK}
    for name, text in printed.items():
        assert_hidden(text, f"the log of {name}")


def test_an_exception_quoting_a_derived_value_is_masked(leaked: tuple[Live, Api, dict[str, Any]]) -> None:
    _, _, execution = leaked
    assert execution["status"] == "Failed"
    error = {step["identifier"]: step for step in execution["steps"]}["failing"]["error"]
    assert f"nothing at '{MASK}'" in error
    assert MASK in execution["error"]
    assert_hidden(str(execution), "the execution")


def test_no_api_answer_or_database_row_shows_a_form(leaked: tuple[Live, Api, dict[str, Any]]) -> None:
    live, _, execution = leaked
    admin = live.client()
    answers = {
        "execution": admin.get(f"/executions/{execution['id']}"),
        "logs": admin.get(f"/executions/{execution['id']}/logs"),
        "log stream": admin.events(execution["id"]),
        "executions": admin.get("/executions"),
        "audit": admin.get("/audit"),
        "entities": admin.get("/projects/vault/entities/pipeline/derive"),
    }
    for name, answer in answers.items():
        assert_hidden(json.dumps(answer), f"the API's {name}")
    database = [
        p for p in (live.server.settings.data_dir / ".corral").iterdir() if p.name.startswith("corral.db")
    ]
    assert database
    for path in database:
        assert_hidden(path.read_bytes(), str(path))


def test_short_secrets_are_refused_and_never_masked_inside_words(tmp_path: Path) -> None:
    with live_server(tmp_path / "server") as live:
        admin = live.client()
        cut = shell(
            "cut",
            'echo "$S"',
            environmentVariables=[
                {"name": "S", "type": "String", "value": '<+secrets.getValue("token").substring(0, 2)>'}
            ],
        )
        put_project(admin, "vault", [custom_pipeline("cut", [cut])], secrets={"token": SECRET})
        refused = admin.put("/projects/vault/secrets/short", {"value": "ab"}, 422).json()
        assert "secret 'short' is 2 characters long; secrets shorter than 4 characters are refused" in str(
            refused
        )
        execution = run(admin, "vault", "cut", {"who": "-"})
        error = execution["steps"][0]["error"]
        assert "a value computed from secret 'token' is 2 characters long" in error
        assert step_output(admin, execution["id"]) == {}


def test_a_short_secret_already_stored_is_refused_where_it_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # on one's own machine (an env secret): the step fails naming it, and words are left alone
    monkeypatch.setenv("CORRAL_TEST_SHORT", "ab")
    steps = [
        shell_step("words", "echo 'cab abc dab'"),
        shell_step(
            "short",
            'echo "$S"',
            spec={
                "environmentVariables": [
                    {"name": "S", "type": "Secret", "value": '<+secrets.getValue("short")>'}
                ]
            },
        ),
    ]
    secret = (
        "secret:\n  name: short\n  identifier: short\n  type: SecretText\n"
        "  spec:\n    secretManagerIdentifier: env\n    value: CORRAL_TEST_SHORT\n"
    )
    write_project(tmp_path, pipeline("short", [stage("run", steps)]), extra={"secrets.yaml": secret})
    result = corral("run", "short", cwd=tmp_path)
    assert result.exit_code != 0
    assert (
        "secret 'short' is 2 characters long; secrets shorter than 4 characters are refused" in result.output
    )
    assert "cab abc dab" in result.output


@contextmanager
def receiver() -> Iterator[tuple[str, list[bytes]]]:
    """A local webhook endpoint that keeps each body it is sent."""
    bodies: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", bodies
    finally:
        server.shutdown()
        server.server_close()


def test_a_webhook_body_never_shows_a_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CORRAL_TEST_TOKEN", SECRET)
    monkeypatch.setenv("CORRAL_TEST_PEM", PEM)
    steps = _steps()
    steps.insert(3, shell_step("tail", 'echo "$PEM"; echo "$UPPER"; exit 3'))
    steps[3]["step"]["spec"]["environmentVariables"] = [
        {"name": "PEM", "type": "Secret", "value": '<+secrets.getValue("pem")>'},
        {"name": "UPPER", "type": "String", "value": DERIVED["UPPER"][0]},
    ]
    secrets = "---\n".join(
        f"secret:\n  name: {name}\n  identifier: {name}\n  type: SecretText\n"
        f"  spec:\n    secretManagerIdentifier: env\n    value: {variable}\n"
        for name, variable in (("token", "CORRAL_TEST_TOKEN"), ("pem", "CORRAL_TEST_PEM"))
    )
    with receiver() as (url, bodies):
        write_project(tmp_path, pipeline("derive", [stage("run", steps)]), extra={"secrets.yaml": secrets})
        (tmp_path / "corral.yaml").write_text(
            f"project:\n  name: vault\n  notifications:\n    - {{type: webhook, url: '{url}', events: [PipelineFailed]}}\n",
            encoding="utf-8",
        )
        result = corral("run", "derive", cwd=tmp_path)
    assert result.exit_code != 0, result.output
    [body] = bodies
    assert json.loads(body)["event"] == "PipelineFailed"
    assert MASK in json.loads(body)["execution"]["error"]
    assert_hidden(body, "the webhook body")
    assert_hidden(result.output, "the CLI's output")


@contextmanager
def echo_server() -> Iterator[str]:
    """Answers each GET with the X-Token header it got, in many encodings, one per line."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = "\n".join(encodings(self.headers.get("X-Token", ""))).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/echo"
    finally:
        server.shutdown()
        server.server_close()


def test_an_http_response_body_never_shows_an_encoding(tmp_path: Path) -> None:
    with echo_server() as url, live_server(tmp_path / "server") as live:
        admin = live.client()
        http_step = {
            "step": {
                "name": "call",
                "identifier": "call",
                "type": "Http",
                "timeout": "1m",
                "spec": {
                    "url": url,
                    "method": "GET",
                    "headers": [{"key": "X-Token", "value": TOKEN}],
                    "outputVariables": [{"name": "body", "type": "String", "value": "<+httpResponseBody>"}],
                },
            }
        }
        put_project(admin, "vault", [custom_pipeline("call", [http_step])], secrets={"token": SECRET})
        execution = run(admin, "vault", "call", {"who": "-"})
        assert execution["status"] == "Success", execution
        logs = admin.get(f"/executions/{execution['id']}/logs")
        [body] = [line["message"] for line in logs if line["message"].startswith("Response body: ")]
        lines = body.removeprefix("Response body: ").split("\n")
        assert len(lines) == len(encodings(SECRET))
        # each line is the mask, at most inside the quotes of its JSON or repr form
        assert all(MASK in line and set(line.replace(MASK, "")) <= set("\"'\\") for line in lines), lines
        outputs = execution["steps"][0]["outputs"]
        assert outputs["body"] == outputs["httpResponseBody"] == body.removeprefix("Response body: ")
        assert_hidden(json.dumps([execution, logs]), "the Http step's execution")


def test_a_deployer_input_naming_a_secret_never_shows_it(tmp_path: Path) -> None:
    # the attack of the issue: a run-time input of <+secrets.getValue("token").toUpperCase()>
    attack = DERIVED["UPPER"][0]
    with live_server(tmp_path / "server") as live:
        admin = live.client()
        step = shell(
            "say",
            'echo <+pipeline.variables.msg>\necho "env: $MSG"',
            environmentVariables=[{"name": "MSG", "type": "String", "value": "<+pipeline.variables.msg>"}],
        )
        variables = [{"name": "msg", "type": "String", "value": "<+input>"}]
        put_project(admin, "vault", [custom_pipeline("say", [step], variables)], secrets={"token": SECRET})
        deployer = admin.user("dora", project="vault", role="deployer")
        execution = run(deployer, "vault", "say", {"msg": attack, "who": "-"})
        printed = step_output(deployer, execution["id"])
        assert printed["say"].split("\n")[0] == attack  # in the script's text it is only data
        assert_hidden(
            json.dumps([execution, printed, admin.get(f"/executions/{execution['id']}/logs")]), "the run"
        )


def _forms_of(secret: str) -> list[str]:
    raw = secret.encode()
    quoted = quote(secret, safe="")
    return [
        *encodings(secret),
        re.sub("%[0-9A-F]{2}", lambda m: m.group(0).lower(), quoted),
        json.dumps(secret, ensure_ascii=False),
        json.dumps([secret]),
    ] + (
        # inside longer data the secret's part is masked once it spans 8 base64 characters
        [base64.b64encode(b"user:" + raw + b"\n").decode()] if len(raw) >= 8 else []
    )


@settings(max_examples=300, deadline=None)
@given(secret=st.text(min_size=4, max_size=40).filter(lambda s: s.strip() == s and len(s.strip()) >= 4))
def test_every_form_of_any_secret_is_masked(secret: str) -> None:
    from corral.expressions.masking import mask_text

    for form in _forms_of(secret):
        shown = mask_text(f"before {form} after", {secret})
        assert form not in shown or form in ("before", "after"), (form, shown)
        assert MASK in shown, (form, shown)


def test_no_ui_page_shows_a_form(leaked: tuple[Live, Api, dict[str, Any]], page: Any) -> None:
    from tests.browser.test_ui import sign_in

    live, _, execution = leaked
    sign_in(page, live.url)
    page.goto(f"{live.url}/ui/#/executions/{execution['id']}")
    seen = []
    for name in ("derived", "encoded", "pem"):
        page.get_by_role("button", name=f"Logs of {name}").click()
        page.get_by_label(f"Log of {name}").get_by_text(MASK).first.wait_for()
        seen.append(page.content())
    for path in ("#/executions", "#/projects/vault/pipelines", "#/projects/vault/secrets"):
        page.goto(f"{live.url}/ui/{path}")
        page.locator("h1").first.wait_for()
        seen.append(page.content())
    for html in seen:
        assert_hidden(html, "a UI page")
