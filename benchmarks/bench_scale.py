"""How far one machine scales a benchmark run, and what a two-node Ray cluster does with the same suite.

    .venv/bin/python -m benchmarks.bench_scale [--tasks examples/tasks] [--only ID ...] [--parallel 1,2,3,4,6] [--ray]

Runs the suite with the replay agent through `cua-mcp bench run` at each `--parallel`, and prints per run
the wall time and the per-step latency an agent sees (a call's round trip: server time plus client time,
from results.json, pauses a solution asks for left out) at p50 and p90; the largest --parallel whose p90 stays under twice that of
--parallel 1 is what the machine sustains. With `--ray`, it then starts a two-node Ray cluster on this
machine (each node one desktop, as the tests do) and runs the suite on it, beside a local run with
--parallel 2 (the same two desktops), to compare wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.support.ray_cluster import RAY_ENV, RayCluster

ROOT = Path(__file__).resolve().parents[1]
CUA_MCP = str(Path(sys.executable).with_name("cua-mcp"))


def _run(out: Path, tasks: str, only: list[str], *args: str) -> dict:
    argv = [CUA_MCP, "bench", "run", tasks, *[a for i in only for a in ("--only", i)], "--out", str(out)]
    started = time.monotonic()
    done = subprocess.run(
        [*argv, "--no-progress", *args], cwd=ROOT, env={**os.environ, **RAY_ENV}, capture_output=True, text=True
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")
    [run] = json.loads((out / "results.json").read_text())["runs"]
    steps = step_latencies(run)
    passed = sum(t["status"] == "passed" for t in run["tasks"])
    return {
        "wall_s": wall,
        "tasks": len(run["tasks"]),
        "passed": passed,
        "p50": steps[len(steps) // 2] if steps else 0.0,
        "p90": steps[int(0.9 * len(steps))] if steps else 0.0,
        "nodes": len({t.get("node") for t in run["tasks"] if t.get("node")}),
    }


# Pauses a task's solution asks for: the tool takes as long as it is told, which is not latency.
_PAUSES = frozenset({"wait", "wait_for"})


def step_latencies(run: dict) -> list[float]:
    """Each step's round trip as the agent saw it (server time plus client time), pauses left out, sorted."""
    return sorted(
        (s["server_ms"] or 0) + (s["client_ms"] or 0)
        for t in run["tasks"]
        for s in t["steps"]
        if s["server_ms"] and s["tool"] not in _PAUSES
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", default="examples/tasks")
    parser.add_argument("--only", action="append", default=[], metavar="ID")
    parser.add_argument("--parallel", default="1,2,3,4,6", help="comma-separated --parallel values to sweep")
    parser.add_argument("--ray", action="store_true", help="also compare local --parallel 2 with a two-node cluster")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    print(f"{os.cpu_count()} cores; suite {args.tasks}" + (f" (only {', '.join(args.only)})" if args.only else ""))
    print("| run | tasks passed | wall time | step latency p50 | p90 | p90 / p90 at --parallel 1 |")
    print("|---|---|---|---|---|---|")
    base = None
    for n in (int(v) for v in args.parallel.split(",")):
        m = _run(work / f"p{n}", args.tasks, args.only, "--parallel", str(n))
        base = base or m["p90"]
        print(
            f"| --parallel {n} | {m['passed']}/{m['tasks']} | {m['wall_s']:.1f} s | {m['p50']:.0f} ms "
            f"| {m['p90']:.0f} ms | {m['p90'] / base:.2f} |",
            flush=True,
        )
    if args.ray:
        with RayCluster(work / "ray-logs") as cluster:
            m = _run(work / "ray", args.tasks, args.only, "--executor", "ray", "--address", cluster.address)
            print(
                f"| Ray, 2 nodes x 1 desktop ({m['nodes']} nodes used) | {m['passed']}/{m['tasks']} "
                f"| {m['wall_s']:.1f} s | {m['p50']:.0f} ms | {m['p90']:.0f} ms | {m['p90'] / base:.2f} |"
            )


if __name__ == "__main__":
    main()
