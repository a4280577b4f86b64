"""Every flag can come from a CUA_MCP_* environment variable; attach mode warns when it cannot reach the apps."""

from __future__ import annotations

import os
import subprocess

import pytest

from cua_mcp.server.cli import parse_args
from tests.support.mcp_client import CUA_MCP


@pytest.fixture
def environ(monkeypatch):
    for name in [n for n in os.environ if n.startswith("CUA_MCP_")]:
        monkeypatch.delenv(name)
    return monkeypatch


def test_flags_come_from_the_environment(environ):
    environ.setenv("CUA_MCP_LOG_LEVEL", "DEBUG")
    environ.setenv("CUA_MCP_NO_NETWORK", "yes")
    environ.setenv("CUA_MCP_LAUNCH", "mousepad, xterm")
    environ.setenv("CUA_MCP_SCREEN", "1280x800")
    environ.setenv("CUA_MCP_ALLOW", "shell")
    environ.setenv("CUA_MCP_TOKEN", "from-env")
    args = parse_args([])
    assert (args.log_level, args.no_network, args.launch, args.screen) == (
        "DEBUG",
        True,
        ["mousepad", "xterm"],
        (1280, 800),
    )
    assert "shell" in args.groups and args.token == "from-env"


def test_the_command_line_wins_and_a_switch_can_be_off(environ):
    environ.setenv("CUA_MCP_LOG_LEVEL", "DEBUG")
    environ.setenv("CUA_MCP_READ_ONLY", "false")
    args = parse_args(["--log-level", "ERROR"])
    assert args.log_level == "ERROR" and not args.read_only


def test_a_bad_value_in_the_environment_names_its_flag(environ, capsys):
    environ.setenv("CUA_MCP_PORT", "eighty")
    with pytest.raises(SystemExit):
        parse_args([])
    assert "--port: 'eighty' is not a port number" in capsys.readouterr().err


def test_attach_mode_warns_without_a_session_bus(session):
    env = {k: v for k, v in os.environ.items() if k != "DBUS_SESSION_BUS_ADDRESS"}
    out = subprocess.run(
        [CUA_MCP, "--display", session.display],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert "DBUS_SESSION_BUS_ADDRESS is not set" in out.stderr, out.stderr
