"""Attacks on a sandbox's display number: a local impostor on its abstract socket name (libxcb
clients try that name first and would hand over the cookie), X servers that take no lock file, and
sandboxes started at the same moment in several processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from cua_mcp.sandbox.display_claim import claim_display
from cua_mcp.sandbox.session import FIRST_DISPLAY, SandboxConfig, SandboxSession

# Numbers far above the sandboxes' range, for the lock file tests alone.
_SPARE = FIRST_DISPLAY + 5000


def _free_numbers(count: int) -> list[int]:
    free, number = [], FIRST_DISPLAY
    while len(free) < count:
        if not Path(f"/tmp/.X{number}-lock").exists() and not Path(f"/tmp/.X11-unix/X{number}").exists():
            free.append(number)
        number += 1
    return free


def _abstract(number: int) -> str:
    return f"\0/tmp/.X11-unix/X{number}"


def test_an_impostor_on_the_abstract_name_gets_no_connection_and_no_cookie():
    impostors = []
    for number in _free_numbers(3):
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(_abstract(number))
        listener.listen(8)
        listener.setblocking(False)
        impostors.append((number, listener))
    try:
        with SandboxSession(SandboxConfig(window_manager="none")) as sandbox:
            assert int(sandbox.display[1:]) not in [number for number, _ in impostors]
            # An Xlib/XCB client of the desktop, as its apps are: it reaches its own server.
            seen = subprocess.run(["xdpyinfo"], env=sandbox.env, capture_output=True, text=True, timeout=30)
            assert seen.returncode == 0 and f"name of display:    {sandbox.display}" in seen.stdout, seen.stderr
        for _, listener in impostors:
            with pytest.raises(BlockingIOError):
                listener.accept()  # nobody knocked
    finally:
        for _, listener in impostors:
            listener.close()


def test_a_running_sandbox_holds_its_abstract_name_and_its_lock():
    with SandboxSession(SandboxConfig(window_manager="none")) as sandbox:
        number = int(sandbox.display[1:])
        impostor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with pytest.raises(OSError, match="in use"):
            impostor.bind(_abstract(number))
        impostor.close()
        # An X server that honours lock files (Xvfb without -displayfd) refuses the number.
        rival = subprocess.run(
            ["Xvfb", sandbox.display, "-nolisten", "tcp"], capture_output=True, text=True, timeout=30
        )
        assert rival.returncode != 0 and "already active" in rival.stderr
        seen = subprocess.run(["xdpyinfo"], env=sandbox.env, capture_output=True, text=True, timeout=30)
        assert seen.returncode == 0, seen.stderr
    assert not Path(f"/tmp/.X{number}-lock").exists()  # given back with the desktop


_START_ONE = textwrap.dedent(
    """
    import sys
    from Xlib.display import Display
    from cua_mcp.sandbox.session import SandboxConfig, SandboxSession

    with SandboxSession(SandboxConfig(window_manager="none")) as sandbox:
        print(sandbox.display, flush=True)
        sys.stdin.read()  # the parent says when: every desktop is up at the same time
        conn = Display(sandbox.display)  # this process's own cookie: refused by any other server
        print("connected", conn.screen().width_in_pixels, flush=True)
        conn.close()
    """
)


def test_sandboxes_started_at_once_in_several_processes_each_get_a_display_of_their_own():
    command = [sys.executable, "-c", _START_ONE]
    pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": subprocess.PIPE}
    starts = [subprocess.Popen(command, text=True, cwd=Path(__file__).parents[1], **pipes) for _ in range(4)]
    try:
        displays = [start.stdout.readline().strip() for start in starts]
        for start in starts:
            start.stdin.write("go")
            start.stdin.flush()
        answers = [start.communicate(timeout=60) for start in starts]
    finally:
        for start in starts:
            start.kill()
    assert all(displays) and len(set(displays)) == 4, (displays, [err[-500:] for _, err in answers])
    assert all(out.startswith("connected") for out, _ in answers), [err[-500:] for _, err in answers]


def test_a_stale_lock_is_taken_and_an_odd_one_is_left_alone(tmp_path):
    stale = Path(f"/tmp/.X{_SPARE}-lock")
    link = Path(f"/tmp/.X{_SPARE + 1}-lock")
    fifo = Path(f"/tmp/.X{_SPARE + 2}-lock")
    target = tmp_path / "victim"
    target.write_text("untouched")
    stale.write_text(f"{2**30:10d}\n")  # above any pid_max: a process that is gone
    link.symlink_to(target)
    os.mkfifo(fifo)
    try:
        claim = claim_display(_SPARE, 1)
        assert claim is not None and claim.number == _SPARE
        assert int(stale.read_text()) == os.getpid()
        claim.release()
        assert not stale.exists()
        assert claim_display(_SPARE + 1, 1) is None and target.read_text() == "untouched"
        assert claim_display(_SPARE + 2, 1) is None  # and it did not block on the FIFO
    finally:
        for path in (stale, link, fifo):
            path.unlink(missing_ok=True)
