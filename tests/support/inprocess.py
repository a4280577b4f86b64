"""An MCP server built in this process (`build_server`) and driven by the SDK's in-memory `Client`,
for tests that need tool groups or desktop options the command line does not offer."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Collection
from concurrent.futures import Future
from typing import Any

from mcp import Client

from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.app import build_server
from tests.support.mcp_client import ToolFailed, error_text


class InProcessServer:
    """A blocking handle: one event loop thread owns the client (and spawns what tools start)."""

    def __init__(self, desktop: Desktop, groups: Collection[str] | None = None) -> None:
        self.desktop = desktop
        self.server, self.registrar = build_server(desktop, groups=groups)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._closing: asyncio.Event | None = None
        self._lifetime: Future | None = None
        self.client: Client | None = None

    def __enter__(self) -> InProcessServer:
        self._thread.start()
        ready: Future = Future()
        self._lifetime = asyncio.run_coroutine_threadsafe(self._live(ready), self._loop)
        ready.result(timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._closing is not None:
            self._loop.call_soon_threadsafe(self._closing.set)
        if self._lifetime is not None:
            self._lifetime.result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)

    async def _live(self, ready: Future) -> None:
        self._closing = asyncio.Event()
        try:
            async with Client(self.server) as client:
                self.client = client
                ready.set_result(None)
                await self._closing.wait()
        except BaseException as exc:
            if not ready.done():
                ready.set_exception(exc)
            raise

    def _run(self, coro, timeout: float = 60):
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=timeout)

    def tool_names(self) -> list[str]:
        assert self.client is not None
        return [t.name for t in self._run(self.client.list_tools()).tools]

    def call(self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 150) -> dict[str, Any]:
        assert self.client is not None
        result = self._run(self.client.call_tool(name, arguments or {}), timeout)
        if result.is_error:
            raise ToolFailed(f"{name}({arguments}) failed: {error_text(result)}")
        return result.structured_content or {}

    def call_abandoned(self, name: str, arguments: dict[str, Any], after: float) -> BaseException:
        """Call a tool and give up on it after `after` seconds (the client cancels it); the exception."""
        assert self.client is not None
        try:
            self._run(self.client.call_tool(name, arguments, read_timeout_seconds=after), timeout=after + 30)
        except Exception as exc:
            return exc
        raise AssertionError(f"{name} returned within {after} s")

    def error(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        assert self.client is not None
        result = self._run(self.client.call_tool(name, arguments or {}))
        assert result.is_error, f"{name}({arguments}) should have failed but returned {result.structured_content}"
        return error_text(result)
