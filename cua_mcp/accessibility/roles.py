"""Roles and states in the words a model knows: the web's (ARIA) for printing, and every spelling a
model may use for matching (the web word, AT-SPI's own name, a common synonym), case-insensitively.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from cua_mcp.accessibility._vocab import ROLE_NAMES, STATE_NAMES
from cua_mcp.accessibility.model import Node
from cua_mcp.errors import InvalidArgumentError

# AT-SPI role -> the web word printed for it. Roles not listed print as AT-SPI names them, spaces removed.
WEB_ROLES = {
    "push button": "button", "push button menu": "button", "toggle button": "button", "check box": "checkbox",
    "radio button": "radio", "menu item": "menuitem", "check menu item": "menuitemcheckbox",
    "radio menu item": "menuitemradio", "tearoff menu item": "menuitem", "menu bar": "menubar", "popup menu": "menu",
    "combo box": "combobox", "autocomplete": "combobox", "entry": "textbox", "password text": "textbox",
    "editbar": "textbox", "spin button": "spinbutton", "page tab": "tab", "page tab list": "tablist",
    "list item": "listitem", "list box": "listbox", "tree item": "treeitem", "tree table": "treegrid",
    "table cell": "cell", "table row": "row", "column header": "columnheader", "table column header": "columnheader",
    "row header": "rowheader", "table row header": "rowheader", "scroll bar": "scrollbar",
    "progress bar": "progressbar", "level bar": "meter", "tool bar": "toolbar", "tool tip": "tooltip",
    "status bar": "status", "frame": "window", "file chooser": "dialog", "icon": "img", "image": "img",
    "document text": "document", "document web": "document", "document frame": "document",
    "document spreadsheet": "document", "document presentation": "document", "document email": "document",
    "static": "text", "panel": "group", "filler": "generic", "grouping": "group", "notification": "alert",
    "description list": "list", "block quote": "blockquote",
}  # fmt: skip
_TEXT_FIELDS = frozenset({"text", "entry", "password text", "editbar"})

# Words a model may search with that are neither a printed web word nor an AT-SPI name.
_SYNONYMS = {
    "entry": "textbox", "edit": "textbox", "text field": "textbox", "textfield": "textbox", "text box": "textbox", "input": "textbox",
    "field": "textbox", "search box": "textbox", "searchbox": "textbox", "password": "textbox",
    "check": "checkbox", "check button": "checkbox", "checkbutton": "checkbox", "radio button": "radio",
    "radiobutton": "radio", "toggle": "button", "togglebutton": "button", "pushbutton": "button",
    "dropdown": "combobox", "drop down": "combobox", "select": "combobox", "combo": "combobox",
    "spinner": "spinbutton", "spin": "spinbutton", "number": "spinbutton", "range": "slider",
    "hyperlink": "link", "anchor": "link", "menu entry": "menuitem", "menu option": "menuitem",
    "tabs": "tablist", "grid": "table", "sheet": "table", "spreadsheet": "table", "table cell": "cell",
    "gridcell": "cell", "label": "label", "static text": "text", "statictext": "text", "title": "heading",
    "image": "img", "picture": "img", "window": "window", "toolbar": "toolbar",
}  # fmt: skip


def web_role(node: Node) -> str:
    """The word printed for a node's role: a read-only text is `text`, an editable one a `textbox`."""
    if node.role in _TEXT_FIELDS:
        return "textbox" if "editable" in node.states or node.role != "text" else "text"
    return WEB_ROLES.get(node.role, node.role.replace(" ", ""))


def _spelled(word: str) -> str:
    return " ".join(word.strip().lower().replace("_", " ").replace("-", " ").split())


def role_test(word: str) -> Callable[[Node], bool]:
    """A test for nodes of the role a model named, in any of its spellings; an error naming close ones if unknown."""
    spelled = _spelled(word)
    squeezed = spelled.replace(" ", "")
    if spelled in _ATSPI_ROLES and spelled not in _SYNONYMS:
        if spelled == "text":  # AT-SPI's text role and the web's static text: both read as "text"
            return lambda n: n.role == "text" or web_role(n) == "text"
        return lambda n: n.role == spelled
    web = _SYNONYMS.get(spelled) or _SYNONYMS.get(squeezed) or (squeezed if squeezed in _WEB_WORDS else None)
    if web is None:
        close = difflib.get_close_matches(squeezed, sorted(_WEB_WORDS | set(_SYNONYMS)), n=4, cutoff=0.6)
        hint = f" Close: {', '.join(close)}." if close else ""
        raise InvalidArgumentError(
            f"unknown role {word!r}: use a web role such as button, checkbox, textbox, combobox, link, menuitem, "
            f"tab, slider, spinbutton, cell, dialog, or AT-SPI's name.{hint}"
        )
    return lambda n: web_role(n) == web


# State words a model may use -> a test on a node. Negative ones cover what AT-SPI says by omission.
def _has(state: str) -> Callable[[Node], bool]:
    return lambda n: state in n.states


def _enabled(node: Node) -> bool:
    return "enabled" in node.states or "sensitive" in node.states


_STATES: dict[str, Callable[[Node], bool]] = {
    "enabled": _enabled,
    "disabled": lambda n: not _enabled(n),
    "unchecked": lambda n: "checked" not in n.states and "indeterminate" not in n.states,
    "not checked": lambda n: "checked" not in n.states,
    "mixed": _has("indeterminate"),
    "collapsed": lambda n: "collapsed" in n.states or ("expandable" in n.states and "expanded" not in n.states),
    "readonly": lambda n: "read only" in n.states or "editable" not in n.states,
    "read only": lambda n: "read only" in n.states or "editable" not in n.states,
    "unselected": lambda n: "selected" not in n.states,
    "not selected": lambda n: "selected" not in n.states,
    "not pressed": lambda n: "pressed" not in n.states and "checked" not in n.states,
    # GTK's toggle buttons say CHECKED where the web says pressed.
    "pressed": lambda n: "pressed" in n.states or (n.role == "toggle button" and "checked" in n.states),
    "hidden": lambda n: "showing" not in n.states,
    "visible": _has("showing"),
    "unfocused": lambda n: "focused" not in n.states,
    "multiline": _has("multi line"),
    "singleline": _has("single line"),
    "required": _has("required"),
    "invalid": _has("invalid entry"),
}


def state_test(word: str) -> Callable[[Node], bool]:
    """A test for a state a model named (AT-SPI's names, web words and negations); an error if unknown."""
    spelled = _spelled(word)
    test = _STATES.get(spelled) or _STATES.get(spelled.replace(" ", ""))
    if test is not None:
        return test
    if spelled in _ATSPI_STATES:
        return _has(spelled)
    known = sorted(set(_STATES) | _ATSPI_STATES)
    close = difflib.get_close_matches(spelled, known, n=4, cutoff=0.6)
    raise InvalidArgumentError(
        f"unknown state {word!r}: use e.g. focused, enabled, disabled, checked, unchecked, expanded, collapsed, "
        f"selected, editable.{' Close: ' + ', '.join(close) + '.' if close else ''}"
    )


_ATSPI_ROLES = frozenset(ROLE_NAMES)
_ATSPI_STATES = frozenset(STATE_NAMES.values())
_WEB_WORDS = frozenset(WEB_ROLES.values()) | frozenset(r.replace(" ", "") for r in _ATSPI_ROLES) | {"textbox", "text"}
