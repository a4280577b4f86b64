"""Top-level windows through EWMH (the window manager's view): list them with title, class,
pid, geometry and which is active."""

from __future__ import annotations

from dataclasses import dataclass

from Xlib import X, Xatom
from Xlib.display import Display
from Xlib.error import BadWindow
from Xlib.xobject.drawable import Window


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
        hidden = state is not None and self.atom("_NET_WM_STATE_HIDDEN") in state.value
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
        )

    def _text_property(self, window: Window, name: str) -> str | None:
        prop = window.get_full_property(self.atom(name), self.atom("UTF8_STRING"))
        if prop is None:
            return None
        value = prop.value
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
