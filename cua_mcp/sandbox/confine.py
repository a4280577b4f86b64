"""Confinement with bubblewrap: what a sandboxed app or shell command may see and touch.

The model: the whole system read-only (`--ro-bind / /`), a fresh /dev, a /tmp of their own
(a folder of the server's, shared by the confined processes of one desktop, so single-instance
apps still find each other), and writable only the paths the launcher names (the private HOME,
the workspace, the sandbox's runtime folder). The X server's sockets and the D-Bus sockets stay reachable, so apps still
draw and still appear in the accessibility tree. `--die-with-parent` ties them to the server;
`network=False` adds `--unshare-net` (no network at all, not even loopback).

The host's home folders and secrets are not there at all (empty /root and /home, /dev/null over
the shadow files, no /etc/ssh), and when the server runs as root, commands and a sandbox
desktop's apps run as an unprivileged user (`setpriv`: no capabilities, no way back up through
setuid programs), so root's files elsewhere are not theirs either; apps on an attached display
stay root but lose every capability except overriding file modes.

Apps keep the host's process ids (no pid namespace): window managers and AT-SPI report host pids,
and launch matches windows to processes by them. Shell commands get their own pid namespace,
so nothing they start can outlive them.
"""

from __future__ import annotations

import functools
import logging
import os
import pwd
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_HIDDEN_FOLDERS = ("/root", "/home", "/etc/ssh")
_HIDDEN_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-")
_SANDBOX_ACCOUNT = "nobody"


def x_socket(display: str) -> Path | None:
    """The path socket of a local display (':N' or 'unix:N'); None for one over TCP."""
    host, _, number = display.rpartition(":")
    number = number.partition(".")[0]
    return Path(f"/tmp/.X11-unix/X{number}") if host in ("", "unix") and number.isdigit() else None


def sandbox_user() -> int | None:
    """The unprivileged user (uid) the desktop's processes and confined commands run as: `nobody`,
    an account that owns nothing (D-Bus admits only users with an account, so not an id of no one).
    None when the server is not root (then they run as its own unprivileged user), or when setpriv
    or the account is missing."""
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        return None
    try:
        return pwd.getpwnam(_SANDBOX_ACCOUNT).pw_uid
    except KeyError:
        return None


def group_of(user: int) -> int:
    return pwd.getpwuid(user).pw_gid


@functools.cache
def find_bwrap() -> str | None:
    """The bubblewrap binary if it is installed and can create a sandbox here (it cannot in some
    containers without user namespaces), else None."""
    path = shutil.which("bwrap")
    if path is None:
        return None
    try:
        probe = subprocess.run(
            [path, "--ro-bind", "/", "/", "--dev", "/dev", "--tmpfs", "/tmp", "--die-with-parent", "true"],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.debug("bubblewrap probe failed: %s", exc)
        return None
    if probe.returncode != 0:
        log.debug("bubblewrap probe failed: %s", probe.stderr.decode(errors="replace").strip())
        return None
    return path


@dataclass(frozen=True)
class Confinement:
    """A bubblewrap profile: the writable paths and whether the network is reachable."""

    bwrap: str
    tmp: Path  # mounted as /tmp
    writable: tuple[Path, ...]
    network: bool = True
    reachable: tuple[Path, ...] = ()  # sockets to keep reachable (bound read-only: connect still works)
    user: int | None = None  # run as this uid and gid (see sandbox_user)
    x_socket: Path | None = None  # the desktop's X socket (bound read-only: connect still works)

    def wrap(self, argv: Iterable[str], *, own_pids: bool = False) -> list[str]:
        """`argv` run inside the sandbox. `own_pids` gives it a pid namespace (and its own /proc):
        when the command's first process ends, everything it started ends with it."""
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--bind", str(self.tmp), "/tmp"]
        # First: the writable paths below may lie inside a hidden folder (a workspace in /root).
        args += [arg for path in _HIDDEN_FOLDERS if os.path.isdir(path) for arg in ("--tmpfs", path)]
        args += [arg for path in _HIDDEN_FILES if os.path.exists(path) for arg in ("--ro-bind", "/dev/null", path)]
        # The sockets themselves, not their folders: this display's alone, and none of /tmp's files.
        sockets = [p for p in (self.x_socket, *self.reachable) if p is not None and p.exists()]
        for flag, path in [*(("--ro-bind", p) for p in sockets), *(("--bind", p) for p in _outermost(self.writable))]:
            args += _traversable_parents(path)
            args += [flag, str(path), str(path)]
        if not self.network:
            args.append("--unshare-net")
        if own_pids:
            args += ["--unshare-pid", "--proc", "/proc"]
        if self.user is None and os.geteuid() == 0:
            # Apps on an attached display stay root, as the user's buses may admit no one else, but keep
            # of root's powers only overriding file modes (the workspace belongs to the commands' user):
            # no mounts, no tracing the server, no raw sockets; an empty bounding set keeps them away.
            args += ["--cap-drop", "ALL", "--cap-add", "CAP_DAC_OVERRIDE"]
        args += ["--die-with-parent", "--"]
        return args + (as_user(self.user) if self.user is not None else []) + list(argv)


def as_user(user: int) -> list[str]:
    """The prefix that runs a command as `user` (uid and gid), with no capabilities, no
    supplementary groups, and no way to gain privileges back (setuid programs included)."""
    # A change of user clears the parent-death signal: set it again for the command itself.
    return ["setpriv", f"--reuid={user}", f"--regid={group_of(user)}", "--clear-groups", "--inh-caps=-all",
            "--bounding-set=-all", "--no-new-privs", "--pdeathsig=SIGKILL", "--"]  # fmt: skip


def bus_sockets(address: str | None) -> list[Path]:
    """The path sockets in a D-Bus address ('unix:path=/x/bus;unix:abstract=...')."""
    sockets = []
    for transport in (address or "").split(";"):
        kind, _, params = transport.partition(":")
        if kind != "unix":
            continue
        for param in params.split(","):
            key, _, value = param.partition("=")
            if key == "path" and value:
                sockets.append(Path(value))
    return sockets


def _traversable_parents(path: Path) -> list[str]:
    """bubblewrap makes the missing folders above a mount point for root alone (0700): where it
    makes them (the private /tmp, the hidden folders), make them passable for an unprivileged user."""
    made_here = [Path("/tmp"), *map(Path, _HIDDEN_FOLDERS)]
    args: list[str] = []
    for parent in reversed(path.parents):
        if any(parent != top and parent.is_relative_to(top) for top in made_here):
            args += ["--perms", "0755", "--dir", str(parent)]
    return args


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """Existing paths, resolved, without those inside another (binding both is redundant)."""
    resolved = sorted({p.resolve() for p in paths if p.exists()}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in resolved:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept
