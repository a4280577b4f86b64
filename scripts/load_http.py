#!/usr/bin/env python3
"""Load test of the HTTP transport, on loopback, against a private sandbox desktop.

    .venv/bin/python scripts/load_http.py [--clients 20] [--seconds 60] [--calls 5000]

1. Concurrency: N SDK clients (half legacy 2025-11-25 sessions, half 2026-07-28 stateless) call
   screenshot, click (and snapshot, if the server offers it) in turn for S seconds. Reports
   failed calls, p50/p99 latency per tool and overall, and throughput.
2. Memory: after a warm-up, C sequential calls; reports the server's resident memory (VmRSS)
   before and after.

The script starts `cua-mcp --transport http` itself (a sandbox with mousepad open, a random token,
a free 127.0.0.1 port) and stops it at the end. Exit status 1 if any call failed or memory grew
by 30 MB or more.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx2
from mcp import Client, ClientSession
from mcp.client.streamable_http import streamable_http_client

CUA_MCP = str(Path(sys.executable).with_name("cua-mcp"))
MEMORY_LIMIT_MB = 30


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


class _Server:
    def __init__(self, token: str) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}/mcp"
        env = {**os.environ, "CUA_MCP_TOKEN": token}
        # In a mousepad window, clicks land in a text area: nothing a click does opens dialogs.
        self.process = subprocess.Popen(
            [CUA_MCP, "--transport", "http", "--port", str(self.port), "--launch", "mousepad"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"cua-mcp exited: {self.process.stderr.read() if self.process.stderr else ''}")
            try:
                if httpx2.get(f"http://127.0.0.1:{self.port}/healthz", timeout=2).status_code == 200:
                    return
            except httpx2.TransportError:
                time.sleep(0.1)
        raise SystemExit("cua-mcp did not come up")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()


class _Caller:
    """One connected client of either era, with a `call(name, args)` that raises on isError."""

    def __init__(self, url: str, token: str, era: str) -> None:
        self.url, self.token, self.era = url, token, era

    async def __aenter__(self) -> _Caller:
        from contextlib import AsyncExitStack

        self._stack = AsyncExitStack()
        http = await self._stack.enter_async_context(
            httpx2.AsyncClient(headers={"Authorization": f"Bearer {self.token}"}, timeout=httpx2.Timeout(60))
        )
        transport = streamable_http_client(self.url, http_client=http)
        if self.era == "legacy":
            read, write = await self._stack.enter_async_context(transport)
            self.session = await self._stack.enter_async_context(ClientSession(read, write))
            await self.session.initialize()
        else:
            self.session = await self._stack.enter_async_context(Client(transport))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def call(self, name: str, arguments: dict) -> None:
        result = await self.session.call_tool(name, arguments)
        if result.is_error:
            text = " ".join(c.text for c in result.content if c.type == "text")
            raise RuntimeError(f"{name} failed: {text}")


def _workload(tools: set[str], rng: random.Random) -> list[tuple[str, dict]]:
    # Clicks inside mousepad's text area, which fills most of the 1280x720 agent space.
    click = ("click", {"x": rng.randint(200, 1000), "y": rng.randint(250, 600)})
    mix = [("screenshot", {}), click]
    if "snapshot" in tools:
        mix.append(("snapshot", {}))
    return mix


async def _concurrency(url: str, token: str, clients: int, seconds: float, tools: set[str]) -> bool:
    latencies: dict[str, list[float]] = {}
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    async def worker(index: int) -> None:
        rng = random.Random(index)
        era = "legacy" if index % 2 else "modern"
        async with _Caller(url, token, era) as caller:
            step = index  # clients start at different points of the mix
            while time.monotonic() < deadline:
                mix = _workload(tools, rng)
                name, arguments = mix[step % len(mix)]
                step += 1
                t0 = time.perf_counter()
                try:
                    await caller.call(name, arguments)
                except Exception as exc:
                    failures.append(f"{era} {name}: {exc}")
                    continue
                latencies.setdefault(name, []).append((time.perf_counter() - t0) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(worker(i) for i in range(clients)))
    elapsed = time.monotonic() - started
    total = sum(len(v) for v in latencies.values())
    print(
        f"\n{clients} concurrent clients for {seconds:g} s: {total} calls ok, {len(failures)} failed, "
        f"{total / elapsed:.0f} calls/s"
    )
    rows = [*sorted(latencies.items()), ("all", [x for v in latencies.values() for x in v])]
    print(f"  {'tool':<12} {'calls':>7} {'p50 ms':>8} {'p99 ms':>8}")
    for name, values in rows:
        print(f"  {name:<12} {len(values):>7} {statistics.median(values):>8.1f} {_percentile(values, 99):>8.1f}")
    for failure in failures[:10]:
        print("  FAILED", failure)
    return not failures


async def _memory(url: str, token: str, pid: int, calls: int, tools: set[str]) -> bool:
    rng = random.Random(0)
    async with _Caller(url, token, "modern") as caller:
        for i in range(300):  # warm-up: caches, pools, first-time imports
            name, arguments = _workload(tools, rng)[i % 2]
            await caller.call(name, arguments)
        before = _rss_mb(pid)
        t0 = time.monotonic()
        latencies: dict[str, list[float]] = {}
        for i in range(calls):
            name, arguments = _workload(tools, rng)[i % 2]
            t1 = time.perf_counter()
            await caller.call(name, arguments)
            latencies.setdefault(name, []).append((time.perf_counter() - t1) * 1000)
        elapsed = time.monotonic() - t0
        after = _rss_mb(pid)
    growth = after - before
    print(
        f"\n{calls} sequential calls (screenshot/click) in {elapsed:.0f} s: server VmRSS {before:.1f} MB -> "
        f"{after:.1f} MB, growth {growth:+.1f} MB (limit {MEMORY_LIMIT_MB} MB)"
    )
    for name, values in sorted(latencies.items()):
        print(f"  {name:<12} p50 {statistics.median(values):.1f} ms, p99 {_percentile(values, 99):.1f} ms")
    return growth < MEMORY_LIMIT_MB


def _bounded(low: int, high: int):
    def parse(value: str) -> int:
        number = int(value)
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"must be within {low}..{high}")
        return number

    return parse


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=_bounded(1, 50), default=20)
    parser.add_argument("--seconds", type=_bounded(1, 300), default=60)
    parser.add_argument("--calls", type=_bounded(1, 20_000), default=5000)
    args = parser.parse_args()
    token = secrets.token_urlsafe(24)
    server = _Server(token)
    try:

        async def run() -> bool:
            async with _Caller(server.url, token, "modern") as probe:
                tools = {t.name for t in (await probe.session.list_tools()).tools}
            print(
                f"server pid {server.process.pid}, {len(tools)} tools; mix: "
                + ", ".join(n for n, _ in _workload(tools, random.Random()))
            )
            ok = await _concurrency(server.url, token, args.clients, args.seconds, tools)
            return await _memory(server.url, token, server.process.pid, args.calls, tools) and ok

        return 0 if asyncio.run(run()) else 1
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
