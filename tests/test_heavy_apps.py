"""LibreOffice and Chromium from the shipped catalog open files from the workspace (confined)."""

from __future__ import annotations

import pytest

from tests.support.desktop import wait_until
from tests.support.mcp_client import attached_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(session, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("heavy-ws")
    with attached_server(session, "--workspace", str(workspace)) as mcp:
        yield mcp


def _title_contains(server, text: str) -> bool:
    return any(text in w["title"] for w in server.call("list_windows")["windows"])


def test_calc_opens_a_workspace_file(server):
    path = server.call("write_file", {"path": "sales.csv", "content": "month,total\njan,10\nfeb,20\n"})["absolute_path"]
    launched = server.call("launch", {"app": "libreoffice-calc", "args": [path]}, timeout=120)
    # The CSV import dialog (class Soffice) may be the first window: it is what needs an answer.
    assert launched["confined"] and launched["window"]["app"] in ("Soffice", "libreoffice-calc")
    wait_until(lambda: _title_contains(server, "sales.csv") or _title_contains(server, "Text Import"), timeout=60)


def test_chromium_opens_a_workspace_page(server):
    page = "<html><head><title>Workspace page</title></head><body>hello</body></html>"
    path = server.call("write_file", {"path": "page.html", "content": page})["absolute_path"]
    launched = server.call("launch", {"app": "chromium", "args": [f"file://{path}"]}, timeout=120)
    assert launched["window"]["app"] == "Chromium"
    wait_until(lambda: _title_contains(server, "Workspace page"), timeout=60, what="the page's title")
