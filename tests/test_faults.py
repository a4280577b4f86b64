"""Faults never hang the server or leave keys held; stopping leaves no process behind."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import threading
import time

import pytest
from mcp.shared.exceptions import MCPError
from Xlib.display import Display

from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import atspi, wait_for_app, wait_until
from tests.support.mcp_client import McpServerProcess
from tests.support.processes import alive, child_server_pid, command_line, descendants


def keys_down(display_name: str) -> list[int]:
    """Keycodes the X server currently considers pressed."""
    display = Display(display_name)
    try:
        keymap = display.query_keymap()
    finally:
        display.close()
    return [byte_index * 8 + bit for byte_index, byte in enumerate(keymap) for bit in range(8) if byte & (1 << bit)]


class KeySampler(threading.Thread):
    """Records the most keys seen held at once while a call runs."""

    def __init__(self, display_name: str) -> None:
        super().__init__(daemon=True)
        self.display_name = display_name
        self.most: list[int] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            down = keys_down(self.display_name)
            if len(down) > len(self.most):
                self.most = down
            time.sleep(0.02)


def test_cancelled_hold_releases_the_keys(client, session):
    sampler = KeySampler(session.display)
    sampler.start()
    # The client gives up after 0.5 s; the SDK then cancels the call on the server.
    with pytest.raises(MCPError, match="timed out"):
        client.call_raw("hold_keys", {"keys": "ctrl+shift", "seconds": 8}, read_timeout_seconds=0.5)
    sampler.stop.set()
    sampler.join()
    assert len(sampler.most) == 2, "ctrl and shift were held while the call ran"
    wait_until(lambda: keys_down(session.display) == [], timeout=5, what="all keys released")
    # The desktop is usable right away: the next call is not stuck behind the cancelled hold.
    started = time.monotonic()
    client.call("move_mouse", {"x": 5, "y": 5})
    assert time.monotonic() - started < 5


def test_cancelled_typing_releases_keys_and_restores_the_keymap(client, session):
    before = Display(session.display)
    first = before.display.info.min_keycode
    keymap_before = before.get_keyboard_mapping(first, before.display.info.max_keycode - first + 1)
    before.close()
    with pytest.raises(MCPError, match="timed out"):
        # 10,000 distinct CJK characters need hundreds of keymap batches: seconds of typing.
        text = "".join(chr(0x4E00 + i) for i in range(10_000))
        client.call_raw("type_text", {"text": text}, read_timeout_seconds=0.3)
    wait_until(lambda: keys_down(session.display) == [], timeout=5, what="all keys released")

    def keymap_restored() -> bool:
        after = Display(session.display)
        try:
            return after.get_keyboard_mapping(first, len(keymap_before)) == keymap_before
        finally:
            after.close()

    wait_until(keymap_restored, timeout=5, what="the keymap restored")


def test_attached_display_that_dies_is_reported_promptly():
    sandbox = SandboxSession(SandboxConfig(window_manager="none")).start()
    try:
        with McpServerProcess(["--display", sandbox.display]) as mcp:
            mcp.call("move_mouse", {"x": 1, "y": 1})
            xvfb = next(p for p in sandbox._core if p.name == "Xvfb")
            xvfb.popen.kill()
            xvfb.popen.wait()
            started = time.monotonic()
            message = mcp.error("screenshot", {})
            assert "display" in message and "gone" in message
            assert time.monotonic() - started < 15
            assert "gone" in mcp.error("click", {"x": 1, "y": 1})
            assert len(mcp.list_tools()) >= 12  # the server itself keeps serving
    finally:
        sandbox.stop()


def test_sandbox_display_that_dies_is_brought_back():
    with McpServerProcess(["--window-manager", "none"]) as mcp:
        display = mcp.call("screen_info")["display"]
        server = child_server_pid()
        xvfb = next(p for p in descendants(server) if command_line(p).startswith(f"Xvfb {display} "))
        os.kill(xvfb, signal.SIGKILL)
        wait_until(lambda: not alive({xvfb}), timeout=5, what="Xvfb gone")
        message = mcp.error("screenshot", {})
        assert f"the sandbox display {display} had died; a fresh desktop was started" in message
        info = mcp.call("screen_info")
        assert info["sandboxed"] and info["display"] != display
        data, _, meta = mcp.image()
        assert meta["width"] == 1280 and data


@pytest.mark.parametrize("how", ["stdin closed", "SIGINT", "SIGTERM", "SIGKILL"])
def test_stopping_leaves_no_process_behind(how):
    mcp = McpServerProcess(["--launch", "mousepad", "--launch", "gnome-calculator"]).start()
    try:
        server = child_server_pid()
        expected = ("Xvfb", "dbus-daemon", "at-spi-bus-launcher", "openbox", "mousepad", "gnome-calculator")

        def all_started() -> bool:
            names = " ".join(command_line(p) for p in descendants(server))
            missing = [part for part in expected if part not in names]
            assert not missing, f"not (yet) running: {missing}; running: {names[:500]}"
            return True

        wait_until(all_started, timeout=30, what="the sandbox's processes")
        started = descendants(server)
        if how != "stdin closed":
            os.kill(server, getattr(signal, how))
    finally:
        with contextlib.suppress(Exception):
            mcp.close()
    wait_until(lambda: not alive(started | {server}), timeout=15, what=f"no process left after {how}")


def test_two_sandboxes_side_by_side_do_not_touch_each_other():
    first = Desktop.start_sandbox()
    second = Desktop.start_sandbox()
    try:
        assert first.display != second.display
        for desktop in (first, second):
            desktop.session.launch("mousepad")
            wait_for_app(desktop.session, "mousepad")

        async def type_both() -> None:
            await asyncio.gather(first.type_text("only in the first"), second.type_text("only in the second"))

        asyncio.run(type_both())
        wait_until(lambda: atspi(first.session, "text", "mousepad") == "only in the first", what="first text")
        wait_until(lambda: atspi(second.session, "text", "mousepad") == "only in the second", what="second text")
    finally:
        first.close()
        second.close()
    assert not os.path.exists(f"/tmp/.X11-unix/X{first.display[1:]}")
