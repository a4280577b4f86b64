"""The backend interface: what reads accessible trees off the bus. Two implementations sit beside
it: `dbus_backend` (fast, pure Python, the default) and `pyatspi_backend` (the reference binding).

Both return the same shape: application roots whose children are the windows `pick` kept, pruned
to what is showing, with boxes in screen pixels, text for text-like nodes, values for Value nodes,
and the visible cells of tables that manage their descendants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from cua_mcp.accessibility.model import AppInfo, Node

# Which windows of an app to read: given the window nodes (role, name, states known), keep some.
WindowPicker = Callable[[AppInfo, list[Node]], list[Node]]

# Roles whose text content is worth reading (labels carry their text in the name already).
TEXT_ROLES = frozenset(
    {
        "text", "entry", "password text", "paragraph", "terminal", "table cell", "heading", "spin button",
        "document text", "document web", "document frame", "section", "static", "editbar", "combo box",
    }
)  # fmt: skip
TEXT_LIMIT = 4000  # characters of text kept per node in a snapshot; read_text reads all of it
MAX_CELLS = 2000  # visible cells read from a table that manages its descendants (a full-HD sheet shows ~1100)
WORD = 2**31 - 1  # what LibreOffice reports as a sheet's child count


class Backend(Protocol):
    name: str

    def applications(self) -> list[AppInfo]:
        """The applications on the accessibility bus, with name, pid and toolkit."""
        ...

    def read(self, apps: list[AppInfo], pick: WindowPicker | None, cells: bool = True) -> tuple[list[Node], list[str]]:
        """Read the showing tree of each app's picked windows; notes name apps that failed.

        `cells=False` leaves out the visible cells of tables that manage their descendants: reading
        them makes LibreOffice build an object per cell, which it never frees."""
        ...

    def close(self) -> None: ...


def keep_text(node: Node) -> bool:
    """Text-like roles, and any nameless node with text (a label whose words are only in its text)."""
    if "Text" not in node.interfaces or node.role == "password text":
        return False
    return node.role in TEXT_ROLES or not node.name.strip()


def keep_value(node: Node) -> bool:
    # A spreadsheet cell's Value is always 0 (its content is text): not worth a call per cell.
    return "Value" in node.interfaces and node.role != "table cell"


# Controls whose name, when they have none, is worth taking from the label that labels them.
LABELLED_ROLES = frozenset(
    {"text", "entry", "password text", "spin button", "slider", "combo box", "check box", "radio button",
     "toggle button", "push button", "list", "list box", "tree", "tree table", "table", "dial", "progress bar"}
)  # fmt: skip
LABELLED_BY = 2  # AT-SPI's RELATION_LABELLED_BY


def wants_label(node: Node) -> bool:
    """A nameless control: its labelled-by relation may name it."""
    return not node.name.strip() and node.role in LABELLED_ROLES


def keep_caret(node: Node) -> bool:
    """An editable document: where its caret is tells a model which line it is editing."""
    return keep_text(node) and "multi line" in node.states and "editable" in node.states


def clean_text(text: str) -> str:
    # U+FFFC marks embedded objects; U+FFFD undecodable bytes: OSWorld drops both too.
    return text.replace("\ufffc", "").replace("\ufffd", "")[:TEXT_LIMIT]
