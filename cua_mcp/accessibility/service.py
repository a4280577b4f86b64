"""`Accessibility`: the async API the tools use, for one desktop.

It owns one worker thread with the accessibility-bus connection (jeepney is not thread-safe and
blocking D-Bus work must stay off the event loop), the ref table, and the backend that reads trees.
Scopes are resolved with the window manager's view (which X window is active, and its pid).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from cua_mcp.accessibility._dbus import DEFAULT_TIMEOUT_S, AtspiBus
from cua_mcp.accessibility.backend import Backend
from cua_mcp.accessibility.dbus_backend import DbusBackend
from cua_mcp.accessibility.elements import Elements
from cua_mcp.accessibility.geometry import fix_window_relative, shift
from cua_mcp.accessibility.grid import parse_address
from cua_mcp.accessibility.model import AppInfo, Node, Snapshot
from cua_mcp.accessibility.refs import RefTable
from cua_mcp.accessibility.search import Query
from cua_mcp.accessibility.sheets import SheetSource, address_cells, fill_sheets, from_source
from cua_mcp.errors import AccessibilityError, CuaError, InvalidArgumentError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.x11.windows import WindowInfo

T = TypeVar("T")
BACKENDS = ("dbus", "pyatspi")
_MARGIN_S = 3.0  # on top of the per-call timeout, for a whole snapshot's round trips
_CELL_READ_BACK_S = 3.0
_FOCUS_SETTLE_S = 1.0  # how long a focused element may take to say so
_READY_POLL_S = 0.25


class Accessibility:
    """Snapshots, refs and element actions on one desktop's accessibility bus."""

    def __init__(
        self,
        desktop: Desktop,
        backend: str = "dbus",
        timeout: float = DEFAULT_TIMEOUT_S,
        sheets: SheetSource | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown accessibility backend {backend!r}")
        self.desktop = desktop
        self.backend_name = backend
        self.timeout = timeout
        self.refs = RefTable()
        self.sheets = sheets  # reads the cells of sheets in app instances the server holds (see sheets.py)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cua-atspi")
        self._bus: AtspiBus | None = None
        self._backend: Backend | None = None
        self._elements: Elements | None = None
        self._session_address: str | None = None

    def close(self) -> None:
        def shut() -> None:
            if self._backend is not None:
                self._backend.close()
            if self._bus is not None:
                self._bus.close()

        self._executor.submit(shut)
        self._executor.shutdown(wait=False)

    # ----- running on the worker -------------------------------------------------------------

    async def _run(self, job: Callable[[], T], timeout: float | None = None) -> T:
        future = self._executor.submit(self._connected(job))
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout or self.timeout * 4 + _MARGIN_S)
        except TimeoutError:
            raise AccessibilityError(
                "the accessibility bus did not answer in time; an app may be hung. Retry, or act on pixels."
            ) from None

    def _connected(self, job: Callable[[], T]) -> Callable[[], T]:
        def run() -> T:
            address = self.desktop.app_env.get("DBUS_SESSION_BUS_ADDRESS")
            if self._bus is not None and address != self._session_address:
                self._disconnect()  # the sandbox was restarted: new buses
            if self._bus is None:
                if not address:
                    raise AccessibilityError("no session bus: DBUS_SESSION_BUS_ADDRESS is not set for this desktop.")
                try:
                    self._bus = AtspiBus.from_session(address, self.timeout)
                except Exception as exc:
                    raise AccessibilityError(f"cannot reach the accessibility bus: {exc}") from exc
                self._elements = Elements(self._bus, self.timeout)
                if self.backend_name == "pyatspi":
                    from cua_mcp.accessibility.pyatspi_backend import PyatspiBackend

                    try:
                        self._backend = PyatspiBackend(self._bus.address, self.timeout)
                    except RuntimeError as exc:
                        raise AccessibilityError(str(exc)) from exc
                else:
                    self._backend = DbusBackend(self._bus, self.timeout)
                self._session_address = address
            try:
                return job()
            except (ConnectionError, OSError) as exc:
                self._disconnect()
                raise AccessibilityError(
                    f"the connection to the accessibility bus broke ({exc}); it is reopened on the next call: retry."
                ) from exc

        return run

    def _disconnect(self) -> None:
        if self._bus is not None:
            with contextlib.suppress(OSError):
                self._bus.close()
        self._bus = self._backend = self._elements = None

    # ----- snapshots -------------------------------------------------------------------------

    async def snapshot(self, scope: str = "focused_window", cells: bool = True) -> Snapshot:
        """The showing tree for a scope: focused_window, focused_app, desktop, an app name, or window:<id>.

        `cells=False` leaves out the visible cells of spreadsheets (see `Backend.read`)."""
        windows = await self.desktop.list_windows()
        snap, held = await self._run(lambda: self._read(scope, windows, cells))
        if held and await fill_sheets(held, self.sheets):  # type: ignore[arg-type]
            # The app's own API did not answer for a sheet (busy, hung, or a state it cannot read):
            # its cells come over AT-SPI instead, as for an instance the server did not start.
            snap, held = await self._run(lambda: self._read(scope, windows, cells, sheets=False))
        for node, _ in snap.nodes():
            if not from_source(node):
                node.ref = self.refs.ref_for(node.bus, node.path)
        address_cells(held)
        return snap

    def _read(
        self, scope: str, windows: list[WindowInfo], cells: bool, sheets: bool = True
    ) -> tuple[Snapshot, list[Node]]:
        """The snapshot, and the roots of apps whose sheets' cells are left to `self.sheets` (none
        when `sheets` is False)."""
        assert self._backend is not None
        apps = self._backend.applications()
        chosen, pick, label = _resolve_scope(scope, apps, windows)
        held = [a for a in chosen if cells and sheets and self.sheets is not None and self.sheets.holds(a.pid)]
        roots, notes = self._backend.read([a for a in chosen if a not in held], pick, cells)
        held_roots: list[Node] = []
        if held:
            held_roots, more = self._backend.read(held, pick, False)
            roots, notes = roots + held_roots, notes + more
        fix_window_relative(roots, chosen, windows)
        roots = [root for root in roots if root.children or pick is None]
        if pick is not None and not roots:
            window = _scoped_window(scope, windows)
            what = f"{window.title!r} ({window.wm_class or 'no class'}, pid {window.pid})" if window else "it"
            notes.append(
                f"the window {what} has no accessible elements: its app is not on the accessibility bus (or "
                "has not made its tree yet). Use screenshot and act on pixels, or retry if it is starting."
            )
        return Snapshot(roots, notes, label, window=pick is not None), held_roots

    async def wait_readable(self, windows: Callable[[], Awaitable[list[int]]], timeout: float) -> bool:
        """Poll until every window `windows()` names (none: not yet) shows accessible elements, or `timeout`
        seconds pass; whether they all did. An app that has just opened its window may not have made its
        tree yet, or may not be on the bus at all."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            ids = await windows()
            if ids and all([await self._readable(wid) for wid in ids]):
                return True
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(_READY_POLL_S)

    async def _readable(self, window_id: int) -> bool:
        try:
            snap = await self.snapshot(f"window:{window_id}", cells=False)
        except CuaError:
            return False  # the bus or the app may still be starting
        return any(root.children for root in snap.roots)

    async def applications(self) -> list[AppInfo]:
        """The applications on the accessibility bus, with pid and toolkit."""
        return await self._run(lambda: self._backend.applications())  # type: ignore[union-attr]

    async def find(self, scope: str, query: Query) -> tuple[list[Node], Snapshot]:
        # Only a search that can match a table cell reads a spreadsheet's cells: `wait_for` polls this,
        # and each read of a sheet's cells costs LibreOffice about 8 MB it never gives back.
        test = query.test()
        snap = await self.snapshot(scope, cells=query.looks_for_cells())
        found = [n for n, _ in snap.nodes() if test(n)]
        return found, snap

    async def focused(self) -> Node | None:
        """The element with keyboard focus in the active window; None when nothing there says so."""
        snap = await self.snapshot("focused_window", cells=False)
        found = [n for n, _ in snap.nodes() if "focused" in n.states]
        return found[-1] if found else None  # the innermost: a focused cell inside a focused table

    # ----- elements ----------------------------------------------------------------------------

    async def element(self, ref: str, contents: bool = False) -> Node:
        """The element a ref names, read now; `e40:C5` is cell C5 of table e40, whether it showed or not.
        With `contents`, also its text and value."""
        base, address = self.refs.split(ref)
        bus, path = self.refs.resolve(base)
        if address is None:
            node = await self._run(lambda: self._el.describe(ref, bus, path))
        else:
            at = parse_address(address)
            assert at is not None  # split only accepts addresses

            def cell() -> Node:
                cell_bus, cell_path = self._el.cell_at(base, bus, path, *at)
                return self._el.describe(ref, cell_bus, cell_path)

            node = await self._run(cell)
        return await self._run(lambda: self._el.read_contents(node)) if contents else node

    @property
    def _el(self) -> Elements:
        assert self._elements is not None
        return self._elements

    async def do_action(self, ref: str, name: str | None) -> tuple[Node, str | None]:
        node = await self.element(ref)
        return node, await self._run(lambda: self._el.do_action(node, name))

    async def focus(self, ref: str) -> tuple[Node, bool]:
        """Give the element keyboard focus; whether it took the request.

        Some toolkits move focus later (Chromium: in its renderer process), and keys sent before would
        go elsewhere: so a focusable element is also given a moment to report FOCUSED."""
        node = await self.element(ref)
        grabbed = await self._run(lambda: self._el.focus(node))
        if grabbed and "focusable" in node.states:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + _FOCUS_SETTLE_S
            while "focused" not in (await self.element(ref)).states and loop.time() < deadline:
                await asyncio.sleep(0.02)
        return node, grabbed

    async def scroll_into_view(self, ref: str) -> tuple[Node, bool]:
        node = await self.element(ref)
        return node, await self._run(lambda: self._el.scroll_into_view(node))

    async def read_text(self, ref: str, offset: int, length: int | None) -> tuple[Node, str, int]:
        node = await self.element(ref)
        text, total = await self._run(lambda: self._el.read_text(node, offset, length))
        return node, text, total

    async def set_value(self, ref: str, value: str) -> tuple[Node, str]:
        node = await self.element(ref)
        if node.role == "table cell" and "EditableText" not in node.interfaces:
            return node, await self._type_into_cell(ref, node, value)
        return node, await self._run(lambda: self._el.set_value(node, value))

    async def _type_into_cell(self, ref: str, node: Node, value: str) -> str:
        """A sheet's cells take text and formulas only as typed: select the cell, type, confirm; then
        read the cell back (the app handles typed keys in its own time), for the answer to say what it holds."""
        before = (await self.element(ref, contents=True)).text or ""
        if not await self._run(lambda: self._el.focus(node)):
            raise AccessibilityError(f"{node.ref} (table cell) could not be selected: click it, then type_text.")
        await self.desktop.type_text(value.replace("\n", " ") + "\n")
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CELL_READ_BACK_S
        while (now := (await self.element(ref, contents=True)).text or "") == before and value != before:
            if loop.time() >= deadline:
                return (
                    f"typed {value!r} into {node.ref}, but it still reads {now!r}: the app may be busy; "
                    "check with snapshot before going on"
                )
            await asyncio.sleep(0.05)
        return f"entered {value!r} in {node.ref}; it reads {now!r}"

    async def insert_text(self, ref: str, text: str, clear: bool) -> tuple[Node, bool]:
        node = await self.element(ref)
        return node, await self._run(lambda: self._el.insert_text(node, text, clear))

    async def children(self, node: Node) -> list[Node]:
        """A node's children with refs, role and name, showing or not (a closed menu's items)."""
        found = await self._run(lambda: self._el.children(node))
        for child in found:
            child.ref = self.refs.ref_for(child.bus, child.path)
        return found

    async def actions(self, ref: str) -> tuple[Node, list[str]]:
        node = await self.element(ref)
        return node, await self._run(lambda: self._el.actions(node))

    async def centre(self, ref: str) -> tuple[Node, tuple[int, int]]:
        """The element's centre in agent coordinates; an error if it has no box on screen."""
        node = await self.element(ref)
        windows = await self.desktop.list_windows()
        apps = await self.applications()
        if any(a.bus == node.bus and a.toolkit.lower().startswith("gtk 4") for a in apps):
            fix_window_relative([_wrap(node, apps)], apps, windows)
        else:
            offset = await self._run(lambda: self._el.root_pane_shift(node))
            if offset is not None:
                shift(node, *offset)
        if node.box is None or node.box[2] <= 0 or node.box[3] <= 0:
            raise InvalidArgumentError(f"{ref} ({node.role}) has no box on screen: it may be hidden or scrolled away.")
        x, y, w, h = node.box
        space = self.desktop.space
        sx = min(max(x + w // 2, 0), space.screen_width - 1)
        sy = min(max(y + h // 2, 0), space.screen_height - 1)
        return node, space.from_screen(sx, sy)


def _wrap(node: Node, apps: list[AppInfo]) -> Node:
    app = next((a for a in apps if a.bus == node.bus), None)
    return Node(
        node.bus, app.path if app else "/", "application", app.name if app else "", frozenset(), children=[node]
    )


def _resolve_scope(scope: str, apps: list[AppInfo], windows: list[WindowInfo]):
    """Which apps to read and which of their windows to keep, and a label for the scope."""
    scope = scope.strip()
    active = next((w for w in windows if w.active), None)
    if scope in ("focused_window", "focused_app"):
        if active is None or active.pid is None:
            return apps, _active_frames, "the active window"
        chosen = [a for a in apps if a.pid == active.pid]
        if scope == "focused_app" and chosen:
            return chosen, None, f"app {chosen[0].name}"
        return _window_scope(active, apps, "focused window")
    if scope == "desktop":
        return apps, None, "the whole desktop"
    if scope.startswith("window:") or scope.isdigit() or scope.startswith("0x"):
        raw = scope.removeprefix("window:")
        try:
            wid = int(raw, 0)
        except ValueError:
            raise InvalidArgumentError(f"scope {scope!r}: a window id is a number from list_windows.") from None
        window = next((w for w in windows if w.id == wid), None)
        if window is None:
            raise InvalidArgumentError(f"no window {wid}: call list_windows for the ids.")
        return _window_scope(window, apps, f"window {raw}")
    wanted = scope.lower()
    chosen = [a for a in apps if a.name.lower() == wanted] or [a for a in apps if wanted in a.name.lower()]
    if not chosen:
        names = ", ".join(sorted({a.name for a in apps})) or "none"
        raise InvalidArgumentError(
            f"scope {scope!r} is not focused_window, focused_app, desktop, window:<id> or an app name; "
            f"apps on the bus: {names}."
        )
    return chosen, None, f"app {chosen[0].name}"


def _window_scope(window: WindowInfo, apps: list[AppInfo], label: str):
    """Read one window: from the app with its pid, or when none has it (an app not on the bus, or in its own
    pid namespace) only a window of exactly its title, never another app's window."""
    chosen = [a for a in apps if a.pid == window.pid]
    if not chosen:
        return apps, _window_picker(window, strict=True), f"{label} {window.title!r}"
    return chosen, _window_picker(window), f"{label} ({_app_names(chosen)})"


def _scoped_window(scope: str, windows: list[WindowInfo]) -> WindowInfo | None:
    if scope.strip() in ("focused_window", "focused_app"):
        return next((w for w in windows if w.active), None)
    try:
        wid = int(scope.strip().removeprefix("window:"), 0)
    except ValueError:
        return None
    return next((w for w in windows if w.id == wid), None)


def _app_names(apps: list[AppInfo]) -> str:
    return ", ".join(sorted({a.name for a in apps})) or "no accessible app"


def _active_frames(app: AppInfo, windows: list[Node]) -> list[Node]:
    return [w for w in windows if "active" in w.states]


def _window_picker(window: WindowInfo, strict: bool = False):
    """The app's window that is `window`: by title (the active one first); unless `strict`, its active
    window or all of them when none is titled so (apps name their accessible windows differently)."""
    tests = [lambda n: "active" in n.states and n.name == window.title, lambda n: n.name == window.title]
    if not strict:
        tests.append(lambda n: "active" in n.states)

    def pick(app: AppInfo, nodes: list[Node]) -> list[Node]:
        for test in tests:
            found = [n for n in nodes if test(n)]
            if found:
                return found[:1]
        return [] if strict else nodes

    return pick
