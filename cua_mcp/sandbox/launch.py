"""Starting apps and commands on a desktop: the catalog, the workspace, the confinement.

In a sandbox desktop, apps go through `SandboxSession.launch` (own process group, watched by the
session's reaper). On an attached display they are spawned here with the display's environment,
in their own process group too. Apps marked `sandboxed` in the catalog, and every shell command,
run under bubblewrap when it works here (see confine.py); without it they run unconfined and the
server says so once at start-up.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import open_dbus_connection

from cua_mcp.errors import LaunchError, OutsideWorkspaceError
from cua_mcp.sandbox import xauth
from cua_mcp.sandbox.apps import AppCatalog, AppSpec
from cua_mcp.sandbox.confine import Confinement, bus_sockets, find_bwrap, group_of, sandbox_user, x_socket
from cua_mcp.sandbox.session import ACCESSIBILITY_ENV
from cua_mcp.sandbox.workspace import Workspace
from cua_mcp.sandbox.x11.windows import WindowInfo

if TYPE_CHECKING:
    from cua_mcp.sandbox.desktop import Desktop

log = logging.getLogger(__name__)

ATTACH_WORKSPACE = "cua-workspace"
_URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]+):")  # two letters at least: no drive letters
_POLL_S = 0.2
_PID_ONLY_AFTER_S = 5.0
_LOG_TAIL = 600


@dataclass(frozen=True)
class LaunchConfig:
    """What the agent may start and touch on a desktop."""

    workspace: Path | None = None  # default: HOME/workspace in a sandbox, ./cua-workspace when attached
    network: bool = True  # False: confined apps and commands get no network (bubblewrap --unshare-net)
    apps_config: Path | None = None  # extra catalog entries (TOML)
    confine: bool = True  # use bubblewrap where it works


class Launcher:
    """Starts catalog apps and shell commands for one `Desktop`."""

    def __init__(self, desktop: Desktop, config: LaunchConfig | None = None) -> None:
        self._desktop = desktop
        self.config = config or LaunchConfig()
        self.catalog = AppCatalog.load(self.config.apps_config)
        self._bwrap = find_bwrap() if self.config.confine else None
        self._private_dir: Path | None = None  # attach mode: private HOME, app data and logs
        self._spawned: list[subprocess.Popen] = []
        self._launches = itertools.count(1)
        self._closers: list[Callable[[], None]] = []
        if self.config.confine and self._bwrap is None:
            log.warning(
                "bubblewrap (bwrap) is not available or cannot create sandboxes here: apps and shell commands "
                "will run UNCONFINED, with the server's own access to files%s. Install the Debian package "
                "bubblewrap to confine them.",
                "" if self.config.network else " and the network (--no-network cannot be enforced)",
            )

    # ----- places --------------------------------------------------------------------------

    @property
    def confined(self) -> bool:
        return self._bwrap is not None

    @property
    def workspace(self) -> Workspace:
        if self.config.workspace is not None:
            return Workspace(self.config.workspace)
        session = self._desktop.session
        if session is not None:
            return Workspace(Path(session.env["HOME"]) / "workspace")
        return Workspace(Path.cwd() / ATTACH_WORKSPACE)

    @property
    def home(self) -> Path:
        """The HOME of confined processes: the sandbox's throw-away HOME, or a private folder."""
        session = self._desktop.session
        if session is not None:
            return Path(session.env["HOME"])
        return self._private() / "home"

    @property
    def data_dir(self) -> Path:
        """`{data}` in the catalog: app profiles that must not touch the user's own."""
        return self.home / ".local/share/cua-mcp"

    def _private(self) -> Path:
        if self._private_dir is None:
            self._private_dir = Path(tempfile.mkdtemp(prefix="cua-mcp-apps-"))
            (self._private_dir / "home").mkdir()
        return self._private_dir

    # ----- environments and confinement ----------------------------------------------------

    def environment(self, confined: bool) -> dict[str, str]:
        env = dict(self._desktop.app_env)
        if self._desktop.session is None:
            # On an attached display too, what the agent starts must show in the accessibility tree.
            env.pop("NO_AT_BRIDGE", None)
            env.update(ACCESSIBILITY_ENV)
        if confined and self._desktop.session is None:
            env.update(_home_env(self.home))
            # The user's authority file is in a home folder confinement hides: a copy of this display's entry.
            self._set_authority(env, self.home, None)
        return env

    def _set_authority(self, env: dict[str, str], home: Path, owner: int | None) -> None:
        """Point XAUTHORITY at a file in `home` holding the entries for this display alone (none:
        the display asks for none)."""
        source = Path(env["XAUTHORITY"]) if env.get("XAUTHORITY") else xauth.user_authority()
        entries = xauth.for_display(source, self._desktop.display)
        env.pop("XAUTHORITY", None)
        if entries:
            env["XAUTHORITY"] = str(xauth.write(home / ".Xauthority", entries, owner))

    @functools.cached_property
    def _command_user(self) -> int | None:
        """The unprivileged user confined commands run as (None: the server's own user)."""
        return sandbox_user() if self._bwrap is not None else None

    def _places(self) -> Path:
        """The folder of the confined processes' own folders (their /tmp, the commands' HOME)."""
        session = self._desktop.session
        return Path(session.env["HOME"]).parent if session is not None else self._private()

    def _confinement(self, workspace: Path, command: bool = False) -> Confinement | None:
        if self._bwrap is None:
            return None
        session = self._desktop.session
        # Apps run as the desktop's user where its buses admit one (a sandbox desktop); commands always.
        user = self._command_user if command else (session.user if session is not None else None)
        if command and user is not None:
            # Commands get a HOME of their own, without the desktop's settings and app profiles.
            writable = [self._hand_over(self._places() / "command-home", user), self._hand_over(workspace, user)]
        else:
            writable = [self.home, workspace if user is None else self._hand_over(workspace, user)]
            if session is not None:
                writable.append(Path(session.env["XDG_RUNTIME_DIR"]))  # the sandbox's buses and dconf
        tmp = self._places() / "confined-tmp"
        tmp.mkdir(mode=0o1777, exist_ok=True)
        tmp.chmod(0o1777)  # whatever the umask took away: apps and commands are different users
        # Bus sockets under /tmp or a home folder would be hidden by the private /tmp and the hidden
        # homes (the at-spi launcher keeps its socket in ~/.cache without XDG_RUNTIME_DIR).
        address = self._desktop.app_env.get("DBUS_SESSION_BUS_ADDRESS")
        reachable = bus_sockets(address)
        if self._desktop.session is None and address:
            reachable += bus_sockets(_accessibility_bus(address))
        display = self._desktop.display
        return Confinement(self._bwrap, tmp, tuple(writable), self.config.network, reachable, user, x_socket(display))

    @staticmethod
    def _hand_over(folder: Path, user: int) -> Path:
        """`folder`, created if needed and owned by `user` (not what it holds: files the server
        writes there are handed over as they are made, see Workspace)."""
        folder.mkdir(exist_ok=True)
        os.chown(folder, user, group_of(user), follow_symlinks=False)
        return folder

    def command(self, command: str, cwd: Path) -> tuple[list[str], dict[str, str]]:
        """argv and environment that run a shell command line, confined when possible."""
        shell = shutil.which("bash") or "/bin/sh"
        argv = [shell, "-c", command]
        workspace = self.workspace.root
        confinement = self._confinement(workspace, command=True)
        if confinement is not None:
            argv = confinement.wrap([*argv], own_pids=True)
            # The folder is under the workspace, which is bound at the same path inside.
            argv[1:1] = ["--chdir", str(cwd)]
        env = self.environment(confinement is not None)
        if confinement is not None and confinement.user is not None:
            home = self._places() / "command-home"
            env.update(_home_env(home))
            env.pop("XDG_RUNTIME_DIR", None)  # the desktop's, which only root may enter
            self._set_authority(env, home, confinement.user)
        env["PWD"] = str(cwd)
        return argv, env

    # ----- apps ----------------------------------------------------------------------------

    def app_command(self, spec: AppSpec, args: Iterable[str]) -> tuple[list[str], dict[str, str]]:
        """argv (under bubblewrap when the catalog says so and it works) and environment of a catalog app."""
        workspace = self.workspace.root
        Workspace(self.home).make_folder(self.data_dir.relative_to(self.home).as_posix())
        placeholders = {"workspace": str(workspace), "data": str(self.data_dir)}
        argv = spec.argv([self._operand(arg) for arg in args], placeholders)
        env = self.environment(spec.sandboxed and self.confined)
        if shutil.which(argv[0], path=env.get("PATH")) is None:
            raise LaunchError(f"{spec.name}: {argv[0]!r} is not installed on this machine (not on PATH).")
        confinement = self._confinement(workspace) if spec.sandboxed else None
        if confinement is not None:
            argv = confinement.wrap(argv)
        return argv, {**env, **spec.environment(placeholders)}

    def start_app(self, spec: AppSpec, args: Iterable[str]) -> subprocess.Popen:
        """Start a catalog app in its own process group; confined when the catalog says so."""
        argv, env = self.app_command(spec, args)
        session = self._desktop.session
        if session is not None:
            overrides = {k: v for k, v in env.items() if session.env.get(k) != v}
            # A confined app changes user inside bubblewrap; another, the session changes for it.
            return session.launch(argv, overrides, as_user=not (spec.sandboxed and self.confined))
        self._spawned = [p for p in self._spawned if p.poll() is None]  # reap the ones that ended
        log_path = self._private() / f"{spec.name}-{next(self._launches)}.log"
        with open(log_path, "ab") as output:
            popen = subprocess.Popen(
                argv,
                env=env,
                cwd=str(self.workspace.root),
                stdin=subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                start_new_session=True,
            )
        popen.log_path = log_path  # type: ignore[attr-defined]
        popen.confined = spec.sandboxed and self.confined  # type: ignore[attr-defined]
        self._spawned.append(popen)
        return popen

    def _operand(self, arg: str) -> str:
        """An app argument as the app gets it: a URL as it is, a file (a path or a file: URL) only
        inside the workspace, by its absolute path (apps may run in another folder)."""
        scheme = _URL_SCHEME.match(arg)
        if scheme is None:
            return self._workspace_path(arg, arg) if not arg.startswith("-") else arg  # options: AppSpec.argv
        if scheme.group(1).lower() != "file":
            return arg
        return Path(self._workspace_path(urllib.parse.unquote(urllib.parse.urlsplit(arg).path), arg)).as_uri()

    def _workspace_path(self, path: str, shown: str) -> str:
        try:
            return str(self.workspace.resolve(path))
        except OutsideWorkspaceError as exc:
            raise OutsideWorkspaceError(
                f"launch argument {shown!r}: files given to apps must be in the workspace ({exc})"
            ) from None

    async def wait_for_window(
        self, spec: AppSpec, popen: subprocess.Popen, before: set[int], timeout: float | None = None
    ) -> WindowInfo:
        """The app's first new window: one whose _NET_WM_PID is the process or a descendant, or,
        for apps that hand over to a running instance of themselves, a new one of its WM_CLASS."""
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + (timeout or spec.wait_seconds)
        while True:
            new = [w for w in await self._desktop.list_windows() if w.id not in before]
            if new:
                family = await asyncio.to_thread(_process_tree, popen.pid)
                by_pid = [w for w in new if w.pid in family]
                by_class = [w for w in new if _class_matches(spec, w)]
                # A window of the right class wins; a window of the process with another class may be
                # a splash or a dialog, taken only when the catalog names no class or none came.
                pid_ok = spec.wm_class is None or loop.time() - started > _PID_ONLY_AFTER_S
                chosen = [w for w in by_class if w in by_pid] or by_class or (by_pid if pid_ok else [])
                if chosen:
                    return chosen[-1]  # topmost
            code = popen.poll()
            if code not in (None, 0):
                raise LaunchError(
                    f"{spec.name} exited with status {code} before showing a window. {self._log_tail(popen)}"
                )
            if loop.time() >= deadline:
                state = "is still running" if code is None else "exited (status 0)"
                raise LaunchError(
                    f"{spec.name} (pid {popen.pid}) {state} but no window of it appeared within "
                    f"{timeout or spec.wait_seconds:g} s. It may still be starting: call list_windows or take a "
                    "screenshot in a moment."
                )
            await asyncio.sleep(_POLL_S)

    def _log_tail(self, popen: subprocess.Popen) -> str:
        path = getattr(popen, "log_path", None)
        session = self._desktop.session
        if path is None and session is not None and session.root_dir is not None:
            logs = sorted(session.root_dir.glob("*.log"), key=lambda p: p.stat().st_mtime)
            path = logs[-1] if logs else None
        if path is None:
            return ""
        with contextlib.suppress(OSError):
            tail = Path(path).read_bytes()[-_LOG_TAIL:].decode("utf-8", "replace").strip()
            return f"Its output ends with: {tail}" if tail else ""
        return ""

    def on_close(self, close: Callable[[], None]) -> None:
        """Call `close` when the launcher closes: apps the server drives itself (a browser it holds a
        DevTools connection to) end before their folders go."""
        self._closers.append(close)

    def close(self) -> None:
        """Forget the apps started on an attached display (unconfined ones keep running, as apps a
        user started would; confined ones end with the server) and remove the private folder."""
        for close in reversed(self._closers):
            try:
                close()
            except Exception:
                log.exception("closing an app the server drives failed")
        self._closers.clear()
        for popen in self._spawned:
            # bubblewrap's --die-with-parent ends only its own child: an app that forks (LibreOffice's
            # soffice.bin, Chromium's zygote) would outlive the server. Its process group does not.
            if getattr(popen, "confined", False):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.killpg(popen.pid, signal.SIGKILL)
        self._spawned.clear()
        if self._private_dir is not None:
            shutil.rmtree(self._private_dir, ignore_errors=True)
            self._private_dir = None


def _accessibility_bus(session_address: str) -> str | None:
    """The accessibility bus's address, which apps ask the session bus for (its socket may be in /tmp)."""
    bus = DBusAddress("/org/a11y/bus", bus_name="org.a11y.Bus", interface="org.a11y.Bus")
    try:
        with open_dbus_connection(session_address) as conn:
            reply = conn.send_and_get_reply(new_method_call(bus, "GetAddress"), timeout=5)
    except (OSError, TimeoutError, ValueError) as exc:
        log.debug("no accessibility bus address: %s", exc)
        return None
    return reply.body[0] if reply.header.message_type == MessageType.method_return else None


def _home_env(home: Path) -> dict[str, str]:
    return {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_DATA_HOME": str(home / ".local/share"),
    }


def _class_matches(spec: AppSpec, window: WindowInfo) -> bool:
    wanted = (spec.wm_class or spec.name).casefold()
    return bool(window.wm_class) and window.wm_class.casefold() == wanted


def _process_tree(root: int) -> set[int]:
    """`root` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # The command name may contain spaces and parentheses: fields start after the last ')'.
        fields = stat[stat.rfind(b")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    family, todo = {root}, [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in family:
                family.add(child)
                todo.append(child)
    return family
