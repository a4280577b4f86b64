"""Shared fixtures: real sandbox desktops and real MCP clients talking to a real server."""

from __future__ import annotations

import pytest

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import mousepad_text, wait_for_app, wait_until
from tests.support.mcp_client import attached_server


@pytest.fixture(scope="module")
def session():
    """A sandbox desktop shared by one test module; apps are launched by the tests."""
    with SandboxSession(SandboxConfig()) as sandbox:
        yield sandbox


@pytest.fixture(scope="module")
def client(session):
    """A cua-mcp server attached to the module's sandbox, driven through the SDK's stdio client."""
    with attached_server(session) as mcp:
        yield mcp


@pytest.fixture(scope="module")
def mousepad(session, client):
    """mousepad open and focused on the module's sandbox, its document empty."""
    session.launch("mousepad")
    wait_for_app(session, "mousepad")
    wait_until(lambda: mousepad_text(session) == "", what="an empty mousepad document")
    return session
