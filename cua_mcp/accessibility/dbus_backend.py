"""The fast backend: AT-SPI over D-Bus with jeepney, in pure Python.

Per app: one `Cache.GetItems` call returns every cached object (role, name, states, parent,
interfaces); the tree is rebuilt from parent links, pruned to what is showing. What the cache lacks
(a window read, Qt's empty cache, objects not made yet) is walked: a node's children, their states,
then the attributes and children of those that show. Every call of a read is in one exchange and is
sent as soon as the reply it depends on is in, so the app never waits for a round to end; kept
nodes get their extents, text and values the same way. Children of a node that manages its
descendants are never enumerated (LibreOffice's sheet claims 2^31): its visible cells are read
through the Table interface for the range its box covers.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cua_mcp.accessibility._dbus import DEFAULT_TIMEOUT_S, AtspiBus, Call, CallFailed, prop
from cua_mcp.accessibility._vocab import IFACE_PREFIX, SHOWING, VISIBLE, role_name, states_from_bits
from cua_mcp.accessibility.backend import (
    LABELLED_BY,
    MAX_CELLS,
    WindowPicker,
    clean_text,
    keep_caret,
    keep_text,
    keep_value,
    wants_label,
)
from cua_mcp.accessibility.grid import column_letters
from cua_mcp.accessibility.model import AppInfo, Node

log = logging.getLogger(__name__)

REGISTRY = "org.a11y.atspi.Registry"
ROOT = "/org/a11y/atspi/accessible/root"
NULL_PATH = "/org/a11y/atspi/null"
ACC = "org.a11y.atspi.Accessible"
COMPONENT = "org.a11y.atspi.Component"
TEXT = "org.a11y.atspi.Text"
VALUE = "org.a11y.atspi.Value"
TABLE = "org.a11y.atspi.Table"
APPLICATION = "org.a11y.atspi.Application"
_SCREEN = 0  # ATSPI_COORD_TYPE_SCREEN
_MAX_WALK_DEPTH = 60
_MENU_HOLDERS = frozenset({"menu bar", "menu"})
_OPEN_MENU = frozenset({"selected", "expanded"})


def _about_connection(method: str, bus: str) -> Call:
    """A question to the bus daemon about app connection `bus` (its pid, its user)."""
    return Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", method, "s", (bus,))


def _short(interfaces: list[str]) -> frozenset[str]:
    return frozenset(i.removeprefix(IFACE_PREFIX) for i in interfaces)


def _path_order(path: str) -> tuple[int, str]:
    match = re.search(r"(\d+)$", path)
    return (int(match[1]) if match else 0, path)


class DbusBackend:
    """Reads trees through a pipelining jeepney connection (use from one thread)."""

    name = "dbus"

    def __init__(self, bus: AtspiBus, timeout: float = DEFAULT_TIMEOUT_S, direct: bool = True) -> None:
        self.bus = bus
        self.timeout = timeout
        # Past this many cached objects one GetItems costs more than walking the showing part.
        self.cache_limit = 1200
        self._listening = False
        self._big: set[str] = set()  # apps whose cache proved too big to fetch whole
        self._gtk4: set[str] = set()  # apps whose SHOWING state is unreliable
        self._names: dict[str, str] = {}  # so an app that stops answering can still be named
        self.direct = direct  # talk to apps over their own sockets when they offer one
        self._tried: set[str] = set()  # apps asked for a direct address
        self._kinds = _Kinds()

    def _listen(self) -> None:
        """Register as an event listener: at-spi2-atk only serves its cache to a bus with listeners."""
        if not self._listening:
            self.bus.call(Call(REGISTRY, "/org/a11y/atspi/registry", REGISTRY, "RegisterEvent", "s",
                               ("object:children-changed",)), self.timeout)  # fmt: skip
            self._listening = True

    def close(self) -> None:
        pass  # the connection belongs to the caller

    # ----- applications ----------------------------------------------------------------------

    def applications(self) -> list[AppInfo]:
        self._listen()
        children = self.bus.call(Call(REGISTRY, ROOT, ACC, "GetChildren"), self.timeout)
        refs = [(bus, path) for bus, path in children if path != NULL_PATH]
        calls: list[Call] = []
        for bus, path in refs:
            calls += [
                prop(bus, path, ACC, "Name"),
                _about_connection("GetConnectionUnixProcessID", bus),
                prop(bus, path, APPLICATION, "ToolkitName"),
                prop(bus, path, APPLICATION, "Version"),
            ]
        results = self.bus.call_many(calls, self.timeout)
        self._connect_direct([ref for i, ref in enumerate(refs) if not isinstance(results[4 * i], CallFailed)])
        apps = []
        for i, (bus, path) in enumerate(refs):
            if isinstance(results[4 * i], str):
                self._names[bus] = results[4 * i]
            name, pid, toolkit, version = results[4 * i : 4 * i + 4]
            apps.append(
                AppInfo(
                    bus=bus,
                    path=path,
                    name=name if isinstance(name, str) else self._names.get(bus) or _process_name(pid),
                    pid=pid if isinstance(pid, int) else None,
                    toolkit=f"{toolkit} {version}" if isinstance(toolkit, str) and isinstance(version, str) else "",
                    answering=not (isinstance(name, CallFailed) and name.timed_out),
                )
            )
        return apps

    def _connect_direct(self, refs: list[tuple[str, str]]) -> None:
        """Open a direct connection to each app not tried yet that offers one (libatspi does the same)."""
        new = [(bus, path) for bus, path in refs if bus not in self._tried]
        if not self.direct or not new:
            return
        calls: list[Call] = []
        for bus, path in new:
            calls += [
                Call(bus, path, APPLICATION, "GetApplicationBusAddress"),
                _about_connection("GetConnectionUnixUser", bus),
            ]
        results = self.bus.call_many(calls, self.timeout)
        for (bus, _), address, user in zip(new, results[::2], results[1::2], strict=True):
            if isinstance(address, str) and address:
                self._tried.add(bus)
                self.bus.connect_direct(bus, address, user if isinstance(user, int) else None)
            elif isinstance(address, CallFailed) and not address.timed_out:
                self._tried.add(bus)  # the app offers no socket of its own
            # else an app still starting has no socket yet (an empty address): ask again next time

    # ----- trees -----------------------------------------------------------------------------

    def read(self, apps: list[AppInfo], pick: WindowPicker | None, cells: bool = True) -> tuple[list[Node], list[str]]:
        notes: list[str] = []
        live = [a for a in apps if a.answering]
        notes += [
            f"{a.name} ({a.bus}) did not answer within {self.timeout:g} s: left out" for a in apps if not a.answering
        ]
        # One window: walking its showing part beats fetching the whole app's cache (measured 1.4-2.3x on
        # mousepad, gtk3-widget-factory, Chromium and Calc: the cache holds every window and menu).
        cached = [a for a in live if a.bus not in self._big] if pick is None else []
        replies = dict(zip(cached, self.bus.call_many(
            [Call(a.bus, "/org/a11y/atspi/cache", "org.a11y.atspi.Cache", "GetItems") for a in cached], self.timeout
        ), strict=True))  # fmt: skip
        self._gtk4 |= {a.bus for a in live if a.toolkit.lower().startswith("gtk 4")}
        answering = []
        for app in live:
            items = replies.get(app)
            if isinstance(items, CallFailed) and items.timed_out:
                notes.append(f"{app.name} ({app.bus}) did not answer within {self.timeout:g} s: left out")
            else:
                answering.append(app)
        roots = [Node(a.bus, a.path, "application", a.name, frozenset()) for a in answering]
        # Windows come from the app itself, one level for every app at once: caches disagree on them.
        _TreeRead(self.bus, self.timeout, self._gtk4, self._kinds, fill=False, depth_limit=1).walk(roots).run()
        tree = _TreeRead(self.bus, self.timeout, self._gtk4, self._kinds, cells=cells)
        for app, root in zip(answering, roots, strict=True):
            if pick is not None:
                root.children = pick(app, root.children)
            items = replies.get(app)
            if isinstance(items, list) and len(items) > self.cache_limit:
                self._big.add(app.bus)
            if isinstance(items, list) and items and app.bus not in self._big:
                # The cache holds only objects the toolkit has created so far: walk the gaps.
                incomplete = _build_from_cache(root.children, items, app.bus in self._gtk4)
                tree.fill([node for window in root.children for node, _ in window.walk()]).walk(incomplete)
            else:
                tree.fill(root.children).walk(root.children)  # Qt and others without a cache
        notes += tree.run()
        return roots, notes


class _Kinds:
    """Each object's role and interfaces, asked once: they do not change for an object path (libatspi
    caches them too). Bounded: past the limit it starts over."""

    def __init__(self, limit: int = 50_000) -> None:
        self.limit = limit
        self._known: dict[tuple[str, str], tuple[str, frozenset[str]]] = {}

    def get(self, ref: tuple[str, str]) -> tuple[str, frozenset[str]] | None:
        return self._known.get(ref)

    def remember(self, ref: tuple[str, str], kind: tuple[str, frozenset[str]]) -> None:
        if len(self._known) >= self.limit:
            self._known.clear()
        self._known[ref] = kind


class _TreeRead:
    """One read's calls, all in one exchange, each asked as soon as what it needs is in: a node's
    children, their states, the attributes of those that show (and their children), their extents,
    text and values, and the visible cells of tables that manage their descendants. The app is kept
    busy instead of idling between the rounds of a level-by-level walk."""

    def __init__(
        self,
        bus: AtspiBus,
        timeout: float,
        gtk4: set[str],
        kinds: _Kinds,
        fill: bool = True,
        depth_limit: int = _MAX_WALK_DEPTH,
        cells: bool = True,
    ) -> None:
        self.exchange = bus.exchange(timeout)
        self.bus = bus
        self.timeout = timeout
        self.gtk4 = gtk4  # apps whose SHOWING state is unreliable
        self.kinds = kinds
        self.filling = fill
        self.depth_limit = depth_limit
        self.cells = cells  # the visible cells of tables that manage their descendants
        self.notes: list[str] = []
        self._placed: list[tuple[Node, list[Node | None]]] = []  # parent, its shown children in order
        self._tables: list[_TableRead] = []

    def run(self) -> list[str]:
        """Collect every answer, put the children in place; returns notes on what could not be read."""
        self.exchange.run()
        for parent, slots in self._placed:
            parent.children.extend(node for node in slots if node is not None)
        for table in self._tables:
            self._finish_cells(table)
        return self.notes

    # ----- the walk: children, their states, then what shows ----------------------------------

    def walk(self, nodes: list[Node], depth: int = 0) -> _TreeRead:
        """Read what shows below `nodes` (never the children of a node that manages many)."""
        for node in nodes:
            if not _manages_many(node):
                self._ask_children(node, depth)
        return self

    def _ask_children(self, node: Node, depth: int) -> None:
        self.exchange.add(
            [Call(node.bus, node.path, ACC, "GetChildren")], lambda _, refs: self._got_children(node, refs, depth)
        )

    def _got_children(self, parent: Node, refs: Any, depth: int) -> None:
        if not isinstance(refs, CallFailed):
            self._children(parent, [tuple(ref) for ref in refs], depth)
        else:  # GTK 4 has no GetChildren: ask child by child
            self.exchange.add(
                [prop(parent.bus, parent.path, ACC, "ChildCount")],
                lambda _, count: self._children_by_index(parent, count, depth),
            )

    def _children_by_index(self, parent: Node, count: Any, depth: int) -> None:
        if isinstance(count, int):
            self.exchange.add_group(
                [
                    Call(parent.bus, parent.path, ACC, "GetChildAtIndex", "i", (i,))
                    for i in range(min(count, MAX_CELLS))
                ],
                lambda refs: self._children(parent, [tuple(r) for r in refs if not isinstance(r, CallFailed)], depth),
            )

    def _children(self, parent: Node, refs: list[tuple[str, str]], depth: int) -> None:
        """States first: most children of a big window do not show, and need nothing more."""
        refs = [ref for ref in refs if ref[1] != NULL_PATH]
        slots: list[Node | None] = [None] * len(refs)
        self._placed.append((parent, slots))
        in_menus = parent.role in _MENU_HOLDERS

        def state(i: int, bits: Any) -> None:
            if not isinstance(bits, CallFailed):
                states = states_from_bits(bits)
                if shown(states, refs[i][0] in self.gtk4):
                    self._describe(refs[i], states, slots, i, depth + 1, in_menus)

        self.exchange.add([Call(bus, path, ACC, "GetState") for bus, path in refs], state)

    def _describe(
        self,
        ref: tuple[str, str],
        states: frozenset[str],
        slots: list[Node | None],
        i: int,
        depth: int,
        in_menus: bool = False,
    ) -> None:
        """Role, name and interfaces of a child that shows (and its children, or its count if it manages
        them). The items of a closed menu in a menu bar never show: their states are not asked
        (LibreOffice's two menu bars hold about 600)."""
        bus, path = ref
        manages = MANAGES_DESCENDANTS_NAME in states
        deeper = depth < self.depth_limit
        kind = self.kinds.get(ref)
        calls = [prop(bus, path, ACC, "Name")]
        if kind is None:
            calls += [Call(bus, path, ACC, "GetRole"), Call(bus, path, ACC, "GetInterfaces")]
        if manages:
            calls.append(prop(bus, path, ACC, "ChildCount"))
        elif deeper:
            calls.append(Call(bus, path, ACC, "GetChildren"))

        def built(results: list[Any]) -> None:
            name, last = results[0], results[-1]
            known = kind
            if known is None:
                role, ifaces = results[1:3]
                if isinstance(role, CallFailed):
                    return
                known = (role_name(role), _short(ifaces) if isinstance(ifaces, list) else frozenset())
                if isinstance(ifaces, list):
                    self.kinds.remember(ref, known)
            elif isinstance(name, CallFailed):
                return  # gone since it was last seen
            node = Node(bus, path, known[0], name if isinstance(name, str) else "", states, known[1])
            if manages and isinstance(last, int):
                node.omitted_children = last
            slots[i] = node
            if self.filling:
                self._fill(node)
            closed_menu = in_menus and node.role == "menu" and not states & _OPEN_MENU
            if not deeper or _manages_many(node) or closed_menu:
                return
            if manages:  # a small managed set: its children were not asked with the rest
                self._ask_children(node, depth)
            else:
                self._got_children(node, last, depth)

        self.exchange.add_group(calls, built)

    # ----- what the cache and the walk lack: extents, text, values ---------------------------

    def fill(self, nodes: list[Node]) -> _TreeRead:
        for node in nodes:
            self._fill(node)
        return self

    def _fill(self, node: Node) -> None:
        if "Component" in node.interfaces:
            self.exchange.add(
                [Call(node.bus, node.path, COMPONENT, "GetExtents", "u", (_SCREEN,))],
                lambda _, box: self._got_box(node, box),
            )
        if keep_text(node):
            self.exchange.add(
                [Call(node.bus, node.path, TEXT, "GetText", "ii", (0, -1))], lambda _, text: _got_text(node, text)
            )
        if keep_value(node):
            self.exchange.add(
                [prop(node.bus, node.path, VALUE, "CurrentValue")], lambda _, value: _got_value(node, value)
            )
        if keep_caret(node):
            self.exchange.add(
                [prop(node.bus, node.path, TEXT, "CaretOffset")],
                lambda _, at: setattr(node, "caret", at) if isinstance(at, int) and at >= 0 else None,
            )
        if wants_label(node):
            self.exchange.add(
                [Call(node.bus, node.path, ACC, "GetRelationSet")], lambda _, rels: self._got_relations(node, rels)
            )

    def _got_relations(self, node: Node, relations: Any) -> None:
        """A nameless control's label: the name of the first object that labels it."""
        if isinstance(relations, CallFailed):
            return
        labels = [tuple(t) for kind, targets in relations if kind == LABELLED_BY for t in targets]
        if labels:
            self.exchange.add(
                [prop(*labels[0], ACC, "Name")],
                lambda _, name: setattr(node, "name", name.strip()) if isinstance(name, str) else None,
            )

    def _got_box(self, node: Node, box: Any) -> None:
        if isinstance(box, CallFailed):
            return
        node.box = tuple(box)  # type: ignore[assignment]
        if self.cells and _manages_many(node) and "Table" in node.interfaces:
            self._cell_corners(node)

    # ----- the visible cells of a managing table -----------------------------------------------

    def _cell_corners(self, table: Node) -> None:
        """The cells under the table's box start from the cells at its two corners."""
        assert table.box is not None
        x, y, w, h = table.box
        corners = [(x + 1, y + 1), (x + w - 2, y + h - 2)]
        self._then(
            table,
            [Call(table.bus, table.path, COMPONENT, "GetAccessibleAtPoint", "iiu", (*at, _SCREEN)) for at in corners],
            lambda refs: self._corner_indexes(table, refs),
        )

    def _corner_indexes(self, table: Node, corners: list[Any]) -> None:
        self._then(
            table,
            [Call(bus, path, ACC, "GetIndexInParent") for bus, path in corners],
            lambda indexes: self._corner_positions(table, indexes),
        )

    def _corner_positions(self, table: Node, indexes: list[Any]) -> None:
        """Row and column of each corner cell: the range of visible cells."""
        self._then(
            table,
            [
                Call(table.bus, table.path, TABLE, method, "i", (index,))
                for index in indexes
                for method in ("GetRowAtIndex", "GetColumnAtIndex")
            ],
            lambda positions: self._cells(_TableRead(table, visible_range(*positions))),
        )

    def _then(self, table: Node, calls: list[Call], then: Callable[[list[Any]], None]) -> None:
        """Ask `calls`, then go on with their results; a failure ends the table's read with a note."""

        def check(results: list[Any]) -> None:
            failed = next((r for r in results if isinstance(r, CallFailed)), None)
            if failed is None:
                then(results)
            else:
                self.notes.append(f"could not read the visible cells of {table.role} {table.name!r}: {failed.reason}")

        self.exchange.add_group(calls, check)

    def _cells(self, read: _TableRead) -> None:
        """Each cell's object, then its state and text (and its box for the first row and column, its
        name for the corners), asked as soon as the object is in."""
        table, cells = read.table, read.cells
        self._tables.append(read)
        top, left = cells[0] if cells else (0, 0)

        def ask(i: int, ref: Any) -> None:
            if isinstance(ref, CallFailed):
                return
            cell = _CellRead(cells[i], tuple(ref))
            calls = {
                "state": Call(*cell.ref, ACC, "GetState"),
                # Asked before the interfaces are known: a cell without Text answers an error, left out.
                "text": Call(*cell.ref, TEXT, "GetText", "ii", (0, -1)),
            }
            if cell.cell[0] == top or cell.cell[1] == left:
                calls["box"] = Call(*cell.ref, COMPONENT, "GetExtents", "u", (_SCREEN,))
            if i in (0, len(cells) - 1):
                calls["name"] = prop(*cell.ref, ACC, "Name")
            if i == 0:  # cells of one table share role and interfaces
                calls |= {"role": Call(*cell.ref, ACC, "GetRole"), "interfaces": Call(*cell.ref, ACC, "GetInterfaces")}
            cell.asked = dict(zip(calls, self.exchange.add(list(calls.values())), strict=True))
            read.read.append(cell)

        read.objects = self.exchange.add(
            [Call(table.bus, table.path, TABLE, "GetAccessibleAt", "ii", cell) for cell in cells], ask
        )

    def _finish_cells(self, read: _TableRead) -> None:
        """The table's children: its visible cells, named, with states, text and grid boxes."""
        table = read.table
        failed = next((r for i in read.objects if isinstance(r := self.exchange.results[i], CallFailed)), None)
        if failed is not None:
            self.notes.append(f"could not read the visible cells of {table.role} {table.name!r}: {failed.reason}")
            return
        cells = sorted(read.read, key=lambda cell: cell.cell)
        if not cells:
            return
        for cell in cells:
            cell.answers = {what: self.exchange.results[i] for what, i in cell.asked.items()}
        first = cells[0].answers
        role, ifaces = first.get("role"), first.get("interfaces")
        role_text = role_name(role) if isinstance(role, int) else "table cell"
        interfaces = _short(ifaces) if isinstance(ifaces, list) else frozenset()
        names = self._cell_names(cells)
        # A sheet is a grid: a cell's box is its column's x and width and its row's y and height.
        boxes = {cell.cell: cell.answers.get("box") for cell in cells if "box" in cell.answers}
        top, left = cells[0].cell
        children = []
        for cell, name in zip(cells, names, strict=True):
            state, text = cell.answers["state"], cell.answers["text"]
            if isinstance(state, CallFailed):
                continue
            node = Node(
                *cell.ref, role_text, name if isinstance(name, str) else "", states_from_bits(state), interfaces
            )
            if "Text" in interfaces and isinstance(text, str):
                node.text = clean_text(text)
            row, column = cell.cell
            across, down = boxes.get((top, column)), boxes.get((row, left))
            if isinstance(across, tuple | list) and isinstance(down, tuple | list):
                node.box = (across[0], down[1], across[2], down[3])
            children.append(node)
        table.children = [c for c in children if "showing" in c.states]
        table.omitted_children = max(0, table.omitted_children - len(table.children))

    def _cell_names(self, cells: list[_CellRead]) -> list[Any]:
        """Spreadsheets name cells A1, B1, ...: when the corner cells say so, the names need no calls."""
        corners = [cells[0].answers.get("name"), cells[-1].answers.get("name")]
        if corners == [a1_name(*cells[0].cell), a1_name(*cells[-1].cell)]:
            return [a1_name(*cell.cell) for cell in cells]
        return self.bus.call_many([prop(*cell.ref, ACC, "Name") for cell in cells], self.timeout)


def _got_text(node: Node, text: Any) -> None:
    if isinstance(text, str):
        node.text = clean_text(text)


def _got_value(node: Node, value: Any) -> None:
    if not isinstance(value, CallFailed):
        node.value = float(value)


@dataclass
class _TableRead:
    """The visible cells of one managing table being read."""

    table: Node
    cells: list[tuple[int, int]]  # (row, column), row by row
    objects: list[int] = field(default_factory=list)  # exchange indexes of the cells' GetAccessibleAt
    read: list[_CellRead] = field(default_factory=list)


@dataclass
class _CellRead:
    """One visible cell: where it is, its object, and the calls asked about it."""

    cell: tuple[int, int]
    ref: tuple[str, str]
    asked: dict[str, int] = field(default_factory=dict)  # what -> index of its call in the exchange
    answers: dict[str, Any] = field(default_factory=dict)


MANAGES_DESCENDANTS_NAME = "manages descendants"


def _manages_many(node: Node) -> bool:
    """A node whose children must not be enumerated: it manages more than we would ever list."""
    return MANAGES_DESCENDANTS_NAME in node.states and node.omitted_children > MAX_CELLS


def a1_name(row: int, column: int) -> str:
    """A spreadsheet cell's name: (0, 0) -> A1, (9, 27) -> AB10."""
    return f"{column_letters(column)}{row + 1}"


def visible_range(r0: int, c0: int, r1: int, c1: int) -> list[tuple[int, int]]:
    """Row-major cells of a range, trimmed to at most MAX_CELLS (rows first, then columns)."""
    rows = max(0, r1 - r0 + 1)
    cols = max(0, c1 - c0 + 1)
    if rows * cols > MAX_CELLS:
        cols = min(cols, MAX_CELLS)
        rows = max(1, MAX_CELLS // cols)
    return [(r, c) for r in range(r0, r0 + rows) for c in range(c0, c0 + cols)]


def _process_name(pid: object) -> str:
    """An app that does not answer cannot tell its name: the bus still knows its pid."""
    if isinstance(pid, int):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                argv0 = cmdline.read().split(b"\0")[0].decode(errors="replace")
            return f"{argv0.rsplit('/', 1)[-1]} (pid {pid})"
        except OSError:
            pass
    return "an app that does not answer"


def _checked(results: list[Any]) -> list[Any]:
    for result in results:
        if isinstance(result, CallFailed):
            raise result
    return results


def _build_from_cache(windows: list[Node], items: list[tuple], visible_enough: bool) -> list[Node]:
    """Rebuild the windows' trees from the cache's parent links, pruned to what shows; returns the
    nodes whose children the cache does not hold completely (to walk)."""
    children: dict[str, list[tuple]] = defaultdict(list)
    counts: dict[str, int] = {}
    for item in items:
        (_bus, path), _app, (_pbus, parent), _index, count, *_ = item
        counts[path] = count
        if path != parent:
            children[parent].append(item)
    for siblings in children.values():
        siblings.sort(key=lambda it: (it[3] if it[3] >= 0 else 1 << 30, _path_order(it[0][1])))

    def make(item: tuple) -> Node:
        (bus, path), _app, _parent, _index, count, ifaces, name, role, desc, states = item
        node = Node(bus, path, role_name(role), name, states_from_bits(states), _short(ifaces), desc)
        if MANAGES_DESCENDANTS_NAME in node.states:
            node.omitted_children = count
        return node

    incomplete: list[Node] = []
    stack = list(windows)
    while stack:
        node = stack.pop()
        if _manages_many(node):
            continue  # never enumerate: read the visible part later
        cached = children.get(node.path, [])
        if node.path not in counts or len(cached) < counts[node.path]:
            incomplete.append(node)
            continue
        node.children = [make(it) for it in cached if _showing(it, visible_enough)]
        stack.extend(node.children)
    return incomplete


def _showing(item: tuple, visible_enough: bool) -> bool:
    states = item[9]
    return bool(states and (states[0] >> SHOWING & 1 or (visible_enough and states[0] >> VISIBLE & 1)))


def shown(states: frozenset[str], visible_enough: bool) -> bool:
    """Whether a node is on screen. GTK 4.8 leaves SHOWING off most widgets: VISIBLE must do there."""
    return "showing" in states or (visible_enough and "visible" in states)
