"""A sheet's visible cells as one grid block instead of a line a cell, and cell addresses (`e40:C5`).

    cells A1:X50 show; empty rows and columns left out; a cell is e40:A1 ... e40:X50; focused cell A1
    e40	A	B	C
    1	name	qty	price
    2	item1	1	1.5

`grid_lines` only lays out values, so any source of a sheet's visible values (AT-SPI here, UNO for a
LibreOffice instance the server holds) prints the same block.
"""

from __future__ import annotations

import re

from cua_mcp.accessibility.model import Node

_ADDRESS = re.compile(r"([A-Z]{1,3})([1-9][0-9]{0,6})")


def parse_address(address: str) -> tuple[int, int] | None:
    """'C5' -> (row 4, column 2), zero-based; None when it is not a cell address."""
    match = _ADDRESS.fullmatch(address.strip().upper())
    if match is None:
        return None
    column = 0
    for letter in match[1]:
        column = column * 26 + ord(letter) - 64
    return int(match[2]) - 1, column - 1


def column_letters(column: int) -> str:
    """Zero-based column -> letters: 0 -> A, 27 -> AB."""
    letters = ""
    column += 1
    while column:
        column, rest = divmod(column - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def is_grid_cell(node: Node) -> bool:
    """A cell its table makes on request (LibreOffice's carry TRANSIENT), named by its address."""
    return node.role == "table cell" and "transient" in node.states and parse_address(node.name) is not None


def grid_lines(columns: list[str], rows: list[int], cells: list[list[str]], ref: str) -> list[str]:
    """The block: a line of column letters led by the table's ref, then a line per row, its number first."""
    out = ["\t".join([ref, *columns])]
    for number, values in zip(rows, cells, strict=True):
        out.append("\t".join([str(number), *(_escape(v) for v in values)]).rstrip("\t"))
    return out


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def cell_grid(table: Node, depth: int) -> list[str]:
    """The grid block of a table's visible cells read over AT-SPI, indented to `depth`; [] if it has none."""
    placed: dict[tuple[int, int], Node] = {}
    for cell in table.children:
        if is_grid_cell(cell):
            placed[parse_address(cell.name)] = cell  # type: ignore[index]
    if not placed:
        return []
    filled = {at for at, cell in placed.items() if (cell.text or "").strip()}
    row_ids = sorted({r for r, _ in filled})
    column_ids = sorted({c for _, c in filled})
    first, last = min(placed), max(placed)
    focused = next((cell.name for cell in placed.values() if "focused" in cell.states), None)
    pad = " " * depth
    where = f"{table.ref}:{column_letters(first[1])}{first[0] + 1}"
    info = (
        f"{pad}cells {column_letters(first[1])}{first[0] + 1}:{column_letters(last[1])}{last[0] + 1} show; "
        f"empty rows and columns left out; address a cell as {where}" + (f"; focused cell {focused}" if focused else "")
    )
    if not filled:
        return [info + "; all shown cells are empty"]
    values = [[(placed[(r, c)].text or "") if (r, c) in placed else "" for c in column_ids] for r in row_ids]
    block = grid_lines([column_letters(c) for c in column_ids], [r + 1 for r in row_ids], values, table.ref)
    return [info, *(pad + line for line in block)]
