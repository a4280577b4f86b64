"""Launch apps from the catalog and handle their windows the way a user would see it (xprop, xwininfo)."""

from __future__ import annotations

import pytest

from tests.support.desktop import wait_for_app, wait_until
from tests.support.mcp_client import attached_server
from tests.support.x11 import active_window, client_list, geometry, wm_state

SCALE = 1920 / 1280  # screen pixels per agent unit on the default 1920x1080 sandbox


@pytest.fixture(scope="module")
def server(session, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("workspace")
    # The shell group: xterm, the lightest app to launch without waiting, is a terminal.
    with attached_server(session, "--workspace", str(workspace), "--allow", "shell") as mcp:
        yield mcp


@pytest.fixture(scope="module")
def apps(server):
    """Mousepad and the calculator, launched through the catalog: their window ids."""
    pad = server.call("launch", {"app": "mousepad"})
    calc = server.call("launch", {"app": "gnome-calculator"})
    return {"mousepad": int(pad["window"]["id"], 16), "calculator": int(calc["window"]["id"], 16)}


def test_launch_returns_the_apps_window(session, server, apps):
    assert apps["mousepad"] in client_list(session)
    assert apps["calculator"] in client_list(session)
    listed = {int(w["id"], 16): w for w in server.call("list_windows")["windows"]}
    assert listed[apps["mousepad"]]["app"] == "Mousepad"
    assert listed[apps["calculator"]]["app"] == "gnome-calculator"
    assert all(w["pid"] for w in listed.values())


def test_confined_apps_reach_the_accessibility_bus(session, apps):
    wait_for_app(session, "mousepad")
    wait_for_app(session, "gnome-calculator")


def test_activate_by_title_substring(session, server, apps):
    result = server.call("activate_window", {"window": "mousepad"})
    assert result["applied"] and result["window"]["active"]
    assert active_window(session) == apps["mousepad"]
    server.call("activate_window", {"window": hex(apps["calculator"])})
    assert active_window(session) == apps["calculator"]
    assert server.call("list_windows")["active"] == f"0x{apps['calculator']:08x}"


def test_move_in_agent_coordinates(session, server, apps):
    result = server.call("window_op", {"window": "Calculator", "op": "move", "x": 100, "y": 120})
    assert result["applied"], result["done"]
    x, y, _, _ = geometry(session, apps["calculator"])
    assert abs(x - 100 * SCALE) <= 3 and abs(y - 120 * SCALE) <= 3
    assert (result["window"]["x"], result["window"]["y"]) == (100, 120)


def test_resize(session, server, apps):
    result = server.call("window_op", {"window": "mousepad", "op": "resize", "width": 500, "height": 400})
    assert result["applied"], result["done"]
    _, _, width, height = geometry(session, apps["mousepad"])
    assert abs(width - 500 * SCALE) <= 3 and abs(height - 400 * SCALE) <= 3


def test_maximize_minimize_restore_fullscreen(session, server, apps):
    window = hex(apps["calculator"])
    assert server.call("window_op", {"window": window, "op": "maximize"})["window"]["maximized"]
    assert {"_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_STATE_MAXIMIZED_HORZ"} <= wm_state(session, apps["calculator"])

    assert server.call("window_op", {"window": window, "op": "minimize"})["window"]["minimized"]
    assert "_NET_WM_STATE_HIDDEN" in wm_state(session, apps["calculator"])

    restored = server.call("window_op", {"window": window, "op": "restore"})["window"]
    assert not (restored["minimized"] or restored["maximized"])
    assert not wm_state(session, apps["calculator"]) & {"_NET_WM_STATE_HIDDEN", "_NET_WM_STATE_MAXIMIZED_VERT"}

    assert server.call("window_op", {"window": window, "op": "fullscreen"})["window"]["fullscreen"]
    assert "_NET_WM_STATE_FULLSCREEN" in wm_state(session, apps["calculator"])
    server.call("window_op", {"window": window, "op": "restore"})
    assert "_NET_WM_STATE_FULLSCREEN" not in wm_state(session, apps["calculator"])


def test_ambiguous_and_unknown_windows_are_errors_listing_candidates(server, apps):
    message = server.error("activate_window", {"window": "a"})  # in "Calculator" and "Mousepad"
    assert "2 windows match" in message and "Calculator" in message and "Mousepad" in message
    message = server.error("window_op", {"window": "no such window", "op": "close"})
    assert "no window matches" in message and "Calculator" in message


def test_bad_arguments_are_explained_and_the_server_keeps_serving(server, apps):
    assert "needs x and/or y" in server.error("window_op", {"window": "Calculator", "op": "move"})
    assert "takes no x/y" in server.error("window_op", {"window": "Calculator", "op": "close", "x": 5})
    message = server.error("launch", {"app": "photoshop"})
    assert "no app named 'photoshop'" in message and "mousepad" in message and "chromium" in message
    assert server.call("list_windows")["windows"]


def test_close(session, server, apps):
    result = server.call("window_op", {"window": "Calculator", "op": "close"})
    assert result["applied"] and result["window"] is None
    wait_until(lambda: apps["calculator"] not in client_list(session), what="calculator gone from the client list")
    assert "Calculator" not in [w["title"] for w in server.call("list_windows")["windows"]]


def test_launch_without_waiting(server):
    started = server.call("launch", {"app": "xterm", "wait": False})
    assert started["pid"] > 0 and started["window"] is None
    wait_until(lambda: any(w["app"] == "XTerm" for w in server.call("list_windows")["windows"]), what="xterm window")
    server.call("window_op", {"window": "XTerm", "op": "close"})
