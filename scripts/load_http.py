#!/usr/bin/env python3
"""Load test of the HTTP transport, on loopback, against a private sandbox desktop.

    .venv/bin/python scripts/load_http.py [--clients 20] [--seconds 60] [--calls 5000]

0. Alone: one client calls each tool of the mix 30 times in a row; p50 per tool (the reference for
   the latencies under load).
1. Concurrency: N SDK clients (half legacy 2025-11-25 sessions, half 2026-07-28 stateless) call
   screenshot, click (and snapshot, if the server offers it) in turn for S seconds. Reports
   failed calls, p50/p99 latency per tool and overall, and throughput.
2. Memory: after a warm-up, C sequential calls; reports the server's resident memory (VmRSS)
   before and after.
3. Abandoned sessions: 2,000 legacy sessions opened (initialize) and never closed; reports VmRSS
   before and after, and how many of the first 100 still answer (the server keeps at most
   --max-sessions, 100 by default, ending the one idle longest).

The script starts `cua-mcp --transport http` itself (a sandbox with mousepad open, a random token,
a free 127.0.0.1 port) and stops it at the end. Exit status 1 if any call failed or memory grew
by 30 MB or more.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.http_server import Era, HttpServer, connect_http
from tests.support.mcp_client import error_text
from tests.support.processes import resident_mb

MEMORY_LIMIT_MB = 30


def _percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def _call(session: Any, name: str, arguments: dict) -> None:
    result = await session.call_tool(name, arguments)
    if result.is_error:
        raise RuntimeError(f"{name} failed: {error_text(result)}")


def _workload(tools: set[str], rng: random.Random) -> list[tuple[str, dict]]:
    # Clicks inside mousepad's text area, which fills most of the 1280x720 agent space.
    click = ("click", {"x": rng.randint(200, 1000), "y": rng.randint(250, 600)})
    mix = [("screenshot", {}), click]
    if "snapshot" in tools:
        mix.append(("snapshot", {}))
    return mix


async def _alone(url: str, token: str, tools: set[str]) -> None:
    rng = random.Random(1)
    async with connect_http(url, token, "modern") as (session, _):
        print("\none client, 30 calls of each tool in a row:")
        for name, arguments in _workload(tools, rng):
            latencies = []
            for _ in range(30):
                t0 = time.perf_counter()
                await _call(session, name, arguments)
                latencies.append((time.perf_counter() - t0) * 1000)
            print(f"  {name:<12} p50 {statistics.median(latencies):.1f} ms, p99 {_percentile(latencies, 99):.1f} ms")


async def _concurrency(url: str, token: str, clients: int, seconds: float, tools: set[str]) -> bool:
    latencies: dict[str, list[float]] = {}
    failures: list[str] = []
    deadline = time.monotonic() + seconds

    async def worker(index: int) -> None:
        rng = random.Random(index)
        era: Era = "legacy" if index % 2 else "modern"
        async with connect_http(url, token, era) as (session, _):
            step = index  # clients start at different points of the mix
            while time.monotonic() < deadline:
                mix = _workload(tools, rng)
                name, arguments = mix[step % len(mix)]
                step += 1
                t0 = time.perf_counter()
                try:
                    await _call(session, name, arguments)
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
    async with connect_http(url, token, "modern") as (session, _):
        for i in range(300):  # warm-up: caches, pools, first-time imports
            name, arguments = _workload(tools, rng)[i % 2]
            await _call(session, name, arguments)
        before = resident_mb(pid)
        t0 = time.monotonic()
        latencies: dict[str, list[float]] = {}
        for i in range(calls):
            name, arguments = _workload(tools, rng)[i % 2]
            t1 = time.perf_counter()
            await _call(session, name, arguments)
            latencies.setdefault(name, []).append((time.perf_counter() - t1) * 1000)
        elapsed = time.monotonic() - t0
        after = resident_mb(pid)
    growth = after - before
    print(
        f"\n{calls} sequential calls (screenshot/click) in {elapsed:.0f} s: server VmRSS {before:.1f} MB -> "
        f"{after:.1f} MB, growth {growth:+.1f} MB (limit {MEMORY_LIMIT_MB} MB)"
    )
    for name, values in sorted(latencies.items()):
        print(f"  {name:<12} p50 {statistics.median(values):.1f} ms, p99 {_percentile(values, 99):.1f} ms")
    return growth < MEMORY_LIMIT_MB


async def _abandoned_sessions(url: str, token: str, pid: int, count: int = 2000) -> bool:
    headers = {
        "Authorization": f"Bearer {token}",
        "Accept": "application/json, text/event-stream",
        "Content-Type": "application/json",
    }
    opening = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "load", "version": "0"}},
    }
    before = resident_mb(pid)
    ids: list[str] = []
    async with httpx2.AsyncClient(headers=headers, timeout=60) as http:
        for _ in range(count):
            reply = await http.post(url, json=opening)
            reply.raise_for_status()
            ids.append(reply.headers["mcp-session-id"])
        after = resident_mb(pid)
        ping = {"jsonrpc": "2.0", "id": 2, "method": "ping"}
        alive = 0
        for session_id in ids[:100]:
            answer = await http.post(
                url, json=ping, headers={"mcp-session-id": session_id, "mcp-protocol-version": "2025-11-25"}
            )
            alive += answer.status_code == 200
        newest = await http.post(
            url, json=ping, headers={"mcp-session-id": ids[-1], "mcp-protocol-version": "2025-11-25"}
        )
    print(
        f"\n{count} sessions opened and abandoned: server VmRSS {before:.1f} MB -> {after:.1f} MB "
        f"({after - before:+.1f} MB); of the first 100, {alive} still open; the newest answers: "
        f"{newest.status_code == 200}"
    )
    return alive == 0 and newest.status_code == 200


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
    # In a mousepad window, clicks land in a text area: nothing a click does opens dialogs.
    server = HttpServer(["--launch", "mousepad"], token=token)
    stderr_log = Path(tempfile.mkstemp(prefix="cua-load-", suffix=".log")[1])
    try:
        server.start(stderr_log)
        assert server.process is not None

        async def run() -> bool:
            async with connect_http(server.url, token, "modern") as (probe, _):
                tools = {t.name for t in (await probe.list_tools()).tools}
            print(
                f"server pid {server.process.pid}, {len(tools)} tools; mix: "
                + ", ".join(n for n, _ in _workload(tools, random.Random()))
            )
            await _alone(server.url, token, tools)
            ok = await _concurrency(server.url, token, args.clients, args.seconds, tools)
            ok = await _memory(server.url, token, server.process.pid, args.calls, tools) and ok
            return await _abandoned_sessions(server.url, token, server.process.pid) and ok

        return 0 if asyncio.run(run()) else 1
    finally:
        server.stop()
        stderr_log.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
