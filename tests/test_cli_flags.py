"""The command-line flags of this part, end to end: --apps-config, --workspace, --no-network."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import threading

import pytest

from cua_mcp.sandbox.confine import find_bwrap
from tests.support.desktop import wait_until
from tests.support.mcp_client import CUA_MCP, McpServerProcess

# A TOML multi-line literal string: the shell line holds both kinds of quotes.
PROBE = (
    "python3 -c 'import socket; socket.create_connection((\"127.0.0.1\", {port}), 3)' "
    "&& echo reached > {{workspace}}/net.txt || echo blocked > {{workspace}}/net.txt"
)


def test_a_bad_apps_config_stops_start_up_with_the_reason(tmp_path):
    config = tmp_path / "apps.toml"
    config.write_text("[apps.x]\ncommand = []\n")
    out = subprocess.run([CUA_MCP, "--apps-config", str(config)], capture_output=True, text=True, timeout=30)
    assert out.returncode == 2 and "'command' must be a non-empty list" in out.stderr and str(config) in out.stderr


@pytest.mark.skipif(find_bwrap() is None, reason="bubblewrap is not available here")
@pytest.mark.parametrize("network", [True, False], ids=["network", "no-network"])
def test_no_network_flag_confines_catalog_apps(session, tmp_path, network):
    listener = socket.create_server(("127.0.0.1", 0))
    accepting = threading.Thread(target=_accept_once, args=(listener,), daemon=True)
    accepting.start()
    config = tmp_path / "apps.toml"
    probe = PROBE.format(port=listener.getsockname()[1])
    config.write_text(f"[apps.net-probe]\ncommand = ['sh', '-c', '''{probe}''']\n")
    workspace = tmp_path / "ws"
    args = ["--display", session.display, "--workspace", str(workspace), "--apps-config", str(config)]
    try:
        with McpServerProcess(args + ([] if network else ["--no-network"])) as mcp:
            mcp.call("launch", {"app": "net-probe", "wait": False})
            result = wait_until(lambda: (workspace / "net.txt").exists() and (workspace / "net.txt").read_text())
    finally:
        listener.close()
    assert result == ("reached\n" if network else "blocked\n")


def _accept_once(listener: socket.socket) -> None:
    with contextlib.suppress(OSError):  # without network nothing connects: the test closes the listener
        listener.accept()[0].close()
