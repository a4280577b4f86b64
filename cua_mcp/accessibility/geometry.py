"""Boxes in screen coordinates for every toolkit: the corrections for toolkits that report them elsewhere."""

from __future__ import annotations

from cua_mcp.accessibility.model import AppInfo, Node
from cua_mcp.sandbox.x11.windows import WindowInfo


def fix_window_relative(roots: list[Node], apps: list[AppInfo], windows: list[WindowInfo]) -> None:
    """Move boxes that toolkits report elsewhere to the screen. GTK 4 reports extents relative to its window:
    add the X window's origin (matched by pid, then title). LibreOffice draws its windows in a root pane inside
    a GTK container of the same size, but until the pointer first moves over the window it places the root
    pane's contents from a stale origin (16-28 px above): move each root pane onto its container."""
    gtk4 = {a.bus: a for a in apps if a.toolkit.lower().startswith("gtk 4")}
    for root in roots:
        app = gtk4.get(root.bus)
        if app is None:
            _fix_root_panes(root)
            continue
        mine = [w for w in windows if w.pid == app.pid]
        for top in root.children:
            window = next((w for w in mine if w.title == top.name), mine[0] if mine else None)
            if window is not None:
                shift(top, window.x, window.y)


def _fix_root_panes(node: Node) -> None:
    for child in node.children:
        offset = root_pane_shift(child, node)
        if offset is not None:
            shift(child, *offset)
        else:
            _fix_root_panes(child)


def root_pane_shift(pane: Node, container: Node) -> tuple[int, int] | None:
    """How far a root pane's boxes must move to lie on its container, which it fills; None when they agree."""
    if pane.role != "root pane" or pane.box is None or container.box is None:
        return None
    (px, py, pw, ph), (cx, cy, cw, ch) = pane.box, container.box
    if (pw, ph) != (cw, ch) or (px, py) == (cx, cy):
        return None
    return cx - px, cy - py


def shift(top: Node, dx: int, dy: int) -> None:
    for node, _ in top.walk():
        if node.box is not None and node.box[2] > 0:
            x, y, w, h = node.box
            node.box = (x + dx, y + dy, w, h)
