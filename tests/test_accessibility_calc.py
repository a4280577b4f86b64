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
    wait_until(lambda: "A1" in client.call("snapshot")["text"], timeout=60, what="the sheet in the snapshot")
    return session


def test_focused_window_snapshot_lists_visible_cells_with_values(client, calc):
    snap = client.call("snapshot", {"max_nodes": 2000})
    text = snap["text"]
    assert re.search(r'table "Sheet.*" \[ref=e\d+\] .*more children not listed', text)
    for row_number, row in enumerate(CALC_ROWS[:10], start=1):
        for column, value in zip("ABC", row, strict=True):
            assert re.search(
                rf'table cell "{column}{row_number}" \[ref=e\d+\] \(\d+,\d+ \d+x\d+\)[^\n]*= "{value}"', text
            ), f"{column}{row_number}={value} missing"
    assert snap["left_out"] == 0


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
    before = resident_mb(soffice)
    for _ in range(10):
        buttons = client.call("find", {"role": "push button"})["elements"]
        assert buttons and all(b["role"] == "push button" for b in buttons)
    assert resident_mb(soffice) - before < 40
