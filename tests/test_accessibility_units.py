"""Pure logic: refs, the text format, OSWorld's XML and linearization."""

from __future__ import annotations

import pytest

from cua_mcp.accessibility import osworld, text_format
from cua_mcp.accessibility.dbus_backend import a1_name, visible_range
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.refs import RefTable
from cua_mcp.errors import InvalidArgumentError, StaleRefError, UnknownRefError
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
    with pytest.raises(UnknownRefError, match="no element e77 was ever given: take a snapshot"):
        refs.resolve("e77")
    refs.forget("e2")
    with pytest.raises(StaleRefError, match="ref e2 no longer exists: take a new snapshot"):
        refs.resolve("e2")
    with pytest.raises(InvalidArgumentError):
        refs.resolve("button 3")


def test_ref_table_is_bounded_and_drops_the_least_recently_used():
    refs = RefTable(limit=2)
    first, second = refs.ref_for(":1", "/a"), refs.ref_for(":1", "/b")
    assert refs.ref_for(":1", "/a") == first  # used again: now the most recent
    third = refs.ref_for(":1", "/c")
    assert third == "e3" and refs.resolve(first) == (":1", "/a")
    with pytest.raises(StaleRefError):
        refs.resolve(second)


def test_interactive_text_format_scales_boxes_and_skips_containers():
    root = tree()
    root.children[0].children[0].children[0].ref = "e3"
    space = AgentSpace.for_screen(1920, 1080, 1280)
    text, left_out = text_format.render(list(text_format.select([root], "interactive")), space, 100, 40)
    lines = text.splitlines()
    assert lines[0] == 'application "demo"'
    assert '  push button "OK" [ref=e3] (133,66 53x20)' in lines
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
    assert len(cells) <= 2000
    assert visible_range(0, 0, 9, 2)[-1] == (9, 2)


def test_a1_names():
    assert [a1_name(0, 0), a1_name(9, 27), a1_name(0, 25), a1_name(4, 701)] == ["A1", "AB10", "Z1", "ZZ5"]


def test_encoded_calls_match_jeepney():
    from jeepney import DBusAddress, new_method_call

    from cua_mcp.accessibility._dbus import Call, _encode_call, prop

    for call in (
        Call(":1.2", "/org/a11y/atspi/accessible/12", "org.a11y.atspi.Accessible", "GetRole"),
        Call(":1.25", "/o/p", "org.a11y.atspi.Text", "GetText", "ii", (0, -1)),
        Call(":1.2", "/o/p", "org.a11y.atspi.EditableText", "InsertText", "isi", (3, "héllo 日本", 13)),
        Call(":1.2", "/o/p", "org.a11y.atspi.Component", "GetAccessibleAtPoint", "iiu", (3, 4, 0)),
        Call(":1.2", "/org/a11y/atspi/accessible/1234", "org.a11y.atspi.Component", "GetExtents", "u", (0,)),
        prop(":1.123", "/a/b/c", "org.a11y.atspi.Accessible", "Name"),
    ):
        expected = new_method_call(
            DBusAddress(call.path, call.bus, call.interface), call.method, call.signature, call.args
        )
        assert _encode_call(call, 7) == expected.serialise(serial=7)


def test_wire_parses_what_jeepney_writes():
    from jeepney import DBusAddress, new_method_call, new_method_return

    from cua_mcp.accessibility import _wire

    call = new_method_call(DBusAddress("/p", ":1.2", "org.x"), "M")
    call.header.serial = 9
    bodies = [
        ("u", (61,)),
        ("a(so)", ([(":1.2", "/a/1"), (":1.3", "/b")],)),
        ("v", (("s", "Name"),)),
        ("(iiii)", ((1, -2, 3, 4),)),
        ("au", ([1, 2],)),
        ("as", (["A", "B"],)),
        (
            "a((so)(so)(so)iiassusau)",
            ([((":1", "/a"), (":1", "/r"), (":1", "/r"), 0, 2, ["I"], "n", 43, "d", [1, 0])],),
        ),
    ]
    for signature, body in bodies:
        parsed = _wire.parse(new_method_return(call, signature, body).serialise(serial=10))
        assert parsed.kind == _wire.METHOD_RETURN and parsed.reply_serial == 9
        assert parsed.body == body
