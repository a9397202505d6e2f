"""The headless Chromium of the whole suite (Debian's /usr/bin/chromium through Playwright's sync
API): fixtures `chromium` (one browser per test process) and `page` (a fresh context per test).

Registered once from tests/conftest.py (`pytest_plugins`), so every test that needs a page, in
tests/browser or elsewhere, shares the one session fixture: a second sync Playwright started in
the same thread while the first one lives fails ("Sync API inside the asyncio loop").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def chromium() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.skip("browser tests need Debian's Chromium at /usr/bin/chromium (apt-get install chromium)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="browser tests need playwright")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Iterator[Any]:
    context = chromium.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.set_default_timeout(30_000)  # generous: the suite shares two cores
    try:
        yield page
    finally:
        context.close()
