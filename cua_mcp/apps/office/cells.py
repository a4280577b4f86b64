"""Spreadsheet cell addresses (A1 style). Standard library only: the UNO helper imports this file
as its neighbour, under an interpreter that does not have cua_mcp."""


def column_index(letters: str) -> int:
    """'A' -> 0, 'AB' -> 27."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def column_name(index: int) -> str:
    """0 -> 'A', 27 -> 'AB'."""
    name = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        name = chr(65 + rem) + name
    return name


def cell_name(col: int, row: int) -> str:
    """(0, 0) -> 'A1' (column first, both from 0)."""
    return f"{column_name(col)}{row + 1}"


def range_name(c0: int, r0: int, c1: int, r1: int) -> str:
    first, last = cell_name(c0, r0), cell_name(c1, r1)
    return first if first == last else f"{first}:{last}"
