"""A spreadsheet's visible cells read through the app's own API instead of one AT-SPI object per cell.

Reading a Calc sheet's ~1,200 visible cells over AT-SPI makes LibreOffice build an object per cell
(about 230 ms) that it never frees (about 8 MB a read). When the server holds a UNO connection to
the instance, a `SheetSource` reads the same cells in one bulk call; they become the table's
children here, as the AT-SPI read would make them, and print in the same grid (see grid.py). A cell
is addressed as its table's ref plus its address (`e40:C5`), which the accessibility service resolves
on demand, one cell at a time. Their paths (`<table path>#<row>,<column>`) are no D-Bus object paths
('#' cannot occur in one): they are never handed out as refs of their own.
"""

from __future__ import annotations

from typing import Protocol

from cua_mcp.accessibility.grid import column_letters
from cua_mcp.accessibility.model import Node

_MARK = "#"
_CELL_STATES = frozenset({"showing", "visible", "transient", "selectable", "focusable", "enabled", "sensitive"})
_CELL_INTERFACES = frozenset({"Accessible", "Component", "Text"})


# The cells a sheet's window shows: (first row, first column, what each cell displays row by row).
VisibleCells = tuple[int, int, list[list[str]]]


class SheetSource(Protocol):
    """Reads the visible cells of spreadsheets in the app instances it holds."""

    def holds(self, pid: int | None) -> bool:
        """Whether the app process `pid` is an instance this source reads."""
        ...

    async def visible_cells(self, window_title: str) -> VisibleCells | None:
        """The cells shown in the window titled so; None when it shows no sheet of the instance."""
        ...


def cell_path(table_path: str, row: int, column: int) -> str:
    return f"{table_path}{_MARK}{row},{column}"


def from_source(node: Node) -> bool:
    """A cell made here from a `SheetSource` (it has no accessible object of its own)."""
    return _MARK in node.path


def address_cells(roots: list[Node]) -> None:
    """Give the cells made here their address refs (`e40:C5`), once their tables have refs."""
    for root in roots:
        for node, _ in root.walk():
            for cell in node.children:
                if from_source(cell):
                    cell.ref = f"{node.ref}:{cell.name}"


def managing_tables(window: Node) -> list[Node]:
    """The tables under a window whose cells were left out because they manage their descendants."""
    return [
        node
        for node, _ in window.walk()
        if node.role == "table" and node.omitted_children and not node.children and "Table" in node.interfaces
    ]


def fill_table(table: Node, cells: VisibleCells) -> None:
    """Make the visible cells the table's children, as the AT-SPI read would (names A1.., their text)."""
    first_row, first_column, text_rows = cells
    children = []
    for r, row in enumerate(text_rows):
        for c, text in enumerate(row):
            at = (first_row + r, first_column + c)
            children.append(
                Node(
                    table.bus,
                    cell_path(table.path, *at),
                    "table cell",
                    f"{column_letters(at[1])}{at[0] + 1}",
                    _CELL_STATES,
                    _CELL_INTERFACES,
                    text=text,
                )
            )
    table.children = children
    table.omitted_children = max(0, table.omitted_children - len(children))


async def fill_sheets(roots: list[Node], source: SheetSource) -> list[str]:
    """Fill the managing tables of these app roots' windows from `source`; the titles of the windows
    it could not read."""
    unread = []
    for root in roots:
        for window in root.children:
            tables = managing_tables(window)
            if not tables:
                continue
            cells = await source.visible_cells(window.name)
            if cells is None:
                unread.append(window.name)
                continue
            fill_table(tables[0], cells)  # a Calc window shows one sheet
    return unread
