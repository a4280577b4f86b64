"""The benchmark harness's own costs: the example suite's wall time at --parallel 1, 2 and 4, the
per-task setup time (desktop up; desktop up and apps ready) and the harness's overhead per step.

    .venv/bin/python -m benchmarks.bench_suite [--parallel 1 2 4] [--tasks examples/tasks]

Each setting is one `cua-mcp bench run` with the replay agent and every tool group, as a user runs
it. The overhead per step is the client's round trip minus the tool's own time in the server
(HTTP, the SDK on both sides, the recording's screenshot after an action, the runner's bookkeeping).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def run(tasks: Path, parallel: int, out: Path) -> dict:
    started = time.monotonic()
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "cua_mcp",
            "bench",
            "run",
            str(tasks),
            "--parallel",
            str(parallel),
            "--tools",
            "all",
            "--out",
            str(out),
            "--no-progress",
        ],
        capture_output=True,
        text=True,
    )
    wall = time.monotonic() - started
    if done.returncode != 0:
        raise SystemExit(done.stderr[-2000:])
    results = json.loads((out / "results.json").read_text())["runs"][0]["tasks"]
    steps = [s for t in results for s in t["steps"]]
    return {
        "parallel": parallel,
        "wall": wall,
        "passed": sum(t["status"] == "passed" for t in results),
        "tasks": len(results),
        "desktop": [t["desktop_s"] for t in results if t["desktop_s"] is not None],
        "setup": [t["setup_s"] for t in results if t["setup_s"] is not None],
        "overhead": [s["client_ms"] for s in steps if s["client_ms"] is not None],
        "server": [s["server_ms"] for s in steps if s["server_ms"] is not None],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--tasks", type=Path, default=Path("examples/tasks"))
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for parallel in args.parallel:
            rows.append(run(args.tasks, parallel, Path(folder) / f"p{parallel}"))
    base = rows[0]["wall"]
    print(
        "| --parallel | suite wall s | speed-up | passed | desktop up s p50/p90 | desktop + apps ready s p50/p90 "
        "| harness overhead per step ms p50/p90 | tool time in server ms p50 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(
            f"| {r['parallel']} | {r['wall']:.0f} | {base / r['wall']:.2f}x | {r['passed']}/{r['tasks']} "
            f"| {_pct(r['desktop'], 0.5):.2f} / {_pct(r['desktop'], 0.9):.2f} "
            f"| {_pct(r['setup'], 0.5):.1f} / {_pct(r['setup'], 0.9):.1f} "
            f"| {_pct(r['overhead'], 0.5):.0f} / {_pct(r['overhead'], 0.9):.0f} | {statistics.median(r['server']):.0f} |"
        )


if __name__ == "__main__":
    main()
