"""Review of issue 12, hardening: what a client sends cannot reset the limit on token guessing
nor put another address in the audit log. The server is the real `corral server` command, as
an operator starts it."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.server.helpers import ADMIN_TOKEN

from .review_helpers import corral_server

FORGED = "203.0.113."


def _guess(url: str, count: int, *, source: str = "127.0.0.1") -> list[int]:
    """count wrong tokens (bounded, to 127.0.0.1 only), each naming a new client address."""
    answers = []
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, timeout=10, transport=transport) as http:
        for attempt in range(count):
            headers = {
                "Authorization": f"Bearer crl_wrong-guess-{attempt:04d}-0123456789abcdefghij",
                "X-Forwarded-For": f"{FORGED}{attempt + 1}",
            }
            answers.append(http.get("/api/v1/me", headers=headers).status_code)
    return answers


def _audit(url: str, source: str) -> list[dict[str, object]]:
    """The admin's view of the denials, asked from another loopback address (not barred)."""
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(base_url=url, timeout=10, transport=transport) as http:
        answer = http.get(
            "/api/v1/audit",
            params={"action": "access.denied"},
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        )
    assert answer.status_code == 200, answer.text
    entries: list[dict[str, object]] = answer.json()
    return entries


def test_a_forged_x_forwarded_for_does_not_reset_the_sign_in_limit(tmp_path: Path) -> None:
    """A local process (a step's user, another user of the machine) that names a new client
    address in each request still gets 429 after 10 wrong tokens, and the audit log records
    where the requests came from, not the forged addresses."""
    with corral_server(tmp_path) as admin:
        answers = _guess(admin.url, 15)
        assert answers[:10] == [401] * 10
        assert set(answers[10:]) == {429}, answers
        entries = _audit(admin.url, "127.0.0.2")
        assert len(entries) == 10
        assert all(FORGED not in str(entry) for entry in entries), entries


def test_a_trusted_proxy_names_the_client(tmp_path: Path) -> None:
    """With --trusted-proxy, the proxy's X-Forwarded-For is the client: each address is counted
    on its own, as the operator asked."""
    with corral_server(tmp_path, "--trusted-proxy", "127.0.0.1") as admin:
        assert _guess(admin.url, 12) == [401] * 12
        entries = _audit(admin.url, "127.0.0.2")
        assert any(f"{FORGED}12" in str(entry) for entry in entries), entries
