"""Every picture the docs show exists under docs/images/ (tests/browser/test_status_ui.py makes
the dashboard's with CORRAL_UPDATE_SCREENSHOTS=1), and every picture there is shown somewhere."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PICTURE = re.compile(r"!\[[^\]]*\]\(([^)\s]+\.png)\)")


def test_the_docs_pictures_exist_and_none_is_left_unused() -> None:
    shown = set()
    for page in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target in PICTURE.findall(page.read_text(encoding="utf-8")):
            path = (page.parent / target).resolve()
            assert path.is_file(), f"{page.relative_to(ROOT)} shows {target}, which does not exist"
            shown.add(path)
    kept = {p.resolve() for p in (ROOT / "docs" / "images").glob("*.png")}
    assert kept - shown == set(), "pictures in docs/images/ that no page shows"
    assert kept, "docs/images/ holds the dashboard's pictures"
