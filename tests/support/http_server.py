"""`cua-mcp --transport http` as a subprocess, and SDK clients talking to it over streamable HTTP.

`HttpServer` starts the real server on a free loopback port and waits for `/healthz`.
`connect_http` connects an SDK client to it; `HttpMcpClient` is the stdio client's blocking
`call()`/`image()`/`list_tools()` over HTTP. Both speak either protocol era: "legacy" (ClientSession, the 2025-11-25 handshake with a session) or
"modern" (the 2026 `Client`, stateless).
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import httpx2
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

from tests.support.mcp_client import CUA_MCP, BlockingClient

Era = Literal["legacy", "modern"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class HttpServer:
    """`cua-mcp --transport http ARGS` on 127.0.0.1:<free port>."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None, token: str | None = None) -> None:
        self.port = free_port()
        self.token = token
        self.base = f"http://127.0.0.1:{self.port}"
        self.url = f"{self.base}/mcp"
        self.args = [CUA_MCP, "--transport", "http", "--port", str(self.port), *args]
        self.env = {**os.environ, **(env or {})}
        self.env.pop("CUA_MCP_TOKEN", None)
        if token:
            self.env["CUA_MCP_TOKEN"] = token
        self.process: subprocess.Popen | None = None
        self.stderr_path: Path | None = None

    def start(self, stderr_path: Path) -> HttpServer:
        self.stderr_path = stderr_path
        with open(stderr_path, "wb") as err:
            self.process = subprocess.Popen(self.args, env=self.env, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"cua-mcp exited with {self.process.returncode}: {self.stderr()}")
            try:
                if httpx2.get(f"{self.base}/healthz", timeout=2).status_code == 200:
                    return self
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise AssertionError(f"cua-mcp did not answer /healthz: {self.stderr()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)

    def stderr(self) -> str:
        return self.stderr_path.read_text(errors="replace")[-3000:] if self.stderr_path else ""

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def client(self, era: Era) -> HttpMcpClient:
        return HttpMcpClient(self.url, self.token, era)


class HttpMcpClient(BlockingClient):
    """An SDK client session on an HTTP server, with the blocking helpers of the stdio one."""

    def __init__(self, url: str, token: str | None, era: Era) -> None:
        super().__init__()
        self.url = url
        self.token = token
        self.era = era

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[ClientSession | Client]:
        async with connect_http(self.url, self.token, self.era) as (session, version):
            self.protocol_version = version
            yield session


@asynccontextmanager
async def connect_http(
    url: str, token: str | None, era: Era
) -> AsyncIterator[tuple[ClientSession | Client, str | None]]:
    """A connected SDK client of `era` on a streamable HTTP server, and the protocol version it speaks."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx2.AsyncClient(headers=headers, timeout=httpx2.Timeout(60)) as http:
        transport = streamable_http_client(url, http_client=http)
        if era == "legacy":
            async with transport as (read, write), ClientSession(read, write) as session:
                yield session, (await session.initialize()).protocol_version
        else:
            async with Client(transport) as client:
                yield client, client.protocol_version
