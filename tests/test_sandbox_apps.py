"""In sandbox mode (no --display) the server starts apps through its own session, confined, with the
workspace in the sandbox's HOME; what a confined app saves there, read_file reads."""

from __future__ import annotations

import pytest

from tests.support.desktop import wait_until
from tests.support.mcp_client import McpServerProcess


@pytest.fixture(scope="module")
def sandbox_server():
    with McpServerProcess([]) as mcp:
        yield mcp


def test_a_fresh_desktop_has_an_empty_clipboard(sandbox_server):
    assert sandbox_server.call("clipboard_get") == {"text": "", "empty": True}


def test_workspace_defaults_to_the_sandbox_home(sandbox_server):
    listing = sandbox_server.call("list_files")
    assert listing["workspace"].endswith("/home/workspace") and "cua-mcp-" in listing["workspace"]


def test_launch_in_the_sandbox_and_save_into_the_workspace(sandbox_server):
    mcp = sandbox_server
    launched = mcp.call("launch", {"app": "mousepad"})
    assert launched["window"]["app"] == "Mousepad" and launched["confined"]
    mcp.call("activate_window", {"window": launched["window"]["id"]})
    mcp.call("type_text", {"text": "saved by mousepad"})
    path = mcp.call("write_file", {"path": "placeholder.txt", "content": ""})["absolute_path"]
    target = path.replace("placeholder.txt", "saved.txt")
    # Save As: type the full path into the dialog's name field and confirm.
    mcp.call("press_keys", {"keys": "ctrl+shift+s"})
    wait_until(lambda: any("Save" in w["title"] for w in mcp.call("list_windows")["windows"]), what="save dialog")
    mcp.call("press_keys", {"keys": "ctrl+a"})
    mcp.call("type_text", {"text": target})

    def saved() -> str | None:
        # The name field completes paths as they are typed; Return may first take a completion.
        content = _read(mcp, "saved.txt")
        if content is None and mcp.call("list_windows")["windows"][0]["title"] == "Save As":
            mcp.call("press_keys", {"keys": "Return"})
        return content

    assert wait_until(saved, timeout=20, interval=0.5, what="saved file") == "saved by mousepad"


def _read(mcp, path: str) -> str | None:
    names = [e["path"] for e in mcp.call("list_files")["entries"]]
    return mcp.call("read_file", {"path": path})["content"] if path in names else None


def test_shell_stays_off(sandbox_server):
    assert "run_command" not in [t.name for t in sandbox_server.list_tools()]
