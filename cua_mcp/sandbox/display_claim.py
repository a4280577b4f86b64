"""Claiming an X display number for a sandbox, against other X servers and local impostors.

A sandbox's Xvfb runs with `-displayfd` (its ready signal), which makes it take no lock file and
unlink whatever socket sits at its path: two sandboxes starting at once could take one number, the
second stealing the first's socket. It also runs with `-nolisten local`, so the abstract socket name
`@/tmp/.X11-unix/X<n>` is free, and any local process could bind it: libxcb clients try that name
first and would hand their MIT cookie to whoever listens there.

A claim therefore holds, for the display's whole life, both the lock file X servers honour
(`/tmp/.X<n>-lock`, naming a live process) and the abstract name (bound, never listening: a client
that tries it is refused at once and falls back to the path socket).
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat
import tempfile
from pathlib import Path

_LOCK_DIR = Path("/tmp")
_PID_WIDTH = 11  # Xorg's format: the pid right-aligned in ten characters, then a newline


class DisplayClaim:
    """One display number held by this process; `release()` gives it back."""

    def __init__(self, number: int, lock: Path, placeholder: socket.socket) -> None:
        self.number = number
        self._lock = lock
        self._placeholder = placeholder
        self._holder = os.getpid()

    def hand_to(self, pid: int) -> None:
        """Name the X server's own process in the lock, so the number stays taken while it runs even if
        this process is killed."""
        _write_lock(self._lock, pid, replace=True)
        self._holder = pid

    def release(self) -> None:
        self._placeholder.close()
        if _lock_holder(self._lock) == self._holder:
            with contextlib.suppress(FileNotFoundError):
                self._lock.unlink()


def claim_display(first: int, count: int) -> DisplayClaim | None:
    """The first number from `first` whose lock file, sockets and abstract name are all free; None
    when every one of `count` numbers is taken."""
    for number in range(first, first + count):
        if Path(f"/tmp/.X11-unix/X{number}").exists():  # a server that took no lock may run there
            continue
        lock = _LOCK_DIR / f".X{number}-lock"
        if not _take_lock(lock):
            continue
        placeholder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            placeholder.bind(f"\0/tmp/.X11-unix/X{number}")
        except OSError:
            placeholder.close()
            lock.unlink(missing_ok=True)
            continue
        return DisplayClaim(number, lock, placeholder)
    return None


def _take_lock(lock: Path) -> bool:
    try:
        _write_lock(lock, os.getpid(), replace=False)
        return True
    except FileExistsError:
        pass
    holder = _lock_holder(lock)
    if holder is None or _alive(holder):
        return False  # held, or not a lock we can read (a link, a folder): leave the number alone
    # A stale lock, as X servers treat one: its process is gone, so the number is free again.
    with contextlib.suppress(FileNotFoundError):
        lock.unlink()
    try:
        _write_lock(lock, os.getpid(), replace=False)
        return True
    except FileExistsError:
        return False


def _write_lock(lock: Path, pid: int, replace: bool) -> None:
    """Create the lock atomically (link of a finished file: never a half-written one); with `replace`,
    swap the existing lock for the new one."""
    fd, temporary = tempfile.mkstemp(dir=lock.parent, prefix=".cua-mcp-lock-")
    try:
        os.write(fd, f"{pid:10d}\n".encode())
        os.fchmod(fd, 0o444)
        os.close(fd)
        if replace:
            os.replace(temporary, lock)
        else:
            os.link(temporary, lock)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)


def _lock_holder(lock: Path) -> int | None:
    """The pid a lock file names; None if it is missing, not a regular file, or not a pid."""
    try:
        fd = os.open(lock, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        text = os.read(fd, _PID_WIDTH)
    finally:
        os.close(fd)
    try:
        pid = int(text.strip())
    except ValueError:
        return None
    return pid if pid > 0 else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError as exc:
        return exc.errno == errno.EPERM
    return True
