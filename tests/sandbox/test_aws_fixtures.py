"""The AWS documentation fixtures themselves: every entry says where it comes from."""

from __future__ import annotations

import pytest

from .aws_fixture_data import FIXTURES, entries, topics

AWS_DOCUMENTATION = ("https://docs.aws.amazon.com/",)


def test_every_topic_of_the_brief_has_a_file() -> None:
    assert topics() == [
        "api_errors",
        "deployment_states",
        "eventbridge_events",
        "health_checks",
        "sdk_retries",
        "service_event_messages",
        "throttling_buckets",
    ]
    readme = (FIXTURES / "README.md").read_text()
    assert all(f"`{topic}.yaml`" in readme for topic in topics())


@pytest.mark.parametrize("topic", topics())
def test_each_entry_names_its_aws_page(topic: str) -> None:
    seen: set[str] = set()
    for entry in entries(topic):
        assert entry["id"] not in seen, f"{topic}: id {entry['id']} twice"
        seen.add(entry["id"])
        source = entry.get("source")
        assert isinstance(source, dict), f"{topic}/{entry['id']}: no source"
        assert source["url"].startswith(AWS_DOCUMENTATION), f"{topic}/{entry['id']}: {source['url']}"
        assert source["title"].strip(), f"{topic}/{entry['id']}: no page title"
        differs = entry.get("sandbox_differs")
        assert differs is None or differs.get("why"), f"{topic}/{entry['id']}: a difference needs its why"
