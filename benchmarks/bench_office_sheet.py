"""A Calc window's snapshot with its visible cells read through UNO, against the AT-SPI reads, in one run.

    .venv/bin/python -m benchmarks.bench_office_sheet [--runs 20]

Starts a sandbox desktop (1920x1080) and the server's LibreOffice, fills a sheet with 40 rows x 12
columns of numbers, text and formulas, and times, on the same window:
- the snapshot of the focused (Calc) window with the cells read through UNO (one bulk call);
- the same snapshot with the cells read over AT-SPI by our D-Bus backend (what a LibreOffice the server
  did not start gets);
- a pyatspi walk that reads the same visible cells (each cell's object, then its text), in its own process.
Prints a Markdown table and checks that both snapshots list the same cell values.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

from cua_mcp.accessibility.grid import parse_address
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.apps.office import Office
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.session import SandboxConfig
from tests.support.desktop import as_desktop_user

ROWS = [["item", "qty", "price", "total", *(f"c{i}" for i in range(8))]] + [
    [f"item{r}", r, r * 1.25, f"=B{r + 1}*C{r + 1}", *(f"{r}.{c}" for c in range(8))] for r in range(1, 40)
]


def _p50_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def cells_of(roots: list[Node]) -> dict[str, str]:
    return {n.name: n.text or "" for root in roots for n, _ in root.walk() if n.role == "table cell" and n.text}


def visible_range(roots: list[Node]) -> tuple[int, int, int, int]:
    """(first row, first column, last row, last column) of the cells the snapshot read."""
    names = [n.name for root in roots for n, _ in root.walk() if n.role == "table cell"]
    first, last = parse_address(names[0]), parse_address(names[-1])
    assert first is not None and last is not None
    return first[0], first[1], last[0], last[1]


PYATSPI_WALK = """
import json, sys, time
import pyatspi
r0, c0, r1, c1, runs = map(int, sys.argv[1:6])
app = next(a for a in pyatspi.Registry.getDesktop(0) if a is not None and a.name == "soffice")
def find_table(node, depth=0):
    if node.getRoleName() == "table":
        return node
    if depth > 25:
        return None
    for child in node:
        if child is not None:
            found = find_table(child, depth + 1)
            if found is not None:
                return found
    return None
table = next(t for t in (find_table(w) for w in app) if t is not None)
cells = table.queryTable()
times, texts = [], {}
for _ in range(runs):
    start = time.perf_counter()
    for r in range(r0, r1 + 1):
        for c in range(c0, c1 + 1):
            cell = cells.getAccessibleAt(r, c)
            text = cell.queryText()
            texts[cell.name] = text.getText(0, -1)
    times.append(time.perf_counter() - start)
print(json.dumps({"times": times, "cells": {k: v for k, v in texts.items() if v}}))
"""


async def measure(runs: int) -> str:
    desktop = Desktop.start_sandbox(SandboxConfig(width=1920, height=1080))
    office = Office(desktop.launcher)
    try:
        await office.open(None, "calc")
        await office.call("calc_set_cells", area="A1", values=ROWS)
        fused = Accessibility(desktop, timeout=10, sheets=office)
        walked = Accessibility(desktop, timeout=10)
        deadline = time.monotonic() + 60
        while not cells_of((await fused.snapshot()).roots):
            if time.monotonic() > deadline:
                raise SystemExit("the Calc window did not show up in the snapshot")
            await asyncio.sleep(0.5)

        async def timed(a11y: Accessibility, n: int) -> tuple[list[float], list[Node]]:
            times, roots = [], []
            for _ in range(n):
                start = time.perf_counter()
                roots = (await a11y.snapshot()).roots
                times.append(time.perf_counter() - start)
            return times, roots

        uno_times, uno_roots = await timed(fused, runs)
        # Each AT-SPI read costs LibreOffice memory it keeps: fewer runs of it.
        atspi_times, atspi_roots = await timed(walked, max(3, runs // 4))
        assert cells_of(uno_roots) == cells_of(atspi_roots), "the two snapshots disagree on the cells"
        r0, c0, r1, c1 = visible_range(uno_roots)
        assert desktop.session is not None
        walk = subprocess.run(  # as the apps' user: pyatspi reads an app's tree only as its own user
            as_desktop_user(
                desktop.session, [sys.executable, "-c", PYATSPI_WALK, *map(str, (r0, c0, r1, c1, max(3, runs // 4)))]
            ),
            env=desktop.app_env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        walk_result = json.loads(walk.stdout)
        assert walk_result["cells"] == cells_of(uno_roots), "the pyatspi walk read other cells"
        fused.close()
        walked.close()
    finally:
        office.stop()
        desktop.close()
    count = (r1 - r0 + 1) * (c1 - c0 + 1)
    uno, atspi, walk_ms = _p50_ms(uno_times), _p50_ms(atspi_times), _p50_ms(walk_result["times"])
    return "\n".join(
        [
            f"Calc window, {count} visible cells ({len(cells_of(uno_roots))} with content), p50 of {runs} runs:",
            "",
            "| read | p50 ms | vs UNO |",
            "|---|---:|---:|",
            f"| snapshot, cells through UNO (the server's LibreOffice) | {uno:.0f} | 1x |",
            f"| snapshot, cells over AT-SPI (our D-Bus backend) | {atspi:.0f} | {atspi / uno:.1f}x |",
            f"| pyatspi walk reading the same cells | {walk_ms:.0f} | {walk_ms / uno:.1f}x |",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    print(asyncio.run(measure(args.runs)))


if __name__ == "__main__":
    main()
