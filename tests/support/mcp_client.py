"""Synchronous handles on real MCP client sessions, for tests.

`BlockingClient` runs an event loop on a background thread; one task owns the client's contexts
from opening to closing, so module-scoped fixtures can share one server. `McpServerProcess`
starts `cua-mcp` as a subprocess and talks to it over stdio with the SDK's `ClientSession` (the
2025-11-25 handshake) or its `Client` (2026-07-28).
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import sys
import threading
from collections.abc import AsyncIterator
from concurrent.futures import Future
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client import Client
from mcp.client.stdio import stdio_client
from mcp.types import CallToolResult

from cua_mcp.sandbox.session import SandboxSession

CUA_MCP = str(Path(sys.executable).with_name("cua-mcp"))


class ToolFailed(AssertionError):
    pass


class BlockingClient:
    """A blocking `call()` on an MCP client session that lives on a background event loop."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._closing: asyncio.Event | None = None
        self._lifetime: Future | None = None
        self.session: ClientSession | Client | None = None
        self.protocol_version: str | None = None  # set by `_connect`
        self.instructions: str | None = None  # the server's, from the handshake (2025-11-25 era)

    def _connect(self) -> Any:
        """An async context manager that yields a connected session."""
        raise NotImplementedError

    def start(self) -> BlockingClient:
        self._thread.start()
        ready: Future = Future()
        self._lifetime = asyncio.run_coroutine_threadsafe(self._live(ready), self._loop)
        try:
            ready.result(timeout=60)
        except BaseException:
            self.close()
            raise
        return self

    def close(self) -> None:
        if self._closing is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
        if self._lifetime is not None:
            try:
                self._lifetime.result(timeout=30)
            finally:
                self._lifetime = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ----- calls ---------------------------------------------------------------------------

    def call_raw(
        self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 60, **options: Any
    ) -> CallToolResult:
        assert self.session is not None
        return self._run(self.session.call_tool(name, arguments or {}, **options), timeout=timeout)

    def call(self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 60) -> dict[str, Any]:
        """Call a tool and return its structured result; fail the test on an isError result."""
        result = self.call_raw(name, arguments, timeout)
        if result.is_error:
            raise ToolFailed(f"{name}({arguments}) failed: {error_text(result)}")
        return result.structured_content or {}

    def text(self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 60) -> str:
        """Call a tool and return the text block the model reads, inside its untrusted-content fence if it
        has one (the fence itself is checked here: whole, from this tool); fail the test on an isError result."""
        result = self.call_raw(name, arguments, timeout)
        if result.is_error:
            raise ToolFailed(f"{name}({arguments}) failed: {error_text(result)}")
        return unfenced(error_text(result), name)

    def error(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        """Call a tool that must fail and return its error message."""
        result = self.call_raw(name, arguments)
        assert result.is_error, f"{name}({arguments}) should have failed but returned {result.structured_content}"
        return error_text(result)

    def call_abandoned(self, name: str, arguments: dict[str, Any], after: float) -> BaseException:
        """Call a tool and give up on it after `after` seconds (the client cancels it); the exception."""
        try:
            self.call_raw(name, arguments, timeout=after + 30, read_timeout_seconds=after)
        except Exception as exc:
            return exc
        raise AssertionError(f"{name} returned within {after} s")

    def image(self, arguments: dict[str, Any] | None = None) -> tuple[bytes, str, dict[str, Any]]:
        """Take a screenshot: (image bytes, mime type, metadata)."""
        result = self.call_raw("screenshot", arguments)
        if result.is_error:
            raise ToolFailed(error_text(result))
        image = next(c for c in result.content if c.type == "image")
        return base64.b64decode(image.data), image.mime_type, result.structured_content or {}

    def list_tools(self) -> list[Any]:
        assert self.session is not None
        return self._run(self.session.list_tools()).tools

    def tool_names(self) -> list[str]:
        return [tool.name for tool in self.list_tools()]

    # ----- plumbing ------------------------------------------------------------------------

    async def _live(self, ready: Future) -> None:
        """The one task that owns the client's contexts, from opening to closing."""
        self._closing = asyncio.Event()
        try:
            async with self._connect() as session:
                self.session = session
                ready.set_result(None)
                await self._closing.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise
        finally:
            self.session = None

    def _run(self, coro, timeout: float = 60):
        future: Future = asyncio.run_coroutine_threadsafe(coro, self._loop)
        return future.result(timeout=timeout)


class McpServerProcess(BlockingClient):
    """`cua-mcp ARGS` (or another command) over stdio."""

    def __init__(
        self,
        args: list[str],
        env: dict[str, str] | None = None,
        modern: bool = False,
        elicitation_callback=None,
        command: str = CUA_MCP,
    ) -> None:
        super().__init__()
        self.command = command  # another build's executable, a client config's command, or a bridge
        self.args = args
        self.env = {**os.environ, **(env or {})}
        self.modern = modern  # the 2026-07-28 stateless era through `Client`, else the 2025-11-25 handshake
        self.elicitation_callback = elicitation_callback  # given: the client declares it can ask its user

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[ClientSession | Client]:
        params = StdioServerParameters(command=self.command, args=self.args, env=self.env)
        if self.modern:
            async with Client(params) as client:
                self.protocol_version = client.protocol_version
                yield client
        else:
            async with (
                stdio_client(params) as (read, write),
                ClientSession(read, write, elicitation_callback=self.elicitation_callback) as session,
            ):
                handshake = await session.initialize()
                self.protocol_version, self.instructions = handshake.protocol_version, handshake.instructions
                yield session


_FENCE = re.compile(
    r'\A<untrusted-content source="(?P<source>[a-z_]+)" id="(?P<id>[0-9a-f]{16})">\n(?P<body>.*)\n'
    r'</untrusted-content id="(?P=id)">\Z',
    re.DOTALL,
)


def fence_match(text: str) -> re.Match | None:
    """The parts of an untrusted-content fence around a whole text block, or None when it has none."""
    return _FENCE.match(text)


def unfenced(text: str, tool: str) -> str:
    """`text` without its untrusted-content fence, which must be whole and name `tool`."""
    if not text.startswith("<untrusted-content"):
        return text
    match = _FENCE.match(text)
    assert match and match["source"] == tool, f"a broken fence from {tool}: {text[:200]!r}"
    return match["body"]


def bus_env(session: SandboxSession) -> dict[str, str]:
    """The environment a server needs to reach a sandbox's accessibility bus (its display comes by flag)."""
    return {"DBUS_SESSION_BUS_ADDRESS": session.env["DBUS_SESSION_BUS_ADDRESS"]}


def attached_server(
    session: SandboxSession, *args: str, modern: bool = False, elicitation_callback=None
) -> McpServerProcess:
    """`cua-mcp --display <the sandbox's> ARGS` over stdio; use it as a context manager."""
    return McpServerProcess(
        ["--display", session.display, *args],
        env=bus_env(session),
        modern=modern,
        elicitation_callback=elicitation_callback,
    )


def error_text(result: CallToolResult) -> str:
    return " ".join(c.text for c in result.content if c.type == "text")


def model_text(result: CallToolResult) -> str:
    """Every text block of a result, one after another, as the model reads them."""
    return "\n".join(c.text for c in result.content if c.type == "text")
