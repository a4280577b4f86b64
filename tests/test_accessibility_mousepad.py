"""Reading mousepad as elements and acting on them by ref, through the real MCP client."""

from __future__ import annotations

import re

import pytest

from tests.support.desktop import atspi, wait_for_app, wait_until


@pytest.fixture(scope="module")
def mousepad(session, client):
    session.launch("mousepad")
    wait_for_app(session, "mousepad")
    wait_until(lambda: "Mousepad" in client.text("snapshot"), what="mousepad window in the snapshot")
    return session


def editor_ref(client) -> str:
    found = client.call("find", {"role": "text", "scope": "mousepad"})["elements"]
    assert found, "no text element in mousepad"
    return found[0]["ref"]


def test_snapshot_lists_the_window_with_refs_and_boxes_on_request(client, mousepad):
    lines = client.text("snapshot").splitlines()
    assert re.fullmatch(r"focused window \(mousepad\): \d+ elements", lines[0])
    assert re.fullmatch(r'window ".*Mousepad" \[ref=e\d+\]', lines[1])
    assert any(re.fullmatch(r' menu "File" \[ref=e\d+\]', line) for line in lines)
    assert any(re.fullmatch(r" textbox \[ref=e\d+\]( focused)? multiline", line) for line in lines)
    boxed = client.text("snapshot", {"boxes": True})
    assert re.search(r'\nwindow ".*Mousepad" \[ref=e\d+\] \(\d+,\d+ \d+x\d+\)', boxed)


def test_type_text_by_ref_and_read_it_back(client, mousepad):
    ref = editor_ref(client)
    client.call("type_text", {"ref": ref, "text": "hello from a ref", "clear": True})
    assert client.text("read_text", {"ref": ref}) == f"{ref}: 16 characters:\nhello from a ref"
    client.call("type_text", {"ref": ref, "text": " and more"})
    assert wait_until(lambda: atspi(mousepad, "text", "mousepad") == "hello from a ref and more", what="typed text")


def test_max_nodes_says_what_was_left_out(client, mousepad):
    text = client.text("snapshot", {"mode": "all", "max_nodes": 3})
    assert re.match(r"focused window \(mousepad\): 3 elements, \d+ left out", text)
    assert "more nodes left out" in text.splitlines()[-1]


def test_bad_ref_and_bad_scope_are_model_readable_errors(client, mousepad):
    assert "no element e99999 was ever given: take a snapshot" in client.error("read_text", {"ref": "e99999"})
    assert "apps on the bus" in client.error("snapshot", {"scope": "no-such-app"})
    assert "either x and y or ref" in client.error("click", {"x": 5, "y": 5, "ref": "e1"})


def test_osworld_xml_parses_and_linearizes(client, mousepad):
    from cua_mcp.accessibility import osworld

    xml = client.text("snapshot", {"format": "osworld_xml", "scope": "mousepad"})
    table = osworld.linearize(xml)
    assert table.startswith("tag\tname\ttext")
    assert any(row.startswith("menu\tFile\t") for row in table.splitlines())


def test_screenshot_marks_number_the_controls_with_refs(client, mousepad):
    data, mime, meta = client.image({"marks": True})
    assert mime == "image/png" and data
    assert meta["marks"] and all(re.fullmatch(r"e\d+", m["ref"]) for m in meta["marks"])
    assert any(m["role"] == "menu" and m["name"] == "File" for m in meta["marks"])


def test_move_mouse_to_a_ref_lands_in_its_box(client, mousepad):
    menu = client.call("find", {"role": "menu", "name": "File", "scope": "mousepad"})["elements"][0]
    cursor = client.call("move_mouse", {"ref": menu["ref"]})["cursor"]
    x, y, w, h = menu["box"]
    assert x <= cursor[0] <= x + w and y <= cursor[1] <= y + h


def test_wait_for_text(client, mousepad):
    ref = editor_ref(client)
    client.call("set_value", {"ref": ref, "value": "ready"})
    assert client.call("wait_for", {"ref": ref, "until": "text_contains", "value": "ready", "timeout": 5})["met"]
    waited = client.call("wait_for", {"name": "No such thing", "until": "appears", "timeout": 0.5})
    assert waited["met"] is False and "did not hold" in waited["detail"]


def test_closed_window_gives_a_stale_ref_error(client, mousepad):
    ref = editor_ref(client)
    for proc in mousepad.app_processes:
        proc.terminate()  # mousepad would ask to save the modified document; the app going away is the point
        proc.wait(timeout=10)
    message = client.error("read_text", {"ref": ref})
    assert f"ref {ref} no longer exists" in message and "take a new snapshot" in message
