"""Arguments as a careless or hostile client sends them: checked strictly, in one place, for every tool.

A misspelled argument is refused with the name it was probably meant to be (not silently ignored), a
value of the wrong type is refused (not coerced: `"y": true` would click at y=1), and every refusal is
one sentence that names the parameter, says what it takes and what to do, without pydantic's wording.
Refused calls are in the audit log like any other call.
"""

from __future__ import annotations

import json

import pytest

from tests.support.mcp_client import attached_server
from tests.support.x11 import pointer_position


@pytest.fixture(scope="module")
def audit_log(tmp_path_factory):
    return tmp_path_factory.mktemp("audit") / "calls.jsonl"


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("workspace")


@pytest.fixture(scope="module")
def client(session, audit_log, workspace):
    with attached_server(
        session, "--audit-log", str(audit_log), "--allow", "shell", "--workspace", str(workspace)
    ) as mcp:
        yield mcp


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("click", {"x": 10, "y": 10, "buton": "right"}, "unknown argument 'buton'; did you mean 'button'?"),
        ("type_text", {"text": "a", "sumbit": True}, "unknown argument 'sumbit'; did you mean 'submit'?"),
        ("screenshot", {"zzzz": 1}, "unknown argument 'zzzz': screenshot takes "),
        ("click", {"x": 10, "y": True}, "y=true is a boolean, but y takes an integer from 0 to 719"),
        ("click", {"x": 10, "y": "5"}, 'y="5" is a string, but y takes an integer from 0 to 719'),
        ("move_mouse", {"x": "left", "y": 10}, 'x="left" is a string, but x takes an integer from 0 to 1279'),
        ("click", {"x": 10, "y": 10, "count": 4}, "count=4 is out of range: count takes an integer from 1 to 3"),
        ("click", {"x": 10, "y": 10, "button": "fourth"}, "button=\"fourth\" is not one of 'left', 'right' or"),
        ("type_text", {"text": ""}, "text is too short (0 characters): text takes a string of 1 to 10000"),
        ("type_text", {}, "text is missing: type_text needs text ("),
        ("type_text", {"text": 5}, "text=5 is a number, but text takes a string of 1 to 10000 characters"),
        ("wait", {"seconds": "2"}, 'seconds="2" is a string, but seconds takes a number greater than 0'),
        ("press_keys", {"keys": ["ctrl", "a"]}, 'keys=["ctrl", "a"] is a list, but keys takes a string'),
        ("screenshot", {"region": [1, 2, 3]}, "region has 3 items, but region takes a list of 4"),
        ("type_text", {"text": "a", "submit": "yes"}, 'submit="yes" is a string, but submit takes true or false'),
    ],
)
def test_bad_arguments_are_refused_in_one_sentence(client, tool, arguments, expected):
    message = client.error(tool, arguments)
    assert expected in message, message
    assert "pydantic" not in message and "validation error" not in message.lower() and "http" not in message
    assert "\n" not in message


def test_a_refused_call_does_nothing(client, session):
    before = pointer_position(session)
    client.error("click", {"x": 500, "y": 400, "buton": "right"})
    client.error("move_mouse", {"x": 600, "y": True})
    assert pointer_position(session) == before


def test_refused_calls_are_audited(client, audit_log):
    client.error("click", {"x": 10, "y": 10, "buton": "right"})
    records = [json.loads(line) for line in audit_log.read_text().splitlines()]
    refused = [r for r in records if r["tool"] == "click" and "buton" in r["arguments"]]
    assert refused and "did you mean 'button'" in refused[-1]["error"], records[-3:]


def test_a_ref_never_given_is_told_apart_from_a_stale_one(client):
    # (A stale ref's message: tests/test_accessibility_units.py.)
    message = client.error("focus", {"ref": "e999999"})
    assert "no element e999999 was ever given" in message and "take a snapshot" in message, message


@pytest.mark.parametrize("ref", ["zzz", "e999999", "e0"])
def test_wait_for_a_garbage_ref_is_an_error_not_met(client, ref):
    result = client.call_raw("wait_for", {"ref": ref, "until": "disappears", "timeout": 1})
    assert result.is_error, result.structured_content
    assert ref in result.content[0].text


def test_no_error_is_empty(client):
    long_name = client.error("write_file", {"path": "x" * 300, "content": "hello"})
    assert long_name.strip() != "Error executing tool write_file" and "255" in long_name, long_name
    nul = client.error("run_command", {"command": "echo a\x00b"})
    assert "NUL" in nul, nul
    nul_path = client.error("read_file", {"path": "a\x00b"})
    assert "NUL" in nul_path, nul_path
