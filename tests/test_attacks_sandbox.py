"""Attacks from inside the server's own sandbox desktop: what its apps and commands can reach."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from cua_mcp.sandbox.confine import find_bwrap
from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.attacks import (
    app_file_arguments,
    host_secrets,
    other_displays,
    terminal_without_shell,
    token_in_environment,
)
from tests.support.desktop import wait_until
from tests.support.mcp_client import McpServerProcess

pytestmark = pytest.mark.skipif(find_bwrap() is None, reason="bubblewrap is not available here")

TOKEN = secrets.token_urlsafe(16)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("sandbox-attack-ws")


@pytest.fixture(scope="module")
def shell(workspace):
    """A server on its own sandbox desktop with every group on, holding a token in its environment."""
    with McpServerProcess(["--allow", "shell", "--workspace", str(workspace)], env={"CUA_MCP_TOKEN": TOKEN}) as mcp:
        yield mcp


@pytest.fixture(scope="module")
def default(workspace):
    """A server on its own sandbox desktop with the default groups."""
    with McpServerProcess(["--workspace", str(workspace)]) as mcp:
        yield mcp


def test_no_child_sees_the_token(shell):
    outcome = token_in_environment(shell, TOKEN)
    assert outcome.escapes == 0


def test_a_terminal_needs_the_shell_group(default, shell):
    assert terminal_without_shell(default).escapes == 0
    message = default.error("launch", {"app": "xterm"})
    assert "shell group" in message and "--allow shell" in message
    launch = next(t for t in default.list_tools() if t.name == "launch")
    assert "xterm" not in launch.description  # not offered where it cannot be started
    assert shell.call("launch", {"app": "xterm", "wait": False})["pid"] > 0


def test_app_arguments_that_name_files_stay_in_the_workspace(default):
    assert app_file_arguments(default).escapes == 0
    message = default.error("launch", {"app": "mousepad", "args": ["/etc/shadow"]})
    assert "must be in the workspace" in message


def test_commands_cannot_read_the_hosts_secrets_and_are_not_root(shell):
    assert host_secrets(shell).escapes == 0
    shell.call("write_file", {"path": "by-the-server.txt", "content": "one\n"})
    appended = shell.call("run_command", {"command": "echo two >> by-the-server.txt && cat by-the-server.txt"})
    assert appended["stdout"] == "one\ntwo\n"  # files the server writes belong to the commands' user


def test_apps_run_as_an_unprivileged_user_and_show_in_the_accessibility_tree(shell):
    app = shell.call("launch", {"app": "mousepad"})
    status = Path(f"/proc/{app['window']['pid']}/status").read_text().splitlines()
    uid = next(line for line in status if line.startswith("Uid:")).split()[1]
    effective = next(line for line in status if line.startswith("CapEff:")).split()[1]
    assert uid != "0" and int(effective, 16) == 0
    wait_until(lambda: shell.call("find", {"role": "frame", "scope": "mousepad"})["elements"], 30, what="its tree")
    shell.call("window_op", {"window": app["window"]["id"], "op": "close"})


@pytest.fixture(scope="module")
def other_desktop():
    with SandboxSession(SandboxConfig(width=640, height=480, window_manager="none")) as other:
        yield other


def test_a_command_reaches_no_other_display_and_not_its_own_without_the_cookie(shell, other_desktop):
    outcome = other_displays(shell, other_desktop.display)
    assert outcome.escapes == 0
