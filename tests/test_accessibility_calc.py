"""LibreOffice Calc: a sheet that claims 2^31 cells gives a snapshot that ends and lists the visible cells."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.support.apps import CALC_ROWS, launch_calc
from tests.support.desktop import wait_for_app, wait_until
from tests.support.processes import resident_mb

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def calc(session, client):
    launch_calc(session)
    wait_for_app(session, "soffice", timeout=60)
    wait_until(lambda: "cells A1:" in client.text("snapshot"), timeout=60, what="the sheet in the snapshot")
    return session


def test_focused_window_snapshot_prints_the_visible_sheet_as_a_grid(client, calc):
    text = client.text("snapshot")  # the default max_nodes: a grid counts as its table's one line
    table = re.search(r'\n( *)table "Sheet.*" \[ref=(e\d+)\]', text)
    assert table, text[:2000]
    pad, ref = table[1], table[2]
    lines = text.splitlines()
    at = lines.index(next(line for line in lines if line.startswith(f"{pad} cells A1:")))
    assert f"address a cell as {ref}:A1" in lines[at]
    assert lines[at + 1] == f"{pad} {ref}\tA\tB\tC"
    for row_number, row in enumerate(CALC_ROWS, start=1):
        assert lines[at + 1 + row_number] == f"{pad} {row_number}\t" + "\t".join(row), f"row {row_number}"
    assert "left out (max_nodes" not in text


def test_a_cell_is_addressed_by_its_table_ref_and_address(client, calc):
    ref = re.search(r'table "Sheet.*" \[ref=(e\d+)\]', client.text("snapshot"))[1]
    assert client.text("read_text", {"ref": f"{ref}:B3"}) == f"{ref}:B3: 1 character:\n2"
    far = client.call("read_text", {"ref": f"{ref}:Z900"})  # far off screen: read on demand
    assert far["text"] == ""


def test_cells_are_elements_to_read_and_set(client, calc):
    cell = client.call("find", {"role": "table cell", "name": "B3"})["elements"][0]
    assert cell["text"] == "2"
    assert client.call("read_text", {"ref": cell["ref"]})["text"] == "2"
    empty = client.call("find", {"role": "table cell", "name": "E2"})
    assert empty["elements"] == [] or empty["elements"][0]["text"] == ""


def test_finding_a_control_does_not_make_libreoffice_build_the_cells(client, calc):
    # Each read of a sheet's visible cells makes LibreOffice build ~1,200 cell objects that it never frees
    # (about 8 MB); a search that cannot match a cell (and `wait_for`, which polls it) skips them.
    soffice = int(subprocess.check_output(["pgrep", "-n", "soffice.bin"]).split()[0])

    def find_buttons() -> None:
        buttons = client.call("find", {"role": "push button"})["elements"]
        assert buttons and all(b["role"] == "push button" for b in buttons)

    find_buttons()  # the first search makes LibreOffice build its toolbars' objects, once
    before = resident_mb(soffice)
    for _ in range(20):  # reading the cells each time would add about 160 MB
        find_buttons()
    assert resident_mb(soffice) - before < 40


def test_a_click_at_the_centre_of_a_cell_box_selects_that_cell(client, calc):
    # LibreOffice reports boxes from its frame's outer corner (title bar included): without the shift to the
    # screen, a click at C5's centre selected C4 and one at A1's hit the column header.
    for name in ("C5", "A1", "B12"):
        cell = client.call("find", {"role": "cell", "name": name, "name_exact": True})["elements"][0]
        x, y, w, h = cell["box"]
        client.call("click", {"x": x + w // 2, "y": y + h // 2})
        assert wait_until(
            lambda name=name: re.search(rf"focused cell {name}\b", client.text("snapshot")), what=f"{name} selected"
        ), client.text("find", {"role": "cell", "states": ["focused"]})
