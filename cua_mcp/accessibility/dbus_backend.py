"""The fast backend: AT-SPI over D-Bus with jeepney, in pure Python.

Per app: one `Cache.GetItems` call returns every cached object (role, name, states, parent,
interfaces); the tree is rebuilt from parent links, pruned to what is showing, and only the kept
nodes get their extents, text and values, all pipelined on one connection. Apps whose cache is
empty (Qt) are walked level by level, each level's calls in flight together. Children of a node
that manages its descendants are never enumerated (LibreOffice's sheet claims 2^31): its visible
cells are read through the Table interface for the range its box covers.
"""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from cua_mcp.accessibility._dbus import DEFAULT_TIMEOUT_S, AtspiBus, Call, CallFailed, prop
from cua_mcp.accessibility._vocab import IFACE_PREFIX, SHOWING, VISIBLE, role_name, states_from_bits
from cua_mcp.accessibility.backend import MAX_CELLS, WindowPicker, clean_text, keep_text, keep_value
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
                Call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                     "GetConnectionUnixProcessID", "s", (bus,)),
                prop(bus, path, APPLICATION, "ToolkitName"),
                prop(bus, path, APPLICATION, "Version"),
            ]  # fmt: skip
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
        self._tried |= {bus for bus, _ in new}
        addresses = self.bus.call_many(
            [Call(bus, path, APPLICATION, "GetApplicationBusAddress") for bus, path in new], self.timeout
        )
        for (bus, _), address in zip(new, addresses, strict=True):
            if isinstance(address, str) and address:
                self.bus.connect_direct(bus, address)

    # ----- trees -----------------------------------------------------------------------------

    def read(self, apps: list[AppInfo], pick: WindowPicker | None) -> tuple[list[Node], list[str]]:
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
        self._walk(roots, depth_limit=1)
        for app, root in zip(answering, roots, strict=True):
            if pick is not None:
                root.children = pick(app, root.children)
            items = replies.get(app)
            if isinstance(items, list) and len(items) > self.cache_limit:
                self._big.add(app.bus)
            if isinstance(items, list) and items and app.bus not in self._big:
                # The cache holds only objects the toolkit has created so far: walk the gaps.
                self._walk(_build_from_cache(root.children, items, app.bus in self._gtk4))
            else:
                self._walk(root.children)  # Qt and others without a cache
        self._fill(roots, notes)
        return roots, notes

    def _walk(self, frontier: list[Node], depth_limit: int = _MAX_WALK_DEPTH) -> None:
        """A breadth-first walk below `frontier`, pruned to showing nodes. Two round trips a level, each
        with the whole level's calls in flight: the children's states, then the attributes of those that
        show together with their own children."""
        frontier = [n for n in frontier if not _manages_many(n)]
        children = self.bus.call_many([Call(n.bus, n.path, ACC, "GetChildren") for n in frontier], self.timeout)
        depth = 0
        while frontier and depth < depth_limit:
            found = self._children(frontier, children)
            # States first: most children of a big window do not show, and need nothing more.
            states = self.bus.call_many([Call(bus, path, ACC, "GetState") for _, (bus, path) in found], self.timeout)
            kept = [
                (parent, ref, states_from_bits(state))
                for (parent, ref), state in zip(found, states, strict=True)
                if not isinstance(state, CallFailed) and shown(states_from_bits(state), ref[0] in self._gtk4)
            ]
            calls = []
            for _, (bus, path), node_states in kept:
                calls += [
                    Call(bus, path, ACC, "GetRole"),
                    prop(bus, path, ACC, "Name"),
                    Call(bus, path, ACC, "GetInterfaces"),
                    prop(bus, path, ACC, "ChildCount"),
                ]
                if MANAGES_DESCENDANTS_NAME not in node_states and depth + 1 < depth_limit:
                    calls.append(Call(bus, path, ACC, "GetChildren"))
            results = self.bus.call_many(calls, self.timeout)
            frontier, children = [], []
            at = 0
            for parent, (bus, path), node_states in kept:
                role, name, ifaces, count = results[at : at + 4]
                at += 4
                grandchildren: Any = None
                if MANAGES_DESCENDANTS_NAME not in node_states and depth + 1 < depth_limit:
                    grandchildren = results[at]
                    at += 1
                if isinstance(role, CallFailed):
                    continue
                node = Node(
                    bus,
                    path,
                    role_name(role),
                    name if isinstance(name, str) else "",
                    node_states,
                    _short(ifaces) if isinstance(ifaces, list) else frozenset(),
                )
                if MANAGES_DESCENDANTS_NAME in node.states and isinstance(count, int):
                    node.omitted_children = count
                parent.children.append(node)
                if _manages_many(node) or depth + 1 >= depth_limit:
                    continue
                frontier.append(node)
                children.append(grandchildren)
            # Small managed sets were not asked for their children with the others: ask now.
            missing = [i for i, c in enumerate(children) if c is None]
            if missing:
                asked = self.bus.call_many(
                    [Call(frontier[i].bus, frontier[i].path, ACC, "GetChildren") for i in missing], self.timeout
                )
                for i, reply in zip(missing, asked, strict=True):
                    children[i] = reply
            depth += 1

    def _children(self, frontier: list[Node], children: list[Any]) -> list[tuple[Node, tuple[str, str]]]:
        """(parent, child ref) for each frontier node; GTK 4 has no GetChildren: ask child by child there."""
        found: list[tuple[Node, tuple[str, str]]] = []
        by_index: list[Node] = []
        for parent, refs in zip(frontier, children, strict=True):
            if not isinstance(refs, CallFailed):
                found += [(parent, (bus, path)) for bus, path in refs if path != NULL_PATH]
            else:
                by_index.append(parent)
        if by_index:
            counts = self.bus.call_many([prop(n.bus, n.path, ACC, "ChildCount") for n in by_index], self.timeout)
            asks = [
                (parent, Call(parent.bus, parent.path, ACC, "GetChildAtIndex", "i", (i,)))
                for parent, count in zip(by_index, counts, strict=True)
                if isinstance(count, int)
                for i in range(min(count, MAX_CELLS))
            ]
            replies = self.bus.call_many([call for _, call in asks], self.timeout)
            found += [
                (parent, tuple(ref))
                for (parent, _), ref in zip(asks, replies, strict=True)
                if not isinstance(ref, CallFailed) and ref[1] != NULL_PATH
            ]
        return found

    # ----- filling in what the cache lacks ---------------------------------------------------

    def _fill(self, roots: list[Node], notes: list[str]) -> None:
        """Extents, text and values for the kept nodes, then visible cells of managed tables."""
        nodes = [n for root in roots for n, _ in root.walk() if n.role != "application"]
        self._fill_nodes(nodes)
        tables = [n for n in nodes if _manages_many(n) and n.box and "Table" in n.interfaces]
        for table in tables:
            try:
                self._visible_cells(table)
            except CallFailed as exc:
                notes.append(f"could not read the visible cells of {table.role} {table.name!r}: {exc.reason}")

    def _fill_nodes(self, nodes: list[Node]) -> None:
        calls: list[Call] = []
        targets: list[tuple[Node, str]] = []
        for node in nodes:
            if "Component" in node.interfaces:
                calls.append(Call(node.bus, node.path, COMPONENT, "GetExtents", "u", (_SCREEN,)))
                targets.append((node, "box"))
            if keep_text(node):
                calls.append(Call(node.bus, node.path, TEXT, "GetText", "ii", (0, -1)))
                targets.append((node, "text"))
            if keep_value(node):
                calls.append(prop(node.bus, node.path, VALUE, "CurrentValue"))
                targets.append((node, "value"))
        for (node, what), result in zip(targets, self.bus.call_many(calls, self.timeout), strict=True):
            if isinstance(result, CallFailed):
                continue
            if what == "box":
                node.box = tuple(result)  # type: ignore[assignment]
            elif what == "text":
                node.text = clean_text(result)
            else:
                node.value = float(result)

    def _visible_cells(self, table: Node) -> None:
        """The cells a managing table shows: the row/column range under its box, read cell by cell."""
        cells = self._cell_range(table)
        reads = self._read_cells(table, cells)
        if not reads:
            return
        first = reads[0].answers
        role, ifaces = first.get("role"), first.get("interfaces")
        role_text = role_name(role) if isinstance(role, int) else "table cell"
        interfaces = _short(ifaces) if isinstance(ifaces, list) else frozenset()
        # Spreadsheets name cells A1, B1, ...: when the corner cells say so, the names need no calls.
        corners = [reads[0].answers.get("name"), reads[-1].answers.get("name")]
        if corners != [a1_name(*reads[0].cell), a1_name(*reads[-1].cell)]:
            names = self.bus.call_many([prop(*read.ref, ACC, "Name") for read in reads], self.timeout)
        else:
            names = [a1_name(*read.cell) for read in reads]
        # A sheet is a grid: a cell's box is its column's x and width and its row's y and height.
        boxes = {read.cell: read.answers.get("box") for read in reads if "box" in read.answers}
        top, left = reads[0].cell
        children = []
        for read, name in zip(reads, names, strict=True):
            state, text = read.answers["state"], read.answers["text"]
            if isinstance(state, CallFailed):
                continue
            node = Node(
                *read.ref, role_text, name if isinstance(name, str) else "", states_from_bits(state), interfaces
            )
            if "Text" in interfaces and isinstance(text, str):
                node.text = clean_text(text)
            row, column = read.cell
            across, down = boxes.get((top, column)), boxes.get((row, left))
            if isinstance(across, tuple | list) and isinstance(down, tuple | list):
                node.box = (across[0], down[1], across[2], down[3])
            children.append(node)
        table.children = [c for c in children if "showing" in c.states]
        table.omitted_children = max(0, table.omitted_children - len(table.children))

    def _cell_range(self, table: Node) -> list[tuple[int, int]]:
        """(row, column) of the cells under the table's box: from the cells at its two corners."""
        assert table.box is not None
        x, y, w, h = table.box
        corners = self.bus.call_many(
            [
                Call(table.bus, table.path, COMPONENT, "GetAccessibleAtPoint", "iiu", (x + 1, y + 1, _SCREEN)),
                Call(table.bus, table.path, COMPONENT, "GetAccessibleAtPoint", "iiu", (x + w - 2, y + h - 2, _SCREEN)),
            ],
            self.timeout,
        )
        indexes = self.bus.call_many(
            [Call(bus, path, ACC, "GetIndexInParent") for bus, path in _checked(corners)], self.timeout
        )
        positions = self.bus.call_many(
            [
                Call(table.bus, table.path, TABLE, method, "i", (index,))
                for index in _checked(indexes)
                for method in ("GetRowAtIndex", "GetColumnAtIndex")
            ],
            self.timeout,
        )
        return visible_range(*_checked(positions))

    def _read_cells(self, table: Node, cells: list[tuple[int, int]]) -> list[_CellRead]:
        """Each cell's object, then its state and text (and more for the first row, first column and
        corners), asked as soon as the object is in: the app serves the whole read as one queue instead
        of going idle between rounds. Raises `CallFailed` when a cell's object cannot be had."""
        exchange = self.bus.exchange(self.timeout)
        reads: list[_CellRead] = []
        top, left = cells[0] if cells else (0, 0)

        def ask(i: int, ref: Any) -> None:
            if isinstance(ref, CallFailed):
                return
            read = _CellRead(cells[i], tuple(ref))
            calls = {
                "state": Call(*read.ref, ACC, "GetState"),
                # Asked before the interfaces are known: a cell without Text answers an error, left out.
                "text": Call(*read.ref, TEXT, "GetText", "ii", (0, -1)),
            }
            if read.cell[0] == top or read.cell[1] == left:
                calls["box"] = Call(*read.ref, COMPONENT, "GetExtents", "u", (_SCREEN,))
            if i in (0, len(cells) - 1):
                calls["name"] = prop(*read.ref, ACC, "Name")
            if i == 0:  # cells of one table share role and interfaces
                calls |= {"role": Call(*read.ref, ACC, "GetRole"), "interfaces": Call(*read.ref, ACC, "GetInterfaces")}
            read.asked = dict(zip(calls, exchange.add(list(calls.values())), strict=True))
            reads.append(read)

        refs = exchange.add([Call(table.bus, table.path, TABLE, "GetAccessibleAt", "ii", cell) for cell in cells], ask)
        exchange.run()
        _checked([exchange.results[i] for i in refs])
        for read in reads:
            read.answers = {what: exchange.results[i] for what, i in read.asked.items()}
        return sorted(reads, key=lambda read: read.cell)


@dataclass
class _CellRead:
    """One visible cell of a managing table: where it is, its object, and the calls asked about it."""

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
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row + 1}"


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
