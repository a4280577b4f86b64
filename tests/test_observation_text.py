"""What a model reads: the text blocks of the observation tools (contract v2), through a real MCP client on
real apps. Roles and states by any spelling, searches that say what is there, the focused window never
read from another app, what changed since the last look, and instructions that name only registered tools."""

from __future__ import annotations

import json
import re

import pytest

from tests.support.desktop import wait_for_app, wait_until
from tests.support.mcp_client import attached_server

FACTORY = "gtk3-widget-factory"


@pytest.fixture(scope="module")
def factory(session, client):
    session.launch(FACTORY)
    wait_for_app(session, FACTORY)
    wait_until(lambda: "spinbutton" in client.text("snapshot", {"scope": FACTORY}), what="widget factory controls")
    return session


def lines_of(text: str) -> list[str]:
    return text.splitlines()


def test_find_takes_roles_and_states_in_any_spelling(client, factory):
    by_web = client.text("find", {"scope": FACTORY, "role": "checkbox", "states": ["unchecked", "enabled"]})
    assert by_web == client.text("find", {"scope": FACTORY, "role": "Check Box", "states": ["UNCHECKED", "sensitive"]})
    assert by_web == client.text("find", {"scope": FACTORY, "role": "checkbutton", "states": ["unchecked", "enabled"]})
    assert re.fullmatch(r'checkbox "checkbutton" \[ref=e\d+\] unchecked', by_web)
    disabled = lines_of(client.text("find", {"scope": FACTORY, "role": "check_box", "states": ["disabled"]}))
    assert len(disabled) == 3 and all(line.endswith("disabled") for line in disabled)
    fields = lines_of(client.text("find", {"scope": FACTORY, "role": "text field", "text": "entry"}))
    assert fields and all(line.startswith("textbox [ref=") for line in fields)
    assert fields == lines_of(client.text("find", {"scope": FACTORY, "role": "entry", "text": "entry"}))
    sliders = lines_of(client.text("find", {"scope": FACTORY, "role": "slider"}))
    assert sliders and all(re.fullmatch(r"slider \[ref=e\d+\]( disabled)? = [\d.]+", s) for s in sliders)
    assert "unknown role 'chekbox'" in client.error("find", {"role": "chekbox"})


def test_a_search_with_no_match_says_what_is_there(client, factory):
    text = client.text("find", {"scope": FACTORY, "role": "button", "name": "1", "name_exact": True})
    match = re.fullmatch(r"no button named '1' in this scope; there are (\d+) buttons, e\.g\. (.*)\.", text)
    assert match, text
    assert int(match[1]) >= 5 and '"Minimize"' in match[2]
    exact = client.text("find", {"scope": FACTORY, "role": "button", "name": "close", "name_exact": True})
    assert re.fullmatch(r'button "Close" \[ref=e\d+\]', exact)


def test_snapshot_lines_are_compact_and_boxes_come_on_request(client, factory):
    text = client.text("snapshot", {"scope": FACTORY})
    head, *tree = lines_of(text)
    assert re.fullmatch(rf"app {FACTORY}: \d+ elements", head)
    assert not re.search(r"\(\d+,\d+ \d+x\d+\)", text)
    assert any(re.fullmatch(r"  spinbutton \[ref=e\d+\] = 50", line) for line in tree)
    assert any(re.fullmatch(r'  button "togglebutton" \[ref=e\d+\] pressed', line) for line in tree)
    assert not any("GtkScrollbar" in line or "value=0" in line for line in tree)
    boxed = client.text("snapshot", {"scope": FACTORY, "boxes": True})
    assert re.search(r'button "Close" \[ref=e\d+\] \(\d+,\d+ \d+x\d+\)', boxed)


def test_since_last_gives_only_what_changed(client, factory):
    client.text("snapshot", {"scope": FACTORY})
    unchanged = lines_of(client.text("snapshot", {"scope": FACTORY, "since": "last"}))
    assert re.fullmatch(r"since your last snapshot of this scope: \+0 lines, -0 lines, \d+ unchanged \(nothing changed\)",
                        unchanged[1])  # fmt: skip
    box = re.search(r"\[ref=(e\d+)\] unchecked", client.text("find", {"scope": FACTORY, "role": "checkbox",
                                                                          "states": ["unchecked", "enabled"]}))[1]  # fmt: skip
    client.call("set_value", {"ref": box, "value": "true"})
    wait_until(lambda: "checked" in client.call("find", {"scope": FACTORY, "role": "checkbox", "states": ["checked"],
                                                         "limit": 200})["elements"][-1]["states"], what="checked")  # fmt: skip
    changed = lines_of(client.text("snapshot", {"scope": FACTORY, "since": "last"}))
    assert re.fullmatch(r"since your last snapshot of this scope: \+1 lines, -1 lines, \d+ unchanged", changed[1]), (
        changed
    )
    assert changed[2:] == [
        f'- checkbox "checkbutton" [ref={box}] unchecked',
        f'+ checkbox "checkbutton" [ref={box}] checked',
    ]
    # Another client's first look is whole: each client has its own history.
    with attached_server(factory) as other:
        assert "since your last snapshot" not in other.text("snapshot", {"scope": FACTORY, "since": "last"})


def test_the_focused_window_is_never_read_from_another_app(client, factory):
    factory.launch(["xterm", "-title", "plain xterm"])
    wait_until(lambda: any(w["title"] == "plain xterm" and w["active"] for w in client.call("list_windows")["windows"]),
               timeout=30, what="xterm focused")  # fmt: skip
    text = client.text("snapshot")
    assert text.startswith("focused window 'plain xterm': 0 elements (nothing showing)")
    assert "[note: the window 'plain xterm' (XTerm" in text and "not on the accessibility bus" in text
    assert FACTORY not in text and "button" not in text
    _data, _mime, meta = client.image({"marks": True})
    assert meta["marks"] == []
    listed = client.text("list_windows")
    assert re.search(r'\n0x[0-9a-f]+ "plain xterm" \(XTerm, pid \d+\) \d+x\d+ at \(\d+,\d+\) active', listed)


def test_text_blocks_are_plain_text_not_json(client, factory):
    for name, arguments in (("screen_info", {}), ("list_windows", {}), ("clipboard_set", {"text": "hi"}),
                            ("clipboard_get", {}), ("snapshot", {"scope": FACTORY}), ("find", {"role": "slider",
                            "scope": FACTORY})):  # fmt: skip
        text = client.text(name, arguments)
        with pytest.raises(json.JSONDecodeError):
            json.loads(text)
    assert client.text("clipboard_get") == "The clipboard holds 2 characters:\nhi"
    assert re.fullmatch(r"Display :\d+ \(attached\), screen \d+x\d+, monitors: .*Pointer at \(\d+, \d+\)\.",
                        client.text("screen_info"))  # fmt: skip


def test_instructions_name_only_registered_tools(session):
    with attached_server(session, "--read-only") as reader:
        names = set(reader.tool_names())
        told = set(re.findall(r"`(\w+)`", reader.instructions or ""))
        assert told and told <= names and "click" not in reader.instructions
    with attached_server(session) as full:
        assert {"click", "snapshot", "launch"} <= set(re.findall(r"`(\w+)`", full.instructions or ""))
        assert set(re.findall(r"`(\w+)`", full.instructions)) <= set(full.tool_names())
