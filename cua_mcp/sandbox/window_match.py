"""Which window the caller means: by id, or by a piece of its title or app name."""

from __future__ import annotations

import re
from collections.abc import Sequence

from cua_mcp.errors import WindowNotFoundError
from cua_mcp.sandbox.x11.windows import WindowInfo

_ID = re.compile(r"(0x[0-9a-fA-F]+|\d+)")
_MAX_LISTED = 10


def window_id_text(window_id: int) -> str:
    """The id as list_windows shows it (hex, as xprop and wmctrl do)."""
    return f"0x{window_id:08x}"


def describe(window: WindowInfo) -> str:
    return f"{window_id_text(window.id)} {window.title!r} (app {window.wm_class or '?'})"


def select_window(windows: Sequence[WindowInfo], selector: str) -> WindowInfo:
    """The one window `selector` names: an id (hex or decimal), else a case-insensitive substring
    of the title or app (WM_CLASS); an exact title/app match wins over substrings. Raises
    `WindowNotFoundError` for no match or several, listing what there is to choose from."""
    wanted = selector.strip()
    if not wanted:
        raise WindowNotFoundError("window is empty: give a window id from list_windows or part of its title.")
    if _ID.fullmatch(wanted):
        number = int(wanted, 0)
        by_id = [w for w in windows if w.id == number]
        if by_id:
            return by_id[0]
    needle = wanted.casefold()
    exact = [w for w in windows if needle in (w.title.casefold(), w.wm_class.casefold())]
    if len(exact) == 1:
        return exact[0]
    partial = exact or [w for w in windows if needle in w.title.casefold() or needle in w.wm_class.casefold()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise WindowNotFoundError(f"no window matches {selector!r}. Open windows: {_listing(windows)}.")
    raise WindowNotFoundError(f"{len(partial)} windows match {selector!r}: {_listing(partial)}. Name one by its id.")


def _listing(windows: Sequence[WindowInfo]) -> str:
    if not windows:
        return "none"
    shown = "; ".join(describe(w) for w in windows[:_MAX_LISTED])
    more = len(windows) - _MAX_LISTED
    return shown + (f"; and {more} more (call list_windows)" if more > 0 else "")
