"""The reference backend: pyatspi (Debian's python3-pyatspi over libatspi), walked the way OSWorld
walks it, pruned and filled exactly like the D-Bus backend so the two can be held against each other.

pyatspi binds to one accessibility bus per process when it is first imported: this module sets
AT_SPI_BUS_ADDRESS before importing it, so a process can use it for one desktop only. Run as a
script it prints an app's tree as JSON (tests run it in a subprocess per sandbox):

    python -m cua_mcp.accessibility.pyatspi_backend APP_NAME
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from cua_mcp.accessibility import backend as shared
from cua_mcp.accessibility.dbus_backend import visible_range
from cua_mcp.accessibility.model import AppInfo, Node

_pyatspi: Any = None


def _load(bus_address: str | None, timeout: float) -> Any:
    global _pyatspi
    if _pyatspi is None:
        if bus_address:
            os.environ["AT_SPI_BUS_ADDRESS"] = bus_address
        try:
            import pyatspi
            from gi.repository import Atspi
        except ImportError as exc:
            raise RuntimeError(
                "pyatspi is not importable here (it is Debian's python3-pyatspi): use --a11y-backend dbus"
            ) from exc
        Atspi.set_timeout(int(timeout * 1000), int(timeout * 1000) * 2)
        _pyatspi = pyatspi
    return _pyatspi


class PyatspiBackend:
    name = "pyatspi"

    def __init__(self, bus_address: str | None = None, timeout: float = 2.0) -> None:
        self.pyatspi = _load(bus_address, timeout)
        self._by_key: dict[tuple[str, str], Any] = {}

    def close(self) -> None:
        pass

    def applications(self) -> list[AppInfo]:
        apps = []
        for app in self.pyatspi.Registry.getDesktop(0):
            if app is None:
                continue
            try:
                apps.append(
                    AppInfo(
                        bus=app.app.bus_name if app.app is not None else "",
                        path=app.path,
                        name=app.name,
                        pid=app.get_process_id(),
                        toolkit=f"{app.get_toolkit_name()} {app.get_toolkit_version()}",
                    )
                )
                self._by_key[(apps[-1].bus, app.path)] = app
            except Exception:
                continue
        return apps

    def read(
        self, apps: list[AppInfo], pick: shared.WindowPicker | None, cells: bool = True
    ) -> tuple[list[Node], list[str]]:
        roots, notes = [], []
        for info in apps:
            acc = self._by_key.get((info.bus, info.path))
            if acc is None:
                continue
            try:
                gtk4 = info.toolkit.lower().startswith("gtk 4")
                root = Node(info.bus, info.path, "application", info.name, frozenset())
                windows = [(w, self._node(w)) for w in acc if w is not None]
                windows = [(w, n) for w, n in windows if _shown(n, gtk4)]
                kept = pick(info, [n for _, n in windows]) if pick is not None else [n for _, n in windows]
                root.children = kept
                for w, n in windows:
                    if n in kept:
                        self._walk(w, n, gtk4, 1, cells)
                roots.append(root)
            except Exception as exc:
                notes.append(f"{info.name} ({info.bus}) failed: {exc}")
        return roots, notes

    def _node(self, acc: Any) -> Node:
        states = frozenset(self.pyatspi.stateToString(s) for s in acc.getState().getStates())
        ifaces = frozenset(acc.get_interfaces())
        node = Node(
            acc.app.bus_name, acc.path, acc.getRoleName(), acc.name or "", states, ifaces, acc.description or ""
        )
        if "manages descendants" in states:
            node.omitted_children = acc.childCount
        return node

    def _fill(self, acc: Any, node: Node) -> None:
        if "Component" in node.interfaces:
            ext = acc.queryComponent().getExtents(self.pyatspi.DESKTOP_COORDS)
            node.box = (ext.x, ext.y, ext.width, ext.height)
        if shared.keep_text(node):
            text = acc.queryText()
            node.text = shared.clean_text(text.getText(0, -1))
        if shared.keep_value(node):
            node.value = float(acc.queryValue().currentValue)
        if shared.keep_caret(node) and (at := acc.queryText().caretOffset) >= 0:
            node.caret = at
        if shared.wants_label(node):
            for relation in acc.getRelationSet():
                if relation.getRelationType() == shared.LABELLED_BY and relation.getNTargets():
                    node.name = (relation.getTarget(0).name or "").strip()
                    break

    def _walk(self, acc: Any, node: Node, gtk4: bool, depth: int, cells: bool) -> None:
        self._fill(acc, node)
        if node.omitted_children > shared.MAX_CELLS:
            if cells and "Table" in node.interfaces and node.box is not None:
                self._visible_cells(acc, node)
            return
        if depth > 60:
            return
        for child in acc:
            if child is None:
                continue
            kid = self._node(child)
            if _shown(kid, gtk4):
                node.children.append(kid)
                self._walk(child, kid, gtk4, depth + 1, cells)

    def _visible_cells(self, acc: Any, table: Node) -> None:
        assert table.box is not None
        x, y, w, h = table.box
        component, grid = acc.queryComponent(), acc.queryTable()
        first = component.getAccessibleAtPoint(x + 1, y + 1, self.pyatspi.DESKTOP_COORDS)
        last = component.getAccessibleAtPoint(x + w - 2, y + h - 2, self.pyatspi.DESKTOP_COORDS)
        i0, i1 = first.getIndexInParent(), last.getIndexInParent()
        cells = visible_range(
            grid.getRowAtIndex(i0), grid.getColumnAtIndex(i0), grid.getRowAtIndex(i1), grid.getColumnAtIndex(i1)
        )
        for r, c in cells:
            cell = grid.getAccessibleAt(r, c)
            if cell is None:
                continue
            kid = self._node(cell)
            if "showing" in kid.states:
                self._fill(cell, kid)
                table.children.append(kid)
        table.omitted_children = max(0, table.omitted_children - len(table.children))


def _shown(node: Node, gtk4: bool) -> bool:
    return "showing" in node.states or (gtk4 and "visible" in node.states)


def to_json(node: Node) -> dict[str, Any]:
    return {
        "path": node.path,
        "role": node.role,
        "name": node.name,
        "states": sorted(node.states),
        "box": list(node.box) if node.box else None,
        "text": node.text,
        "value": node.value,
        "children": [to_json(c) for c in node.children],
    }


def main(argv: list[str]) -> None:
    backend = PyatspiBackend()
    wanted = argv[0].lower()
    apps = [a for a in backend.applications() if a.name.lower() == wanted]
    roots, notes = backend.read(apps, None)
    print(json.dumps({"roots": [to_json(r) for r in roots], "notes": notes}))


if __name__ == "__main__":
    main(sys.argv[1:])
