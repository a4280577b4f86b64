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
import contextlib
import json
import pickle
import re
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from typing import Any

from cua_mcp.accessibility import osworld, text_format
from cua_mcp.accessibility.grid import is_grid_cell
from cua_mcp.accessibility.model import Node, Snapshot
from cua_mcp.accessibility.roles import web_role
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.sandbox.desktop import Desktop
from tests.support.apps import launch_calc, launch_chromium
from tests.support.desktop import as_desktop_user

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


def osworld_node(pyatspi, node, depth: int = 0, calc: bool = False) -> ET.Element:
    """OSWorld's server walk (desktop_env/server/main.py `_create_atspi_node`), reading what it reads."""
    ns = osworld.NS
    attrib = {"name": node.name}
    for state in node.getState().getStates():
        attrib[f"{{{ns['st']}}}{pyatspi.stateToString(state).replace(' ', '_')}"] = "true"
    for key, value in (node.get_attributes() or {}).items():
        if key:
            attrib[f"{{{ns['attr']}}}{key}"] = value
    if attrib.get(f"{{{ns['st']}}}visible") == "true" and attrib.get(f"{{{ns['st']}}}showing") == "true":
        try:
            ext = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
            attrib[f"{{{ns['cp']}}}screencoord"] = str((ext.x, ext.y))
            attrib[f"{{{ns['cp']}}}size"] = str((ext.width, ext.height))
        except NotImplementedError:
            pass
    text = ""
    try:
        t = node.queryText()
        text = t.getText(0, t.characterCount).replace("\ufffc", "").replace("\ufffd", "")
    except NotImplementedError:
        pass
    with contextlib.suppress(NotImplementedError):
        attrib[f"{{{ns['val']}}}value"] = str(node.queryValue().currentValue)
    try:
        action = node.queryAction()
        for i in range(action.nActions):
            attrib[f"{{{ns['act']}}}{action.getName(i).replace(' ', '-')}_desc"] = action.getDescription(i)
    except NotImplementedError:
        pass
    role = node.getRoleName().strip()
    calc = calc or role == "document spreadsheet"
    element = ET.Element((role or "unknown").replace(" ", "-"), attrib)
    if text:
        element.text = text
    if depth == 50:
        return element
    if calc and role == "table":
        # OSWorld's loop over a sheet: rows of 16384 columns, from the first showing cell until one does not show.
        base, first, col0 = 0, False, None
        for r in range(1_048_576):
            clm = 0
            for clm in range(col0 or 0, 16384):
                child = node[base + clm]
                if child.getState().contains(pyatspi.STATE_SHOWING):
                    element.append(osworld_node(pyatspi, child, depth + 1, calc))
                    if not first:
                        col0, first = clm, True
                elif (first and col0 is not None) or clm >= 500:
                    break
            if (first and clm == col0) or (not first and r >= 500):
                break
            base += 16384
        return element
    for i, child in enumerate(node):
        if i == 1024:
            break
        if child is not None:
            element.append(osworld_node(pyatspi, child, depth + 1, calc))
    return element


def pyatspi_worker(runs: int, targets: dict[str, str]) -> None:
    from cua_mcp.accessibility.pyatspi_backend import PyatspiBackend

    backend = PyatspiBackend(timeout=10)
    pyatspi = backend.pyatspi
    out: dict[str, Any] = {"osworld": {}, "osworld_table": {}}
    for app_name, title in targets.items():
        app = next(a for a in pyatspi.Registry.getDesktop(0) if a is not None and a.name == app_name)
        window = next((w for w in app if w is not None and w.name == title), app[0])
        times, root = [], None
        for _ in range(max(1, runs // 3)):  # OSWorld's walk is slow: fewer runs
            start = time.perf_counter()
            root = ET.Element("desktop-frame")
            root.append(osworld_node(pyatspi, window, 1))
            times.append(time.perf_counter() - start)
        out["osworld"][app_name] = times
        xml = ET.tostring(root, encoding="unicode")
        rows = [[e.tag, e.get("name", ""), e.text or ""] for e in osworld.filter_nodes(ET.fromstring(xml))]
        out["osworld_table"][app_name] = [osworld.linearize(xml), rows]
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


def sizes(snap: Snapshot, desktop: Desktop, table: str, rows: list[list[str]]) -> tuple[int, int, list[str]]:
    """(our characters, OSWorld's table characters, OSWorld-kept elements missing from ours).

    Ours is the text block `snapshot` returns for the window (header line included, the tool's defaults).
    An OSWorld row is present when that text has a line of the same role and name, or when it is a text
    whose words the line of the element holding it already prints (a heading's or link's own text, which
    the snapshot folds into that line); an empty sheet cell is present when the text has its sheet's grid
    (which names the range of cells shown)."""
    ours, _, _ = text_format.snapshot_text(snap, desktop.space)
    lines = list(text_format.select(snap.roots, "interactive", app_lines=not snap.window))
    printed = set(ours.splitlines())
    listed = {
        (line.node.role, text_format.display_name(line.node))
        for line in lines
        if text_format.format_line(line.node, line.depth, desktop.space) in printed or is_grid_cell(line.node)
    }
    grid_shown = any(line.lstrip().startswith("cells ") and " show; " in line for line in printed)
    folded = _folded(snap, printed, desktop)
    # A label whose words a control's line carries as its name is left out of the snapshot (see text_format).
    control_names = {
        text_format.label_words(m[1]) for m in re.finditer(r'^\s*\w+ "((?:[^"\\]|\\.)*)" \[ref=', ours, re.M)
    }
    missing = []
    for tag, name, text in rows:
        role = tag.replace("-", " ")
        present = (role, name.strip()) in listed or (role, name.strip()) in folded
        present = present or (
            role in ("label", "static") and text_format.label_words(name or text) in control_names - {""}
        )
        if present or (role == "table cell" and not text and grid_shown):
            continue
        missing.append(f"{role} {name!r}")
    return len(ours), len(table), missing


def contract_floor(snap: Snapshot, desktop: Desktop, rows: list[list[str]]) -> int:
    """What OSWorld's rows alone would cost as the shortest snapshot lines the contract allows: the header
    line, then per row its role word, quoted name and ref (no indentation, states, values or boxes). A
    row's ref is that of our element of the same role and name, else one of our refs' mean length."""
    header = text_format.snapshot_text(snap, desktop.space)[0].splitlines()[0]
    refs = {(n.role, text_format.display_name(n)): n.ref for n, _ in snap.nodes() if n.ref}
    mean_ref = round(sum(map(len, refs.values())) / max(1, len(refs)))
    total = len(header)
    for tag, name, _text in rows:
        role = tag.replace("-", " ")
        word = web_role(Node("", "", role, name, frozenset()))
        quoted = f' "{name.strip()}"' if name.strip() else ""
        total += 1 + len(f"{word}{quoted} [ref=]") + len(refs.get((role, name.strip())) or "x" * mean_ref)
    return total


def _folded(snap: Snapshot, printed: set[str], desktop: Desktop) -> set[tuple[str, str]]:
    """(role, name) of leaf texts not printed because the printed line of an ancestor carries their words."""
    lines = {line.strip() for line in printed}
    folded = set()

    def visit(node: Node, carried: str) -> None:
        line = text_format.format_line(node, 0, desktop.space)
        shown = line in lines
        name = text_format.display_name(node)
        if not shown and not node.children and name and f'"{name}' in carried:
            folded.add((node.role, name))
        for child in node.children:
            visit(child, f"{carried}\n{line}" if shown else carried)

    for root in snap.roots:
        visit(root, "")
    return folded


async def measure(runs: int, dump: str | None = None) -> str:
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
        snaps: dict[str, Snapshot] = {}
        for name, scope in [*scopes.items(), ("desktop", "desktop")]:
            times = []
            for _ in range(runs):
                start = time.perf_counter()
                snap = await a11y.snapshot(scope)
                times.append(time.perf_counter() - start)
            fast[name], snaps[name] = times, snap
        # pyatspi reads an app's tree only as the app's own user (a root server's sandbox runs them as another).
        worker = subprocess.run(
            as_desktop_user(session, [sys.executable, "-m", "benchmarks.bench_accessibility", "--pyatspi-worker",
                                      "--runs", str(runs), "--targets", json.dumps(titles)]),
            env=session.env, capture_output=True, text=True, timeout=1800,
        )  # fmt: skip
        if worker.returncode != 0:
            raise SystemExit(f"the pyatspi worker failed:\n{worker.stderr[-3000:]}")
        slow = json.loads(worker.stdout)

        rows = [
            "| app | scope | nodes | cua-mcp p50 / p90 ms | pyatspi walk, same nodes and fields, p50 / p90 ms | "
            "speed-up | OSWorld's pyatspi walk p50 ms | our text chars | OSWorld table chars | ratio | "
            "contract floor | OSWorld rows missing from ours |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for name in [*scopes, "desktop"]:
            f50, f90 = _stats(fast[name])
            s50, s90 = _stats(slow[name])
            nodes = sum(1 for _ in snaps[name].nodes())
            size = ""
            if name != "desktop":
                ours, theirs, missing = sizes(snaps[name], desktop, *slow["osworld_table"][name])
                if dump:
                    with open(f"{dump}/{name}.pickle", "wb") as out:
                        pickle.dump((snaps[name], desktop.space, *slow["osworld_table"][name]), out)
                o50, _ = _stats(slow["osworld"][name])
                floor = contract_floor(snaps[name], desktop, slow["osworld_table"][name][1]) / theirs
                size = f"{o50:.0f} | {ours} | {theirs} | {ours / theirs:.2f} | {floor:.2f} | {len(missing)}" + (
                    f" ({', '.join(missing[:3])})" if missing else ""
                )
            else:
                size = " | | | | |"
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
    parser.add_argument("--dump", help="a folder to save each window's trees and OSWorld table in (pickles)")
    parser.add_argument("--pyatspi-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--targets", default="{}", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pyatspi_worker:
        pyatspi_worker(args.runs, json.loads(args.targets))
        return
    print(asyncio.run(measure(args.runs, args.dump)))


if __name__ == "__main__":
    main()
