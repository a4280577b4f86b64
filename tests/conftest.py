"""Shared fixtures: real sandbox desktops and real MCP clients talking to a real server."""

from __future__ import annotations

import pytest

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.mcp_client import McpServerProcess


@pytest.fixture(scope="module")
def session():
    """A sandbox desktop shared by one test module; apps are launched by the tests."""
    with SandboxSession(SandboxConfig()) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(session):
    """A cua-mcp server attached to the module's sandbox, driven through the SDK's stdio client."""
    env = {"DBUS_SESSION_BUS_ADDRESS": session.env["DBUS_SESSION_BUS_ADDRESS"]}
    with McpServerProcess(["--display", session.display], env=env) as mcp:
        yield mcp
