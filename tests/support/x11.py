"""Independent views of the desktop for tests: what xprop and xwininfo report, as a user's tools would."""

from __future__ import annotations

import re
import subprocess

from cua_mcp.sandbox.session import SandboxSession


def _run(session: SandboxSession, *argv: str) -> str:
    out = subprocess.run(argv, env=session.env, capture_output=True, text=True, timeout=10)
    if out.returncode != 0:
        raise AssertionError(f"{argv} failed: {out.stderr.strip()}")
    return out.stdout


def client_list(session: SandboxSession) -> list[int]:
    """_NET_CLIENT_LIST: the windows the window manager manages."""
    text = _run(session, "xprop", "-root", "_NET_CLIENT_LIST")
    return [int(h, 16) for h in re.findall(r"0x[0-9a-f]+", text)]


def active_window(session: SandboxSession) -> int | None:
    found = re.findall(r"0x[0-9a-f]+", _run(session, "xprop", "-root", "_NET_ACTIVE_WINDOW"))
    return int(found[0], 16) if found else None


def wm_state(session: SandboxSession, window: int) -> set[str]:
    """The _NET_WM_STATE atoms of a window, e.g. {'_NET_WM_STATE_MAXIMIZED_VERT', ...}."""
    text = _run(session, "xprop", "-id", hex(window), "_NET_WM_STATE")
    return set(re.findall(r"_NET_WM_STATE_[A-Z_]+", text))


def geometry(session: SandboxSession, window: int) -> tuple[int, int, int, int]:
    """Absolute x, y, width, height of a window's content in screen pixels (xwininfo)."""
    text = _run(session, "xwininfo", "-id", hex(window))
    value = {
        k: int(re.search(rf"{k}:\s+(-?\d+)", text)[1])
        for k in ("Absolute upper-left X", "Absolute upper-left Y", "Width", "Height")
    }  # type: ignore[index]
    return value["Absolute upper-left X"], value["Absolute upper-left Y"], value["Width"], value["Height"]


def pointer_position(session: SandboxSession) -> tuple[int, int]:
    """Where the pointer is, in screen pixels, as xdotool sees it."""
    fields = dict(part.split(":") for part in _run(session, "xdotool", "getmouselocation").split())
    return int(fields["x"]), int(fields["y"])
