"""Bad input gets an isError result that says what to do, and the server keeps serving."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        ("click", {"x": 5000, "y": 10}, "x=5000 is outside 0..1279"),
        ("click", {"x": 10, "y": 720}, "y=720 is outside 0..719"),
        ("click", {"x": -3, "y": 10}, "x=-3 is outside 0..1279"),
        ("move_mouse", {"x": "left", "y": 10}, 'x="left" is a string, but x takes an integer from 0 to 1279'),
        ("scroll", {"x": 10, "y": -1, "direction": "down"}, "y=-1 is outside 0..719"),
        ("drag", {"from_x": 1, "from_y": 1, "to_x": 1280, "to_y": 1}, "x=1280 is outside 0..1279"),
        ("click", {"x": 10, "y": 10, "button": "fourth"}, "'left', 'right' or 'middle'"),
        ("mouse_down", {"button": "side"}, "'left', 'right' or 'middle'"),
        ("click", {"x": 10, "y": 10, "count": 4}, "count=4 is out of range: count takes an integer from 1 to 3"),
        ("click", {"x": 10, "y": 10, "modifiers": ["hyperctrl"]}, "unknown key 'hyperctrl'"),
        ("press_keys", {"keys": "ctrl+entr"}, "unknown key 'entr'. Did you mean 'enter'"),
        ("press_keys", {"keys": "Retrun"}, "Did you mean 'return'"),
        ("press_keys", {"keys": "ctrl++a"}, "malformed chord 'ctrl++a'"),
        ("press_keys", {"keys": "   "}, "no keys given"),
        ("hold_keys", {"keys": "ctrl+a b", "seconds": 1}, "one chord at a time"),
        (
            "hold_keys",
            {"keys": "shift", "seconds": 11},
            "seconds=11 is out of range: seconds takes a number greater than 0 and at most 10",
        ),
        ("type_text", {"text": ""}, "text is too short (0 characters)"),
        (
            "type_text",
            {"text": "x" * 10_001},
            "text is too long (10001 characters): text takes a string of 1 to 10000 characters",
        ),
        ("wait", {"seconds": 31}, "seconds=31 is out of range"),
        ("wait", {"seconds": 0}, "seconds=0 is out of range: seconds takes a number greater than 0 and at most 30"),
        ("scroll", {"x": 1, "y": 1, "direction": "sideways"}, "'up', 'down', 'left' or 'right'"),
        ("screenshot", {"region": [10, 10, 0, 5]}, "region width and height must be at least 1"),
        ("screenshot", {"region": [1300, 10, 5, 5]}, "x=1300 is outside 0..1279"),
        ("screenshot", {"format": "gif"}, "'png', 'jpeg' or 'webp'"),
        ("screenshot", {"quality": 0}, "quality=0 is out of range: quality takes an integer from 1 to 100"),
    ],
)
def test_bad_input_is_explained(client, tool, arguments, expected):
    assert expected in client.error(tool, arguments)


def test_unknown_tool_is_an_error(client):
    assert "Unknown tool" in client.error("teleport", {}) or "not found" in client.error("teleport", {}).lower()


def test_server_keeps_serving_after_errors(client):
    for _ in range(3):
        client.error("click", {"x": 99999, "y": 0})
    data, _, meta = client.image()
    assert data and meta["width"] == 1280


def test_every_tool_declares_title_annotations_and_bounded_schema(client):
    tools = {tool.name: tool for tool in client.list_tools()}
    assert set(tools) >= {
        "screenshot", "screen_info", "click", "move_mouse", "drag", "mouse_down", "mouse_up",
        "scroll", "type_text", "press_keys", "hold_keys", "wait",
    }  # fmt: skip
    for tool in tools.values():
        assert tool.title and tool.description and len(tool.description) > 40, tool.name
        hints = tool.annotations
        assert None not in (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint, hints.open_world_hint)
        assert tool.output_schema is not None, tool.name
        for name, prop in tool.input_schema.get("properties", {}).items():
            if prop.get("type") in ("integer", "number"):
                assert "maximum" in prop or "exclusiveMaximum" in prop, f"{tool.name}.{name} has no upper bound"
            if prop.get("type") == "string":
                assert "maxLength" in prop or "enum" in prop, f"{tool.name}.{name} has no length bound"
    x = tools["click"].input_schema["properties"]["x"]
    assert 1279 in [x.get("maximum"), *(option.get("maximum") for option in x.get("anyOf", []))]
    assert tools["screenshot"].annotations.read_only_hint is True
    assert tools["click"].annotations.read_only_hint is False
