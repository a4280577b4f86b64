"""Top-level windows through EWMH (the window manager's view): list them with title, class,
pid, geometry, state and which is active; ask the window manager to activate, close, minimize,
maximize, restore, move, resize them or make them full screen.

Every change is a request to the window manager (a client message on the root window), as a
pager or taskbar sends it: the manager stays in charge, so its rules (an app's minimum size,
focus stealing prevention) still apply. Callers check the outcome by listing again."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from Xlib import X, Xatom
from Xlib.display import Display
from Xlib.error import BadWindow
from Xlib.protocol import event
from Xlib.xobject.drawable import Window

# _NET_WM_STATE actions.
_REMOVE, _ADD = 0, 1
# Source indication 2: a pager, i.e. a direct user request the window manager must honour.
_SOURCE_PAGER = 2
# _NET_MOVERESIZE_WINDOW: StaticGravity, so x/y name the client window's own corner (as listed).
_STATIC_GRAVITY = 10
_ICONIC_STATE = 3

WindowOp = Literal["activate", "close", "minimize", "maximize", "restore", "fullscreen", "move_resize"]


@dataclass(frozen=True)
class WindowInfo:
    """A managed top-level window; geometry in screen pixels (frame excluded)."""

    id: int
    title: str
    wm_class: str
    pid: int | None
    x: int
    y: int
    width: int
    height: int
    active: bool
    desktop_visible: bool
    maximized: bool = False
    fullscreen: bool = False

    @property
    def minimized(self) -> bool:
        return not self.desktop_visible


class WindowManagerView:
    """Reads EWMH properties on one X connection (use it from that connection's thread)."""

    def __init__(self, display: Display) -> None:
        self._display = display
        self._root = display.screen().root
        self._atoms: dict[str, int] = {}

    def atom(self, name: str) -> int:
        if name not in self._atoms:
            self._atoms[name] = self._display.intern_atom(name)
        return self._atoms[name]

    def active_window_id(self) -> int | None:
        prop = self._root.get_full_property(self.atom("_NET_ACTIVE_WINDOW"), X.AnyPropertyType)
        return int(prop.value[0]) if prop is not None and len(prop.value) and prop.value[0] else None

    def list_windows(self) -> list[WindowInfo]:
        """Managed windows in stacking order, bottom first (what the window manager lists)."""
        prop = self._root.get_full_property(self.atom("_NET_CLIENT_LIST_STACKING"), Xatom.WINDOW)
        if prop is None:
            prop = self._root.get_full_property(self.atom("_NET_CLIENT_LIST"), Xatom.WINDOW)
        ids = [int(w) for w in prop.value] if prop is not None else []
        active = self.active_window_id()
        windows = []
        for wid in ids:
            try:
                windows.append(self._describe(self._display.create_resource_object("window", wid), active))
            except BadWindow:
                continue  # closed while we looked
        return windows

    def _describe(self, window: Window, active: int | None) -> WindowInfo:
        title = self._text_property(window, "_NET_WM_NAME") or (window.get_wm_name() or "")
        wm_class = window.get_wm_class()
        pid_prop = window.get_full_property(self.atom("_NET_WM_PID"), Xatom.CARDINAL)
        geometry = window.get_geometry()
        origin = window.translate_coords(self._root, 0, 0)
        state = window.get_full_property(self.atom("_NET_WM_STATE"), Xatom.ATOM)
        states = set(state.value) if state is not None else set()
        hidden = self.atom("_NET_WM_STATE_HIDDEN") in states
        maximized = {self.atom("_NET_WM_STATE_MAXIMIZED_VERT"), self.atom("_NET_WM_STATE_MAXIMIZED_HORZ")} <= states
        return WindowInfo(
            id=window.id,
            title=title if isinstance(title, str) else title.decode("utf-8", "replace"),
            wm_class=wm_class[1] if wm_class else "",
            pid=int(pid_prop.value[0]) if pid_prop is not None and len(pid_prop.value) else None,
            x=-origin.x,
            y=-origin.y,
            width=geometry.width,
            height=geometry.height,
            active=window.id == active,
            desktop_visible=not hidden,
            maximized=maximized,
            fullscreen=self.atom("_NET_WM_STATE_FULLSCREEN") in states,
        )

    # ----- requests to the window manager --------------------------------------------------

    def activate(self, window_id: int) -> None:
        """Raise and focus a window (un-minimizing it), as a taskbar click does."""
        self._send(window_id, "_NET_ACTIVE_WINDOW", [_SOURCE_PAGER, X.CurrentTime, 0, 0, 0])

    def close(self, window_id: int) -> None:
        """Ask politely (the app may ask to save first), as the title bar's close button does."""
        self._send(window_id, "_NET_CLOSE_WINDOW", [X.CurrentTime, _SOURCE_PAGER, 0, 0, 0])

    def minimize(self, window_id: int) -> None:
        # ICCCM iconify request; EWMH has no "add HIDDEN" request that managers honour.
        self._send(window_id, "WM_CHANGE_STATE", [_ICONIC_STATE, 0, 0, 0, 0])

    def maximize(self, window_id: int) -> None:
        self._set_state(window_id, _REMOVE, "_NET_WM_STATE_FULLSCREEN")
        self._set_state(window_id, _ADD, "_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_STATE_MAXIMIZED_HORZ")

    def fullscreen(self, window_id: int) -> None:
        self._set_state(window_id, _ADD, "_NET_WM_STATE_FULLSCREEN")

    def restore(self, window_id: int) -> None:
        """Back to a normal window: not full screen, not maximized, not minimized."""
        self._set_state(window_id, _REMOVE, "_NET_WM_STATE_FULLSCREEN")
        self._set_state(window_id, _REMOVE, "_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_STATE_MAXIMIZED_HORZ")
        self.activate(window_id)

    def move_resize(
        self,
        window_id: int,
        x: int | None = None,
        y: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> None:
        """Move and/or resize the client area (screen pixels); maximized or full screen windows are
        restored first, since managers ignore geometry requests for them."""
        self._set_state(window_id, _REMOVE, "_NET_WM_STATE_FULLSCREEN")
        self._set_state(window_id, _REMOVE, "_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_STATE_MAXIMIZED_HORZ")
        values = (x, y, width, height)
        flags = sum(1 << (8 + i) for i, v in enumerate(values) if v is not None)
        self._send(
            window_id,
            "_NET_MOVERESIZE_WINDOW",
            [_STATIC_GRAVITY | flags | (_SOURCE_PAGER << 12), *(v or 0 for v in values)],
        )

    def _set_state(self, window_id: int, action: int, first: str, second: str | None = None) -> None:
        atoms = [self.atom(first), self.atom(second) if second else 0]
        self._send(window_id, "_NET_WM_STATE", [action, *atoms, _SOURCE_PAGER, 0])

    def _send(self, window_id: int, message: str, data: list[int]) -> None:
        window = self._display.create_resource_object("window", window_id)
        request = event.ClientMessage(window=window, client_type=self.atom(message), data=(32, data))
        self._root.send_event(
            request, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask, propagate=False
        )
        self._display.flush()

    def _text_property(self, window: Window, name: str) -> str | None:
        prop = window.get_full_property(self.atom(name), self.atom("UTF8_STRING"))
        if prop is None:
            return None
        value = prop.value
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
