"""The LibreOffice pack through a real MCP client: documents made with the tools, saved, and read back
with real readers (openpyxl, odfpy, python-docx, python-pptx). One soffice for the module."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pptx
import pytest
from docx.enum.text import WD_ALIGN_PARAGRAPH
from odf import opendocument
from odf.namespaces import OFFICENS, TABLENS
from odf.table import Table, TableCell, TableRow

from tests.support.desktop import wait_until
from tests.support.mcp_client import attached_server, error_text
from tests.support.processes import child_server_pid, descendants

pytestmark = pytest.mark.slow

FRUITS = ["apple", "pear", "plum", "fig", "kiwi", "lime", "date", "peach", "grape", "melon",
          "lemon", "mango", "guava", "olive", "quince", "cherry", "berry", "papaya", "apricot", "orange"]  # fmt: skip


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("office-workspace")


@pytest.fixture(scope="module")
def client(session, workspace):
    with attached_server(session, "--workspace", str(workspace)) as mcp:
        mcp.server_pid = child_server_pid()
        yield mcp


def call_text(client, name: str, arguments: dict | None = None) -> str:
    """The text block the model reads (inside its untrusted-content fence, if the tool has one)."""
    text = client.text(name, arguments or {}, timeout=180)
    assert not text.lstrip().startswith("{"), f"{name} answered JSON to the model: {text[:200]}"
    return text


def soffice_pids(server_pid: int) -> set[int]:
    """soffice.bin processes the server started."""
    found = set()
    for pid in descendants(server_pid):
        try:
            if Path(f"/proc/{pid}/comm").read_text().strip() == "soffice.bin":
                found.add(pid)
        except OSError:
            pass
    return found


def test_a_pack_call_before_libreoffice_runs_says_how_to_start_it(client):
    assert "office_open" in call_text(client, "office_info")
    message = client.error("calc_get_cells", {"range": "A1:B2"})
    assert "LibreOffice is not running" in message and "office_open" in message


def test_the_pack_is_listed_and_described(client):
    names = set(client.tool_names())
    assert {"office_open", "office_save", "calc_set_cells", "writer_find_replace", "impress_add_slide"} <= names
    assert {"calc_insert_rows", "calc_delete_columns"} <= names


def rows_20x5() -> list[list]:
    header = ["fruit", "qty", "price", "total", "tag"]
    rows = [[FRUITS[i], (i * 7) % 20 + 1, round(0.25 * (i + 1), 2), f"=B{i + 2}*C{i + 2}", f"t{i}"] for i in range(20)]
    return [header, *rows]


def test_calc_block_sorted_and_saved_as_xlsx_and_ods(client, workspace):
    assert "calc" in call_text(client, "office_open", {"new": "calc"})
    block = rows_20x5()
    shown = call_text(client, "calc_set_cells", {"range": "A1", "values": block})
    assert "Set 105 cells A1:E21" in shown and "\n21\torange\t14\t5\t70\tt19" in shown
    call_text(
        client, "calc_sort_range", {"range": "A1:E21", "keys": [{"column": "B", "ascending": False}], "header": True}
    )
    read = call_text(client, "calc_get_cells", {"range": "A1:E3"})
    assert read.splitlines()[0] == "Sheet1\tA\tB\tC\tD\tE"

    data = sorted(block[1:], key=lambda r: -r[1])  # Calc's sort is stable, as Python's
    assert call_text(client, "office_save", {"path": "fruit.xlsx"}).startswith("Saved")
    assert "fruit.ods" in call_text(client, "office_save", {"path": "fruit.ods"})

    values = openpyxl.load_workbook(workspace / "fruit.xlsx", data_only=True).active
    formulas = openpyxl.load_workbook(workspace / "fruit.xlsx").active
    assert [c.value for c in values[1]] == block[0]
    for r, (fruit, qty, price, _, tag) in enumerate(data, start=2):
        assert [values.cell(r, c).value for c in (1, 2, 3, 5)] == [fruit, qty, price, tag]
        assert values.cell(r, 4).value == pytest.approx(qty * price)
        # Sorting moves formulas with their rows, re-pointed at the row they now sit in.
        assert formulas.cell(r, 4).value == f"=B{r}*C{r}"

    cells = ods_cells(workspace / "fruit.ods")
    assert [v for v, _ in cells[0][:5]] == block[0]
    for r, (fruit, qty, price, _, tag) in enumerate(data, start=2):
        row = cells[r - 1]
        assert [row[0][0], float(row[1][0]), float(row[2][0]), row[4][0]] == [fruit, qty, price, tag]
        assert float(row[3][0]) == pytest.approx(qty * price)
        assert row[3][1] == f"of:=[.B{r}]*[.C{r}]"


def ods_cells(path: Path) -> list[list[tuple[object, str | None]]]:
    """(value, formula) of each cell of the first sheet, row by row (repeated cells expanded)."""
    sheet = opendocument.load(str(path)).spreadsheet.getElementsByType(Table)[0]
    rows = []
    for row in sheet.getElementsByType(TableRow):
        cells = []
        for cell in row.getElementsByType(TableCell):
            repeat = int(cell.attributes.get((TABLENS, "number-columns-repeated"), 1))
            kind = cell.attributes.get((OFFICENS, "value-type"))
            value = cell.attributes.get((OFFICENS, "value")) if kind == "float" else str(cell)
            cells += [(value, cell.attributes.get((TABLENS, "formula")))] * min(repeat, 10)
        rows.append(cells)
    return rows


def test_calc_rows_sheet_and_chart_land_in_the_file(client, workspace):
    call_text(client, "calc_insert_rows", {"at": 1, "count": 2})
    assert "Data" in call_text(client, "calc_rename_sheet", {"name": "Sheet1", "new_name": "Data"})
    assert "chart" in call_text(client, "calc_create_chart", {"range": "A3:B8", "kind": "column", "title": "Qty"})
    info = call_text(client, "calc_info")
    assert "sheets Data (" in info and ":E23, active)" in info
    call_text(client, "office_save", {"path": "charted.xlsx"})
    book = openpyxl.load_workbook(workspace / "charted.xlsx")
    assert book.sheetnames == ["Data"]
    sheet = book["Data"]
    assert sheet["A1"].value is None and sheet["A3"].value == "fruit"
    with zipfile.ZipFile(workspace / "charted.xlsx") as package:
        charts = [n for n in package.namelist() if n.startswith("xl/charts/chart")]
        assert len(charts) == 1
        chart = package.read(charts[0]).decode().replace("'", "")
    # The header row names the series; the first column holds the categories.
    assert "<c:f>Data!$B$3</c:f>" in chart and "<c:f>Data!$A$4:$A$8</c:f>" in chart
    assert "<c:f>Data!$B$4:$B$8</c:f>" in chart and "<a:t>Qty</a:t>" in chart and '<c:barDir val="col"/>' in chart


def test_writer_replace_bold_centre_table_saved_as_docx(client, workspace):
    call_text(client, "office_open", {"new": "writer"})
    call_text(client, "writer_insert_text", {"text": "The cat sat on the mat.\nEvery cat likes a cat nap."})
    assert "Replaced 3" in call_text(client, "writer_find_replace", {"find": "cat", "replace": "dog"})
    call_text(client, "writer_set_format", {"first": 1, "bold": True, "align": "center"})
    call_text(
        client,
        "writer_insert_table",
        {"rows": 3, "columns": 3, "values": [["a", "b", "c"], [1, 2, 3], ["x", "y", "z"]]},
    )
    text = call_text(client, "writer_get_text")
    assert text.startswith("1: The dog sat on the mat.\n2: Every dog likes a dog nap.")
    call_text(client, "office_save", {"path": "story.docx"})

    document = docx.Document(str(workspace / "story.docx"))
    paragraphs = [p for p in document.paragraphs if p.text]
    assert [p.text for p in paragraphs] == ["The dog sat on the mat.", "Every dog likes a dog nap."]
    first, second = paragraphs
    assert all(run.bold for run in first.runs) and first.alignment == WD_ALIGN_PARAGRAPH.CENTER
    assert not any(run.bold for run in second.runs) and second.alignment != WD_ALIGN_PARAGRAPH.CENTER
    (table,) = document.tables
    assert [[c.text for c in row.cells] for row in table.rows] == [["a", "b", "c"], ["1", "2", "3"], ["x", "y", "z"]]


def test_impress_three_slides_saved_as_pptx(client, workspace):
    call_text(client, "office_open", {"new": "impress"})
    call_text(client, "impress_set_title", {"slide": 1, "title": "Quarterly review"})
    call_text(client, "impress_set_text", {"slide": 1, "shape": 2, "text": "Team North"})
    call_text(client, "impress_add_slide", {"title": "Sales", "text": "Up 10%\nNew customers"})
    call_text(client, "impress_add_slide", {"title": "Plans", "text": "Hire two people"})
    info = call_text(client, "impress_info")
    assert "3 slide(s)" in info and "shape 1 titletext: 'Plans'" in info
    call_text(client, "office_save", {"path": "deck.pptx"})

    deck = pptx.Presentation(str(workspace / "deck.pptx"))
    slides = [[shape.text_frame.text for shape in slide.shapes if shape.has_text_frame] for slide in deck.slides]
    assert slides == [
        ["Quarterly review", "Team North"],
        ["Sales", "Up 10%\nNew customers"],
        ["Plans", "Hire two people"],
    ]


def test_typed_lines_are_paragraphs_in_impress_outline_text(client):
    # LibreOffice lost a Return typed in the same burst as the text before it (its autocorrection runs
    # a moment after typing stops): "Up 10%New customers".
    call_text(client, "office_open", {"new": "impress"})
    new_slide = wait_until(
        lambda: client.call("find", {"role": "push button", "name": "New Slide"})["elements"], timeout=60, what="it"
    )
    client.call("click", {"ref": new_slide[0]["ref"]})
    client.call("press_keys", {"keys": "Escape"})  # the button took the keyboard focus
    title = wait_until(lambda: client.call("find", {"name": "PresentationTitle"})["elements"], what="the title")
    client.call("click", {"ref": title[0]["ref"]})
    client.call("type_text", {"text": "Sales"})
    outline = client.call("find", {"name": "PresentationOutliner"})["elements"]
    client.call("click", {"ref": outline[0]["ref"]})
    assert "Typed 20 characters" in client.text("type_text", {"text": "Up 10%\nNew customers"})
    client.call("press_keys", {"keys": "Escape"})
    info = call_text(client, "impress_info")
    assert "titletext: 'Sales'" in info and "'Up 10%\\nNew customers'" in info, info


def test_launch_opens_its_window_in_the_instance_the_tools_drive(client):
    before = client.call("office_info")["documents"]
    client.call("launch", {"app": "libreoffice-writer"}, timeout=180)
    after = client.call("office_info")["documents"]
    assert len(after) == len(before) + 1
    new = next(d for d in after if d["id"] not in {b["id"] for b in before})
    assert new["kind"] == "writer"
    call_text(client, "writer_insert_text", {"text": "typed by the tools", "doc": new["id"]})
    assert call_text(client, "writer_get_text", {"doc": new["id"]}) == "1: typed by the tools"


def test_saving_outside_the_workspace_or_through_a_symlink_is_refused(client, workspace, tmp_path):
    outside = tmp_path / "stolen.pptx"
    for path in ("../escape.pptx", str(outside)):
        message = client.error("office_save", {"path": path})
        assert "workspace" in message
    (workspace / "link.pptx").symlink_to(outside)
    assert "symbolic link" in client.error("office_save", {"path": "link.pptx"})
    assert not outside.exists() and not (workspace.parent / "escape.pptx").exists()
    assert "outside the workspace" in client.error("office_open", {"path": "/etc/passwd"})


def stopped_during_a_call(client, document: str, restart: bool = False) -> tuple[set[int], Callable[[], Any]]:
    """The server's soffice stopped (SIGSTOP) while a `calc_info` call waits on it: its pids, and a
    function that waits for that call's result."""
    call_text(client, "office_open", {"new": document, "restart": restart})
    pids = soffice_pids(client.server_pid)
    assert pids, "the server's soffice.bin was not found"
    for pid in pids:
        os.kill(pid, signal.SIGSTOP)
    answer: dict = {}
    call = threading.Thread(target=lambda: answer.update(r=client.call_raw("calc_info", {}, timeout=120)))
    call.start()
    threading.Event().wait(2)  # the call is under way, waiting on the stopped soffice

    def result() -> Any:
        call.join(120)
        return answer["r"]

    return pids, result


def test_a_killed_libreoffice_gives_an_error_and_office_open_starts_a_new_one(client):
    pids, result = stopped_during_a_call(client, "writer")
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    answer = result()
    assert answer.is_error and "quit or crashed" in error_text(answer) and "office_open" in error_text(answer)
    assert "Opened" in call_text(client, "office_open", {"new": "calc"})
    assert "Sheet1" in call_text(client, "calc_info")


def sheet_grid(snapshot_text: str) -> tuple[str, dict[str, str]]:
    """The table ref and cell -> text of the cells with text, from a snapshot's grid block."""
    lines = snapshot_text.splitlines()
    for i, line in enumerate(lines):
        header = re.fullmatch(r"\s*(e\d+)\t(.*)", line)
        if header is None:
            continue
        columns, cells = header[2].split("\t"), {}
        for row in lines[i + 1 :]:
            number, *values = row.lstrip(" ").split("\t")
            if not number.isdigit():
                break
            cells.update({f"{column}{number}": value for column, value in zip(columns, values, strict=False) if value})
        return header[1], cells
    raise AssertionError(f"no grid block in the snapshot:\n{snapshot_text[:2000]}")


def test_a_sheet_snapshot_reads_cells_through_uno_as_atspi_would(client, session):
    call_text(client, "office_open", {"new": "calc"})
    block = [
        ["city", "people", "share"],
        ["Oslo", 709000, 0.25],
        ["Bergen", 291000, "=C4/C3"],
        ["Total", "=C3+C4", None],
    ]
    call_text(client, "calc_set_cells", {"range": "B2", "values": block})
    # LibreOffice reports cell positions from before the window manager placed a new window until the
    # window's first input (a row off): one click on the sheet first, as a user's first click would be.
    tables = wait_until(
        lambda: client.call("find", {"role": "table", "name": "Sheet"})["elements"], timeout=60, what="the sheet"
    )
    client.call("click", {"ref": tables[0]["ref"]})
    fused_text = client.text("snapshot", {"max_nodes": 3000})
    table, fused = sheet_grid(fused_text)
    with attached_server(session, "--deny", "office") as plain:
        walked_text = plain.text("snapshot", {"max_nodes": 3000})
        _, walked = sheet_grid(walked_text)
    shown = re.compile(r"cells [A-Z]+\d+:[A-Z]+\d+ show")
    assert shown.search(fused_text)[0] == shown.search(walked_text)[0]
    assert fused == walked
    assert fused["C5"] == "1000000" and fused["B4"] == "Bergen" and fused["D4"].startswith("0.41")

    ref = f"{table}:B4"
    # read_text and click are the GUI tools' (their text blocks are theirs): the structured answer here.
    assert client.call("read_text", {"ref": ref})["text"] == "Bergen"
    client.call("click", {"ref": ref})
    assert "Sheet1.B4" in call_text(client, "calc_info")


def uno_helper_pids(server_pid: int) -> set[int]:
    found = set()
    for pid in descendants(server_pid):
        with contextlib.suppress(OSError):
            if b"uno_helper.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.add(pid)
    return found


def test_a_hung_uno_helper_leaves_the_sheet_snapshot_its_cells_read_over_atspi(client):
    # The document of the test above is still the focused window.
    assert "Sheet1" in call_text(client, "calc_info")
    helpers = uno_helper_pids(client.server_pid)
    assert helpers
    for pid in helpers:
        os.kill(pid, signal.SIGSTOP)
    try:
        text = client.text("snapshot", {"max_nodes": 3000}, timeout=120)
    finally:
        for pid in helpers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)
    _, cells = sheet_grid(text)
    assert cells["B4"] == "Bergen" and cells["C5"] == "1000000", text[:3000]
    assert "could not read the visible cells" not in text
    assert "Sheet1" in call_text(client, "calc_info")  # a new helper connects for the next call


def test_a_hung_libreoffice_times_out_with_how_to_restart_while_the_server_keeps_serving(client):
    hung, result = stopped_during_a_call(client, "calc", restart=True)
    try:
        assert "window" in client.text("list_windows", {}, timeout=20)  # other calls go on meanwhile
        answer = result()
        message = error_text(answer)
        assert answer.is_error and "busy or hung" in message and "restart=true" in message, message
        assert "Opened" in call_text(client, "office_open", {"new": "calc", "restart": True})
        assert "Sheet1" in call_text(client, "calc_info")
        gone = lambda: all(not Path(f"/proc/{pid}").exists() for pid in hung)  # noqa: E731
        wait_until(gone, timeout=15, what="the hung soffice to be ended, not left behind")
    finally:
        for pid in hung:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
