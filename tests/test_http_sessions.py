"""HTTP sessions end: an abandoned one expires, the oldest idle one makes room at the cap, and whatever
mouse button a session held down is released when it ends, as stdio releases everything at exit.

Clients here are raw HTTP requests, the way an abandoned or hostile client behaves: no DELETE at the end.
"""

from __future__ import annotations

import httpx2
import pytest
from Xlib import X
from Xlib.display import Display

from tests.support.desktop import wait_until
from tests.support.http_server import HttpServer
from tests.support.mcp_client import bus_env

IDLE_TIMEOUT_S = 5
MAX_SESSIONS = 3
_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def buttons_down(display_name: str) -> set[int]:
    """Mouse buttons the X server considers pressed."""
    display = Display(display_name)
    try:
        mask = display.screen().root.query_pointer().mask
    finally:
        display.close()
    return {n for n, bit in ((1, X.Button1Mask), (2, X.Button2Mask), (3, X.Button3Mask)) if mask & bit}


class RawSession:
    """One MCP session opened by hand over HTTP (the 2025-11-25 handshake), never closed."""

    def __init__(self, server: HttpServer) -> None:
        self.url = server.url
        self.http = httpx2.Client(timeout=60)
        reply = self._post(
            {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "initialize",
                "params": {
                    "protocolVersion": "2025-11-25",
                    "capabilities": {},
                    "clientInfo": {"name": "abandoner", "version": "0"},
                },
            }
        )
        assert reply.status_code == 200, reply.text
        self.id = reply.headers["mcp-session-id"]
        self.version = reply.json()["result"]["protocolVersion"]
        self._post({"jsonrpc": "2.0", "method": "notifications/initialized"})

    def _post(self, message: dict) -> httpx2.Response:
        headers = dict(_HEADERS)
        if hasattr(self, "id"):
            headers |= {"mcp-session-id": self.id, "mcp-protocol-version": self.version}
        return self.http.post(self.url, json=message, headers=headers)

    def call(self, tool: str, arguments: dict) -> httpx2.Response:
        return self._post(
            {"jsonrpc": "2.0", "id": 2, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
        )

    def alive(self) -> bool:
        status = self._post({"jsonrpc": "2.0", "id": 3, "method": "ping"}).status_code
        assert status in (200, 404), status
        return status == 200


@pytest.fixture(scope="module")
def server(session, tmp_path_factory):
    http = HttpServer(
        [
            "--display",
            session.display,
            "--session-idle-timeout",
            str(IDLE_TIMEOUT_S),
            "--max-sessions",
            str(MAX_SESSIONS),
        ],
        env=bus_env(session),
    )
    http.start(tmp_path_factory.mktemp("http") / "stderr.log")
    yield http
    http.stop()


def test_an_abandoned_session_expires_and_lets_go_of_its_button(server, session):
    abandoned = RawSession(server)
    reply = abandoned.call("mouse_down", {"button": "left"})
    assert reply.status_code == 200 and not reply.json()["result"]["isError"], reply.text
    assert buttons_down(session.display) == {1}
    wait_until(lambda: not buttons_down(session.display), timeout=60, what="the button released at expiry")
    assert not abandoned.alive()


def test_at_the_cap_the_oldest_idle_session_makes_room(server):
    sessions = [RawSession(server) for _ in range(MAX_SESSIONS)]
    newest = RawSession(server)  # one over the cap: admitted, not refused
    assert newest.alive()
    assert not sessions[0].alive()
    assert all(s.alive() for s in sessions[1:])
