"""Every action waits for the screen to settle and says what changed: the active window, the focused
element, windows that opened or closed; pointer actions without x/y act where the pointer is."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageChops

from tests.support.desktop import mousepad_text, wait_until
from tests.support.mcp_client import error_text, model_text

RUNS = 20


def act(client, name: str, arguments: dict) -> tuple[str, dict]:
    """Call an action; the text block the model reads, and the structured result."""
    result = client.call_raw(name, arguments)
    assert not result.is_error, error_text(result)
    return model_text(result), result.structured_content


def pixels(client) -> Image.Image:
    data, _, _ = client.image({"cursor": False})
    return Image.open(io.BytesIO(data)).convert("RGB")


def test_the_first_screenshot_after_typing_is_the_settled_screen(client, mousepad):
    client.call("press_keys", {"keys": "ctrl+a BackSpace"})
    same = 0
    for run in range(RUNS):
        # A generous bound: on a busy machine the default (1 s) can end the wait before the screen is quiet,
        # which the answer then says; the claim tested is that a quiet screen is what the answer waits for.
        text, result = act(
            client, "type_text", {"text": f"line {run} of typing, long enough to redraw a good part\n", "settle": 10}
        )
        assert result["settled"], text
        first = pixels(client)
        client.call("wait", {"seconds": 0.5})
        later = pixels(client)
        same += ImageChops.difference(first, later).getbbox() is None
    assert same == RUNS, f"the screen changed after the reply in {RUNS - same} of {RUNS} runs"


def test_a_shortcut_that_opens_a_dialog_names_it_and_escape_names_it_closed(client, mousepad):
    text, result = act(client, "press_keys", {"keys": "ctrl+s"})
    if not result["opened"]:  # a first dialog can take longer than the settle bound on a busy machine
        text, result = act(client, "wait", {"seconds": 2})
    assert "Save As" in result["active_window"] and "Save As" in text
    assert "Focused: text" in text  # the dialog's name field has focus
    text, result = act(client, "press_keys", {"keys": "Escape"})
    assert any("Save As" in w for w in result["closed"]) and "Closed: 'Save As'" in text
    assert "Mousepad" in result["active_window"]


def test_click_without_coordinates_clicks_where_the_pointer_is(client, mousepad):
    act(client, "press_keys", {"keys": "ctrl+s"})
    cancel = wait_until(
        lambda: client.call("find", {"role": "push button", "name": "Cancel"})["elements"], what="the Cancel button"
    )[0]
    _, moved = act(client, "move_mouse", {"ref": cancel["ref"]})
    text, clicked = act(client, "click", {})
    assert "at the pointer" in text and clicked["cursor"] == moved["cursor"]
    assert wait_until(lambda: "Save As" not in str(client.call("list_windows")), what="the dialog to close")


def test_scroll_without_coordinates_scrolls_where_the_pointer_is(client, mousepad):
    client.call("press_keys", {"keys": "ctrl+a BackSpace"})
    client.call("type_text", {"text": "".join(f"row {n}\n" for n in range(200))})
    wait_until(lambda: mousepad_text(mousepad).count("\n") == 200, timeout=60, what="200 rows")
    document = client.call("find", {"role": "text", "states": ["editable"]})["elements"][0]
    client.call("press_keys", {"keys": "ctrl+Home"})
    client.call("move_mouse", {"ref": document["ref"]})
    before = pixels(client)
    text, _ = act(client, "scroll", {"direction": "down", "amount": 10})
    assert "at the pointer" in text
    assert ImageChops.difference(before, pixels(client)).getbbox() is not None  # the document moved


def test_observe_returns_the_look_in_the_same_call(client, mousepad):
    result = client.call_raw("press_keys", {"keys": "End", "observe": "screenshot"})
    assert [c.type for c in result.content] == ["text", "image"]
    Image.open(io.BytesIO(__import__("base64").b64decode(result.content[1].data))).verify()
    result = client.call_raw("press_keys", {"keys": "End", "observe": "snapshot"})
    snapshot = result.content[1].text
    assert snapshot.startswith("focused window (mousepad)") and 'menu "File"' in snapshot


@pytest.mark.parametrize("arguments", [{"x": 10}, {"y": 10}])
def test_half_a_point_is_refused_with_what_to_give(client, arguments):
    message = client.error("click", arguments)
    assert "give both x and y" in message and "pointer" in message


def test_settle_zero_answers_without_waiting_and_still_reports(client, mousepad):
    text, result = act(client, "press_keys", {"keys": "End", "settle": 0})
    assert result["settled"] and "Active window:" in text
