"""A stand-in for any external agent program: the `command` agent starts it with the server's
address, token and the task in its environment; it solves `files_create_todo` through the MCP
SDK's client over streamable HTTP and exits 0."""

from __future__ import annotations

import asyncio
import os

import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    headers = {"Authorization": f"Bearer {os.environ['CUA_MCP_TOKEN']}"}
    async with (
        httpx2.AsyncClient(headers=headers, timeout=60) as http,
        Client(streamable_http_client(os.environ["CUA_MCP_URL"], http_client=http)) as client,
    ):
        await client.call_tool("list_files", {"path": "."})
        result = await client.call_tool("write_file", {"path": "todo.txt", "content": "Call Alice\n"})
        assert not result.is_error, result
    print(f"solved {os.environ['CUA_TASK_ID']}: {os.environ['CUA_TASK_INSTRUCTION'][:40]}")


asyncio.run(main())
