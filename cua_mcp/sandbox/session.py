"""A private desktop: Xvfb, a session bus, the accessibility bus, a window manager, and apps.

`SandboxSession.start()` brings the parts up in the order that works (see the notes on the
desktop), each in its own process group, and `stop()` takes down exactly what it started, in
reverse order. A reaper process watches every group, so nothing is left behind even when the
server is killed outright. Several sessions can run side by side in one process.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import open_dbus_connection

from cua_mcp.errors import SandboxError
from cua_mcp.sandbox import confine, xauth
from cua_mcp.sandbox.display_claim import DisplayClaim, claim_display

log = logging.getLogger(__name__)

FIRST_DISPLAY = 100
_DISPLAY_NUMBERS = 900
_START_TIMEOUT_S = 10.0
_ATSPI_LAUNCHER_PATHS = ("/usr/libexec/at-spi-bus-launcher", "/usr/lib/at-spi2-core/at-spi-bus-launcher")

# What every app needs to show up in the accessibility tree (and nothing that hides it).
ACCESSIBILITY_ENV = {
    "GTK_A11Y": "atspi",
    "QT_ACCESSIBILITY": "1",
    "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
    "ACCESSIBILITY_ENABLED": "1",
    "SAL_USE_VCLPLUGIN": "gtk3",
    "GDK_BACKEND": "x11",
    "QT_QPA_PLATFORM": "xcb",
}
_ENV_DROPPED = ("NO_AT_BRIDGE", "WAYLAND_DISPLAY", "XAUTHORITY", "SESSION_MANAGER", "DESKTOP_STARTUP_ID")
# The session bus admits its owner (the desktop's user) and, with this, the server running as root.
_SESSION_BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>/usr/share/dbus-1/session.conf</include>
  <policy context="default"><allow user="root"/></policy>
</busconfig>
"""
_SERVER_ONLY = "CUA_MCP_"  # the server's own settings, its HTTP token among them


def host_env(drop: tuple[str, ...] = ()) -> dict[str, str]:
    """The server's environment as children may see it: none of the server's own settings (its
    token among them), and not the variables named in `drop`."""
    return {k: v for k, v in os.environ.items() if not k.startswith(_SERVER_ONLY) and k not in drop}


@dataclass
class SandboxConfig:
    """How to build a sandbox desktop."""

    width: int = 1920
    height: int = 1080
    depth: int = 24
    window_manager: str = "openbox"
    launch: list[str] = field(default_factory=list)


@dataclass
class _Proc:
    name: str
    popen: subprocess.Popen

    @property
    def pgid(self) -> int:
        return self.popen.pid


class _Reaper:
    """The parent-death watchdog: one child process per session, fed process-group ids."""

    def __init__(self) -> None:
        self._popen = subprocess.Popen(
            # Run as a script: importing the package would load X and imaging libraries for nothing.
            [sys.executable, "-I", str(Path(__file__).with_name("_reaper.py"))],
            stdin=subprocess.PIPE,
            start_new_session=True,
            text=True,
        )
        self._lock = threading.Lock()

    def watch(self, pgid: int) -> None:
        self._send(f"+{pgid}")

    def forget(self, pgid: int) -> None:
        self._send(f"-{pgid}")

    def close(self) -> None:
        if self._popen.stdin and not self._popen.stdin.closed:
            self._popen.stdin.close()
        try:
            self._popen.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._popen.kill()
            self._popen.wait()

    def _send(self, line: str) -> None:
        with self._lock:
            assert self._popen.stdin is not None
            self._popen.stdin.write(line + "\n")
            self._popen.stdin.flush()


class SandboxSession:
    """The processes of one private desktop."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.display: str = ""
        self.env: dict[str, str] = {}
        self.root_dir: Path | None = None
        self._core: list[_Proc] = []
        self._apps: list[_Proc] = []
        self._reaper: _Reaper | None = None
        self._display_claim: DisplayClaim | None = None
        self._lock = threading.Lock()
        self._cookie = b""
        self.user: int | None = None  # the uid (and gid) of the desktop's processes; None: the server's

    # ----- life cycle ----------------------------------------------------------------------

    def start(self) -> SandboxSession:
        """Start Xvfb, the buses and the window manager, then the configured apps."""
        started = time.monotonic()
        self.root_dir = Path(tempfile.mkdtemp(prefix="cua-mcp-"))
        home = self.root_dir / "home"
        runtime = self.root_dir / "runtime"
        home.mkdir()
        settings = _still_caret(home / ".config")
        runtime.mkdir(mode=0o700)
        self._reaper = _Reaper()
        self._cookie = xauth.new_cookie()
        authority = xauth.write(home / ".Xauthority", [xauth.cookie_entry(self._cookie)])
        try:
            self._start_xvfb(authority)
            # The desktop's own processes and its apps run as its unprivileged user (when the server is
            # root): they own its HOME and runtime folder; the server reaches its buses as root.
            self.user = confine.sandbox_user()
            if self.user is not None:
                self.root_dir.chmod(0o711)  # passable to reach HOME and the runtime folder, not listable
                for path in (home, runtime, authority, *settings):
                    os.chown(path, self.user, confine.group_of(self.user))
            self.env = _base_env(self.display, home, runtime)
            self.env["XAUTHORITY"] = str(authority)
            self._start_session_bus(runtime)
            self._start_accessibility_bus()
            self._start_window_manager()
            for command in self.config.launch:
                self.launch(command)
        except BaseException:
            self.stop()
            raise
        log.info("sandbox desktop %s up in %.2f s", self.display, time.monotonic() - started)
        return self

    def stop(self) -> None:
        """Stop the apps, then the window manager, buses and Xvfb; remove the throw-away HOME."""
        with self._lock:
            apps, core = self._apps, self._core
            self._apps, self._core = [], []
        _terminate(apps, grace=2.0)
        _terminate(list(reversed(core)), grace=1.0)
        if self.display:
            xauth.PROCESS_AUTHORITY.revoke(xauth.cookie_entry(self._cookie, self.display))
        if self._display_claim is not None:
            self._display_claim.release()  # after Xvfb has exited: the number is free only now
            self._display_claim = None
        if self._reaper is not None:
            self._reaper.close()
            self._reaper = None
        if self.root_dir is not None:
            shutil.rmtree(self.root_dir, ignore_errors=True)
            self.root_dir = None

    def __enter__(self) -> SandboxSession:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def display_alive(self) -> bool:
        """Whether the Xvfb process this session started is still running."""
        xvfb = next((p for p in self._core if p.name == "Xvfb"), None)
        return xvfb is not None and xvfb.popen.poll() is None

    # ----- apps ----------------------------------------------------------------------------

    def launch(
        self, command: str | list[str], extra_env: dict[str, str] | None = None, as_user: bool = True
    ) -> subprocess.Popen:
        """Start an app on this desktop, in its own process group, with the accessibility env, as the
        desktop's user (`as_user=False`: the command changes user itself, as confinement does)."""
        argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not argv:
            raise SandboxError("empty launch command")
        argv = accessible_argv(argv)
        if shutil.which(argv[0], path=self.env.get("PATH")) is None:
            raise SandboxError(f"cannot launch {argv[0]!r}: no such program on PATH")
        assert self.root_dir is not None, "launch() needs a started session"
        log_path = self.root_dir / f"{Path(argv[0]).name}-{len(self._apps)}.log"
        with open(log_path, "ab") as log_file:
            env = {**self.env, **(extra_env or {})}
            popen = self._spawn(argv, env, log_file, cwd=self.env["HOME"], as_user=as_user)
        with self._lock:
            self._apps.append(_Proc(argv[0], popen))
        return popen

    @property
    def app_processes(self) -> list[subprocess.Popen]:
        return [p.popen for p in self._apps]

    # ----- parts ---------------------------------------------------------------------------

    def _spawn(
        self, argv: list[str], env: dict[str, str], output, cwd: str | None = None, as_user: bool = False, **kwargs
    ):
        if as_user and self.user is not None:
            argv = confine.as_user(self.user) + argv
        popen = subprocess.Popen(
            argv,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=kwargs.pop("stdout", output),
            stderr=output,
            start_new_session=True,
            **kwargs,
        )
        assert self._reaper is not None
        self._reaper.watch(popen.pid)
        return popen

    def _core_log(self, name: str):
        assert self.root_dir is not None
        return open(self.root_dir / f"{name}.log", "ab")

    def _start_xvfb(self, authority: Path) -> None:
        if shutil.which("Xvfb") is None:
            raise SandboxError("Xvfb is not installed: run scripts/setup (Debian package xvfb)")
        cfg = self.config
        first = FIRST_DISPLAY
        while (claim := claim_display(first, FIRST_DISPLAY + _DISPLAY_NUMBERS - first)) is not None:
            read_fd, write_fd = os.pipe()
            argv = [
                "Xvfb",
                f":{claim.number}",
                "-screen", "0", f"{cfg.width}x{cfg.height}x{cfg.depth}",
                "-nolisten", "tcp",
                "-nolisten", "local",  # no abstract socket: the path socket alone, which confinement binds
                "-auth", str(authority),  # clients must present the cookie
                "-dpi", "96",
                "-noreset",
                "+extension", "XTEST",
                "-displayfd", str(write_fd),
            ]  # fmt: skip
            with self._core_log("Xvfb") as out:
                popen = self._spawn(argv, host_env(), out, pass_fds=(write_fd,))
            os.close(write_fd)
            try:
                ready = _read_line(read_fd, _START_TIMEOUT_S, popen)
            finally:
                os.close(read_fd)
            if ready:
                claim.hand_to(popen.pid)
                self._display_claim = claim
                self.display = f":{claim.number}"
                self._core.append(_Proc("Xvfb", popen))
                xauth.PROCESS_AUTHORITY.grant(xauth.cookie_entry(self._cookie, self.display))
                return
            popen.wait(timeout=2)  # a server that takes no lock holds this display: try the next number
            claim.release()
            first = claim.number + 1
        raise SandboxError("no free X display number found for the sandbox")

    def _start_session_bus(self, runtime: Path) -> None:
        address = f"unix:path={runtime}/bus"
        assert self.root_dir is not None
        config = self.root_dir / "session-bus.conf"
        config.write_text(_SESSION_BUS_CONFIG)
        with self._core_log("dbus") as out:
            popen = self._spawn(
                [
                    "dbus-daemon",
                    f"--config-file={config}",
                    "--nofork",
                    "--nopidfile",
                    f"--address={address}",
                    "--print-address=1",
                ],
                self.env,
                out,
                as_user=True,
                stdout=subprocess.PIPE,
            )
        self._core.append(_Proc("dbus-daemon", popen))
        assert popen.stdout is not None
        if not _read_line(popen.stdout.fileno(), _START_TIMEOUT_S, popen):
            raise SandboxError("the session D-Bus daemon did not start")
        self.env["DBUS_SESSION_BUS_ADDRESS"] = address

    def _start_accessibility_bus(self) -> None:
        launcher = next((p for p in _ATSPI_LAUNCHER_PATHS if os.path.exists(p)), None)
        if launcher is None:
            raise SandboxError("at-spi-bus-launcher is missing: run scripts/setup (Debian package at-spi2-core)")
        with self._core_log("at-spi") as out:
            popen = self._spawn([launcher, "--launch-immediately"], self.env, out, as_user=True)
        self._core.append(_Proc("at-spi-bus-launcher", popen))
        # Wait on NameHasOwner: calling GetAddress would D-Bus-activate a second launcher.
        bus = DBusAddress("/org/freedesktop/DBus", bus_name="org.freedesktop.DBus", interface="org.freedesktop.DBus")
        deadline = time.monotonic() + _START_TIMEOUT_S
        with open_dbus_connection(self.env["DBUS_SESSION_BUS_ADDRESS"]) as conn:
            while True:
                reply = conn.send_and_get_reply(new_method_call(bus, "NameHasOwner", "s", ("org.a11y.Bus",)))
                if reply.body[0]:
                    break
                if popen.poll() is not None or time.monotonic() > deadline:
                    raise SandboxError("the AT-SPI accessibility bus did not start")
                time.sleep(0.02)
            status = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.freedesktop.DBus.Properties")
            # Qt and Chromium only expose their tree when IsEnabled is set.
            reply = conn.send_and_get_reply(
                new_method_call(status, "Set", "ssv", ("org.a11y.Status", "IsEnabled", ("b", True)))
            )
            if reply.header.message_type == MessageType.error:
                raise SandboxError(f"could not enable accessibility: {reply.body}")

    def _start_window_manager(self) -> None:
        name = self.config.window_manager
        if name == "none":
            return
        commands = {
            "openbox": ["openbox", "--sm-disable"],
            "xfwm4": ["xfwm4", "--compositor=off", "--sm-client-disable"],
        }
        if name not in commands:
            raise SandboxError(f"unknown window manager {name!r}: use openbox, xfwm4 or none")
        if shutil.which(commands[name][0]) is None:
            raise SandboxError(f"{name} is not installed: run scripts/setup")
        with self._core_log(name) as out:
            popen = self._spawn(commands[name], self.env, out, as_user=True)
        self._core.append(_Proc(name, popen))
        _wait_for_wm(self.display, popen)


_CHROMIUM = frozenset({"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome"})


def accessible_argv(argv: list[str]) -> list[str]:
    """Flags some apps need to show up in the accessibility tree. Chromium exports its web content
    only with --force-renderer-accessibility, and as root it starts only with --no-sandbox (then
    --test-type keeps the warning bar about that flag out of every snapshot and screenshot)."""
    if Path(argv[0]).name not in _CHROMIUM:
        return argv
    extra = ["--force-renderer-accessibility"]
    if os.geteuid() == 0:
        extra += ["--no-sandbox", "--test-type"]
    return [argv[0], *[flag for flag in extra if flag not in argv], *argv[1:]]


def _terminate(processes: list[_Proc], grace: float) -> None:
    """SIGTERM each process group, wait for the leaders (reaping them), then SIGKILL what is left."""
    for proc in processes:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    for proc in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.popen.wait(timeout=max(0.0, deadline - time.monotonic()))
    for proc in processes:
        # Also reaches children left in the group after their leader exited.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pgid, signal.SIGKILL)
        try:
            proc.popen.wait(timeout=2)
        except subprocess.TimeoutExpired:
            log.warning("%s (pid %d) did not exit", proc.name, proc.popen.pid)


def _read_line(fd: int, timeout: float, popen: subprocess.Popen) -> bool:
    """Wait until a line arrives on `fd` (the child's ready signal); False if it exits or times out."""
    deadline = time.monotonic() + timeout
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([fd], [], [], 0.05)
        if ready:
            chunk = os.read(fd, 4096)
            if not chunk:
                return False
            data += chunk
            if b"\n" in data:
                return True
        elif popen.poll() is not None:
            return False
    return False


def _wait_for_wm(display: str, popen: subprocess.Popen) -> None:
    from Xlib.display import Display

    conn = Display(display)
    try:
        atom = conn.intern_atom("_NET_SUPPORTING_WM_CHECK")
        deadline = time.monotonic() + _START_TIMEOUT_S
        while conn.screen().root.get_full_property(atom, 0) is None:
            if popen.poll() is not None or time.monotonic() > deadline:
                raise SandboxError("the window manager did not start")
            time.sleep(0.02)
    finally:
        conn.close()


def _still_caret(config: Path) -> list[Path]:
    """GTK apps draw a caret that does not blink: an idle app's screenshots stay the same, and actions
    settle without waiting out a blink. The folders and files made, for their owner to be set."""
    made = [config]
    config.mkdir()
    for version in ("gtk-3.0", "gtk-4.0"):
        (config / version).mkdir()
        (config / version / "settings.ini").write_text("[Settings]\ngtk-cursor-blink = false\n")
        made += [config / version, config / version / "settings.ini"]
    return made


def _base_env(display: str, home: Path, runtime: Path) -> dict[str, str]:
    env = host_env(_ENV_DROPPED)
    env.update(ACCESSIBILITY_ENV)
    env.update(
        DISPLAY=display,
        HOME=str(home),
        XDG_RUNTIME_DIR=str(runtime),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local/share"),
    )
    return env
