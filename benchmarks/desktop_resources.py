"""What one sandbox desktop costs a node: resident memory and CPU, idle and while an agent works on it.

    .venv/bin/python -m benchmarks.desktop_resources [--seconds 20] [--app mousepad|libreoffice-calc|chromium]

Starts `cua-mcp` with its own sandbox desktop (the way the benchmark runs a task: server, Xvfb, session
and accessibility buses, window manager) over stdio, launches the app through the `launch` tool, then
measures every process of that tree (the server and all it started) over two windows of `--seconds`:
idle (no calls), and busy (an agent's loop as fast as the client goes: screenshot, snapshot, type_text,
press_keys). Memory is the sum of the processes' PSS (mean and peak over the window); CPU is the tree's user+system
time over wall time, in percent of one core. Sizing a node: desktops per node = cores / busy CPU, and
memory / busy RSS.
"""

from __future__ import annotations

import argparse
import os
import threading
import time
from pathlib import Path

from tests.support.mcp_client import McpServerProcess
from tests.support.processes import child_server_pid, descendants

TICKS = os.sysconf("SC_CLK_TCK")


def _tree(root: int) -> set[int]:
    return {root} | descendants(root)


def _cpu_seconds(pids: set[int]) -> dict[int, float]:
    """User+system seconds each process (and its reaped children) has used."""
    used = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        used[pid] = sum(int(v) for v in fields[11:15]) / TICKS  # utime stime cutime cstime
    return used


def _pss_mb(pid: int) -> float:
    """The process's proportional set size: its resident memory with shared pages divided among their sharers,
    so a tree's sum counts Chromium's many processes' shared libraries once, not once each."""
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _memory_mb(pids: set[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += _pss_mb(pid)
        except OSError:
            continue
    return total


def _names(pids: set[int]) -> dict[str, float]:
    by_name: dict[str, float] = {}
    for pid in pids:
        try:
            name = Path(f"/proc/{pid}/comm").read_text().strip()
            by_name[name] = by_name.get(name, 0.0) + _pss_mb(pid)
        except OSError:
            continue
    return dict(sorted(by_name.items(), key=lambda item: -item[1]))


def _window(root: int, seconds: float, work: threading.Event | None = None) -> dict[str, float]:
    """CPU % of one core and memory (mean, peak) of the tree over `seconds`."""
    pids = _tree(root)
    before, started = _cpu_seconds(pids), time.monotonic()
    samples = []
    while time.monotonic() - started < seconds:
        pids = _tree(root)
        samples.append(_memory_mb(pids))
        time.sleep(0.5)
    after, wall = _cpu_seconds(pids), time.monotonic() - started
    used = sum(after[p] - before.get(p, 0.0) for p in after)
    return {"cpu_pct": 100 * used / wall, "mem_mb": sum(samples) / len(samples), "mem_peak_mb": max(samples)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--app", default="mousepad", help="the catalog app the task uses (mousepad)")
    args = parser.parse_args()
    with McpServerProcess(["--allow", "observe,input,windows,apps"]) as client:
        client.call("launch", {"app": args.app}, timeout=180)
        time.sleep(5)
        server = child_server_pid()
        idle = _window(server, args.seconds)
        stop = threading.Event()
        steps = []

        def agent() -> None:
            while not stop.is_set():
                for name, arguments in (
                    ("screenshot", {}),
                    ("snapshot", {}),
                    ("type_text", {"text": "benchmark "}),
                    ("press_keys", {"keys": "ctrl+a BackSpace"}),
                ):
                    began = time.perf_counter()
                    client.call_raw(name, arguments)
                    steps.append(time.perf_counter() - began)

        worker = threading.Thread(target=agent)
        worker.start()
        try:
            busy = _window(server, args.seconds)
        finally:
            stop.set()
            worker.join()
        parts = _names(_tree(server))
    print(f"one sandbox desktop with {args.app} and its cua-mcp server ({os.cpu_count()} cores):")
    print("| state | CPU (% of a core) | memory (PSS), mean | peak |")
    print("|---|---|---|---|")
    for label, m in (("idle", idle), (f"busy ({len(steps) / args.seconds:.1f} calls/s)", busy)):
        print(f"| {label} | {m['cpu_pct']:.1f} | {m['mem_mb']:.0f} MB | {m['mem_peak_mb']:.0f} MB |")
    print("memory (PSS) by process (at the end): " + ", ".join(f"{n} {mb:.0f} MB" for n, mb in parts.items()))


if __name__ == "__main__":
    main()
