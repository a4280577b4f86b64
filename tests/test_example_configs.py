"""The client configs in examples/ work as copied: each entry's command starts a server a client can use.

The only edits are the ones the README asks of a user: the checkout's path, the display, the session
bus address, the HTTP server's port and token. `uvx` is the one the dev dependencies install; the HTTP
bridge is the mcp-remote package the tests install (npx would fetch the same)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import pytest

from tests.support.desktop import wait_until
from tests.support.http_server import HttpServer
from tests.support.mcp_client import CUA_MCP, McpServerProcess

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ["claude_desktop_config.json", ".cursor/mcp.json", "claude_desktop_http_config.json"]
BRIDGE = ROOT / "tests" / "node" / "node_modules" / ".bin" / "mcp-remote"
UVX = str(Path(CUA_MCP).with_name("uvx"))


def entries():
    for config in CONFIGS:
        for name, entry in json.loads((ROOT / "examples" / config).read_text())["mcpServers"].items():
            yield pytest.param(entry, id=f"{config}:{name}")


@pytest.mark.slow  # uvx builds the package from the checkout
@pytest.mark.parametrize("entry", list(entries()))
def test_an_example_config_starts_a_server_a_client_can_use(session, entry, tmp_path):
    command, args, env = entry["command"], list(entry["args"]), dict(entry.get("env", {}))
    args = [str(ROOT) if a == "/path/to/cua-mcp" else session.display if a == ":1" else a for a in args]
    if "DBUS_SESSION_BUS_ADDRESS" in env:
        env["DBUS_SESSION_BUS_ADDRESS"] = session.env["DBUS_SESSION_BUS_ADDRESS"]
    env.pop("XAUTHORITY", None)  # the sandbox's display needs none
    http = None
    if command == "npx":
        assert args[:2] == ["-y", "mcp-remote@0.15"], args
        token = secrets.token_urlsafe(16)
        http = HttpServer(["--display", session.display], token=token).start(tmp_path / "http.log")
        command, args = str(BRIDGE), [a.replace(":8765", f":{http.port}") for a in args[2:]]
        env["AUTH_HEADER"] = f"Bearer {token}"
    else:
        assert command == "uvx", command
        command = UVX
    try:
        with McpServerProcess(args, env=env, command=command) as client:
            assert "menu_select" in client.tool_names()
            info = client.call("screen_info")
            assert info["space"]["width"] == 1280
            if "--launch" in args:
                assert wait_until(
                    lambda: any(w["app"] == "Mousepad" for w in client.call("list_windows")["windows"]),
                    timeout=60,
                    what="mousepad on the sandbox",
                )
    finally:
        if http is not None:
            http.stop()
