"""The UNO side of the office pack, run as its own process under the Python that has `uno`.

`uno` exists only in Debian's python3-uno, so this script runs under that interpreter, not the
server's: it imports nothing but the standard library and `uno` (never cua_mcp). It connects to
one soffice over a named pipe and answers requests, one JSON object a line on stdin and stdout:

    -> {"id": 7, "op": "calc_get_cells", "args": {"area": "A1:C3"}}
    <- {"id": 7, "ok": true, "result": {...}}
    <- {"id": 7, "ok": false, "error": {"type": "invalid", "message": "..."}}

Error types: `invalid` (bad argument), `no_document` (no document of the kind), `gone` (soffice
quit or the connection broke), `uno` (LibreOffice refused), `internal` (a bug here).
It ends when stdin closes.
"""

import json
import re
import sys
import time
import traceback

import uno
from cells import cell_name, column_index, column_name, range_name  # this file's neighbour
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException
from com.sun.star.lang import DisposedException
from com.sun.star.uno import Exception as UnoException
from com.sun.star.uno import RuntimeException as UnoRuntimeException

MAX_CELLS = 10_000  # cells one read or write handles
_CONNECT_POLL_S = 0.25


class Refused(Exception):
    """A request that cannot be done as asked; the message says what to do instead."""

    kind = "invalid"


class NoDocument(Refused):
    kind = "no_document"


class Gone(Exception):
    kind = "gone"


# ----- connection ------------------------------------------------------------------------------


class Office:
    """The connection to one soffice and the documents in it."""

    def __init__(self, pipe):
        self.pipe = pipe
        self.ctx = None
        self.desktop = None

    def connect(self, timeout):
        local = uno.getComponentContext()
        resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
        url = f"uno:pipe,name={self.pipe};urp;StarOffice.ComponentContext"
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.ctx = resolver.resolve(url)
                break
            except NoConnectException:
                if time.monotonic() > deadline:
                    raise Gone(f"LibreOffice did not accept the connection within {timeout:g} s.") from None
                time.sleep(_CONNECT_POLL_S)
        self.desktop = self.ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", self.ctx)
        return {"connected": True}

    def documents(self):
        """(id, model) of every open document, in the desktop's order."""
        found = []
        enum = self.desktop.getComponents().createEnumeration()
        while enum.hasMoreElements():
            model = enum.nextElement()
            if kind_of(model) is not None:
                found.append((doc_id(model), model))
        return found

    def current(self):
        model = self.desktop.getCurrentComponent()
        return model if model is not None and kind_of(model) is not None else None

    def document(self, kind=None, wanted=None):
        """The document named by `wanted` (an id, or a title or file name fragment), else the active
        one of `kind`, else the most recent one of `kind`."""
        docs = self.documents()
        if wanted:
            low = wanted.lower()
            for ident, model in docs:
                if ident == wanted or low in title_of(model).lower():
                    if kind is not None and kind_of(model) != kind:
                        raise Refused(f"document {wanted!r} is a {kind_of(model)} document, not {kind}.")
                    return model
            raise Refused(f"no open document {wanted!r}: office_info lists them.")
        current = self.current()
        if current is not None and (kind is None or kind_of(current) == kind):
            return current
        for _, model in docs:
            if kind is None or kind_of(model) == kind:
                return model
        what = {"calc": "spreadsheet", "writer": "text document", "impress": "presentation"}.get(kind, "document")
        raise NoDocument(
            f"no {what} is open: office_open with new='{kind or 'calc'}' starts one, or with path= opens a file "
            "from the workspace."
        )


KINDS = (
    ("calc", "com.sun.star.sheet.SpreadsheetDocument"),
    ("impress", "com.sun.star.presentation.PresentationDocument"),
    ("writer", "com.sun.star.text.TextDocument"),
)


def kind_of(model):
    supports = getattr(model, "supportsService", None)
    if supports is None:
        return None
    for kind, service in KINDS:
        if supports(service):
            return kind
    return None


def doc_id(model):
    return "d" + str(model.RuntimeUID)


def title_of(model):
    try:
        return model.getCurrentController().getFrame().Title
    except (AttributeError, UnoRuntimeException):
        return model.getURL() or "untitled"


def path_of(model):
    url = model.getURL()
    return uno.fileUrlToSystemPath(url) if url.startswith("file:") else None


def props(**values):
    out = []
    for name, value in values.items():
        prop = PropertyValue()
        prop.Name = name
        prop.Value = value
        out.append(prop)
    return tuple(out)


# ----- office-wide -----------------------------------------------------------------------------


def op_info(office):
    current = office.current()
    current_id = doc_id(current) if current is not None else None
    return {
        "documents": [
            {
                "id": ident,
                "kind": kind_of(model),
                "title": title_of(model),
                "path": path_of(model),
                "modified": bool(model.isModified()),
                "active": ident == current_id,
            }
            for ident, model in office.documents()
        ]
    }


FACTORIES = {
    "calc": "private:factory/scalc",
    "writer": "private:factory/swriter",
    "impress": "private:factory/simpress",
}


def op_open(office, path=None, new=None):
    url = uno.systemPathToFileUrl(path) if path else FACTORIES[new]
    model = office.desktop.loadComponentFromURL(url, "_default", 0, props())
    if model is None:
        raise Refused(f"LibreOffice could not open {path or new!r}: is it a document it reads?")
    frame = model.getCurrentController().getFrame()
    frame.getContainerWindow().setFocus()
    frame.activate()
    return {"id": doc_id(model), "kind": kind_of(model), "title": title_of(model), "path": path_of(model)}


FILTERS = {
    "calc": {"ods": "calc8", "xlsx": "Calc Office Open XML", "csv": "Text - txt - csv (StarCalc)",
             "pdf": "calc_pdf_Export"},
    "writer": {"odt": "writer8", "docx": "MS Word 2007 XML", "pdf": "writer_pdf_Export", "txt": "Text (encoded)"},
    "impress": {"odp": "impress8", "pptx": "Impress MS PowerPoint 2007 XML", "pdf": "impress_pdf_Export"},
}  # fmt: skip


def op_save_as(office, doc, target, format, mark_saved):
    """Store a copy of the document in `target` (a file the server handed over) in `format`."""
    model = office.document(None, doc)
    kind = kind_of(model)
    filters = FILTERS[kind]
    if format not in filters:
        raise Refused(f"a {kind} document saves as {', '.join(filters)}, not {format}.")
    options = {"FilterName": filters[format], "Overwrite": True}
    if format == "csv":
        options["FilterOptions"] = "44,34,76,1"  # comma, double quotes, UTF-8, from line 1
    model.storeToURL(uno.systemPathToFileUrl(target), props(**options))
    if mark_saved:
        model.setModified(False)
    return {"id": doc_id(model), "kind": kind, "title": title_of(model), "format": format}


# ----- Calc ------------------------------------------------------------------------------------

_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def parse_range(text):
    """'Sheet1.A1:C3', 'Sheet1!A1', 'B2' -> (sheet name or None, c0, r0, c1, r1)."""
    text = text.strip()
    sheet = None
    for sep in ("!", "."):
        if sep in text:
            sheet, text = text.rsplit(sep, 1)
            sheet = sheet.strip().strip("$").strip("'")
            break
    parts = text.split(":")
    if len(parts) > 2 or not all(_CELL.fullmatch(p.strip()) for p in parts):
        raise Refused(f"{text!r} is not a cell range: write it like A1, B2:D10 or Sheet2.A1:C3.")
    corners = [_CELL.fullmatch(p.strip()) for p in parts]
    cols = [column_index(m[1]) for m in corners]
    rows = [int(m[2]) - 1 for m in corners]
    if min(rows) < 0:
        raise Refused("rows start at 1.")
    return sheet, min(cols), min(rows), max(cols), max(rows)


def sheet_of(model, name=None):
    sheets = model.getSheets()
    if name is None:
        return model.getCurrentController().getActiveSheet()
    if not sheets.hasByName(name):
        raise Refused(f"no sheet {name!r}; the sheets are {', '.join(sheets.getElementNames())}.")
    return sheets.getByName(name)


def cell_range(model, text, sheet=None):
    name, c0, r0, c1, r1 = parse_range(text)
    target = sheet_of(model, name or sheet)
    return target, target.getCellRangeByPosition(c0, r0, c1, r1), (c0, r0, c1, r1)


def used_area(sheet):
    cursor = sheet.createCursor()
    cursor.gotoStartOfUsedArea(False)
    cursor.gotoEndOfUsedArea(True)
    a = cursor.getRangeAddress()
    return a.StartColumn, a.StartRow, a.EndColumn, a.EndRow


def selection_name(model):
    selection = model.getCurrentController().getSelection()
    try:
        a = selection.getRangeAddress()
    except AttributeError:
        return None
    sheet = model.getSheets().getByIndex(a.Sheet).getName()
    return f"{sheet}.{range_name(a.StartColumn, a.StartRow, a.EndColumn, a.EndRow)}"


def op_calc_info(office, doc=None):
    model = office.document("calc", doc)
    sheets = model.getSheets()
    active = model.getCurrentController().getActiveSheet().getName()
    listed = []
    for i in range(sheets.getCount()):
        sheet = sheets.getByIndex(i)
        c0, r0, c1, r1 = used_area(sheet)
        empty = c0 == c1 and r0 == r1 and sheet.getCellByPosition(c0, r0).getType().value == "EMPTY"
        listed.append({"name": sheet.getName(), "used_range": None if empty else range_name(c0, r0, c1, r1)})
    return {
        "id": doc_id(model),
        "title": title_of(model),
        "sheets": listed,
        "active_sheet": active,
        "selection": selection_name(model),
    }


def op_calc_get_cells(office, area, doc=None, max_cells=2000):
    model = office.document("calc", doc)
    sheet, target, (c0, r0, c1, r1) = cell_range(model, area)
    cols = c1 - c0 + 1
    rows = min(r1 - r0 + 1, max(1, max_cells // cols))
    cut = rows < r1 - r0 + 1
    if cols > max_cells:
        raise Refused(f"the range is {cols} columns wide; read at most {max_cells} cells at a time.")
    if cut:
        target = sheet.getCellRangeByPosition(c0, r0, c1, r0 + rows - 1)
    values = [list(row) for row in target.getDataArray()]
    formulas = [list(row) for row in target.getFormulaArray()]
    shown = display_strings(model, target, values)
    return {
        "sheet": sheet.getName(),
        "range": range_name(c0, r0, c1, r0 + rows - 1),
        "first_column": c0,
        "first_row": r0,
        "values": values,
        "text": shown,
        "formulas": [[f if isinstance(f, str) and f.startswith("=") else None for f in row] for row in formulas],
        "cut": cut,
        "rows_in_range": r1 - r0 + 1,
    }


def display_strings(model, target, values):
    """What each cell shows: text as is; numbers in the General format as Calc writes them, and numbers
    with another format (dates, currency, percent) as the sheet formats them, one call each."""
    formatted = formatted_cells(model.getNumberFormats(), target)
    shown = []
    for r, row in enumerate(values):
        line = []
        for c, value in enumerate(row):
            if isinstance(value, str):
                line.append(value)
            elif (r, c) in formatted:
                line.append(target.getCellByPosition(c, r).getString())
            else:
                line.append(general(value))
        shown.append(line)
    return shown


def formatted_cells(formats, target):
    """(row, column) in `target` of the cells whose number format is not General: a few calls for the
    whole range (cells sharing a format come as one group)."""
    origin = target.getRangeAddress()
    groups = target.getUniqueCellFormatRanges()
    found = set()
    for i in range(groups.getCount()):
        group = groups.getByIndex(i)
        if formats.getByKey(group.NumberFormat).FormatString == "General":
            continue
        for a in group.getRangeAddresses():
            for r in range(a.StartRow, a.EndRow + 1):
                for c in range(a.StartColumn, a.EndColumn + 1):
                    found.add((r - origin.StartRow, c - origin.StartColumn))
    return found


def general(number):
    """A number as Calc's General format writes it: up to 15 significant digits, 1E+20 style exponents."""
    text = format(number, ".15g")
    if "e" in text:
        mantissa, exponent = text.split("e")
        text = f"{mantissa}E{exponent[0]}{abs(int(exponent)):02d}"
    return text


_NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def op_calc_set_cells(office, area, values, doc=None):
    model = office.document("calc", doc)
    name, c0, r0, c1, r1 = parse_range(area)
    sheet = sheet_of(model, name)
    height = len(values)
    width = max((len(row) for row in values), default=0)
    if not height or not width:
        raise Refused("values is empty: give rows of cells, like [[1, 2], [3, 4]].")
    if height * width > MAX_CELLS:
        raise Refused(f"{height * width} cells in one call; set at most {MAX_CELLS} at a time.")
    if (c0, r0) != (c1, r1) and (c1 - c0 + 1, r1 - r0 + 1) != (width, height):
        raise Refused(
            f"the range {area} is {c1 - c0 + 1}x{r1 - r0 + 1} (columns x rows) but values are {width}x{height}: "
            "give the top-left cell alone, or a range of the values' size."
        )
    target = sheet.getCellRangeByPosition(c0, r0, c0 + width - 1, r0 + height - 1)
    # setFormulaArray reads each string as Calc reads typed input (numbers, formulas, text) in one call;
    # text that looks like a number or formula is written per cell afterwards so it stays text.
    literal = []
    rows = []
    for r, row in enumerate(values):
        line = []
        for c in range(width):
            value = row[c] if c < len(row) else None
            if value is None:
                line.append("")
            elif isinstance(value, bool):
                line.append("=TRUE()" if value else "=FALSE()")
            elif isinstance(value, int | float):
                line.append(repr(float(value)) if isinstance(value, float) else str(value))
            elif isinstance(value, str) and value.startswith("'"):
                literal.append((c, r, value[1:]))
                line.append("")
            elif isinstance(value, str) and (value.startswith("=") or _NUMBER.fullmatch(value.strip())):
                line.append(value)
            else:
                text = str(value)
                line.append("" if needs_literal(text) else text)
                if needs_literal(text):
                    literal.append((c, r, text))
        rows.append(tuple(line))
    target.setFormulaArray(tuple(rows))
    for c, r, text in literal:
        target.getCellByPosition(c, r).setString(text)
    return {
        "sheet": sheet.getName(),
        "range": range_name(c0, r0, c0 + width - 1, r0 + height - 1),
        "cells": width * height,
        "text": display_strings(model, target, [list(row) for row in target.getDataArray()]),
    }


def needs_literal(text):
    """Text Calc's input would turn into something else (a date, a percentage, a boolean)."""
    return bool(re.match(r"^[\d\s.,/:%+-]+$", text)) or text.upper() in ("TRUE", "FALSE")


def op_calc_sort_range(office, area, keys, header=False, doc=None):
    model = office.document("calc", doc)
    _, target, (c0, _, c1, _) = cell_range(model, area)
    fields = []
    for key in keys:
        col = column_index(key["column"]) if isinstance(key["column"], str) else int(key["column"]) - 1
        if not c0 <= col <= c1:
            raise Refused(f"sort column {key['column']} is outside the range {area}.")
        field = uno.createUnoStruct("com.sun.star.table.TableSortField")
        field.Field = col - c0
        field.IsAscending = bool(key.get("ascending", True))
        field.IsCaseSensitive = False
        fields.append(field)
    descriptor = target.createSortDescriptor()
    for prop in descriptor:
        if prop.Name == "SortFields":
            prop.Value = uno.Any("[]com.sun.star.table.TableSortField", tuple(fields))
        elif prop.Name == "ContainsHeader":
            prop.Value = bool(header)
    uno.invoke(target, "sort", (descriptor,))
    return {"range": area, "keys": len(fields)}


def op_calc_set_number_format(office, area, format, doc=None):
    model = office.document("calc", doc)
    _, target, _ = cell_range(model, area)
    formats = model.getNumberFormats()
    locale = uno.createUnoStruct("com.sun.star.lang.Locale")
    key = formats.queryKey(format, locale, False)
    if key == -1:
        try:
            key = formats.addNew(format, locale)
        except UnoException:
            raise Refused(
                f"{format!r} is not a number format Calc understands (e.g. 0.00, #,##0, 0%, YYYY-MM-DD)."
            ) from None
    target.NumberFormat = key
    return {"range": area, "format": format}


def op_calc_rows_columns(office, what, action, at, count=1, sheet=None, doc=None):
    model = office.document("calc", doc)
    target = sheet_of(model, sheet)
    if what == "rows":
        index = int(at) - 1
        group = target.getRows()
        label = f"rows {at}..{int(at) + count - 1}"
    else:
        index = column_index(at) if isinstance(at, str) else int(at) - 1
        group = target.getColumns()
        label = f"columns {column_name(index)}..{column_name(index + count - 1)}"
    if index < 0:
        raise Refused(f"{what} are numbered from 1 (columns may be letters): {at!r} is not one.")
    if action == "insert":
        group.insertByIndex(index, count)
    else:
        group.removeByIndex(index, count)
    return {"sheet": target.getName(), "done": f"{action}ed {label}" if action == "insert" else f"deleted {label}"}


def op_calc_sheet(office, action, name, new_name=None, position=None, doc=None):
    model = office.document("calc", doc)
    sheets = model.getSheets()
    if action == "add":
        if sheets.hasByName(name):
            raise Refused(f"a sheet {name!r} exists already.")
        index = sheets.getCount() if position is None else max(0, min(position - 1, sheets.getCount()))
        sheets.insertNewByName(name, index)
        model.getCurrentController().setActiveSheet(sheets.getByName(name))
    else:
        if not sheets.hasByName(name):
            raise Refused(f"no sheet {name!r}; the sheets are {', '.join(sheets.getElementNames())}.")
        if action == "rename":
            if sheets.hasByName(new_name):
                raise Refused(f"a sheet {new_name!r} exists already.")
            sheets.getByName(name).setName(new_name)
        else:
            if sheets.getCount() == 1:
                raise Refused("a spreadsheet keeps at least one sheet: add another before deleting this one.")
            sheets.removeByName(name)
    return {"sheets": list(sheets.getElementNames())}


def op_calc_merge_cells(office, area, merge=True, doc=None):
    model = office.document("calc", doc)
    _, target, _ = cell_range(model, area)
    target.merge(bool(merge))
    return {"range": area, "merged": bool(merge)}


ALIGN = {"left": "LEFT", "center": "CENTER", "right": "RIGHT", "justify": "BLOCK"}


def op_calc_set_style(office, area, doc=None, **style):
    model = office.document("calc", doc)
    _, target, _ = cell_range(model, area)
    if style.get("bold") is not None:
        target.CharWeight = 150.0 if style["bold"] else 100.0
    if style.get("italic") is not None:
        target.CharPosture = uno.Enum("com.sun.star.awt.FontSlant", "ITALIC" if style["italic"] else "NONE")
    if style.get("font_size") is not None:
        target.CharHeight = float(style["font_size"])
    if style.get("font_color") is not None:
        target.CharColor = style["font_color"]
    if style.get("background_color") is not None:
        target.CellBackColor = style["background_color"]
    if style.get("align") is not None:
        target.HoriJustify = uno.Enum("com.sun.star.table.CellHoriJustify", ALIGN[style["align"]])
    if style.get("wrap") is not None:
        target.IsTextWrapped = bool(style["wrap"])
    if style.get("borders") is not None:
        line = uno.createUnoStruct("com.sun.star.table.BorderLine2")
        if style["borders"]:
            line.OuterLineWidth = 26  # 1/100 mm: a thin line
            line.LineWidth = 26
        borders = target.TableBorder2
        for side in ("TopLine", "BottomLine", "LeftLine", "RightLine", "HorizontalLine", "VerticalLine"):
            setattr(borders, side, line)
            setattr(borders, "Is" + side + "Valid", True)
        target.TableBorder2 = borders
    if style.get("column_width_cm") is not None:
        columns = target.getColumns()
        for i in range(columns.getCount()):
            columns.getByIndex(i).Width = int(style["column_width_cm"] * 1000)
    if style.get("row_height_cm") is not None:
        rows = target.getRows()
        for i in range(rows.getCount()):
            rows.getByIndex(i).Height = int(style["row_height_cm"] * 1000)
    return {"range": area}


CHART_TYPES = {
    "column": ("com.sun.star.chart.BarDiagram", True),
    "bar": ("com.sun.star.chart.BarDiagram", False),
    "line": ("com.sun.star.chart.LineDiagram", None),
    "pie": ("com.sun.star.chart.PieDiagram", None),
    "area": ("com.sun.star.chart.AreaDiagram", None),
    "scatter": ("com.sun.star.chart.XYDiagram", None),
}


def op_calc_create_chart(office, area, kind="column", title=None, anchor=None, name=None, header=True, doc=None):
    model = office.document("calc", doc)
    sheet, target, _ = cell_range(model, area)
    charts = sheet.getCharts()
    name = name or next(f"Chart{i}" for i in range(1, 1000) if not charts.hasByName(f"Chart{i}"))
    if charts.hasByName(name):
        raise Refused(f"a chart {name!r} exists on this sheet already.")
    rect = uno.createUnoStruct("com.sun.star.awt.Rectangle")
    if anchor:
        _, ac, ar, _, _ = parse_range(anchor)
        position = sheet.getCellByPosition(ac, ar).Position
    else:
        a = target.getRangeAddress()
        position = sheet.getCellByPosition(a.EndColumn + 2, a.StartRow).Position
    rect.X, rect.Y, rect.Width, rect.Height = position.X, position.Y, 12000, 8000
    charts.addNewByName(name, rect, (target.getRangeAddress(),), bool(header), bool(header))
    chart = charts.getByName(name).getEmbeddedObject()
    service, vertical = CHART_TYPES[kind]
    diagram = chart.createInstance(service)
    chart.setDiagram(diagram)
    if vertical is not None:
        diagram.Vertical = not vertical
    if title:
        chart.HasMainTitle = True
        chart.getTitle().String = title
    return {"sheet": sheet.getName(), "name": name, "kind": kind, "range": area}


def op_calc_freeze_panes(office, rows=0, columns=0, sheet=None, doc=None):
    model = office.document("calc", doc)
    controller = model.getCurrentController()
    if sheet is not None:
        controller.setActiveSheet(sheet_of(model, sheet))
    controller.freezeAtPosition(int(columns), int(rows))
    return {"sheet": controller.getActiveSheet().getName(), "rows": rows, "columns": columns}


def op_calc_find(office, text, sheet=None, match_case=False, whole_cell=False, limit=50, doc=None):
    model = office.document("calc", doc)
    sheets = [sheet_of(model, sheet)] if sheet else [model.getSheets().getByIndex(i)
                                                      for i in range(model.getSheets().getCount())]  # fmt: skip
    found = []
    total = 0
    for target in sheets:
        descriptor = target.createSearchDescriptor()
        descriptor.SearchString = text
        descriptor.SearchCaseSensitive = bool(match_case)
        descriptor.SearchWords = bool(whole_cell)
        hits = target.findAll(descriptor)
        if hits is None:
            continue
        for i in range(hits.getCount()):
            hit = hits.getByIndex(i)
            a = hit.getRangeAddress()
            for r in range(a.StartRow, a.EndRow + 1):
                for c in range(a.StartColumn, a.EndColumn + 1):
                    total += 1
                    if len(found) < limit:
                        cell = target.getCellByPosition(c, r)
                        found.append({"sheet": target.getName(), "cell": cell_name(c, r), "text": cell.getString()})
    return {"matches": found, "total": total}


def op_calc_visible(office, title):
    """The cells shown in the Calc window titled `title`, read in bulk (for snapshots)."""
    for _, model in office.documents():
        if kind_of(model) != "calc" or title_of(model) != title:
            continue
        controller = model.getCurrentController()
        a = controller.getVisibleRange()
        sheet = model.getSheets().getByIndex(a.Sheet)
        # The visible range leaves out the partly shown last column and row, which the window does show.
        end_column = min(a.EndColumn + 1, sheet.getColumns().getCount() - 1)
        end_row = min(a.EndRow + 1, sheet.getRows().getCount() - 1)
        target = sheet.getCellRangeByPosition(a.StartColumn, a.StartRow, end_column, end_row)
        values = [list(row) for row in target.getDataArray()]
        return {
            "sheet": sheet.getName(),
            "first_column": a.StartColumn,
            "first_row": a.StartRow,
            "text": display_strings(model, target, values),
        }
    return None


# ----- Writer ----------------------------------------------------------------------------------


def paragraphs(model):
    """The body's paragraphs in order (tables are skipped: they are listed apart)."""
    found = []
    enum = model.getText().createEnumeration()
    while enum.hasMoreElements():
        part = enum.nextElement()
        if part.supportsService("com.sun.star.text.Paragraph"):
            found.append(part)
    return found


def paragraph(model, number):
    found = paragraphs(model)
    if not 1 <= number <= len(found):
        raise Refused(f"paragraph {number} does not exist: the document has {len(found)} (numbered from 1).")
    return found[number - 1]


def op_writer_info(office, doc=None):
    model = office.document("writer", doc)
    pars = paragraphs(model)
    styles = sorted({p.ParaStyleName for p in pars})
    tables = model.getTextTables()
    listed = []
    for i in range(tables.getCount()):
        table = tables.getByIndex(i)
        listed.append({"name": table.getName(), "rows": table.getRows().getCount(),
                       "columns": table.getColumns().getCount()})  # fmt: skip
    return {
        "id": doc_id(model),
        "title": title_of(model),
        "paragraphs": len(pars),
        "characters": len(model.getText().getString()),
        "styles": styles,
        "tables": listed,
        "pages": model.getCurrentController().PageCount,
        "selection": selected_text(model),
    }


def selected_text(model):
    selection = model.getCurrentController().getSelection()
    try:
        if selection.getCount() > 0:
            return selection.getByIndex(0).getString()
    except AttributeError:
        pass
    return ""


def op_writer_get_text(office, first=1, last=None, doc=None, max_chars=20000):
    model = office.document("writer", doc)
    pars = paragraphs(model)
    last = len(pars) if last is None else min(last, len(pars))
    if pars and not 1 <= first <= len(pars):
        raise Refused(f"paragraph {first} does not exist: the document has {len(pars)} (numbered from 1).")
    out = []
    used = 0
    cut = False
    for number in range(first, last + 1):
        text = pars[number - 1].getString()
        if used + len(text) > max_chars:
            cut = True
            break
        used += len(text)
        out.append({"number": number, "text": text, "style": pars[number - 1].ParaStyleName})
    return {"paragraphs": out, "total": len(pars), "cut": cut}


def insertion_point(model, at, after=None):
    text = model.getText()
    if at == "start":
        return text, text.createTextCursorByRange(text.getStart())
    if at == "end":
        return text, text.createTextCursorByRange(text.getEnd())
    if at == "after":
        par = paragraph(model, after)
        cursor = text.createTextCursorByRange(par.getEnd())
        text.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
        return text, cursor
    view = model.getCurrentController().getViewCursor()
    inner = view.getText()
    return inner, inner.createTextCursorByRange(view.getStart())


PARAGRAPH_BREAK = 0  # com.sun.star.text.ControlCharacter.PARAGRAPH_BREAK


def op_writer_insert_text(office, text, at="end", after=None, doc=None):
    model = office.document("writer", doc)
    body, cursor = insertion_point(model, at, after)
    for i, line in enumerate(text.split("\n")):
        if i:
            body.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
        if line:
            body.insertString(cursor, line, False)
    return {"paragraphs": len(paragraphs(model)), "inserted": len(text)}


def op_writer_find_replace(office, find, replace, regex=False, match_case=False, all=True, doc=None):
    model = office.document("writer", doc)
    descriptor = model.createReplaceDescriptor()
    descriptor.SearchString = find
    descriptor.ReplaceString = replace
    descriptor.SearchRegularExpression = bool(regex)
    descriptor.SearchCaseSensitive = bool(match_case)
    if all:
        count = model.replaceAll(descriptor)
    else:
        found = model.findFirst(descriptor)
        count = 0
        if found is not None:
            found.setString(replace)
            count = 1
    return {"replaced": count}


PARA_ADJUST = {"left": "LEFT", "right": "RIGHT", "justify": "BLOCK", "center": "CENTER"}


def op_writer_set_format(office, first=None, last=None, doc=None, **fmt):
    model = office.document("writer", doc)
    if first is None:
        selection = model.getCurrentController().getSelection()
        if selection.getCount() == 0 or not selection.getByIndex(0).getString():
            raise Refused("nothing is selected: give first (and last) paragraph numbers instead.")
        target = selection.getByIndex(0)
        what = "the selection"
    else:
        start, end = paragraph(model, first), paragraph(model, last or first)
        target = model.getText().createTextCursorByRange(start.getStart())
        target.gotoRange(end.getEnd(), True)
        what = f"paragraphs {first}..{last or first}"
    if fmt.get("font") is not None:
        target.CharFontName = fmt["font"]
    if fmt.get("size") is not None:
        target.CharHeight = float(fmt["size"])
    if fmt.get("bold") is not None:
        target.CharWeight = 150.0 if fmt["bold"] else 100.0
    if fmt.get("italic") is not None:
        target.CharPosture = uno.Enum("com.sun.star.awt.FontSlant", "ITALIC" if fmt["italic"] else "NONE")
    if fmt.get("underline") is not None:
        target.CharUnderline = 1 if fmt["underline"] else 0
    if fmt.get("color") is not None:
        target.CharColor = fmt["color"]
    if fmt.get("align") is not None:
        target.ParaAdjust = uno.Enum("com.sun.star.style.ParagraphAdjust", PARA_ADJUST[fmt["align"]])
    if fmt.get("line_spacing") is not None:
        spacing = uno.createUnoStruct("com.sun.star.style.LineSpacing")
        spacing.Mode = 0  # PROP: a percentage of single spacing
        spacing.Height = round(fmt["line_spacing"] * 100)
        target.ParaLineSpacing = spacing
    return {"formatted": what}


def op_writer_insert_table(office, rows, columns, values=None, after=None, doc=None):
    model = office.document("writer", doc)
    table = model.createInstance("com.sun.star.text.TextTable")
    table.initialize(rows, columns)
    body, cursor = insertion_point(model, "after" if after else "end", after)
    if after is None and paragraphs(model)[-1].getString():
        body.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    body.insertTextContent(cursor, table, False)
    for r, row in enumerate(values or []):
        for c, value in enumerate(row[:columns]):
            if r < rows and value is not None:
                cell = table.getCellByPosition(c, r)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    cell.setValue(value)
                else:
                    cell.setString(str(value))
    return {"name": table.getName(), "rows": rows, "columns": columns}


def op_writer_insert_page_break(office, after=None, doc=None):
    model = office.document("writer", doc)
    body, cursor = insertion_point(model, "after" if after else "end", after)
    if after is None:
        body.insertControlCharacter(cursor, PARAGRAPH_BREAK, False)
    cursor.BreakType = uno.Enum("com.sun.star.style.BreakType", "PAGE_BEFORE")
    return {"pages": model.getCurrentController().PageCount}


def op_writer_add_page_numbers(office, position="footer", align="center", doc=None):
    model = office.document("writer", doc)
    style_name = paragraphs(model)[0].PageStyleName
    style = model.getStyleFamilies().getByName("PageStyles").getByName(style_name)
    setattr(style, "HeaderIsOn" if position == "header" else "FooterIsOn", True)
    area = style.HeaderText if position == "header" else style.FooterText
    area.setString("")
    field = model.createInstance("com.sun.star.text.TextField.PageNumber")
    field.NumberingType = 4  # ARABIC
    field.SubType = uno.Enum("com.sun.star.text.PageNumberType", "CURRENT")
    cursor = area.createTextCursor()
    area.insertTextContent(cursor, field, False)
    cursor.gotoStart(False)
    cursor.gotoEnd(True)
    cursor.ParaAdjust = uno.Enum("com.sun.star.style.ParagraphAdjust", PARA_ADJUST[align])
    return {"page_style": style_name, "position": position}


# ----- Impress ---------------------------------------------------------------------------------

LAYOUTS = {"title_slide": 0, "title_content": 1, "title_two_content": 3, "title_only": 19, "blank": 20,
           "centered_text": 32}  # fmt: skip
TITLE_SHAPES = ("com.sun.star.presentation.TitleTextShape",)
BODY_SHAPES = ("com.sun.star.presentation.OutlinerShape", "com.sun.star.presentation.SubtitleShape")


def slide(model, number):
    pages = model.getDrawPages()
    if not 1 <= number <= pages.getCount():
        raise Refused(f"slide {number} does not exist: the presentation has {pages.getCount()} (numbered from 1).")
    return pages.getByIndex(number - 1)


def shapes_of(page):
    out = []
    for i in range(page.getCount()):
        shape = page.getByIndex(i)
        kind = shape.getShapeType()
        out.append({
            "number": i + 1,
            "type": kind.rsplit(".", 1)[-1].removesuffix("Shape").lower() or "shape",
            "text": shape.getString() if hasattr(shape, "getString") else "",
        })  # fmt: skip
    return out


def layout_name(code):
    return next((name for name, value in LAYOUTS.items() if value == code), f"layout {code}")


def op_impress_info(office, doc=None):
    model = office.document("impress", doc)
    pages = model.getDrawPages()
    current = model.getCurrentController().getCurrentPage()
    slides = []
    for i in range(pages.getCount()):
        page = pages.getByIndex(i)
        slides.append({"number": i + 1, "name": page.Name, "layout": layout_name(page.Layout),
                       "current": page == current, "shapes": shapes_of(page)})  # fmt: skip
    return {"id": doc_id(model), "title": title_of(model), "slides": slides}


def op_impress_add_slide(office, layout="title_content", position=None, title=None, text=None, doc=None):
    model = office.document("impress", doc)
    pages = model.getDrawPages()
    count = pages.getCount()
    number = count + 1 if position is None else min(position, count + 1)
    if number < 2:
        raise Refused(
            "a slide cannot be added before the first one (the API cannot move slides): use position 2 or later."
        )
    # insertNewByIndex(i) puts the new slide after the slide at index i.
    page = pages.insertNewByIndex(number - 2)
    page.Layout = LAYOUTS[layout]
    set_placeholder(page, TITLE_SHAPES, title, "title")
    set_placeholder(page, BODY_SHAPES, text, "text")
    model.getCurrentController().setCurrentPage(page)
    return {"number": number, "slides": pages.getCount(), "shapes": shapes_of(page)}


def set_placeholder(page, types, text, what):
    if text is None:
        return
    for i in range(page.getCount()):
        shape = page.getByIndex(i)
        if shape.getShapeType() in types:
            shape.setString(text)
            return
    raise Refused(f"this slide's layout has no {what} placeholder: pick a layout with one, or use impress_set_text.")


def op_impress_set_text(office, slide_number, shape, text, doc=None):
    model = office.document("impress", doc)
    page = slide(model, slide_number)
    if not 1 <= shape <= page.getCount():
        raise Refused(f"slide {slide_number} has {page.getCount()} shapes (numbered from 1): impress_info lists them.")
    target = page.getByIndex(shape - 1)
    if not hasattr(target, "setString"):
        raise Refused(f"shape {shape} on slide {slide_number} holds no text.")
    target.setString(text)
    return {"slide": slide_number, "shape": shape}


def op_impress_set_title(office, slide_number, title, doc=None):
    model = office.document("impress", doc)
    page = slide(model, slide_number)
    set_placeholder(page, TITLE_SHAPES, title, "title")
    return {"slide": slide_number}


def op_impress_delete_slide(office, slide_number, doc=None):
    model = office.document("impress", doc)
    pages = model.getDrawPages()
    page = slide(model, slide_number)
    if pages.getCount() == 1:
        raise Refused("a presentation keeps at least one slide: add another before deleting this one.")
    pages.remove(page)
    return {"slides": pages.getCount()}


def op_ping(office):
    office.desktop.getComponents()
    return {"alive": True}


# ----- the loop --------------------------------------------------------------------------------

OPS = {name[3:]: fn for name, fn in dict(globals()).items() if name.startswith("op_")}


def answer(request_id, ok, payload):
    key = "result" if ok else "error"
    sys.stdout.write(json.dumps({"id": request_id, "ok": ok, key: payload}) + "\n")
    sys.stdout.flush()


def serve(office):
    for line in sys.stdin:
        try:
            request = json.loads(line)
            request_id, op, args = request["id"], request["op"], request.get("args", {})
        except (ValueError, KeyError, TypeError):
            answer(None, False, {"type": "internal", "message": "a request that is not JSON with id and op"})
            continue
        try:
            if op == "connect":
                result = office.connect(**args)
            elif office.desktop is None:
                raise Gone("not connected")
            elif op not in OPS:
                raise Refused(f"unknown operation {op!r}")
            else:
                result = OPS[op](office, **args)
            answer(request_id, True, result)
        except (Refused, Gone) as exc:
            answer(request_id, False, {"type": exc.kind, "message": str(exc)})
        except DisposedException as exc:
            office.desktop = None
            answer(request_id, False, {"type": "gone", "message": exc.Message or "the connection was closed"})
        except UnoRuntimeException as exc:
            # A broken bridge raises RuntimeException too; the ping tells the server which it was.
            answer(request_id, False, {"type": "uno", "message": exc.Message or type(exc).__name__})
        except UnoException as exc:
            answer(request_id, False, {"type": "uno", "message": exc.Message or type(exc).__name__})
        except Exception as exc:
            answer(request_id, False, {"type": "internal", "message": f"{type(exc).__name__}: {exc}",
                                       "trace": traceback.format_exc(limit=5)})  # fmt: skip


if __name__ == "__main__":
    serve(Office(sys.argv[1]))
