"""The README's tool catalog is the one the code registers."""

from __future__ import annotations

from pathlib import Path

from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.catalog import END, START, catalog_for

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_catalog_matches_the_code(session):
    with Desktop.attach(session.display) as desktop:
        generated = catalog_for(desktop)
    text = README.read_text()
    documented = text[text.index(START) + len(START) : text.index(END)].strip()
    assert documented == generated, (
        "README catalog is stale: regenerate it with "
        "`python -m cua_mcp.server.catalog --display :N` and paste it between the catalog markers"
    )
