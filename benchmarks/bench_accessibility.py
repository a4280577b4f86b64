"""Accessibility snapshots: the fast D-Bus backend against a pyatspi walk of the same fields, and the
size of our text snapshot against OSWorld's linearized table, on real apps in a sandbox desktop.

    .venv/bin/python -m benchmarks.bench_accessibility [--runs 15]

Prints a Markdown table (the one in README.md). Apps: LibreOffice Calc with a sheet of data, mousepad,
gtk3-widget-factory, Chromium with a local page. "window" reads one app's main window (what the
default focused_window scope reads when that window is active); "desktop" reads every app.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

from cua_mcp.accessibility import osworld, text_format
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.sandbox.desktop import Desktop
from tests.support.apps import launch_calc, launch_chromium

APPS = {  # accessible app name -> how to start it
    "soffice": launch_calc,
    "mousepad": lambda s: s.launch("mousepad"),
    "gtk3-widget-factory": lambda s: s.launch("gtk3-widget-factory"),
    "chromium": launch_chromium,
}
LABELS = {"soffice": "LibreOffice Calc (sheet of data)", "chromium": "Chromium (local page)"}


def _stats(times: list[float]) -> tuple[float, float]:
    ms = sorted(t * 1000 for t in times)
    p90 = ms[min(len(ms) - 1, round(0.9 * (len(ms) - 1)))]
    return statistics.median(ms), p90


# ----- the pyatspi side, in its own process (pyatspi binds one bus per process) -------------------


def pyatspi_worker(runs: int, targets: dict[str, str]) -> None:
    from cua_mcp.accessibility.pyatspi_backend import PyatspiBackend

    backend = PyatspiBackend(timeout=10)
    out: dict[str, list[float]] = {}
    for app_name, title in targets.items():
        times = []
        for _ in range(runs):
            start = time.perf_counter()
            apps = [a for a in backend.applications() if a.name == app_name]
            backend.read(apps, lambda app, ws, title=title: [w for w in ws if w.name == title][:1] or ws)
            times.append(time.perf_counter() - start)
        out[app_name] = times
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        backend.read(backend.applications(), None)
        times.append(time.perf_counter() - start)
    out["desktop"] = times
    print(json.dumps(out))


# ----- sizes: our text snapshot against OSWorld's linearized table --------------------------------


def sizes(roots: list[Node], desktop: Desktop) -> tuple[int, int, list[str]]:
    """(our characters, OSWorld's characters, OSWorld-kept elements missing from ours)."""
    lines = list(text_format.select(roots, "interactive"))
    ours, _ = text_format.render(lines, desktop.space, 400, 40)
    xml = osworld.to_xml(roots)
    table = osworld.linearize(xml)
    listed = {(line.node.role, line.node.name.strip()) for line in lines}
    tables = {n.name for line in lines for n in [line.node] if n.omitted_children}
    missing = []
    for element in osworld.filter_nodes(ET.fromstring(xml)):
        role, name = element.tag.replace("-", " "), element.get("name", "").strip()
        if (role, name) in listed:
            continue
        if role == "table cell" and not element.text and tables:
            continue  # an empty sheet cell: its table's line names the range that shows
        missing.append(f"{role} {name!r}")
    return len(ours), len(table), missing


async def measure(runs: int) -> str:
    desktop = Desktop.start_sandbox()
    try:
        session = desktop.session
        assert session is not None
        for start in APPS.values():
            start(session)
        a11y = Accessibility(desktop, timeout=10)
        deadline = time.monotonic() + 120
        while True:
            snap = await a11y.snapshot("desktop")
            names = {r.name.lower() for r in snap.roots if r.children}
            cells = any(n.role == "table cell" for n, _ in snap.nodes())
            if set(APPS) <= names and cells and "Send" in {n.name for n, _ in snap.nodes()}:
                break
            if time.monotonic() > deadline:
                raise SystemExit(f"apps did not come up: {sorted(names)}")
            await asyncio.sleep(0.5)
        await asyncio.sleep(2)  # let them settle
        windows = await desktop.list_windows()
        pids = {a.name: a.pid for a in await a11y.applications()}
        scopes, titles = {}, {}
        for root in snap.roots:
            if root.name.lower() in APPS:
                main = max(root.children, key=lambda w: (w.box or (0, 0, 0, 0))[2] * (w.box or (0, 0, 0, 0))[3])
                mine = [w for w in windows if w.pid == pids.get(root.name)] or [
                    w for w in windows if w.title == main.name
                ]
                window = max(mine, key=lambda w: w.width * w.height)
                scopes[root.name], titles[root.name] = f"window:{window.id}", main.name
        labels = {root.name: LABELS.get(root.name.lower(), root.name) for root in snap.roots}

        fast: dict[str, list[float]] = {}
        roots_of: dict[str, list[Node]] = {}
        for name, scope in [*scopes.items(), ("desktop", "desktop")]:
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                snap = await a11y.snapshot(scope)
                times.append(time.perf_counter() - start)
            fast[name], roots_of[name] = times, snap.roots
        worker = subprocess.run(
            [sys.executable, "-m", "benchmarks.bench_accessibility", "--pyatspi-worker", "--runs", str(runs),
             "--targets", json.dumps(titles)],
            env=session.env, capture_output=True, text=True, timeout=1800, check=True,
        )  # fmt: skip
        slow = json.loads(worker.stdout)

        rows = [
            "| app | scope | nodes | fast p50 / p90 ms | pyatspi walk p50 / p90 ms | speed-up | our text chars | "
            "OSWorld table chars | ratio | OSWorld elements missing from ours |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name in [*scopes, "desktop"]:
            f50, f90 = _stats(fast[name])
            s50, s90 = _stats(slow[name])
            nodes = sum(1 for r in roots_of[name] for _ in r.walk())
            size = ""
            if name != "desktop":
                ours, theirs, missing = sizes(roots_of[name], desktop)
                size = f"{ours} | {theirs} | {ours / theirs:.2f} | {len(missing)}" + (
                    f" ({', '.join(missing[:3])})" if missing else ""
                )
            else:
                size = "| | |"
            label = labels[name] if name != "desktop" else "all four apps"
            rows.append(
                f"| {label} | {'window' if name != 'desktop' else 'desktop'} | {nodes} | {f50:.0f} / {f90:.0f} | "
                f"{s50:.0f} / {s90:.0f} | {s50 / f50:.1f}x | {size} |"
            )
        a11y.close()
        return "\n".join(rows)
    finally:
        desktop.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--pyatspi-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--targets", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pyatspi_worker:
        pyatspi_worker(args.runs, json.loads(args.targets))
        return
    print(asyncio.run(measure(args.runs)))


if __name__ == "__main__":
    main()
