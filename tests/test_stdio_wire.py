"""Raw bytes on a real server's stdin: every line that is not a message gets an answer, and serving goes on.

A JSON-RPC client that sends something unparsable waits for a reply; without one it hangs until its
own timeout. The server answers each such line with JSON-RPC's parse error (-32700, id null), as the
HTTP transport does, and refuses a line over the cap without reading it into memory.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from queue import Empty, Queue

import pytest

from tests.support.mcp_client import CUA_MCP, bus_env

LINE_CAP = 64 * 1024 * 1024  # the documented cap on one stdio message


class RawServer:
    """`cua-mcp --display D` with its stdin and stdout as plain pipes: lines in, parsed replies out."""

    def __init__(self, session) -> None:
        env = {**os.environ, **bus_env(session)}
        self.process = subprocess.Popen(
            [CUA_MCP, "--display", session.display],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        self.replies: Queue[dict] = Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.replies.put(json.loads(line))

    def send(self, data: bytes) -> None:
        self.process.stdin.write(data)
        self.process.stdin.flush()

    def reply(self, timeout: float = 60) -> dict:
        try:
            return self.replies.get(timeout=timeout)
        except Empty:
            raise AssertionError(f"no reply within {timeout} s (server alive: {self.process.poll() is None})") from None

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def raw(session):
    server = RawServer(session)
    yield server
    server.close()


def _ping(raw: RawServer, request_id: int) -> None:
    raw.send(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "ping"}).encode() + b"\n")
    reply = raw.reply()
    assert reply == {"jsonrpc": "2.0", "id": request_id, "result": {}}, reply


@pytest.mark.parametrize(
    "line",
    [
        b'{"jsonrpc": "2.0", "id": 1, "method": "tools/ca',  # truncated
        # A lone surrogate, written the way json.dumps writes it: valid JSON, not valid Unicode.
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"x": "\ud800"}}).encode(),
        b"\xff\xfe not UTF-8",
        b"[1, 2",
    ],
    ids=["truncated", "lone-surrogate", "bad-utf8", "truncated-array"],
)
def test_an_unparsable_line_gets_a_parse_error_and_serving_goes_on(raw, line):
    raw.send(line + b"\n")
    reply = raw.reply()
    assert reply["id"] is None and reply["error"]["code"] == -32700, reply
    assert reply["error"]["message"].startswith("Parse error"), reply
    _ping(raw, 10)


def test_json_that_is_not_a_message_is_an_invalid_request(raw):
    raw.send(b'{"jsonrpc": "2.0", "id": 3}\n')
    reply = raw.reply()
    assert reply["id"] is None and reply["error"]["code"] == -32600, reply
    assert reply["error"]["message"].startswith("Invalid Request"), reply
    _ping(raw, 12)


def test_a_line_over_the_cap_is_refused_and_serving_goes_on(raw):
    chunk = b"x" * (1024 * 1024)
    raw.send(b'{"jsonrpc": "2.0", "id": 4, "method": "ping", "params": {"pad": "')
    for _ in range(LINE_CAP // len(chunk) + 4):
        raw.send(chunk)
    raw.send(b'"}}\n')
    reply = raw.reply(timeout=120)
    assert reply["id"] is None and reply["error"]["code"] == -32700, reply
    assert "64 MiB" in reply["error"]["message"], reply
    _ping(raw, 11)
    assert raw.process.poll() is None
