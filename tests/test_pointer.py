"""Pointer actions land where the screenshot says, seen by a real GTK app through AT-SPI."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest

from tests.support.desktop import atspi, wait_for_app, wait_until
from tests.support.pixels import centre, find_colour

TARGET_APP = Path(__file__).parent / "apps" / "click_target.py"
RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


@pytest.fixture(scope="module")
def target(session, client):
    session.launch([sys.executable, str(TARGET_APP)])
    wait_for_app(session, "click-target")
    wait_until(lambda: status(session) == "status: idle", what="the click target's window")
    return session


def status(session) -> str:
    found = atspi(session, "find", "click-target", "label", "status:")
    return found[0][0] if found else ""


def wait_status(session, pattern: str) -> re.Match:
    return wait_until(lambda: re.search(pattern, status(session)), what=f"status matching {pattern!r}")


def locate(client, rgb) -> tuple[int, int]:
    png, _, meta = client.image()
    assert meta["region"] == [0, 0, meta["space"]["width"], meta["space"]["height"]]
    return centre(find_colour(png, rgb))


def screen_pixel(client, x: int, y: int) -> tuple[float, float]:
    space = client.call("screen_info")["space"]
    return x / space["scale"], y / space["scale"]


def test_click_lands_on_the_button_the_screenshot_shows(client, target):
    x, y = locate(client, RED)
    result = client.call("click", {"x": x, "y": y})
    assert result["cursor"] == [x, y]
    match = wait_status(target, r"press red button=1 count=1 mods=none at=(\d+),(\d+)")
    sx, sy = screen_pixel(client, x, y)
    # The press arrived within one agent unit (1.5 screen pixels) of the point asked for.
    assert abs(int(match[1]) - sx) <= 2 and abs(int(match[2]) - sy) <= 2


def test_right_double_click_with_modifier(client, target):
    x, y = locate(client, GREEN)
    client.call("click", {"x": x, "y": y, "button": "right", "count": 2, "modifiers": ["ctrl"]})
    wait_status(target, r"press green button=3 count=2 mods=ctrl")


def test_triple_click(client, target):
    x, y = locate(client, BLUE)
    client.call("click", {"x": x, "y": y, "count": 3})
    wait_status(target, r"press blue button=1 count=3")


def test_scroll_turns_the_wheel_over_the_point(client, target):
    x, y = locate(client, BLUE)
    client.call("scroll", {"x": x, "y": y, "direction": "down", "amount": 4})
    wait_status(target, r"scroll blue down=4")
    client.call("scroll", {"x": x, "y": y, "direction": "up", "amount": 2})
    wait_status(target, r"scroll blue down=4 up=2")


def test_drag_presses_at_start_and_releases_at_end(client, target):
    red, blue = locate(client, RED), locate(client, BLUE)
    client.call("drag", {"from_x": red[0], "from_y": red[1], "to_x": blue[0], "to_y": blue[1]})
    match = wait_status(target, r"press red button=1 .* at=(\d+),(\d+) release=(\d+),(\d+)")
    end = screen_pixel(client, *blue)
    assert abs(int(match[3]) - end[0]) <= 2 and abs(int(match[4]) - end[1]) <= 2


def test_mouse_down_move_up_is_a_drag(client, target):
    green, red = locate(client, GREEN), locate(client, RED)
    client.call("move_mouse", {"x": green[0], "y": green[1]})
    client.call("mouse_down", {})
    client.call("press_keys", {"keys": "shift"})  # other input meanwhile must not release the held button
    client.call("move_mouse", {"x": red[0], "y": red[1]})
    client.call("mouse_up", {})
    match = wait_status(target, r"press green button=1 count=1 .* release=(\d+),(\d+)")
    end = screen_pixel(client, *red)
    assert abs(int(match[1]) - end[0]) <= 2


def test_move_mouse_reports_the_cursor(client, target):
    result = client.call("move_mouse", {"x": 10, "y": 20})
    assert result["cursor"] == [10, 20]
    assert client.call("screen_info")["cursor"] == [10, 20]
