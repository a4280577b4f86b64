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
