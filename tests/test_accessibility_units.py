"""Pure logic: refs, the text format, OSWorld's XML and linearization."""

from __future__ import annotations

import pytest

from cua_mcp.accessibility import backend, grid, history, osworld, roles, search, text_format
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
    lines = list(text_format.select([root], "interactive"))
    text, left_out = text_format.render(lines, space, 100, 40)
    assert text.splitlines() == [
        'application "demo"',
        ' window "Demo"',
        '  button "OK" [ref=e3]',
        '  textbox = "say \\"hi\\""',
    ]
    boxed, _ = text_format.render(lines, space, 100, 40, boxes=True)
    assert '  button "OK" [ref=e3] (133,66 53x20)' in boxed.splitlines()
    assert "filler" not in text and left_out == 0


def node(role: str, name: str = "", states: frozenset[str] = SHOWN, **fields) -> Node:
    return Node(":1.5", f"/n/{role}/{name}", role, name, states, **fields)


def test_lines_use_web_roles_states_and_values_once():
    space = AgentSpace.for_screen(1920, 1080, None)
    line = lambda n: text_format.format_line(n, 0, space)  # noqa: E731
    assert line(node("check box", "Gift wrap")) == 'checkbox "Gift wrap" unchecked'
    assert line(node("check box", "Gift wrap", SHOWN | {"checked"})) == 'checkbox "Gift wrap" checked'
    assert line(node("toggle button", "Bold", SHOWN | {"checked"})) == 'button "Bold" pressed'
    assert line(node("spin button", "", SHOWN | {"editable"}, text="50", value=50.0)) == "spinbutton = 50"
    assert line(node("slider", "Volume", value=0.5)) == 'slider "Volume" = 0.5'
    assert line(node("push button", "6", text="6")) == 'button "6"'
    assert line(node("scroll bar", "GtkScrollbar", value=0.0)) == "scrollbar = 0"
    assert line(node("menu", "File", value=0.0)) == 'menu "File"'
    assert line(node("push button", "Send", frozenset({"showing"}))) == 'button "Send" disabled'
    assert line(node("combo box", "", SHOWN | {"expandable"})) == "combobox collapsed"


def test_a_menu_bar_listed_twice_over_the_same_boxes_prints_once():
    first = [node("menu", name, box=(i * 30, 12, 26, 17)) for i, name in enumerate(("File", "Edit"))]
    again = [node("menu", name, box=(i * 28, 12, 23, 13)) for i, name in enumerate(("File", "Edit"))]
    tabs = [node("page tab", "page 1", box=(x, 600, 29, 20)) for x in (24, 360)]
    frame = node("frame", "Calc", children=[*first, *again, *tabs])
    lines = [line.node for line in text_format.select([frame], "interactive")]
    assert [n.name for n in lines] == ["Calc", "File", "Edit", "page 1", "page 1"]


def test_sheet_cells_print_as_one_grid_block():
    managed = SHOWN | {"transient"}
    cells = [node("table cell", f"{c}{r}", managed, text=t) for r, c, t in (
        (1, "A", "name"), (1, "B", "qty"), (1, "C", ""), (2, "A", "pen"), (2, "B", "3\t4"), (2, "C", ""),
        (3, "A", ""), (3, "B", ""), (3, "C", ""),
    )]  # fmt: skip
    cells[0].states |= {"focused"}
    table = node("table", "Sheet1", SHOWN, children=cells, omitted_children=100)
    table.ref = "e40"
    text, _ = text_format.render(
        list(text_format.select([table], "interactive")), AgentSpace.for_screen(800, 600, None), 5, 40
    )
    assert text.splitlines() == [
        'table "Sheet1" [ref=e40]',
        " cells A1:C3 show; empty rows and columns left out; address a cell as e40:A1; focused cell A1",
        " e40\tA\tB",
        " 1\tname\tqty",
        " 2\tpen\t3\\t4",
    ]
    assert grid.grid_lines(["B", "D"], [7], [["x", ""]], "e9") == ["e9\tB\tD", "7\tx"]
    assert grid.parse_address("c5") == (4, 2) and grid.parse_address("5C") is None


def test_roles_and_states_by_any_spelling():
    box = node("check box", "Gift", SHOWN | {"checked"})
    entry = node("text", "", SHOWN | {"editable"})
    for word in ("checkbox", "Check Box", "check_box", "CHECKBUTTON"):
        assert roles.role_test(word)(box)
    for word in ("textbox", "entry", "edit", "Text field", "text"):
        assert roles.role_test(word)(entry), word
    assert not roles.role_test("button")(box)
    assert roles.state_test("Checked")(box) and not roles.state_test("unchecked")(box)
    assert roles.state_test("disabled")(node("push button", "x", frozenset({"showing"})))
    assert roles.state_test("collapsed")(node("combo box", "", SHOWN | {"expandable"}))
    with pytest.raises(InvalidArgumentError, match=r"unknown role 'buton'.*button"):
        roles.role_test("buton")
    with pytest.raises(InvalidArgumentError, match="unknown state"):
        roles.state_test("shiny")


def test_a_search_with_no_match_says_what_is_there():
    buttons = [node("push button", str(n)) for n in range(2, 9)]
    message = search.no_match(search.Query(role="button", name="1", name_exact=True), buttons)
    assert message.startswith('no button named \'1\' in this scope; there are 7 buttons, e.g. "2", "3"')
    assert search.Query(name="2", name_exact=True).test()(buttons[0])
    assert not search.Query(name="2", name_exact=True).test()(node("push button", "12"))


def test_since_last_lists_what_changed_per_client_and_scope():
    seen = history.SnapshotHistory(clients=2)
    before = 'scope: 3 elements\nbutton "A" [ref=e1]\ncheckbox "B" [ref=e2] unchecked\nlink "C" [ref=e3]'
    after = before.replace("unchecked", "checked")
    assert seen.changes("one", "w", before) == before  # the first look is whole
    assert seen.changes("two", "w", before) == before  # another client's look is its own
    assert seen.changes("one", "w", after).splitlines() == [
        "scope: 3 elements",
        "since your last snapshot of this scope: +1 lines, -1 lines, 2 unchanged",
        '- checkbox "B" [ref=e2] unchecked',
        '+ checkbox "B" [ref=e2] checked',
    ]
    seen.changes("three", "w", before)  # bounded: the least recently used client ("two") is forgotten
    assert seen.changes("two", "w", after) == after


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


def test_a_document_shows_its_caret_line_and_a_nameless_field_its_label():
    space = AgentSpace.for_screen(800, 600, None)
    doc = node("text", "", SHOWN | {"editable", "multi line"}, text="a\nbb\nccc", caret=4)
    assert text_format.format_line(doc, 0, space) == 'textbox multiline = "a\\nbb\\nccc" caret on line 2 of 3: "bb"'
    assert backend.wants_label(node("spin button")) and not backend.wants_label(node("spin button", "Size"))


def test_text_that_only_repeats_its_holder_is_folded_into_its_line():
    heading = node("heading", "Order form", children=[node("static", "Order form")])
    button = node("push button", "Cancel all", children=[node("label", "all")])
    names = [(line.node.role, line.node.name) for line in text_format.select([heading, button], "interactive")]
    assert names == [("heading", "Order form"), ("push button", "Cancel all"), ("label", "all")]


def test_a_label_its_control_already_names_is_left_out_and_what_it_held_moves_up():
    field = node("entry", "Name")
    web_label = node("label", "", text="Name ", children=[node("static", "Name "), field])
    beside = [node("label", "Email:"), node("entry", "Email:")]
    other = [node("label", "Total: 5"), node("push button", "Total")]
    form = node("document web", "Order", children=[web_label, *beside, *other])
    lines = [(line.node.role, line.node.name, line.depth) for line in text_format.select([form], "interactive")]
    assert lines == [
        ("document web", "Order", 0),
        ("entry", "Name", 1),
        ("entry", "Email:", 1),
        ("label", "Total: 5", 1),
        ("push button", "Total", 1),
    ]


def test_a_menu_bar_zero_pixels_high_is_left_out():
    shown = node("menu bar", "", box=(0, 19, 1896, 25), children=[node("menu", "File", box=(0, 19, 39, 25))])
    ghost = node("menu bar", "", box=(0, 44, 1920, 0), children=[node("menu", "File", box=(0, 44, 35, 19))])
    window = node("frame", "Calc", children=[shown, ghost])
    files = [line.node.box for line in text_format.select([window], "interactive") if line.node.name == "File"]
    assert files == [(0, 19, 39, 25)]
