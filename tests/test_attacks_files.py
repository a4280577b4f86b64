"""Attacks on the file tools through a real server: a symlink race, a FIFO, a huge line."""

from __future__ import annotations

import pytest

from tests.support.attacks import fifo_starvation, huge_line, symlink_race
from tests.support.mcp_client import attached_server
from tests.support.processes import child_server_pid


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("attack-ws")


@pytest.fixture(scope="module")
def server(session, workspace):
    with attached_server(session, "--workspace", str(workspace)) as mcp:
        yield mcp


def test_a_folder_swapped_with_a_link_never_leads_a_file_tool_out(server, workspace, tmp_path):
    outcomes = symlink_race(server, workspace, tmp_path)
    assert [(o.attack, o.escapes) for o in outcomes] == [(o.attack, 0) for o in outcomes]


def test_a_fifo_neither_blocks_read_file_nor_starves_the_desktop(server, workspace):
    outcomes = fifo_starvation(server, workspace)
    assert [(o.attack, o.escapes) for o in outcomes] == [(o.attack, 0) for o in outcomes]
    message = server.error("read_file", {"path": "pipe"}) if (workspace / "pipe").exists() else None
    assert message is None  # the attack cleaned up after itself


def test_a_fifo_is_refused_with_a_reason(server, workspace):
    import os

    os.mkfifo(workspace / "fifo")
    assert "not a regular file" in server.error("read_file", {"path": "fifo"})
    assert "not a regular file" in server.error("write_file", {"path": "fifo", "content": "x"})


def test_a_gigabyte_line_is_read_in_bounded_memory(server, workspace):
    outcome = huge_line(server, workspace, child_server_pid())
    assert outcome.escapes == 0, outcome.note
