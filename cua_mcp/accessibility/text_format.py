"""The default snapshot format: one line a node, indented by depth, in words a model knows.

    button "OK" [ref=e12] focused
    textbox "Name" [ref=e13] = "Ada"
    checkbox "Gift wrap" [ref=e14] unchecked
    spinbutton [ref=e15] = 50

`role "name" [ref=eN] states value`; with boxes, `(x,y wxh)` in the agent coordinate space follows the
ref. `interactive` mode keeps what can be acted on or read (controls, text, headings, cells that show)
under their windows; `all` keeps every showing node. A sheet's visible cells print as one grid block.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from cua_mcp.accessibility.grid import cell_grid, is_grid_cell
from cua_mcp.accessibility.model import Node, Snapshot
from cua_mcp.accessibility.roles import web_role
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
# Controls worth listing with no name: a field to fill or a value to set is told apart by its place.
_FIELDS = frozenset({"entry", "password text", "spin button", "slider", "combo box", "dial", "editbar"})
_VALUE_ROLES = frozenset({"slider", "spin button", "progress bar", "level bar", "dial", "scroll bar"})
_CHECKABLE = frozenset({"check box", "radio button", "check menu item", "radio menu item"})
_PLAIN_TEXT = frozenset({"label", "static", "text"})
MANAGED_CELL = "transient"  # cells a table makes on request (LibreOffice) carry TRANSIENT
_OSWORLD_TAGS = frozenset(
    {"alert", "canvas", "check-box", "combo-box", "entry", "icon", "image", "paragraph", "scroll-bar", "section",
     "slider", "static", "table-cell", "terminal", "text"}
)  # fmt: skip
_OSWORLD_SUFFIXES = (
    "item", "button", "heading", "label", "scrollbar", "searchbox", "textbox", "link", "tabelement", "textfield",
    "textarea", "menu",
)  # fmt: skip
SHOWN_STATES = ("focused", "selected", "expanded", "collapsed", "required")
_CARET_LINE = 120  # characters of the caret's line shown
_TEXT_SHOWN = 200  # characters of a node's text shown in a snapshot line; read_text gives all
# Toolkit class names that some widgets report as their accessible name: they tell a model nothing.
_CLASS_NAME = re.compile(r"(Gtk|Gdk|Gtk4|Adw|Hdy|Q|Kf5|Vcl|Sw|Sc|Sfx)[A-Z][A-Za-z0-9]+")


@dataclass
class Line:
    node: Node
    depth: int


def display_name(node: Node) -> str:
    """The name worth printing: stripped, never a toolkit class name."""
    name = node.name.strip()
    return "" if _CLASS_NAME.fullmatch(name) else name


def interesting(node: Node) -> bool:
    """What interactive mode keeps: controls that show, readable text, and everything OSWorld's agents keep."""
    if node.role in WINDOW_ROLES or (node.omitted_children and any(is_grid_cell(c) for c in node.children)):
        return True  # a sheet's grid hangs from its table's line
    named = bool(display_name(node) or (node.text or "").strip())
    if node.role == "table cell" and node.text is not None and MANAGED_CELL in node.states:
        # A sheet's cells print in their table's grid: kept for it, not as lines.
        return True
    if node.role in CONTROL_ROLES:
        # A control with no name or text cannot be told apart from its neighbours, except a field to fill.
        return named or "focused" in node.states or "editable" in node.states or node.role in _FIELDS
    if node.role in READABLE_ROLES or osworld_keeps_role(node.role):
        return named
    return "focusable" in node.states and named


def osworld_keeps_role(role: str) -> bool:
    """OSWorld's agents' tag rule (mm_agents heuristic_retrieve.judge_node), on our role names."""
    tag = role.replace(" ", "-")
    return tag.startswith("document") or tag.endswith(_OSWORLD_SUFFIXES) or tag in _OSWORLD_TAGS


def select(
    roots: list[Node], mode: str, keep: Callable[[Node], bool] | None = None, app_lines: bool = True
) -> Iterator[Line]:
    """The nodes a snapshot shows, with their output depth (kept ancestors only). Without `app_lines` the
    application lines are left out (a window's snapshot names its app in its header)."""

    def visit(node: Node, depth: int, context: str) -> Iterator[Line]:
        if mode != "all" and _ghost_menu_bar(node):
            return
        shown = (mode == "all" or interesting(node)) and (keep is None or keep(node) or node.role in WINDOW_ROLES)
        # Text inside a control or paragraph that already carries its words adds nothing (a GTK 4 button's
        # label, a web heading's or link's static text).
        if shown and mode != "all" and _repeats(node, context):
            shown = False
        if shown:
            yield Line(node, depth)
        for child in node.children:
            words = f"{display_name(node)}\n{(node.text or '').strip()}" if shown else context
            yield from visit(child, depth + 1 if shown else depth, words)

    for root in roots:
        for top in [root] if app_lines else root.children:
            kept = _without_repeats(visit(top, 0, ""))
            yield from kept if mode == "all" else _without_echoed_labels(list(kept))


def _without_echoed_labels(lines: list[Line]) -> Iterator[Line]:
    """Drop a label whose words the next line, the control it labels, carries as its name (a web form's
    <label> around its input, a GTK label beside its entry): that line already says them. What the label
    held moves up a level."""
    dropped: list[int] = []  # depths of dropped labels above the current line
    for i, line in enumerate(lines):
        while dropped and dropped[-1] >= line.depth:
            dropped.pop()
        if i + 1 < len(lines) and _labels(line, lines[i + 1]):
            dropped.append(line.depth)
            continue
        yield Line(line.node, line.depth - len(dropped)) if dropped else line


def _labels(label: Line, control: Line) -> bool:
    if label.node.role not in _PLAIN_TEXT or "editable" in label.node.states:
        return False
    if control.depth not in (label.depth, label.depth + 1) or control.node.role not in CONTROL_ROLES:
        return False
    words = label_words(display_name(label.node) or label.node.text or "")
    return bool(words) and words == label_words(display_name(control.node))


def label_words(text: str) -> str:
    """A label's words as compared with the name of the control it labels."""
    return text.strip().rstrip(":").strip().casefold()


def _ghost_menu_bar(node: Node) -> bool:
    """LibreOffice keeps its own menu bar, zero pixels high, under the toolkit's: the same menus again,
    at places where clicks land on the toolbar."""
    return node.role == "menu bar" and node.box is not None and (node.box[2] <= 0 or node.box[3] <= 0)


def _repeats(node: Node, context: str) -> bool:
    if node.role not in _PLAIN_TEXT or node.children or "editable" in node.states:
        return False
    words = display_name(node) or (node.text or "").strip()
    return bool(words) and words in (part.strip() for part in context.split("\n"))


def _without_repeats(lines: Iterator[Line]) -> Iterator[Line]:
    """Drop an element listed again under the same parent over the same box (LibreOffice lists its menu bar
    twice), with what it holds. Look-alikes elsewhere (a window's several tab strips) all stay."""
    kept: list[Line] = []
    dropped_depth: int | None = None
    for line in lines:
        if dropped_depth is not None and line.depth > dropped_depth:
            continue
        dropped_depth = None
        if any(_twin(earlier, line) for earlier in _siblings_before(kept, line.depth)):
            dropped_depth = line.depth
            continue
        kept.append(line)
        yield line


def _siblings_before(kept: list[Line], depth: int, look_back: int = 60) -> Iterator[Line]:
    for earlier in reversed(kept[-look_back:]):
        if earlier.depth < depth:
            return
        if earlier.depth == depth:
            yield earlier


def _twin(a: Line, b: Line) -> bool:
    """The same element listed again: same depth, role word and name, and overlapping boxes."""
    if a.depth != b.depth or web_role(a.node) != web_role(b.node) or display_name(a.node) != display_name(b.node):
        return False
    if a.node.box is None or b.node.box is None or not display_name(a.node):
        return False
    ax, ay, aw, ah = a.node.box
    bx, by, bw, bh = b.node.box
    return ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah


def box_in_space(node: Node, space: AgentSpace) -> tuple[int, int, int, int] | None:
    if node.box is None or node.box[2] <= 0 or node.box[3] <= 0:
        return None
    x, y, w, h = node.box
    ax, ay = space.from_screen(x, y)
    return ax, ay, max(1, round(w * space.scale)), max(1, round(h * space.scale))


def states_of(node: Node) -> list[str]:
    """The states worth a model's attention, in web words: what a control is, not what it can be."""
    states = [s for s in SHOWN_STATES if s in node.states]
    if "expandable" not in node.states:
        states = [s for s in states if s not in ("expanded", "collapsed")]
    elif "expanded" not in node.states and "collapsed" not in states:
        states.append("collapsed")
    if node.role in _CHECKABLE or (node.role == "toggle button"):
        if "indeterminate" in node.states:
            states.append("mixed")
        elif node.role == "toggle button":
            states += ["pressed"] if {"checked", "pressed"} & node.states else []
        elif "checked" in node.states:
            states.append("checked")
        elif node.role in ("check box", "check menu item") or "checkable" in node.states:
            states.append("unchecked")
    elif "pressed" in node.states:
        states.append("pressed")
    if node.role in CONTROL_ROLES and "enabled" not in node.states and "sensitive" not in node.states:
        states.append("disabled")
    if node.role in ("text", "document text", "document web") and "editable" in node.states:
        if "multi line" in node.states and node.role == "text":
            states.append("multiline")
    elif web_role(node) == "textbox" and "editable" not in node.states:
        states.append("readonly")
    return states


def value_of(node: Node) -> str:
    """A control's value after `=`: a field's text, a slider's or spin button's number."""
    if node.role in _VALUE_ROLES and node.value is not None:
        return f"= {node.value:g}"
    text = (node.text or "").strip()
    name = display_name(node)
    if not text or text == name or node.role == "spin button":
        return f"= {node.value:g}" if node.role == "spin button" and node.value is not None else ""
    shown = text if len(text) <= _TEXT_SHOWN else text[:_TEXT_SHOWN] + "…"
    return f"= {_quote(shown)}" + _caret_line(node)


def _caret_line(node: Node) -> str:
    """Where a document's caret is, with its line: a model editing a long text needs that line, not the top."""
    text = node.text or ""
    if node.caret is None or "\n" not in text.strip() or node.caret > len(text):
        return ""
    lines = text.split("\n")
    number = text[: node.caret].count("\n")
    line = lines[number] if len(lines[number]) <= _CARET_LINE else lines[number][:_CARET_LINE] + "…"
    return f" caret on line {number + 1} of {len(lines)}: {_quote(line)}"


def format_line(node: Node, depth: int, space: AgentSpace, boxes: bool = False) -> str:
    parts = [f"{' ' * depth}{web_role(node)}"]
    name = display_name(node)
    if name:
        parts.append(_quote(name))
    if node.ref:
        parts.append(f"[ref={node.ref}]")
    if boxes and (box := box_in_space(node, space)) is not None:
        parts.append(f"({box[0]},{box[1]} {box[2]}x{box[3]})")
    parts += states_of(node)
    if value := value_of(node):
        parts.append(value)
    return " ".join(parts)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def render(
    lines: list[Line], space: AgentSpace, max_nodes: int, max_depth: int, boxes: bool = False
) -> tuple[str, int]:
    """The text and how many selected nodes it left out. A table's visible cells count as one grid block."""
    out: list[str] = []
    left_out = 0
    listed = 0
    for line in lines:
        node = line.node
        if is_grid_cell(node):
            continue  # printed in its table's grid
        if line.depth > max_depth or listed >= max_nodes:
            left_out += 1
            continue
        listed += 1
        out.append(format_line(node, line.depth, space, boxes))
        if node.omitted_children:
            out += cell_grid(node, line.depth + 1)
    if left_out:
        out.append(
            f"[{left_out} more nodes left out (max_nodes={max_nodes}, max_depth={max_depth}): narrow with query=, "
            "a smaller scope (a window or app), or raise max_nodes/max_depth]"
        )
    return "\n".join(out), left_out


def snapshot_text(
    snap: Snapshot,
    space: AgentSpace,
    mode: str = "interactive",
    max_nodes: int = 400,
    max_depth: int = 40,
    keep: Callable[[Node], bool] | None = None,
    boxes: bool = False,
) -> tuple[str, int, int]:
    """A snapshot as the model reads it: a header line (scope and counts), the tree, then notes.
    Returns the text, the lines listed and the nodes left out."""
    lines = list(select(snap.roots, mode, keep, app_lines=not snap.window))
    tree, left_out = render(lines, space, max_nodes, max_depth, boxes)
    listed = sum(1 for line in lines if not is_grid_cell(line.node)) - left_out
    header = f"{snap.scope}: {listed} elements" + (f", {left_out} left out" if left_out else "")
    if not tree:
        header += " (nothing showing)"
    notes = [f"[note: {note}]" for note in snap.notes]
    return "\n".join([header, *([tree] if tree else []), *notes]), listed, left_out
