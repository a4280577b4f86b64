"""Attacks on a running server, each counting its attempts and its escapes.

The tests assert that every attack here escapes 0 times; scripts/security_attacks.py runs the
same functions and prints the README's security table. An attack takes a connected client (and
what it needs to know of the server's places) and returns one `Outcome` per table row.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor, TimeoutError
from dataclasses import dataclass
from pathlib import Path

from tests.support.mcp_client import BlockingClient
from tests.support.processes import resident_mb

_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@dataclass(frozen=True)
class Outcome:
    """One row of the security table."""

    attack: str
    attempts: int
    escapes: int
    note: str = ""

    def row(self) -> str:
        return f"| {self.attack} | {self.attempts} | {self.escapes} of {self.attempts} | {self.note} |"


TABLE_HEADER = "| attack | attempts | escapes | note |\n|---|---|---|---|"


class Swapper(threading.Thread):
    """Exchanges two paths atomically (renameat2 RENAME_EXCHANGE), as fast as it can, until stopped."""

    def __init__(self, a: Path, b: Path) -> None:
        super().__init__(daemon=True)
        self._paths = (os.fsencode(a), os.fsencode(b))
        self._halt = threading.Event()
        self.swaps = 0

    def run(self) -> None:
        libc = ctypes.CDLL(None, use_errno=True)
        a, b = self._paths
        while not self._halt.is_set():
            if libc.renameat2(_AT_FDCWD, a, _AT_FDCWD, b, _RENAME_EXCHANGE) != 0:
                raise OSError(ctypes.get_errno(), "renameat2 failed")
            self.swaps += 1

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=10)


def symlink_race(client: BlockingClient, workspace: Path, outside: Path, calls: int = 100) -> list[Outcome]:
    """A folder of the workspace swapped with a link to `outside` while the file tools use it."""
    box, swap = workspace / "race-box", workspace / "race-swap"
    box.mkdir()
    (box / "f.txt").write_text("inside\n")
    (outside / "f.txt").write_text("SECRET\n")
    (outside / "secret-name.txt").write_text("")
    os.symlink(outside, swap)
    swapper = Swapper(box, swap)
    swapper.start()
    read_escapes = list_escapes = 0
    try:
        for i in range(calls):
            client.call_raw("write_file", {"path": f"race-box/w{i}.txt", "content": "pwned\n"})
            read = client.call_raw("read_file", {"path": "race-box/f.txt"})
            read_escapes += "SECRET" in (read.structured_content or {}).get("content", "")
            listing = client.call_raw("list_files", {"path": "race-box", "pattern": "**"})
            list_escapes += "secret-name" in str(listing.structured_content)
    finally:
        swapper.stop()
    write_escapes = len(list(outside.glob("w*.txt")))
    assert swapper.swaps > calls, "the swapper barely ran: the race was not tried"
    return [
        Outcome("write_file while a folder is swapped with a link out", calls, write_escapes),
        Outcome("read_file while a folder is swapped with a link out", calls, read_escapes),
        Outcome("list_files while a folder is swapped with a link out", calls, list_escapes),
    ]


def fifo_starvation(client: BlockingClient, workspace: Path, readers: int = 8, wait_s: float = 60) -> list[Outcome]:
    """read_file on a FIFO nobody writes, several at once; then the desktop must still answer."""
    os.mkfifo(workspace / "pipe")
    with ThreadPoolExecutor(readers) as pool:
        reads = [pool.submit(client.call_raw, "read_file", {"path": "pipe"}, 120) for _ in range(readers)]
        time.sleep(1)  # let them all reach the server
        hung = 0
        for tool in ("screenshot", "clipboard_get"):
            try:
                pool.submit(client.call_raw, tool, {}, wait_s).result(timeout=wait_s)
            except TimeoutError:
                hung += 1
        stuck_reads = sum(not r.done() for r in reads)
    os.unlink(workspace / "pipe")
    return [
        Outcome(f"{readers} read_file on a FIFO, then screenshot and clipboard_get", 2, hung),
        Outcome("read_file on a FIFO answers (does not block)", readers, stuck_reads),
    ]


def huge_line(client: BlockingClient, workspace: Path, server_pid: int, gib: int = 1, limit_mb: int = 100) -> Outcome:
    """read_file of a sparse file of `gib` GiB with no newline: the server's memory stays bounded."""
    path = workspace / "huge.txt"
    with open(path, "wb") as f:
        f.write(b"x" * 65536)  # text, so the binary sniff lets it through
        f.truncate(gib << 30)
    before = resident_mb(server_pid, peak=True)
    result = client.call_raw("read_file", {"path": "huge.txt"}, timeout=120)
    grown = resident_mb(server_pid, peak=True) - before
    path.unlink()
    returned = len((result.structured_content or {}).get("content", ""))
    return Outcome(
        f"read_file of a {gib} GiB file with no newline",
        1,
        int(grown >= limit_mb),
        f"returned {returned} characters; the server's peak memory grew {grown:.0f} MB (an escape from {limit_mb} MB)",
    )


def token_in_environment(client: BlockingClient, token: str) -> Outcome:
    """The server's token (and any CUA_MCP_* setting) in what a command or an app can read of its
    own environment, or of any process it can see."""
    seen = client.call(
        "run_command",
        {"command": "cat /proc/self/environ; for p in /proc/[0-9]*; do cat $p/environ $p/cmdline; done 2>/dev/null"},
    )
    leaks = [seen["stdout"]]
    app = client.call("launch", {"app": "mousepad"})
    with contextlib.suppress(OSError):
        leaks.append(Path(f"/proc/{app['pid']}/environ").read_text(errors="replace"))
    client.call("window_op", {"window": app["window"]["id"], "op": "close"})
    escapes = sum(token in text or "CUA_MCP_" in text for text in leaks)
    return Outcome("the HTTP token in a command's or an app's environment", len(leaks), escapes)


def other_displays(client: BlockingClient, other: str) -> Outcome:
    """From a command: another desktop's display (by its socket, its abstract socket, or deleting
    its socket), and this desktop's own display without its cookie. A last control opens this
    desktop with the cookie the command was given, to show the attempts were real."""
    number = other.lstrip(":")
    script = f"""
        try() {{ if "$@" >/dev/null 2>&1; then echo OPENED; else echo refused; fi; }}
        try xdpyinfo -display {other}
        try python3 -c "import socket; s = socket.socket(socket.AF_UNIX); s.connect('\\0/tmp/.X11-unix/X{number}')"
        rm -f /tmp/.X11-unix/X{number} 2>/dev/null
        XAUTHORITY=/dev/null try xdpyinfo
        try xdpyinfo
    """
    out = client.call("run_command", {"command": script})["stdout"].split()
    socket_left = Path(f"/tmp/.X11-unix/X{number}").exists()
    *attempts, control = out
    assert control == "OPENED", f"the command could not open its own desktop: {out}"
    escapes = attempts.count("OPENED") + (not socket_left)
    return Outcome("X displays from a command: another desktop's (3 ways), this one's without the cookie", 4, escapes)


class DebianDesktop:
    """A desktop started outside the server, the way Debian starts one: Xvfb, a session bus from
    dbus-launch (its socket directly in /tmp), the AT-SPI bus launcher and a window manager."""

    def __init__(self) -> None:
        self.env: dict[str, str] = {}
        self.display = ""
        self.user: int | None = None  # its apps run as the user that started it, as on a real desktop
        self._processes: list[subprocess.Popen] = []
        self._bus_pid: int | None = None

    def __enter__(self) -> DebianDesktop:
        try:
            self._start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start(self) -> None:
        read_fd, write_fd = os.pipe()
        # -noreset: as under a display manager, the server outlives its clients. Without it, Xvfb
        # regenerates when dbus-launch's probe disconnects, and drops openbox connecting meanwhile.
        xvfb = self._spawn(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp",
                            "-noreset"], os.environ, pass_fds=(write_fd,))  # fmt: skip
        os.close(write_fd)
        with os.fdopen(read_fd) as ready:
            number = ready.readline().strip()
        assert number and xvfb.poll() is None, "Xvfb did not start"
        self.display = f":{number}"
        base = {k: v for k, v in os.environ.items() if not k.startswith(("DBUS_", "XAUTHORITY", "XDG_RUNTIME"))}
        base["DISPLAY"] = self.display
        launched = subprocess.run(["dbus-launch", "--sh-syntax"], env=base, capture_output=True, text=True, timeout=30)
        values = dict(re.findall(r"^(\w+)='?([^';\n]*)'?;", launched.stdout, re.M))
        self._bus_pid = int(values["DBUS_SESSION_BUS_PID"])
        self.env = {**base, "DBUS_SESSION_BUS_ADDRESS": values["DBUS_SESSION_BUS_ADDRESS"]}
        launcher = next(p for p in ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher")
                        if os.path.exists(p))  # fmt: skip
        self._spawn([launcher, "--launch-immediately"], self.env)
        openbox = self._spawn(["openbox", "--sm-disable"], self.env)
        self._wait_for_window_manager(openbox)

    def _wait_for_window_manager(self, openbox: subprocess.Popen) -> None:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            assert openbox.poll() is None, f"openbox exited with status {openbox.returncode}"
            root = subprocess.run(["xprop", "-root", "-display", self.display, "_NET_SUPPORTING_WM_CHECK"],
                                  capture_output=True, text=True, timeout=10).stdout  # fmt: skip
            if "window id" in root:
                return
            time.sleep(0.1)
        raise AssertionError("openbox did not take the screen within 20 s")

    def _spawn(self, argv: list[str], env, **kwargs) -> subprocess.Popen:
        popen = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                 stderr=subprocess.DEVNULL, start_new_session=True, **kwargs)  # fmt: skip
        self._processes.append(popen)
        return popen

    @property
    def bus_socket(self) -> Path:
        return Path(self.env["DBUS_SESSION_BUS_ADDRESS"].partition("path=")[2].partition(",")[0])

    def __exit__(self, *exc: object) -> None:
        for popen in reversed(self._processes):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(popen.pid, signal.SIGKILL)
            popen.wait(timeout=10)
        if self._bus_pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._bus_pid, signal.SIGKILL)


def attached_tmp(client: BlockingClient, marker: Path) -> Outcome:
    """On an attached desktop whose session bus lies in /tmp: the host's /tmp from a command."""
    seen = client.call("run_command", {"command": f"ls -a /tmp; cat {marker}"})
    return Outcome("the host's /tmp from a command, on an attached desktop with its bus in /tmp", 1,
                   int(marker.name in seen["stdout"] or "host secret" in seen["stdout"]))  # fmt: skip


def terminal_without_shell(client: BlockingClient) -> Outcome:
    """`launch xterm` on a server without the shell group (a terminal runs any command)."""
    result = client.call_raw("launch", {"app": "xterm", "wait": False})
    return Outcome("launch a terminal without the shell group", 1, int(not result.is_error))


APP_FILE_ARGS = ("/etc/shadow", "file:///etc/shadow", "../../etc/shadow", "/root/.ssh/id_rsa", "file:/etc/passwd")


def app_file_arguments(client: BlockingClient) -> Outcome:
    """Files outside the workspace given to an app to open (mousepad would show them to read_text)."""
    started = [
        not client.call_raw("launch", {"app": "mousepad", "args": [arg], "wait": False}).is_error
        for arg in APP_FILE_ARGS
    ]
    return Outcome("launch an app on a file outside the workspace", len(started), sum(started))


def host_secrets(client: BlockingClient) -> Outcome:
    """From a command: root's powers, the shadow file, the home folders, remounting the system."""
    out = client.call(
        "run_command",
        {"command": "id -u; cat /etc/shadow | wc -c; ls -A /root /home | wc -w; mount -o remount,rw / && echo rw"},
    )["stdout"].split()
    user, shadow, homes = out[:3]
    escapes = (user == "0") + (shadow != "0") + (homes != "2") + ("rw" in out)
    return Outcome("a command as root, reading /etc/shadow, /root or /home, remounting /", 4, escapes)
