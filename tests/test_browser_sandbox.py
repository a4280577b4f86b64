"""The browser pack on the server's own sandbox desktop, where confined apps run as an unprivileged user."""

from __future__ import annotations

import pytest

from tests.support.mcp_client import McpServerProcess

pytestmark = pytest.mark.slow
FORM = "data:text/html,<title>Form</title><label>Name <input id=name></label>"


def test_the_pack_drives_a_chromium_confined_in_the_sandbox(tmp_path):
    with McpServerProcess(["--workspace", str(tmp_path)]) as web:
        opened = web.call("browser_open", {"url": FORM}, timeout=180)
        assert opened["started"] and opened["tab"]["title"] == "Form"
        web.call("browser_fill", {"selector": "#name", "text": "Ada"})
        snapshot = web.call("browser_snapshot")["text"]
        assert 'textbox "Name"' in snapshot and ": Ada" in snapshot, snapshot
        pid = next(w["pid"] for w in web.call("list_windows")["windows"] if w["app"] == "Chromium")
        with open(f"/proc/{pid}/status") as status:
            uid = next(line.split()[1] for line in status if line.startswith("Uid:"))
        assert uid != "0", "Chromium runs as root in the sandbox"
