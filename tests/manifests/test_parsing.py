"""JSON and YAML manifests; a syntax error names the file, the line and the column."""

from __future__ import annotations

import pytest

from corral.errors import ConfigError, Problem
from corral.manifests import ManifestFile, parse_manifest


def parse(source: str, text: str) -> object:
    return parse_manifest(ManifestFile(source=source, text=text))


def problem(source: str, text: str) -> Problem:
    with pytest.raises(ConfigError) as caught:
        parse(source, text)
    [only] = caught.value.problems
    return only


def test_json_and_yaml_give_the_same_document() -> None:
    json_doc = parse("task.json", '{"family": "web", "cpu": "256", "essential": true}')
    yaml_doc = parse("task.yaml", "family: web\ncpu: '256'\nessential: true\n")
    assert json_doc == yaml_doc == {"family": "web", "cpu": "256", "essential": True}


def test_json_text_in_a_yaml_file_is_read() -> None:
    assert parse("files/task.yaml", '{"family": "web"}') == {"family": "web"}


def test_unquoted_json_value_in_a_yaml_file_is_read_as_yaml() -> None:
    # The seed's service definition writes "serviceName": myapp; YAML reads it.
    assert parse("service.yaml", '{"serviceName": myapp}') == {"serviceName": "myapp"}


def test_broken_json_names_line_and_column() -> None:
    found = problem("files/service.json", '{\n  "launchType": "FARGATE",\n  "serviceName": myapp\n}')
    assert found == Problem("files/service.json", "line 3, column 18", "invalid JSON: Expecting value")


def test_broken_yaml_names_line_and_column() -> None:
    found = problem(
        "git:repo@main:task.yaml", "family: web\ncontainerDefinitions:\n  - name: a\n   image: b\n"
    )
    assert found.file == "git:repo@main:task.yaml"
    assert found.path == "line 4, column 4"
    assert found.message == (
        "invalid YAML: expected <block end>, but found '<block mapping start>' "
        "(while parsing a block collection at line 3, column 3)"
    )


def test_yaml_value_that_opens_a_mapping_is_reported() -> None:
    found = problem("task.yaml", "family: web: api\n")
    assert found == Problem(
        "task.yaml", "line 1, column 12", "invalid YAML: mapping values are not allowed here"
    )


def test_yaml_tab_indentation_is_reported() -> None:
    found = problem("task.yml", "family: web\n\tcpu: '256'\n")
    assert found.path == "line 2, column 1"
    assert "invalid YAML" in found.message


def test_duplicate_yaml_key_is_an_error_with_its_line() -> None:
    found = problem("task.yaml", "family: web\ncpu: '256'\nfamily: api\n")
    assert found == Problem(
        "task.yaml", "line 3, column 1", "invalid YAML: key 'family' appears twice in one mapping"
    )


def test_duplicate_json_key_is_an_error() -> None:
    found = problem("task.json", '{"family": "web", "family": "api"}')
    assert found.message == "invalid JSON: key 'family' appears twice in one object"


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n"])
def test_empty_manifest_is_an_error(text: str) -> None:
    found = problem("task.yaml", text)
    assert "expected a JSON or YAML manifest" in found.message


def test_two_yaml_documents_are_an_error() -> None:
    found = problem("task.yaml", "family: a\n---\nfamily: b\n")
    assert found.message == "the file holds 2 YAML documents; expected one manifest"


def test_yaml_null_values_stay_null() -> None:
    assert parse("task.yaml", "ipcMode:\nfamily: web\n") == {"ipcMode": None, "family": "web"}
