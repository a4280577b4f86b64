"""Attach mode against a desktop started outside the server as Debian starts one (the session
bus socket directly in /tmp): confined apps start and join the accessibility tree, and a confined
command sees none of the host's /tmp."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from cua_mcp.sandbox.confine import find_bwrap
from tests.support.attacks import DebianDesktop, attached_tmp
from tests.support.desktop import wait_for_app
from tests.support.mcp_client import McpServerProcess

pytestmark = pytest.mark.skipif(find_bwrap() is None, reason="bubblewrap is not available here")


@pytest.fixture(scope="module")
def desktop():
    with DebianDesktop() as debian:
        assert debian.bus_socket.parent.as_posix() == "/tmp", debian.env["DBUS_SESSION_BUS_ADDRESS"]
        yield debian


@pytest.fixture(scope="module")
def server(desktop, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("attach-ws")
    args = ["--display", desktop.display, "--allow", "shell", "--workspace", str(workspace)]
    env = {"DBUS_SESSION_BUS_ADDRESS": desktop.env["DBUS_SESSION_BUS_ADDRESS"]}
    with McpServerProcess(args, env=env) as mcp:
        yield mcp


@pytest.fixture
def marker():
    """A file of the host's /tmp."""
    path = Path(f"/tmp/cua-host-only-{secrets.token_hex(4)}")
    path.write_text("host secret")
    yield path
    path.unlink()


def test_a_command_does_not_see_the_hosts_tmp(server, marker):
    assert attached_tmp(server, marker).escapes == 0


def test_mousepad_starts_and_joins_the_accessibility_tree(server, desktop):
    launched = server.call("launch", {"app": "mousepad"})
    assert launched["confined"] and launched["window"]["app"] == "Mousepad"
    wait_for_app(desktop, "mousepad", timeout=30)
    server.call("window_op", {"window": launched["window"]["id"], "op": "close"})


@pytest.mark.slow
def test_libreoffice_starts_and_joins_the_accessibility_tree(server, desktop):
    launched = server.call("launch", {"app": "libreoffice-writer"}, timeout=120)
    assert launched["confined"] and launched["window"]["app"] in ("Soffice", "libreoffice-writer")
    wait_for_app(desktop, "soffice", timeout=60)
