"""docs/migrating-from-harness.md's status table says what Corral does with each Harness field and
expression; this test reads the table and checks every row against `corral validate` / `render`.

For each row, a tiny project (tests/migration_probes.py) uses the field. `supported`: validate
passes, and render shows the field's effect where the probe names one. `accepted, no effect`:
validate passes and render is the same as without the field. `ignored silently`: as `accepted, no
effect`, listed apart because a user would expect an effect. `ignored with a warning`: validate
passes and prints a warning naming the field. `kept as written`: validate passes and the rendered
request holds the expression's text, unresolved. `refused`: validate fails and names the field.
A row without a probe, or a probe without a row, fails too: the table and the code stay in step.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from corral.cli.main import cli
from tests.migration_probes import PROBES, Probe, Project

DOC = Path(__file__).resolve().parents[1] / "docs" / "migrating-from-harness.md"
STATUSES = (
    "supported",
    "accepted, no effect",
    "ignored silently",
    "ignored with a warning",
    "kept as written",
    "refused",
)
ROW = re.compile(r"^\|(?P<key>[^|]+)\|(?P<where>[^|]*)\|(?P<status>[^|]+)\|(?P<notes>.*)\|\s*$")


def table_rows() -> dict[str, str]:
    """First cell (backticks removed) -> status, for every row between the table markers."""
    text = DOC.read_text(encoding="utf-8")
    body = text.split("<!-- status-table -->", 1)[1].split("<!-- /status-table -->", 1)[0]
    rows: dict[str, str] = {}
    for line in body.splitlines():
        match = ROW.match(line.replace("\\|", "\x00"))
        if not match or set(match["status"].strip()) <= {"-", ":"} or match["key"].strip() == "Harness":
            continue
        key = match["key"].replace("\x00", "|").strip().replace("`", "")
        assert key not in rows, f"row {key!r} appears twice"
        rows[key] = match["status"].strip()
    return rows


def corral(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result.exit_code, result.output


def validate(root: Path, probe: Probe) -> tuple[int, str]:
    return corral("validate", "--project", str(root), *(["--offline"] if probe.offline else []))


def render(root: Path, *extra: str) -> tuple[int, str]:
    pair = ("--service", "web", "--env", "dev", "--infra", "ecs")
    return corral("render", "--project", str(root), *pair, "--format", "json", *extra)


def test_the_table_and_the_probes_name_the_same_rows() -> None:
    rows = table_rows()
    assert len(rows) >= 60
    assert set(rows) - set(PROBES) == set(), "rows without a probe"
    assert set(PROBES) - set(rows) == set(), "probes without a row"
    assert {status for status in rows.values()} <= set(STATUSES), set(rows.values()) - set(STATUSES)


def test_the_base_probe_project_validates_and_renders(tmp_path: Path) -> None:
    root = Project().write(tmp_path / "base")
    code, output = validate(root, Probe(lambda p: None))
    assert code == 0, output
    code, output = render(root)
    assert code == 0 and '"serviceName": "web"' in output, output


@pytest.mark.parametrize("key", sorted(PROBES))
def test_each_row_says_what_corral_does(key: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROBE_TOKEN", "probe-token-value")  # the value of the probes' secret
    status = table_rows()[key]
    probe = PROBES[key]
    project = Project()
    if probe.setup:
        probe.setup(project)
    probe.change(project)
    root = project.write(tmp_path / "probe")
    code, output = validate(root, probe)
    if status == "refused":
        assert code == 1, f"{key}: the table says refused, but validate passed:\n{output}"
        assert probe.names and probe.names in output, (
            f"{key}: the refusal does not name {probe.names!r}:\n{output}"
        )
        return
    assert code == 0, f"{key}: the table says {status}, but validate failed:\n{output}"
    if status == "ignored with a warning":
        assert "warning" in output.lower() and probe.names in output, output
    if probe.offline:  # a Git or S3 store: nothing to fetch from here
        return
    code, rendered = render(root, *probe.render_args)
    assert code == 0, f"{key}: validate passed but render failed:\n{rendered}"
    if status in ("supported", "kept as written") and probe.shows:
        assert probe.shows in rendered, f"{key}: render does not show {probe.shows!r}:\n{rendered}"
    if status in ("accepted, no effect", "ignored silently", "ignored with a warning"):
        compared = Project()
        if probe.setup:
            probe.setup(compared)
        code, base = render(compared.write(tmp_path / "base"), *probe.render_args)
        # the rendered requests must be the same; render's own info/warning lines may differ
        assert code == 0 and _requests(rendered) == _requests(base), (
            f"{key}: the table says it has no effect, but render changed"
        )


def _requests(rendered: str) -> str:
    return "\n".join(line for line in rendered.splitlines() if not line.startswith(("info: ", "warning: ")))
