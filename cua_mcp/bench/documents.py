"""Reading office files for evaluators: spreadsheet cells (openpyxl, odfpy, csv), document
paragraphs and formatting (python-docx, odfpy), slides (python-pptx, odfpy).

Every reader raises `UnreadableError` saying which file and why, so a score of 0 that comes from a
missing or broken file says so instead of looking like the agent's mistake.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cua_mcp.errors import CuaError

Cell = str | float | bool | None


class UnreadableError(CuaError):
    """An evaluator's target is missing or cannot be parsed."""


def _check(path: Path, what: str) -> None:
    if not path.exists():
        raise UnreadableError(f"cannot read the {what} {path.name}: it does not exist")
    if not path.is_file():
        raise UnreadableError(f"cannot read the {what} {path.name}: it is not a file")


def _opened(path: Path, what: str, reader: Any) -> Any:
    _check(path, what)
    try:
        return reader(path)
    except Exception as exc:  # the parsers raise anything from zipfile.BadZipFile to KeyError
        raise UnreadableError(f"cannot read the {what} {path.name}: {type(exc).__name__}: {exc}") from exc


# ----- spreadsheets ----------------------------------------------------------------------------


def sheet_rows(path: Path, sheet: str | int | None = None) -> list[list[Cell]]:
    """The rows of one sheet (the first by default) as values: numbers as float, text as str."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _opened(path, "CSV file", _csv_rows)
    if suffix == ".ods":
        return _opened(path, "spreadsheet", lambda p: _ods_rows(p, sheet))
    return _opened(path, "spreadsheet", lambda p: _xlsx_rows(p, sheet))


def sheet_names(path: Path) -> list[str]:
    if path.suffix.lower() == ".ods":
        return _opened(path, "spreadsheet", lambda p: [t.getAttribute("name") for t in _ods_tables(p)])
    return _opened(path, "spreadsheet", lambda p: _workbook(p).sheetnames)


def cell(rows: list[list[Cell]], address: str) -> Cell:
    """The value at an A1 address in `rows` (None outside)."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    letters, number = coordinate_from_string(address.upper())
    row, col = number - 1, column_index_from_string(letters) - 1
    if row < len(rows) and col < len(rows[row]):
        return rows[row][col]
    return None


def same_value(actual: Cell, expected: Any) -> bool:
    """Numbers compare numerically (1 == 1.0, within 1e-9), text after trimming, empty as None/''."""
    if actual in (None, "") and expected in (None, ""):
        return True
    number = _number(actual)
    wanted = _number(expected)
    if number is not None and wanted is not None:
        return abs(number - wanted) <= 1e-9 * max(1.0, abs(wanted))
    return str(actual).strip() == str(expected).strip()


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _workbook(path: Path) -> Any:
    import openpyxl

    return openpyxl.load_workbook(path, data_only=True, read_only=True)


def _xlsx_rows(path: Path, sheet: str | int | None) -> list[list[Cell]]:
    book = _workbook(path)
    try:
        if isinstance(sheet, str):
            if sheet not in book.sheetnames:
                raise KeyError(f"no sheet named {sheet!r} (sheets: {', '.join(book.sheetnames)})")
            ws = book[sheet]
        else:
            ws = book.worksheets[sheet or 0]
        rows = [[_plain(v) for v in row] for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    return _trim(rows)


def _plain(value: Any) -> Cell:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int | float):
        return float(value)
    return str(value)


def _trim(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Drop trailing empty cells and rows (files differ in how far they store emptiness)."""
    out = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] in (None, ""):
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


def _csv_rows(path: Path) -> list[list[Cell]]:
    with open(path, newline="", encoding="utf-8-sig") as f:
        return _trim([[_csv_value(v) for v in row] for row in csv.reader(f)])


def _csv_value(text: str) -> Cell:
    try:
        return float(text)
    except ValueError:
        return text


def _ods_tables(path: Path) -> list[Any]:
    from odf.opendocument import load
    from odf.table import Table

    return load(str(path)).spreadsheet.getElementsByType(Table)


def _ods_rows(path: Path, sheet: str | int | None) -> list[list[Cell]]:
    from odf.table import TableRow

    tables = _ods_tables(path)
    if isinstance(sheet, str):
        named = [t for t in tables if t.getAttribute("name") == sheet]
        if not named:
            raise KeyError(f"no sheet named {sheet!r}")
        table = named[0]
    else:
        table = tables[sheet or 0]
    rows: list[list[Cell]] = []
    for row in table.getElementsByType(TableRow):
        cells: list[Cell] = []
        for item in row.childNodes:
            if item.qname[1] not in ("table-cell", "covered-table-cell"):
                continue
            repeat = min(int(item.getAttribute("numbercolumnsrepeated") or 1), 1024)
            cells.extend([_ods_value(item) if item.qname[1] == "table-cell" else None] * repeat)
        repeat_rows = min(int(row.getAttribute("numberrowsrepeated") or 1), 1024)
        rows.extend([cells] * repeat_rows)
    return _trim(rows)


def _ods_value(item: Any) -> Cell:
    kind = item.getAttribute("valuetype")
    if kind in ("float", "percentage", "currency"):
        return float(item.getAttribute("value"))
    if kind == "boolean":
        return item.getAttribute("booleanvalue") == "true"
    text = _odf_text(item)
    return text if text else None


def _odf_text(element: Any) -> str:
    from odf import teletype
    from odf.text import P

    return "\n".join(teletype.extractText(p) for p in element.getElementsByType(P))


# ----- text documents ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Run:
    text: str
    bold: bool = False
    italic: bool = False
    underline: bool = False
    font_size: float | None = None


@dataclass(frozen=True)
class Paragraph:
    text: str
    runs: tuple[Run, ...] = ()
    style: str = ""


def paragraphs(path: Path) -> list[Paragraph]:
    """A document's paragraphs (docx with run formatting; odt and plain text as text only)."""
    suffix = path.suffix.lower()
    if suffix == ".docx":
        return _opened(path, "document", _docx_paragraphs)
    if suffix == ".odt":
        return _opened(path, "document", _odt_paragraphs)
    return _opened(path, "document", lambda p: [Paragraph(line) for line in p.read_text("utf-8").splitlines()])


def _docx_paragraphs(path: Path) -> list[Paragraph]:
    import docx

    out = []
    for p in docx.Document(str(path)).paragraphs:
        runs = tuple(
            Run(
                r.text,
                bool(r.bold),
                bool(r.italic),
                bool(r.underline),
                r.font.size.pt if r.font.size is not None else None,
            )
            for r in p.runs
        )
        out.append(Paragraph(p.text, runs, p.style.name if p.style is not None else ""))
    return out


def _odt_paragraphs(path: Path) -> list[Paragraph]:
    from odf import teletype
    from odf.opendocument import load

    doc = load(str(path))
    return [Paragraph(teletype.extractText(p)) for p in doc.text.childNodes if p.qname[1] in ("p", "h")]


# ----- presentations -----------------------------------------------------------------------------


def slides(path: Path) -> list[list[str]]:
    """Each slide's shape texts, in order (pptx through python-pptx, odp through odfpy)."""
    if path.suffix.lower() == ".odp":
        return _opened(path, "presentation", _odp_slides)
    return _opened(path, "presentation", _pptx_slides)


def _pptx_slides(path: Path) -> list[list[str]]:
    import pptx

    return [
        [shape.text_frame.text for shape in slide.shapes if shape.has_text_frame]
        for slide in pptx.Presentation(str(path)).slides
    ]


def _odp_slides(path: Path) -> list[list[str]]:
    from odf.draw import Frame, Page
    from odf.opendocument import load

    doc = load(str(path))
    return [
        [_odf_text(frame) for frame in page.getElementsByType(Frame)]
        for page in doc.presentation.getElementsByType(Page)
    ]
