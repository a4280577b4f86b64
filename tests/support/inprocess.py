"""An MCP server built in this process (`build_server`) and driven by the SDK's in-memory `Client`,
for tests that need tool groups or desktop options the command line does not offer."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager

from mcp import Client

from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.app import build_server
from tests.support.mcp_client import BlockingClient


class InProcessServer(BlockingClient):
    """A blocking handle on `build_server(desktop, groups=...)`; its loop thread spawns what tools start."""

    def __init__(self, desktop: Desktop, groups: Collection[str] | None = None) -> None:
        super().__init__()
        self.desktop = desktop
        self.server, self.registrar = build_server(desktop, groups=groups)

    @asynccontextmanager
    async def _connect(self) -> AsyncIterator[Client]:
        async with Client(self.server) as client:
            yield client
