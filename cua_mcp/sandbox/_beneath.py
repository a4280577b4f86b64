"""Opening a path below a directory descriptor without ever following a symbolic link.

Checking a path and then opening it by name races with anyone who can rename folders inside it:
a folder swapped for a link between the two steps leads the open elsewhere. Here every component
is resolved from the descriptor itself: with `openat2` and RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS
where the kernel has it (Linux 5.6+), otherwise one `openat` per component with O_NOFOLLOW, each
from the descriptor of the folder before it. Either way a link anywhere in the path fails with
ELOOP and `..` cannot climb out, whatever is renamed meanwhile.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import platform
import stat

_SYS_OPENAT2 = 437  # the same number on every architecture (the unified syscall table)
_RESOLVE_NO_MAGICLINKS = 0x02
_RESOLVE_NO_SYMLINKS = 0x04
_RESOLVE_BENEATH = 0x08
_RESOLVE = _RESOLVE_BENEATH | _RESOLVE_NO_SYMLINKS | _RESOLVE_NO_MAGICLINKS


class _OpenHow(ctypes.Structure):
    _fields_ = [("flags", ctypes.c_uint64), ("mode", ctypes.c_uint64), ("resolve", ctypes.c_uint64)]


@functools.cache
def _libc() -> ctypes.CDLL | None:
    if platform.system() != "Linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def _openat2(dir_fd: int, path: str, flags: int, mode: int) -> int:
    """The syscall, or OSError(ENOSYS) where it is missing (old kernels, some seccomp filters)."""
    libc = _libc()
    if libc is None:
        raise OSError(errno.ENOSYS, "openat2 is not available")
    how = _OpenHow(flags, mode if flags & os.O_CREAT else 0, _RESOLVE)
    fd = libc.syscall(_SYS_OPENAT2, dir_fd, os.fsencode(path), ctypes.byref(how), ctypes.sizeof(how))
    if fd < 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), path)
    return fd


@functools.cache
def has_openat2() -> bool:
    """Whether the kernel answers openat2 (probed once on '.' below the root folder)."""
    root = os.open("/", os.O_PATH | os.O_CLOEXEC)
    try:
        os.close(_openat2(root, ".", os.O_PATH | os.O_CLOEXEC, 0))
    except OSError:
        return False
    finally:
        os.close(root)
    return True


def open_beneath(dir_fd: int, parts: tuple[str, ...], flags: int, mode: int = 0o644) -> int:
    """Open `parts` (plain names, no '.' or '..', no '/') below `dir_fd`, following no link.

    Raises OSError: ELOOP when any component, the last included, is a symbolic link; ENOENT,
    ENOTDIR and the rest as `open` would. An empty `parts` opens `dir_fd`'s folder itself."""
    flags |= os.O_CLOEXEC | os.O_NOFOLLOW
    if not parts:
        return os.open(".", flags & ~(os.O_CREAT | os.O_NOFOLLOW), dir_fd=dir_fd)
    try:
        fd = _open(dir_fd, parts, flags, mode)
    except NotADirectoryError:
        # O_DIRECTORY on a link reports ENOTDIR; say what it is.
        if flags & os.O_DIRECTORY and _is_link(dir_fd, parts):
            raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), "/".join(parts)) from None
        raise
    if flags & os.O_PATH and stat.S_ISLNK(os.fstat(fd).st_mode):  # O_PATH opens a last link itself
        os.close(fd)
        raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), "/".join(parts))
    return fd


def _open(dir_fd: int, parts: tuple[str, ...], flags: int, mode: int) -> int:
    if has_openat2():
        try:
            return _openat2(dir_fd, "/".join(parts), flags, mode)
        except OSError as exc:
            if exc.errno != errno.EAGAIN:  # EAGAIN: a rename raced the lookup; walk instead
                raise
    return _walk(dir_fd, parts, flags, mode)


def _is_link(dir_fd: int, parts: tuple[str, ...]) -> bool:
    try:
        return stat.S_ISLNK(os.stat("/".join(parts), dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _walk(dir_fd: int, parts: tuple[str, ...], flags: int, mode: int) -> int:
    current = dir_fd
    try:
        for name in parts[:-1]:
            step = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=current)
            if current != dir_fd:
                os.close(current)
            current = step
        return os.open(parts[-1], flags, mode, dir_fd=current)
    finally:
        if current != dir_fd:
            os.close(current)
