"""Pure logic: refs, the text format, OSWorld's XML and linearization."""

from __future__ import annotations

import pytest

from cua_mcp.accessibility import osworld, text_format
from cua_mcp.accessibility.dbus_backend import visible_range
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.refs import RefTable
from cua_mcp.errors import InvalidArgumentError, StaleRefError
from cua_mcp.sandbox.space import AgentSpace

SHOWN = frozenset({"showing", "visible", "enabled", "sensitive"})


def tree() -> Node:
    ok = Node(":1.5", "/a/3", "push button", "OK", SHOWN | {"focusable"}, frozenset({"Action"}), box=(200, 100, 80, 30))
    filler = Node(":1.5", "/a/2", "filler", "", SHOWN, box=(0, 0, 10, 10), children=[ok])
    entry = Node(
        ":1.5", "/a/4", "text", "", SHOWN | {"editable"}, frozenset({"Text"}), box=(10, 10, 100, 20), text='say "hi"'
    )
    frame = Node(":1.5", "/a/1", "frame", "Demo", SHOWN | {"active"}, box=(0, 0, 1920, 1080), children=[filler, entry])
    return Node(":1.5", "/root", "application", "demo", frozenset(), children=[frame])


def test_refs_are_stable_and_fail_closed():
    refs = RefTable()
    assert refs.ref_for(":1.5", "/a/1") == "e1"
    assert refs.ref_for(":1.6", "/a/1") == "e2"
    assert refs.ref_for(":1.5", "/a/1") == "e1"
    assert refs.resolve("e2") == (":1.6", "/a/1")
    with pytest.raises(StaleRefError, match="take a new snapshot"):
        refs.resolve("e77")
    with pytest.raises(InvalidArgumentError):
        refs.resolve("button 3")


def test_interactive_text_format_scales_boxes_and_skips_containers():
    root = tree()
    root.children[0].children[0].children[0].ref = "e3"
    space = AgentSpace.for_screen(1920, 1080, 1280)
    text, left_out = text_format.render(list(text_format.select([root], "interactive")), space, 100, 40)
    lines = text.splitlines()
    assert lines[0] == '- application "demo"'
    assert '    - push button "OK" [ref=e3] (133,66 53x20)' in lines
    assert "filler" not in text
    assert '= "say \\"hi\\""' in text and left_out == 0


def test_limits_close_with_a_hint():
    space = AgentSpace.for_screen(1920, 1080, None)
    text, left_out = text_format.render(list(text_format.select([tree()], "all")), space, 2, 40)
    assert left_out == 3
    assert text.splitlines()[-1].startswith("[3 more nodes left out")


def test_osworld_xml_round_trips_through_its_linearization():
    xml = osworld.to_xml([tree()])
    assert xml.startswith("<desktop-frame")
    assert "https://accessibility.ubuntu.example.org/ns/state" in xml
    rows = osworld.linearize(xml).splitlines()
    assert rows[0] == "tag\tname\ttext\tclass\tdescription\tposition (top-left x&y)\tsize (w&h)"
    assert 'push-button\tOK\t""\t\t\t(200, 100)\t(80, 30)' in rows
    assert 'text\t\t"say ""hi"""\t\t\t(10, 10)\t(100, 20)' in rows
    assert not any(r.startswith(("filler", "frame")) for r in rows)


def test_visible_range_is_capped_row_major():
    cells = visible_range(0, 0, 99, 99)
    assert cells[0] == (0, 0) and cells[1] == (0, 1)
    assert len(cells) <= 240
