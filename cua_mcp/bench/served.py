"""A task's MCP server: `cua-mcp --display <the task's desktop>` as a child process, recording,
with only the chosen tool groups, and an SDK client connected to it over stdio or HTTP.

The runner owns the sandbox desktop (it runs setup and evaluators on it); the server attaches to
it like to any display, so the agent sees exactly what a user's agent would.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx2
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from cua_mcp.bench.env import EnvironmentFailure, free_port
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.tools._registry import GROUPS

Transport = Literal["stdio", "http"]
_READY_TIMEOUT_S = 60.0


@dataclass
class Served:
    client: Client
    url: str | None  # the HTTP endpoint, for agents that run as their own program
    token: str | None


def server_args(desktop: Desktop, groups: Collection[str], record_dir: Path) -> list[str]:
    """The command line of a task's server: attach, the task's workspace, the recording, the groups."""
    args = ["--display", desktop.display, "--workspace", str(desktop.launcher.workspace.root)]
    args += ["--record", str(record_dir)]
    for group in GROUPS:
        args += ["--allow" if group in groups else "--deny", group]
    return args


def server_env(desktop: Desktop) -> dict[str, str]:
    """The desktop's environment (its buses) plus what the server process needs of ours."""
    env = dict(desktop.app_env)
    for name in ("PATH", "PYTHONPATH", "LANG", "LC_ALL"):
        if name in os.environ:
            env[name] = os.environ[name]
    env.pop("CUA_MCP_TOKEN", None)
    return env


@asynccontextmanager
async def serve(
    desktop: Desktop, groups: Collection[str], record_dir: Path, transport: Transport, log_path: Path
) -> AsyncIterator[Served]:
    """Start the task's server and yield a connected client; stop it on exit."""
    command = [sys.executable, "-m", "cua_mcp", *server_args(desktop, groups, record_dir)]
    env = server_env(desktop)
    if transport == "stdio":
        params = StdioServerParameters(command=command[0], args=command[1:], env=env)
        with open(log_path, "a", encoding="utf-8") as errlog:
            async with Client(stdio_client(params, errlog=errlog)) as client:
                yield Served(client, None, None)
        return
    port, token = free_port(), secrets.token_urlsafe(24)
    env["CUA_MCP_TOKEN"] = token
    with open(log_path, "ab") as errlog:
        process = await asyncio.create_subprocess_exec(
            *command,
            "--transport",
            "http",
            "--port",
            str(port),
            env=env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=errlog,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        await _wait_healthy(base, process)
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(120)) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
        ):
            yield Served(client, f"{base}/mcp", token)
    finally:
        await stop_process(process)


async def stop_process(process: asyncio.subprocess.Process, grace: float = 10.0) -> None:
    if process.returncode is not None:
        return
    process.terminate()
    try:
        await asyncio.wait_for(process.wait(), grace)
    except TimeoutError:
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        await process.wait()


async def _wait_healthy(base: str, process: asyncio.subprocess.Process) -> None:
    deadline = asyncio.get_running_loop().time() + _READY_TIMEOUT_S
    async with httpx2.AsyncClient(timeout=2) as http:
        while asyncio.get_running_loop().time() < deadline:
            if process.returncode is not None:
                raise EnvironmentFailure(f"the task's server exited with status {process.returncode} at start")
            with contextlib.suppress(httpx2.TransportError):
                if (await http.get(f"{base}/healthz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise EnvironmentFailure(f"the task's server did not answer on {base} within {_READY_TIMEOUT_S:g} s")
