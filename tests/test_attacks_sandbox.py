"""Attacks from inside the server's own sandbox desktop: what its apps and commands can reach."""

from __future__ import annotations

import secrets

import pytest

from cua_mcp.sandbox.confine import find_bwrap
from tests.support.attacks import token_in_environment
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
    message = default.error("launch", {"app": "xterm"})
    assert "shell group" in message and "--allow shell" in message
    launch = next(t for t in default.list_tools() if t.name == "launch")
    assert "xterm" not in launch.description  # not offered where it cannot be started
    assert shell.call("launch", {"app": "xterm", "wait": False})["pid"] > 0


@pytest.mark.parametrize(
    "arg", ["/etc/shadow", "file:///etc/shadow", "../../etc/shadow", "/root/.ssh/id_rsa", "file:/etc/passwd"]
)
def test_app_arguments_that_name_files_stay_in_the_workspace(default, arg):
    message = default.error("launch", {"app": "mousepad", "args": [arg], "wait": False})
    assert "workspace" in message
