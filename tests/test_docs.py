"""What the README states is generated or checked, so it cannot drift from the code."""

from __future__ import annotations

import re
from pathlib import Path

from app.settings import markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
MARKERS = re.compile(r"(<!-- settings:start -->\n).*?(<!-- settings:end -->)", re.S)


def test_settings_table_is_generated_from_the_settings() -> None:
    """Regenerate with `python -m tests.test_docs` after changing a setting."""
    found = MARKERS.search(README.read_text())
    assert found, "README lacks the settings markers"
    assert found.group(0) == f"{found.group(1)}{markdown_table()}\n{found.group(2)}", (
        "README's settings table is stale: run `.venv/bin/python -m tests.test_docs`"
    )


def test_every_requirement_is_explained() -> None:
    """Each direct dependency has a line in the README saying why it is there."""
    text = README.read_text().lower()
    for requirements in ("requirements.txt", "requirements-dev.txt"):
        for line in (ROOT / requirements).read_text().splitlines():
            line = line.split("#", 1)[0].strip()
            if not line or line.startswith("-"):
                continue
            name = re.split(r"[<>=\[ ]", line, maxsplit=1)[0].lower()
            assert f"| {name} " in text or f"{name}," in text or f", {name}" in text, (
                f"README's dependency table does not explain {name}"
            )


if __name__ == "__main__":
    README.write_text(
        MARKERS.sub(lambda m: f"{m.group(1)}{markdown_table()}\n{m.group(2)}", README.read_text())
    )
