"""AT-SPI's role and state vocabulary, as pyatspi names them (`getRoleName`, `stateToString`)."""

from __future__ import annotations

import functools

# Index = AT-SPI role number (at-spi2-core's AtspiRole).
ROLE_NAMES = (
    "invalid", "accelerator label", "alert", "animation", "arrow", "calendar", "canvas", "check box",
    "check menu item", "color chooser", "column header", "combo box", "date editor", "desktop icon",
    "desktop frame", "dial", "dialog", "directory pane", "drawing area", "file chooser", "filler",
    "focus traversable", "font chooser", "frame", "glass pane", "html container", "icon", "image",
    "internal frame", "label", "layered pane", "list", "list item", "menu", "menu bar", "menu item",
    "option pane", "page tab", "page tab list", "panel", "password text", "popup menu", "progress bar",
    "push button", "radio button", "radio menu item", "root pane", "row header", "scroll bar", "scroll pane",
    "separator", "slider", "spin button", "split pane", "status bar", "table", "table cell",
    "table column header", "table row header", "tearoff menu item", "terminal", "text", "toggle button",
    "tool bar", "tool tip", "tree", "tree table", "unknown", "viewport", "window", "extended", "header",
    "footer", "paragraph", "ruler", "application", "autocomplete", "editbar", "embedded", "entry", "chart",
    "caption", "document frame", "heading", "page", "section", "redundant object", "form", "link",
    "input method window", "table row", "tree item", "document spreadsheet", "document presentation",
    "document text", "document web", "document email", "comment", "list box", "grouping", "image map",
    "notification", "info bar", "level bar", "title bar", "block quote", "audio", "video", "definition",
    "article", "landmark", "log", "marquee", "math", "rating", "timer", "static", "math fraction",
    "math root", "subscript", "superscript", "description list", "description term", "description value",
    "footnote", "content deletion", "content insertion", "mark", "suggestion", "push button menu",
)  # fmt: skip

STATE_NAMES = {
    1: "active", 2: "armed", 3: "busy", 4: "checked", 5: "collapsed", 6: "defunct", 7: "editable",
    8: "enabled", 9: "expandable", 10: "expanded", 11: "focusable", 12: "focused", 13: "has tooltip",
    14: "horizontal", 15: "iconified", 16: "modal", 17: "multi line", 18: "multiselectable", 19: "opaque",
    20: "pressed", 21: "resizable", 22: "selectable", 23: "selected", 24: "sensitive", 25: "showing",
    26: "single line", 27: "stale", 28: "transient", 29: "vertical", 30: "visible", 31: "manages descendants",
    32: "indeterminate", 33: "required", 34: "truncated", 35: "animated", 36: "invalid entry",
    37: "supports autocompletion", 38: "selectable text", 39: "is default", 40: "visited", 41: "checkable",
    42: "has popup", 43: "read only",
}  # fmt: skip

SHOWING = 25
VISIBLE = 30
MANAGES_DESCENDANTS = 31

# Interface names as the cache lists them, shortened for the model.
IFACE_PREFIX = "org.a11y.atspi."


def role_name(role: int) -> str:
    return ROLE_NAMES[role] if 0 <= role < len(ROLE_NAMES) else "unknown"


def states_from_bits(bits: tuple[int, int] | list[int]) -> frozenset[str]:
    """AT-SPI sends states as two 32-bit words."""
    low, high = (bits[0], bits[1]) if len(bits) > 1 else (bits[0] if bits else 0, 0)
    return _states(low | (high << 32))


@functools.lru_cache(maxsize=1024)
def _states(word: int) -> frozenset[str]:
    # A big window has few distinct state sets: each is spelled out once.
    return frozenset(name for bit, name in STATE_NAMES.items() if word >> bit & 1)
