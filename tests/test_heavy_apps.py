"""LibreOffice and Chromium from the shipped catalog open files from the workspace (confined)."""

from __future__ import annotations

import functools
import http.server
import threading
from pathlib import Path

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


def test_chromium_opens_a_workspace_page_served_over_http(server):
    page = "<html><head><title>Workspace page</title></head><body>hello</body></html>"
    path = server.call("write_file", {"path": "page.html", "content": page})["absolute_path"]
    # A page opened from a file could read other local files: file: URLs are refused, served pages open.
    assert "file: URLs are refused" in server.error("launch", {"app": "chromium", "args": [f"file://{path}"]})
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(Path(path).parent))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as site:
        threading.Thread(target=site.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{site.server_address[1]}/page.html"
        launched = server.call("launch", {"app": "chromium", "args": [url]}, timeout=120)
        assert launched["window"]["app"] == "Chromium"
        wait_until(lambda: _title_contains(server, "Workspace page"), timeout=60, what="the page's title")
        site.shutdown()
