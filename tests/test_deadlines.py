"""Every call ends within its stated time, even when the X server or an app stops answering.

A stopped Xvfb (SIGSTOP) accepts connections and never replies; a stopped app never answers on the
accessibility bus. Calls against them must still return, as errors that say what happened, and the
server must serve normally once they run again.
"""

from __future__ import annotations

import asyncio
import os
import signal
from contextlib import contextmanager

import pytest
from mcp import Client
from mcp.server import MCPServer

from cua_mcp.tools._registry import ToolRegistrar
from tests.support.desktop import wait_for_app, wait_until
from tests.support.processes import command_line, descendants


def _xvfb_pid(session) -> int:
    """The Xvfb serving the session's display, found as `ps` would find it."""
    for pid in descendants(os.getpid()):
        argv = command_line(pid).split()
        if argv and os.path.basename(argv[0]) == "Xvfb" and session.display in argv:
            return pid
    raise AssertionError(f"no Xvfb for {session.display} among this test's processes")


@contextmanager
def stopped(pid: int):
    os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(pid, signal.SIGCONT)


def test_clipboard_calls_answer_while_the_x_server_is_stopped(client, session):
    with stopped(_xvfb_pid(session)):
        # The first call also has to connect to the stopped server; the second finds that attempt pending.
        for _ in range(2):
            message = client.error("clipboard_get", {})
            assert "did not answer" in message, message
        message = client.error("clipboard_set", {"text": "x"})
        assert "did not answer" in message, message
    wait_until(lambda: not client.call_raw("clipboard_set", {"text": "back"}).is_error, timeout=60, what="clipboard")
    assert "back" in client.call_raw("clipboard_get", {}).content[0].text


@pytest.fixture(scope="module")
def mousepad(session, client):
    app = session.launch("mousepad")
    wait_for_app(session, "mousepad")
    return app


@pytest.mark.parametrize("until", ["disappears", "appears", "enabled"])
def test_wait_for_on_a_stopped_app_ends_at_its_timeout(client, mousepad, until):
    found = client.call("find", {"scope": "mousepad", "role": "frame"})
    ref = found["elements"][0]["ref"]
    with stopped(mousepad.pid):
        result = client.call("wait_for", {"ref": ref, "until": until, "timeout": 2})
    # `waited` is the server's own clock: a poll stuck on the app must not carry it past the timeout.
    assert result["waited"] <= 2.3, result
    if until == "disappears":
        assert result["met"] is False, result  # an app that does not answer has not closed its window


def test_a_call_that_never_finishes_is_stopped_at_its_deadline():
    """The registrar's bound, on a tool that waits forever (as a stuck device read would)."""
    server = MCPServer("deadline")
    tools = ToolRegistrar(server, groups={"observe"})

    @tools.tool(group="observe", title="Never", read_only=True, deadline_s=0.5)
    async def never() -> str:
        """Waits for an event nobody sets."""
        await asyncio.Event().wait()
        return "unreachable"

    async def call() -> tuple[bool, str]:
        async with Client(server) as client:
            result = await client.call_tool("never", {})
            return result.is_error, result.content[0].text

    is_error, text = asyncio.run(asyncio.wait_for(call(), 60))
    assert is_error and "never did not finish within 0.5 s and was stopped" in text, text
