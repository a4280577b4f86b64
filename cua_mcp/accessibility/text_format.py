"""The default snapshot format: one line a node, indented by depth.

    - push button "OK" [ref=e12] (610,410 60x24) focused
    - entry "Name" [ref=e13] (100,80 200x24) editable = "Ada"

Boxes are in the agent coordinate space. `interactive` mode keeps what can be acted on or read
(controls, text, headings, cells that show) under their windows; `all` keeps every showing node.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cua_mcp.accessibility.model import Node
from cua_mcp.sandbox.space import AgentSpace

CONTROL_ROLES = frozenset(
    {
        "push button", "toggle button", "check box", "radio button", "menu item", "check menu item",
        "radio menu item", "menu", "combo box", "entry", "text", "password text", "spin button", "slider",
        "link", "page tab", "list item", "tree item", "table cell", "scroll bar", "push button menu",
        "terminal", "document text", "document web", "document spreadsheet", "icon", "dial", "column header", "row header", "table column header", "table row header", "editbar", "autocomplete",
    }
)  # fmt: skip
READABLE_ROLES = frozenset(
    {"label", "heading", "paragraph", "static", "caption", "status bar", "alert", "notification"}
)
WINDOW_ROLES = frozenset({"application", "frame", "dialog", "window", "alert", "file chooser"})
MANAGED_CELL = "transient"  # cells a table makes on request (LibreOffice) carry TRANSIENT
_OSWORLD_TAGS = frozenset(
    {"alert", "canvas", "check-box", "combo-box", "entry", "icon", "image", "paragraph", "scroll-bar", "section",
     "slider", "static", "table-cell", "terminal", "text"}
)  # fmt: skip
_OSWORLD_SUFFIXES = (
    "item", "button", "heading", "label", "scrollbar", "searchbox", "textbox", "link", "tabelement", "textfield",
    "textarea", "menu",
)  # fmt: skip
SHOWN_STATES = ("focused", "checked", "selected", "pressed", "expanded", "collapsed", "editable", "indeterminate")
_TEXT_SHOWN = 200  # characters of a node's text shown in a snapshot line; read_text gives all


@dataclass
class Line:
    node: Node
    depth: int


def interesting(node: Node) -> bool:
    """What interactive mode keeps: controls that show, readable text, and everything OSWorld's agents keep."""
    if node.role in WINDOW_ROLES:
        return True
    named = bool(node.name.strip() or node.text)
    if node.role == "table cell" and node.text is not None and MANAGED_CELL in node.states:
        # A sheet's empty cells are covered by their table's line (which names the range shown).
        return bool(node.text) or "focused" in node.states
    if node.role in CONTROL_ROLES:
        # A control with no name or text cannot be told apart from its neighbours, except a field to fill.
        return named or "focused" in node.states or "editable" in node.states
    if node.role in READABLE_ROLES or osworld_keeps_role(node.role):
        return named
    return "focusable" in node.states and named


def osworld_keeps_role(role: str) -> bool:
    """OSWorld's agents' tag rule (mm_agents heuristic_retrieve.judge_node), on our role names."""
    tag = role.replace(" ", "-")
    return tag.startswith("document") or tag.endswith(_OSWORLD_SUFFIXES) or tag in _OSWORLD_TAGS


def select(roots: list[Node], mode: str, keep: Callable[[Node], bool] | None = None) -> Iterator[Line]:
    """The nodes a snapshot shows, with their output depth (kept ancestors only)."""

    def visit(node: Node, depth: int, context: str) -> Iterator[Line]:
        shown = (mode == "all" or interesting(node)) and (keep is None or keep(node) or node.role in WINDOW_ROLES)
        # A label inside a button that already carries its words adds nothing (GTK 4 buttons).
        if shown and mode != "all" and node.role == "label" and node.name.strip() and node.name.strip() in context:
            shown = False
        if shown:
            yield Line(node, depth)
        for child in node.children:
            yield from visit(child, depth + 1 if shown else depth, node.name if shown else context)

    for root in roots:
        yield from visit(root, 0, "")


def box_in_space(node: Node, space: AgentSpace) -> tuple[int, int, int, int] | None:
    if node.box is None or node.box[2] <= 0 or node.box[3] <= 0:
        return None
    x, y, w, h = node.box
    ax, ay = space.from_screen(x, y)
    return ax, ay, max(1, round(w * space.scale)), max(1, round(h * space.scale))


def format_line(node: Node, depth: int, space: AgentSpace) -> str:
    parts = [f"{' ' * depth}{node.role}"]
    if node.name:
        parts.append(_quote(node.name.strip()))
    if node.ref:
        parts.append(f"[ref={node.ref}]")
    box = box_in_space(node, space)
    if box is not None:
        parts.append(f"({box[0]},{box[1]} {box[2]}x{box[3]})")
    states = [s for s in SHOWN_STATES if s in node.states]
    if "expandable" not in node.states:
        states = [s for s in states if s not in ("expanded", "collapsed")]
    if "enabled" not in node.states and "sensitive" not in node.states and node.role in CONTROL_ROLES:
        states.append("disabled")
    parts += states
    if node.text and node.text.strip() != node.name.strip():
        text = node.text if len(node.text) <= _TEXT_SHOWN else node.text[:_TEXT_SHOWN] + "…"
        parts.append(f"= {_quote(text)}")
    if node.value is not None:
        parts.append(f"value={node.value:g}")
    if node.omitted_children:
        cells = [c.name for c in node.children if c.role == "table cell" and c.name]
        shown = f"cells {cells[0]}:{cells[-1]} show, empty ones not listed; " if cells else ""
        parts.append(f"({shown}{node.omitted_children} more children not listed: only what shows)")
    return " ".join(parts)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(lines: list[Line], space: AgentSpace, max_nodes: int, max_depth: int) -> tuple[str, int]:
    """The text and how many selected nodes it left out."""
    out = []
    left_out = 0
    for line in lines:
        if line.depth > max_depth or len(out) >= max_nodes:
            left_out += 1
            continue
        out.append(format_line(line.node, line.depth, space))
    if left_out:
        out.append(
            f"[{left_out} more nodes left out (max_nodes={max_nodes}, max_depth={max_depth}): narrow with query=, "
            "a smaller scope (a window or app), or raise max_nodes/max_depth]"
        )
    return "\n".join(out), left_out
