"""gnome-calculator (GTK 4): press buttons by ref, read the result, and check the boxes land on the buttons."""

from __future__ import annotations

import pytest

from tests.support.desktop import wait_for_app, wait_until

SCOPE = "gnome-calculator"


@pytest.fixture(scope="module")
def calculator(session, client):
    session.launch("gnome-calculator")
    wait_for_app(session, "gnome-calculator")
    wait_until(lambda: button(client, "7", must=False), timeout=20, what="calculator buttons")
    return session


def button(client, label: str, must: bool = True) -> dict | None:
    found = client.call("find", {"scope": SCOPE, "role": "push button", "name": label, "limit": 200})["elements"]
    exact = [e for e in found if e["name"].split(" ")[0] == label]
    if must:
        assert exact, f"no {label!r} button among {[e['name'] for e in found]}"
    return exact[0] if exact else None


def display(client) -> dict:
    found = client.call("find", {"scope": SCOPE, "role": "text", "states": ["editable"]})["elements"]
    assert found, "no editable display"
    return found[0]


def test_button_sequence_by_refs_gives_the_result(client, calculator):
    client.call("press_keys", {"keys": "Escape"})  # clear
    for label in ("2", "+", "3", "×", "4", "="):
        client.call("click", {"ref": button(client, label)["ref"]})
    ref = display(client)["ref"]
    assert wait_until(lambda: client.call("read_text", {"ref": ref})["text"].strip() == "14", what="result 14")


def test_boxes_are_on_screen_where_the_buttons_are(client, calculator):
    # A pointer click at the box centre from the snapshot must hit the button: GTK 4's window-relative
    # extents have been moved to the screen.
    client.call("press_keys", {"keys": "Escape"})
    for label in ("9", "−", "1", "="):
        x, y, w, h = button(client, label)["box"]
        client.call("click", {"x": x + w // 2, "y": y + h // 2})
    ref = display(client)["ref"]
    assert wait_until(lambda: client.call("read_text", {"ref": ref})["text"].strip() == "8", what="result 8")
