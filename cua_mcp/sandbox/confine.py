"""Confinement with bubblewrap: what a sandboxed app or shell command may see and touch.

The model: the whole system read-only (`--ro-bind / /`), a fresh /dev, a /tmp of their own
(a folder of the server's, shared by the confined processes of one desktop, so single-instance
apps still find each other), and writable only the paths the launcher names (the private HOME,
the workspace, the sandbox's runtime folder). The X server's sockets and the D-Bus sockets stay reachable, so apps still
draw and still appear in the accessibility tree. `--die-with-parent` ties them to the server;
`network=False` adds `--unshare-net` (no network at all, not even loopback).

Apps keep the host's process ids (no pid namespace): window managers and AT-SPI report host pids,
and launch matches windows to processes by them. Shell commands get their own pid namespace,
so nothing they start can outlive them.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_X11_SOCKETS = Path("/tmp/.X11-unix")


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
    reachable: tuple[Path, ...] = ()  # folders of sockets under /tmp (bound read-only: connect still works)

    def wrap(self, argv: Iterable[str], *, own_pids: bool = False) -> list[str]:
        """`argv` run inside the sandbox. `own_pids` gives it a pid namespace (and its own /proc):
        when the command's first process ends, everything it started ends with it."""
        args = [self.bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--bind", str(self.tmp), "/tmp"]
        if _X11_SOCKETS.is_dir():
            args += ["--bind", str(_X11_SOCKETS), str(_X11_SOCKETS)]
        for path in _outermost(self.reachable):
            args += ["--ro-bind", str(path), str(path)]
        for path in _outermost(self.writable):
            args += ["--bind", str(path), str(path)]
        if not self.network:
            args.append("--unshare-net")
        if own_pids:
            args += ["--unshare-pid", "--proc", "/proc"]
        args += ["--die-with-parent", "--"]
        return args + list(argv)


def bus_socket_folders(address: str | None) -> list[Path]:
    """The folders of the path sockets in a D-Bus address ('unix:path=/x/bus;unix:abstract=...').
    The session bus, and the accessibility bus whose socket the at-spi launcher keeps beside it."""
    folders = []
    for transport in (address or "").split(";"):
        kind, _, params = transport.partition(":")
        if kind != "unix":
            continue
        for param in params.split(","):
            key, _, value = param.partition("=")
            if key == "path" and value:
                folders.append(Path(value).parent)
    return folders


def _outermost(paths: Iterable[Path]) -> list[Path]:
    """Existing paths, resolved, without those inside another (binding both is redundant)."""
    resolved = sorted({p.resolve() for p in paths if p.exists()}, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in resolved:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return kept
