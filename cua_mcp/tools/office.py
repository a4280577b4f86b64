"""LibreOffice through UNO (group `office`): `office_*`, `calc_*`, `writer_*`, `impress_*`.

A thin layer over apps/office: schemas with bounds, descriptions for a model, and each answer as
compact text for the model plus structured content for programs.
"""

import re
from typing import Annotated, Any, Literal

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from cua_mcp.accessibility.grid import column_letters, grid_lines, parse_address
from cua_mcp.apps.office import Office
from cua_mcp.errors import InvalidArgumentError
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply

MAX_SET_CELLS = 10_000
_ECHO_CELLS = 120  # calc_set_cells shows what the cells now display up to this many

Doc = Annotated[
    str | None,
    Field(
        max_length=200,
        description="A document id from office_info (d1), or part of its title; default: the active one.",
    ),
]
CellRange = Annotated[
    str,
    Field(
        min_length=2,
        max_length=80,
        description="Cells like 'A1:C10', 'B2' or 'Sheet2.A1:C3' (the active sheet when no sheet is named).",
    ),
]
SheetName = Annotated[str, Field(min_length=1, max_length=100, description="A sheet's name.")]
Color = Annotated[
    str | None,
    Field(
        max_length=20,
        description="A colour as #RRGGBB or a name: black, white, red, green, blue, yellow, orange, gray.",
    ),
]
CellValue = float | int | str | bool | None
Paragraph = Annotated[
    int, Field(ge=1, le=1_000_000, description="A paragraph number (from 1), as writer_get_text shows.")
]
SlideNumber = Annotated[int, Field(ge=1, le=10_000, description="A slide number, from 1.")]
# Calc's sheet limits: 1,048,576 rows and 16,384 columns (A to XFD).
_Row = Annotated[int, Field(ge=1, le=1_048_576)]
_Column = (
    Annotated[str, Field(min_length=1, max_length=3, pattern="^[A-Za-z]+$")] | Annotated[int, Field(ge=1, le=16_384)]
)
_COLORS = {
    "black": 0x000000, "white": 0xFFFFFF, "red": 0xFF0000, "green": 0x00A933, "blue": 0x2A6099,
    "yellow": 0xFFFF00, "orange": 0xFF8000, "gray": 0x808080, "grey": 0x808080,
}  # fmt: skip


class Done(BaseModel):
    done: str = Field(description="What was done, in a sentence.")
    details: dict[str, Any] = Field(default_factory=dict, description="What LibreOffice reported.")


class DocumentInfo(BaseModel):
    id: str = Field(description="Pass as doc to the pack tools.")
    kind: Literal["calc", "writer", "impress"]
    title: str
    path: str | None = Field(description="Its file, when it has one.")
    modified: bool = False
    active: bool = False


class OfficeInfo(BaseModel):
    running: bool = Field(description="Whether the server's LibreOffice runs.")
    documents: list[DocumentInfo]


class SheetInfo(BaseModel):
    name: str
    used_range: str | None = Field(description="The cells holding content; null for an empty sheet.")


class CalcInfo(BaseModel):
    id: str
    title: str
    sheets: list[SheetInfo]
    active_sheet: str
    selection: str | None


class Cells(BaseModel):
    sheet: str
    range: str = Field(description="The cells returned (less than asked when cut).")
    text: list[list[str]] = Field(description="What each cell shows, row by row.")
    values: list[list[float | str]] = Field(description="Each cell's value: a number, or text ('' when empty).")
    formulas: list[list[str | None]] = Field(description="Each cell's formula, null where it has none.")
    cut: bool = Field(description="The range held more cells than max_cells: read the rest with another range.")


class Saved(BaseModel):
    id: str
    path: str = Field(description="Relative to the workspace.")
    absolute_path: str
    format: str
    size: int


class Opened(BaseModel):
    id: str
    kind: Literal["calc", "writer", "impress"]
    title: str
    path: str | None


def done(text: str, details: dict[str, Any] | None = None) -> CallToolResult:
    return reply(Done(done=text, details=details or {}), text)


def _color(value: str | None) -> int | None:
    if value is None:
        return None
    text = value.strip().lower()
    if text in _COLORS:
        return _COLORS[text]
    if re.fullmatch(r"#[0-9a-f]{6}", text):
        return int(text[1:], 16)
    raise InvalidArgumentError(f"{value!r} is not a colour: use #RRGGBB (like #ff8800) or a name such as red or blue.")


def grid(sheet: str, first: str, text: list[list[str]], formulas: list[list[str | None]] | None = None) -> str:
    """Cells in the snapshot's grid layout (a line of column letters led by the sheet, then a line a row);
    a formula follows its cell's value."""
    top = parse_address(first)
    assert top is not None
    width = max((len(row) for row in text), default=0)
    cells = [
        [f"{shown} {formulas[r][c]}" if formulas and formulas[r][c] else shown for c, shown in enumerate(row)]
        for r, row in enumerate(text)
    ]
    columns = [column_letters(top[1] + c) for c in range(width)]
    return "\n".join(grid_lines(columns, [top[0] + 1 + r for r in range(len(text))], cells, sheet))


def register(tools: ToolRegistrar, office: Office) -> None:
    """The pack's tools, acting on the server's LibreOffice."""
    _register_office(tools, office)
    _register_calc(tools, office)
    _register_writer(tools, office)
    _register_impress(tools, office)


def _register_office(tools: ToolRegistrar, office: Office) -> None:
    @tools.tool(group="office", title="LibreOffice documents", read_only=True, idempotent=True, untrusted_text=True)
    async def office_info() -> Annotated[CallToolResult, OfficeInfo]:
        """The LibreOffice documents open in the server's instance: id, kind (calc, writer, impress), title,
        file, modified flag, which is active. Start here: the calc_*, writer_* and impress_* tools read and
        change documents through LibreOffice's own API, in one call each, which is faster and surer than
        clicking and typing in its windows."""
        if not office.running:
            info = OfficeInfo(running=False, documents=[])
            return reply(
                info,
                "LibreOffice is not running. office_open starts it (a file in the workspace, or new='calc', "
                "'writer' or 'impress').",
            )
        docs = [DocumentInfo(**d) for d in (await office.call("info"))["documents"]]
        info = OfficeInfo(running=True, documents=docs)
        if not docs:
            return reply(info, "LibreOffice runs with no document open: office_open opens one.")
        lines = [f"{len(docs)} document(s) open in LibreOffice:"]
        for d in docs:
            flags = [f for f, on in (("active", d.active), ("modified", d.modified)) if on]
            where = d.path or "no file yet"
            lines.append(f"- {d.id} {d.kind} {d.title!r} ({where}{', ' if flags else ''}{', '.join(flags)})")
        return reply(info, "\n".join(lines))

    @tools.tool(
        group="office", title="Open a document in LibreOffice", read_only=False, open_world=True, untrusted_text=True
    )
    async def office_open(
        path: Annotated[
            str | None, Field(max_length=1024, description="A file in the workspace (.ods .xlsx .csv .odt .docx ...).")
        ] = None,
        new: Annotated[
            Literal["calc", "writer", "impress"] | None, Field(description="Instead of path: a new empty document.")
        ] = None,
        restart: Annotated[
            bool, Field(description="End a hung LibreOffice first and start a new one (unsaved changes are lost).")
        ] = False,
    ) -> Annotated[CallToolResult, Opened]:
        """Open a workspace file, or a new spreadsheet, text document or presentation, in the server's
        LibreOffice (started if needed; its window shows on the desktop) and make it the active document.
        Opening a file that is already open brings it to the front."""
        result = Opened(**await office.open(path, new, restart))
        tools_of = {"calc": "calc_*", "writer": "writer_*", "impress": "impress_*"}[result.kind]
        return reply(
            result,
            f"Opened {result.id} ({result.kind}) {result.title!r}: it is the active document; use the "
            f"{tools_of} tools on it and office_save to save it.",
        )

    @tools.tool(group="office", title="Save a document", read_only=False, destructive=True)
    async def office_save(
        doc: Doc = None,
        path: Annotated[
            str | None,
            Field(
                max_length=1024, description="Where in the workspace, e.g. 'out/report.xlsx'; default: its own file."
            ),
        ] = None,
        format: Annotated[
            Literal["ods", "xlsx", "csv", "pdf", "odt", "docx", "txt", "odp", "pptx"] | None,
            Field(description="File format; default: from the path's extension."),
        ] = None,
    ) -> Annotated[CallToolResult, Saved]:
        """Save a document into the workspace (replacing a file of that name): spreadsheets as ods, xlsx,
        csv (the active sheet) or pdf; text documents as odt, docx, pdf or txt; presentations as odp, pptx
        or pdf. Paths stay inside the workspace. Use this rather than the Save dialog."""
        saved = await office.save(doc, path, format)
        result = Saved(
            id=saved["id"], path=saved["path"], absolute_path=saved["absolute_path"], format=saved["format"],
            size=saved["size"],
        )  # fmt: skip
        return reply(
            result, f"Saved {result.id} {saved['title']!r} to {result.path} ({result.format}, {result.size} bytes)."
        )


def _register_calc(tools: ToolRegistrar, office: Office) -> None:
    calc = office.call

    @tools.tool(group="office", title="Spreadsheet overview", read_only=True, idempotent=True, untrusted_text=True)
    async def calc_info(doc: Doc = None) -> Annotated[CallToolResult, CalcInfo]:
        """The active spreadsheet's sheets with the range of cells each uses, the active sheet and the
        selection. Read cells with calc_get_cells; prefer these tools to reading the grid on screen."""
        info = CalcInfo(**await calc("calc_info", doc=doc))
        sheets = ", ".join(
            f"{s.name} ({s.used_range or 'empty'}{', active' if s.name == info.active_sheet else ''})"
            for s in info.sheets
        )
        return reply(info, f"{info.id} {info.title!r}: sheets {sheets}. Selection: {info.selection or 'none'}.")

    @tools.tool(group="office", title="Read cells", read_only=True, idempotent=True, untrusted_text=True)
    async def calc_get_cells(
        range: CellRange,
        doc: Doc = None,
        max_cells: Annotated[int, Field(ge=1, le=5000, description="Cells to return at most.")] = 2000,
    ) -> Annotated[CallToolResult, Cells]:
        """What cells show, with their values and formulas, in one call (rows cut at max_cells, and said so).
        Much faster and more exact than reading a sheet from screenshots or the accessibility tree."""
        got = await calc("calc_get_cells", area=range, max_cells=max_cells, doc=doc)
        cells = Cells(**{k: got[k] for k in ("sheet", "range", "text", "values", "formulas", "cut")})
        text = grid(cells.sheet, cells.range.split(":")[0], cells.text, cells.formulas)
        if cells.cut:
            text += f"\n[cut at {max_cells} cells: the range has {got['rows_in_range']} rows; read the rest next]"
        return reply(cells, text)

    @tools.tool(group="office", title="Write cells", read_only=False, destructive=True, untrusted_text=True)
    async def calc_set_cells(
        range: Annotated[
            str,
            Field(
                min_length=2,
                max_length=80,
                description="The top-left cell ('B2') or the whole range the values fill; 'Sheet2.B2' for another sheet.",
            ),
        ],
        values: Annotated[
            list[Annotated[list[CellValue], Field(max_length=1000)]],
            Field(
                min_length=1,
                max_length=MAX_SET_CELLS,
                description="Rows of cells: numbers, text, or formulas starting with '=' (e.g. '=SUM(B2:B9)'); "
                "null leaves a cell empty. Text that looks like a number stays a number unless it starts with "
                "an apostrophe ('007).",
            ),
        ],
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Fill a block of cells with numbers, text and formulas in one call (formulas use English function
        names and commas: =SUM(A1:A9), =IF(B2>0,"yes","no")). Returns what the cells now show. Far faster than
        clicking cells and typing."""
        if sum(len(row) for row in values) > MAX_SET_CELLS:
            raise InvalidArgumentError(f"at most {MAX_SET_CELLS} cells a call: split the block.")
        got = await calc("calc_set_cells", area=range, values=values, doc=doc)
        text = f"Set {got['cells']} cells {got['range']} on {got['sheet']}."
        if got["cells"] <= _ECHO_CELLS:
            text += " They show:\n" + grid(got["sheet"], got["range"].split(":")[0], got["text"])
        return done(text, {"sheet": got["sheet"], "range": got["range"], "cells": got["cells"], "text": got["text"]})

    class SortKey(BaseModel):
        column: _Column = Field(description="A column letter ('B') or number (from 1) of the sheet.")
        ascending: bool = True

    @tools.tool(group="office", title="Sort a range", read_only=False, destructive=True)
    async def calc_sort_range(
        range: CellRange,
        keys: Annotated[list[SortKey], Field(min_length=1, max_length=3, description="Sort by these, first first.")],
        header: Annotated[bool, Field(description="The range's first row is a header and stays on top.")] = False,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Sort the rows of a range by one to three columns (numbers numerically, text alphabetically)."""
        await calc("calc_sort_range", area=range, keys=[k.model_dump() for k in keys], header=header, doc=doc)
        order = ", ".join(f"{k.column} {'ascending' if k.ascending else 'descending'}" for k in keys)
        return done(f"Sorted {range} by {order}{' below its header row' if header else ''}.")

    @tools.tool(group="office", title="Number format", read_only=False, idempotent=True)
    async def calc_set_number_format(
        range: CellRange,
        format: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100,
                description="A Calc format code: '0.00', '#,##0', '0%', '0.0%', 'YYYY-MM-DD', '[$$-409]#,##0.00', '@' (text).",
            ),
        ],
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Set how numbers in a range are shown (decimals, thousands, percent, dates, currency)."""
        await calc("calc_set_number_format", area=range, format=format, doc=doc)
        return done(f"Cells {range} now use the number format {format!r}.")

    def rows_columns(what: Literal["rows", "columns"], action: Literal["insert", "delete"]):
        at_doc = (
            "The first row to " + action + " (from 1)."
            if what == "rows"
            else "The first column to " + action + ", as a letter ('C') or number (from 1)."
        )
        at_type = _Row if what == "rows" else _Column

        async def tool(
            at: Annotated[at_type, Field(description=at_doc)],  # type: ignore[valid-type]
            count: Annotated[int, Field(ge=1, le=100_000, description=f"How many {what}.")] = 1,
            sheet: Annotated[str | None, Field(max_length=100, description="A sheet; default: the active one.")] = None,
            doc: Doc = None,
        ) -> Annotated[CallToolResult, Done]:
            got = await calc("calc_rows_columns", what=what, action=action, at=at, count=count, sheet=sheet, doc=doc)
            return done(f"{got['done'].capitalize()} on {got['sheet']}.")

        verb = "Insert empty" if action == "insert" else "Delete"
        moved = "the ones below move down" if what == "rows" else "the ones to the right move right"
        if action == "delete":
            moved = "the ones below move up" if what == "rows" else "the ones to the right move left"
        tool.__name__ = f"calc_{action}_{what}"
        tool.__doc__ = f"{verb} {what} of a sheet ({moved}); formulas that refer to them are adjusted."
        tools.tool(group="office", title=f"{verb} {what}", read_only=False, destructive=action == "delete")(tool)

    for what in ("rows", "columns"):
        for action in ("insert", "delete"):
            rows_columns(what, action)  # type: ignore[arg-type]

    @tools.tool(group="office", title="Add a sheet", read_only=False)
    async def calc_add_sheet(
        name: SheetName,
        position: Annotated[
            int | None, Field(ge=1, le=10_000, description="Its place (from 1); default: last.")
        ] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Add an empty sheet and make it the active one."""
        got = await calc("calc_sheet", action="add", name=name, position=position, doc=doc)
        return done(f"Added sheet {name!r} (now active); the sheets are {', '.join(got['sheets'])}.", got)

    @tools.tool(group="office", title="Rename a sheet", read_only=False, idempotent=True)
    async def calc_rename_sheet(
        name: SheetName, new_name: SheetName, doc: Doc = None
    ) -> Annotated[CallToolResult, Done]:
        """Rename a sheet; formulas that refer to it follow."""
        got = await calc("calc_sheet", action="rename", name=name, new_name=new_name, doc=doc)
        return done(f"Renamed sheet {name!r} to {new_name!r}; the sheets are {', '.join(got['sheets'])}.", got)

    @tools.tool(group="office", title="Delete a sheet", read_only=False, destructive=True)
    async def calc_delete_sheet(name: SheetName, doc: Doc = None) -> Annotated[CallToolResult, Done]:
        """Delete a sheet, by its name, and everything on it. Check the name with calc_info first."""
        got = await calc("calc_sheet", action="delete", name=name, doc=doc)
        return done(f"Deleted sheet {name!r}; the sheets are {', '.join(got['sheets'])}.", got)

    @tools.tool(group="office", title="Merge cells", read_only=False, idempotent=True)
    async def calc_merge_cells(
        range: CellRange,
        merge: Annotated[bool, Field(description="false splits merged cells again.")] = True,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Merge a range into one cell (it shows the top-left cell's content), or split it again."""
        await calc("calc_merge_cells", area=range, merge=merge, doc=doc)
        return done(f"{'Merged' if merge else 'Split'} {range}.")

    @tools.tool(group="office", title="Style cells", read_only=False, idempotent=True)
    async def calc_set_style(
        range: CellRange,
        bold: bool | None = None,
        italic: bool | None = None,
        font_size: Annotated[float | None, Field(ge=1, le=400, description="Points.")] = None,
        font_color: Color = None,
        background_color: Color = None,
        align: Literal["left", "center", "right", "justify"] | None = None,
        wrap: Annotated[bool | None, Field(description="Wrap text within the cells.")] = None,
        borders: Annotated[
            bool | None, Field(description="Thin lines around and between the cells; false removes them.")
        ] = None,
        column_width_cm: Annotated[
            float | None, Field(gt=0, le=100, description="Width of the range's columns.")
        ] = None,
        row_height_cm: Annotated[float | None, Field(gt=0, le=100, description="Height of the range's rows.")] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Format a range: bold, italic, font size and colour, background colour, alignment, wrapping,
        borders, column width, row height. Only the options given change."""
        style = {
            "bold": bold, "italic": italic, "font_size": font_size, "font_color": _color(font_color),
            "background_color": _color(background_color), "align": align, "wrap": wrap, "borders": borders,
            "column_width_cm": column_width_cm, "row_height_cm": row_height_cm,
        }  # fmt: skip
        given = {k: v for k, v in style.items() if v is not None}
        if not given:
            raise InvalidArgumentError("give at least one style option (bold, font_color, borders, ...).")
        await calc("calc_set_style", area=range, **given, doc=doc)
        return done(f"Styled {range}: {', '.join(f'{k}={v}' for k, v in given.items())}.")

    @tools.tool(group="office", title="Make a chart", read_only=False)
    async def calc_create_chart(
        range: CellRange,
        kind: Literal["column", "bar", "line", "pie", "area", "scatter"] = "column",
        title: Annotated[str | None, Field(max_length=200)] = None,
        anchor: Annotated[
            str | None,
            Field(max_length=20, description="The cell its top-left corner sits on; default: right of the data."),
        ] = None,
        header: Annotated[bool, Field(description="The first row and column label the series and categories.")] = True,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Insert a chart of a range's data on its sheet."""
        got = await calc("calc_create_chart", area=range, kind=kind, title=title, anchor=anchor, header=header, doc=doc)
        return done(f"Made {kind} chart {got['name']!r} of {range} on {got['sheet']}.", got)

    @tools.tool(group="office", title="Freeze panes", read_only=False, idempotent=True)
    async def calc_freeze_panes(
        rows: Annotated[int, Field(ge=0, le=10_000, description="Rows kept in view at the top (0: none).")] = 1,
        columns: Annotated[int, Field(ge=0, le=1000, description="Columns kept in view at the left.")] = 0,
        sheet: Annotated[str | None, Field(max_length=100, description="A sheet; default: the active one.")] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Keep the top rows and left columns in view while scrolling (rows=0, columns=0 unfreezes)."""
        got = await calc("calc_freeze_panes", rows=rows, columns=columns, sheet=sheet, doc=doc)
        return done(f"Froze {rows} row(s) and {columns} column(s) on {got['sheet']}.")

    @tools.tool(group="office", title="Find in a spreadsheet", read_only=True, idempotent=True, untrusted_text=True)
    async def calc_find(
        text: Annotated[str, Field(min_length=1, max_length=1000)],
        sheet: Annotated[str | None, Field(max_length=100, description="A sheet; default: all sheets.")] = None,
        match_case: bool = False,
        whole_cell: Annotated[bool, Field(description="Match whole cell contents only.")] = False,
        limit: Annotated[int, Field(ge=1, le=1000)] = 50,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """The cells whose content contains a text (or equals it, with whole_cell), with what they show."""
        got = await calc(
            "calc_find", text=text, sheet=sheet, match_case=match_case, whole_cell=whole_cell, limit=limit, doc=doc
        )
        if not got["matches"]:
            return done(f"No cell contains {text!r}.", got)
        lines = [
            f"{got['total']} cell(s) contain {text!r}{' (first ' + str(limit) + ')' if got['total'] > limit else ''}:"
        ]
        lines += [f"- {m['sheet']}.{m['cell']}: {m['text']}" for m in got["matches"]]
        return done("\n".join(lines), got)


def _register_writer(tools: ToolRegistrar, office: Office) -> None:
    writer = office.call

    @tools.tool(group="office", title="Text document overview", read_only=True, idempotent=True, untrusted_text=True)
    async def writer_info(doc: Doc = None) -> Annotated[CallToolResult, Done]:
        """The active text document: paragraph count, characters, pages, paragraph styles in use, tables and
        the selected text. Read it with writer_get_text rather than from the screen."""
        got = await writer("writer_info", doc=doc)
        tables = ", ".join(f"{t['name']} ({t['rows']}x{t['columns']})" for t in got["tables"]) or "none"
        text = (
            f"{got['id']} {got['title']!r}: {got['paragraphs']} paragraphs, {got['characters']} characters, "
            f"{got['pages']} page(s); styles {', '.join(got['styles'])}; tables {tables}; "
            f"selection {got['selection']!r}."
        )
        return done(text, got)

    @tools.tool(group="office", title="Read a text document", read_only=True, idempotent=True, untrusted_text=True)
    async def writer_get_text(
        first: Paragraph = 1,
        last: Annotated[int | None, Field(ge=1, le=1_000_000, description="Last paragraph; default: the end.")] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """The text of paragraphs first..last, numbered (tables are not included: writer_info lists them).
        At most 20,000 characters a call, with a note when cut."""
        got = await writer("writer_get_text", first=first, last=last, doc=doc)
        lines = [
            f"{p['number']}: {'[' + p['style'] + '] ' if p['style'] not in ('Standard', 'Default Paragraph Style') else ''}{p['text']}"
            for p in got["paragraphs"]
        ]
        if not lines:
            lines = ["(no paragraphs in that range)"]
        if got["cut"]:
            nxt = got["paragraphs"][-1]["number"] + 1 if got["paragraphs"] else first
            lines.append(f"[cut at 20000 characters: {got['total']} paragraphs in all; read on with first={nxt}]")
        return done("\n".join(lines), got)

    @tools.tool(group="office", title="Insert text", read_only=False)
    async def writer_insert_text(
        text: Annotated[str, Field(min_length=1, max_length=100_000, description="'\\n' starts a new paragraph.")],
        at: Annotated[
            Literal["end", "start", "cursor", "after"],
            Field(
                description="end of the document, its start, the text cursor, or after paragraph N (a new paragraph)."
            ),
        ] = "end",
        paragraph: Annotated[int | None, Field(ge=1, le=1_000_000, description="N, for at='after'.")] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Insert text into the active text document in one call, without typing. at='end' continues the
        last paragraph: begin the text with '\\n' to start a new one (an empty document has one empty
        paragraph, which the text fills)."""
        if (at == "after") != (paragraph is not None):
            raise InvalidArgumentError("give paragraph exactly when at='after' (the paragraph to insert after).")
        got = await writer("writer_insert_text", text=text, at=at, after=paragraph, doc=doc)
        where = f"after paragraph {paragraph}" if at == "after" else f"at the {at}"
        return done(f"Inserted {len(text)} characters {where}; the document has {got['paragraphs']} paragraphs.", got)

    @tools.tool(group="office", title="Find and replace", read_only=False, destructive=True)
    async def writer_find_replace(
        find: Annotated[str, Field(min_length=1, max_length=1000)],
        replace: Annotated[str, Field(max_length=10_000)],
        regex: Annotated[
            bool, Field(description="find is a regular expression (ICU; $1 in replace for groups).")
        ] = False,
        match_case: bool = False,
        all: Annotated[bool, Field(description="Replace every occurrence; false: the first only.")] = True,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Replace text throughout the active text document in one call; says how many were replaced."""
        got = await writer(
            "writer_find_replace", find=find, replace=replace, regex=regex, match_case=match_case, all=all, doc=doc
        )
        return done(f"Replaced {got['replaced']} occurrence(s) of {find!r} with {replace!r}.", got)

    @tools.tool(group="office", title="Format text", read_only=False, idempotent=True)
    async def writer_set_format(
        first: Annotated[
            int | None, Field(ge=1, le=1_000_000, description="First paragraph; default: the selection.")
        ] = None,
        last: Annotated[int | None, Field(ge=1, le=1_000_000, description="Last paragraph; default: first.")] = None,
        font: Annotated[str | None, Field(max_length=100, description="A font name, e.g. 'Liberation Serif'.")] = None,
        size: Annotated[float | None, Field(ge=1, le=400, description="Points.")] = None,
        bold: bool | None = None,
        italic: bool | None = None,
        underline: bool | None = None,
        color: Color = None,
        align: Literal["left", "center", "right", "justify"] | None = None,
        line_spacing: Annotated[float | None, Field(ge=0.5, le=5, description="1 single, 1.5, 2 double.")] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Format paragraphs first..last (or the selected text): font, size, bold, italic, underline,
        colour, alignment, line spacing. Only the options given change."""
        fmt = {
            "font": font, "size": size, "bold": bold, "italic": italic, "underline": underline,
            "color": _color(color), "align": align, "line_spacing": line_spacing,
        }  # fmt: skip
        given = {k: v for k, v in fmt.items() if v is not None}
        if not given:
            raise InvalidArgumentError("give at least one format option (bold, align, size, ...).")
        got = await writer("writer_set_format", first=first, last=last, doc=doc, **given)
        return done(f"Formatted {got['formatted']}: {', '.join(f'{k}={v}' for k, v in given.items())}.", got)

    @tools.tool(group="office", title="Insert a table", read_only=False)
    async def writer_insert_table(
        rows: Annotated[int, Field(ge=1, le=1000)],
        columns: Annotated[int, Field(ge=1, le=60)],
        values: Annotated[
            list[Annotated[list[CellValue], Field(max_length=60)]] | None,
            Field(max_length=1000, description="Cell contents, row by row (optional)."),
        ] = None,
        after_paragraph: Annotated[
            int | None, Field(ge=1, le=1_000_000, description="Insert after this paragraph; default: at the end.")
        ] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Insert a table into the active text document, filled with values if given."""
        got = await writer(
            "writer_insert_table", rows=rows, columns=columns, values=values, after=after_paragraph, doc=doc
        )
        return done(f"Inserted table {got['name']} ({rows} rows x {columns} columns).", got)

    @tools.tool(group="office", title="Insert a page break", read_only=False)
    async def writer_insert_page_break(
        after_paragraph: Annotated[
            int | None, Field(ge=1, le=1_000_000, description="Break after this paragraph; default: at the end.")
        ] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Start a new page after a paragraph (or at the end, where the next inserted text goes)."""
        got = await writer("writer_insert_page_break", after=after_paragraph, doc=doc)
        return done(f"Inserted a page break; the document has {got['pages']} page(s).", got)

    @tools.tool(group="office", title="Add page numbers", read_only=False, idempotent=True)
    async def writer_add_page_numbers(
        position: Literal["footer", "header"] = "footer",
        align: Literal["left", "center", "right"] = "center",
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Show each page's number in the footer (or header) of the document's page style."""
        got = await writer("writer_add_page_numbers", position=position, align=align, doc=doc)
        return done(f"Page numbers are in the {position}, {align}-aligned (page style {got['page_style']}).", got)


def _register_impress(tools: ToolRegistrar, office: Office) -> None:
    impress = office.call

    @tools.tool(group="office", title="Presentation overview", read_only=True, idempotent=True, untrusted_text=True)
    async def impress_info(doc: Doc = None) -> Annotated[CallToolResult, Done]:
        """The active presentation's slides, each with its layout and numbered shapes and their text (the
        numbers impress_set_text takes)."""
        got = await impress("impress_info", doc=doc)
        lines = [f"{got['id']} {got['title']!r}: {len(got['slides'])} slide(s)"]
        for s in got["slides"]:
            lines.append(f"slide {s['number']} ({s['layout']}{', current' if s['current'] else ''}):")
            lines += [f"  shape {sh['number']} {sh['type']}: {sh['text']!r}" for sh in s["shapes"]]
        return done("\n".join(lines), got)

    @tools.tool(group="office", title="Add a slide", read_only=False)
    async def impress_add_slide(
        layout: Literal[
            "title_content", "title_slide", "title_only", "title_two_content", "centered_text", "blank"
        ] = "title_content",
        position: Annotated[int | None, Field(ge=2, le=10_000, description="Its number; default: last.")] = None,
        title: Annotated[str | None, Field(max_length=1000, description="Text of its title placeholder.")] = None,
        text: Annotated[
            str | None, Field(max_length=20_000, description="Text of its body placeholder; '\\n' separates bullets.")
        ] = None,
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Add a slide with a layout, and fill its title and body in the same call."""
        got = await impress("impress_add_slide", layout=layout, position=position, title=title, text=text, doc=doc)
        return done(f"Added slide {got['number']} ({layout}); the presentation has {got['slides']} slides.", got)

    @tools.tool(group="office", title="Set a shape's text", read_only=False, idempotent=True)
    async def impress_set_text(
        slide: SlideNumber,
        shape: Annotated[int, Field(ge=1, le=1000, description="The shape's number, as impress_info lists it.")],
        text: Annotated[str, Field(max_length=20_000, description="'\\n' separates paragraphs (bullets).")],
        doc: Doc = None,
    ) -> Annotated[CallToolResult, Done]:
        """Replace the text of a shape on a slide (a title, a body placeholder, a text box)."""
        got = await impress("impress_set_text", slide_number=slide, shape=shape, text=text, doc=doc)
        return done(f"Set the text of shape {shape} on slide {slide}.", got)

    @tools.tool(group="office", title="Set a slide's title", read_only=False, idempotent=True)
    async def impress_set_title(
        slide: SlideNumber, title: Annotated[str, Field(max_length=1000)], doc: Doc = None
    ) -> Annotated[CallToolResult, Done]:
        """Set the text of a slide's title placeholder."""
        got = await impress("impress_set_title", slide_number=slide, title=title, doc=doc)
        return done(f"Slide {slide}'s title is {title!r}.", got)

    @tools.tool(group="office", title="Delete a slide", read_only=False, destructive=True)
    async def impress_delete_slide(slide: SlideNumber, doc: Doc = None) -> Annotated[CallToolResult, Done]:
        """Delete a slide; the ones after it move up a number."""
        got = await impress("impress_delete_slide", slide_number=slide, doc=doc)
        return done(f"Deleted slide {slide}; the presentation has {got['slides']} slides.", got)
