"""A task's MCP server, recording, with only the chosen tool groups, and an SDK client connected to it.

Two ways, one server: `http` (the default) serves the task's own `Desktop` from this process over
streamable HTTP on a loopback port with a fresh bearer token, exactly as `cua-mcp --transport http`
does; `stdio` starts `cua-mcp --display <the task's display>` as a child process and talks to it
over its stdin/stdout. In-process saves the server's start-up (about 1.5 s of CPU for Python's
imports) on every task; stdio is the way a desktop host such as Claude Desktop runs the server.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import AsyncIterator, Collection, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx2
import uvicorn
from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from cua_mcp.bench.env import EnvironmentFailure, free_port
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.app import build_server
from cua_mcp.server.http import HttpSettings, build_http_app
from cua_mcp.server.recording import CallRecorder, recording_frame
from cua_mcp.tools._registry import GROUPS

Transport = Literal["stdio", "http"]


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
    if transport == "stdio":
        command = [sys.executable, "-m", "cua_mcp", *server_args(desktop, groups, record_dir)]
        params = StdioServerParameters(command=command[0], args=command[1:], env=server_env(desktop))
        with open(log_path, "a", encoding="utf-8") as errlog:
            async with Client(stdio_client(params, errlog=errlog)) as client:
                yield Served(client, None, None)
        return
    recorder = CallRecorder(record_dir=record_dir, capture=lambda: recording_frame(desktop))
    server, _ = build_server(desktop, groups=groups, observer=recorder)
    settings = HttpSettings(port=free_port(), token=secrets.token_urlsafe(24))
    app = build_http_app(server, desktop, recorder, settings)
    config = uvicorn.Config(app, host=settings.host, port=settings.port, log_level="warning", lifespan="on")
    http_server = _QuietServer(config)
    serving = asyncio.create_task(http_server.serve())
    base = f"http://{settings.host}:{settings.port}"
    try:
        while not http_server.started:
            if serving.done():
                raise EnvironmentFailure(f"the task's server did not start: {serving.exception()}")
            await asyncio.sleep(0.02)
        async with (
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {settings.token}"}, timeout=120) as http,
            Client(streamable_http_client(f"{base}/mcp", http_client=http)) as client,
        ):
            yield Served(client, f"{base}/mcp", settings.token)
    finally:
        http_server.should_exit = True
        await asyncio.shield(serving)
        recorder.close()


class _QuietServer(uvicorn.Server):
    """uvicorn without its signal handlers: Ctrl-C belongs to the benchmark run, which stops every server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


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
