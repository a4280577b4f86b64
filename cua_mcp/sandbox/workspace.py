"""The workspace folder: the one place file tools read and write.

Every path is taken relative to the workspace root and opened from a descriptor of the root
without following any symbolic link (see _beneath.py): `..` is refused, absolute paths must lie
inside the root, and a link anywhere in a path is refused, so that nothing renamed meanwhile (a
confined command swapping a folder for a link) leads a read or write elsewhere. Only regular
files and folders are used; FIFOs, sockets and devices are refused without blocking on them.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from cua_mcp.errors import InvalidArgumentError, OutsideWorkspaceError
from cua_mcp.sandbox._beneath import open_beneath

MAX_READ_BYTES = 256 * 1024  # what one read_file call returns at most
MAX_WRITE_BYTES = 5 * 1024 * 1024  # what one write_file call may write
MAX_FILE_BYTES = 50 * 1024 * 1024  # what the workspace lets a file grow to through append
MAX_LIST = 1000
_BINARY_SNIFF = 8192
_SKIP_CHUNK = 64 * 1024  # how much of an over-long line is held at once while reading past it
_NO_WAIT = os.O_NONBLOCK | os.O_NOCTTY  # a FIFO or device never blocks the open


@dataclass(frozen=True)
class TextChunk:
    text: str
    first_line: int  # 0-based index of the first line returned
    lines: int  # how many lines `text` holds
    total_lines: int | None  # None when the file was not read to its end
    truncated: bool  # stopped at the byte cap before `limit` lines
    size: int


@dataclass(frozen=True)
class Entry:
    path: str  # relative to the workspace, '/'-separated
    kind: str  # file, dir, symlink, other
    size: int
    modified: float


class Workspace:
    """A folder the agent's file tools are confined to; created on first use."""

    def __init__(self, root: Path) -> None:
        self._root = Path(os.path.abspath(root))

    @property
    def root(self) -> Path:
        """The folder, created if needed, with symlinks resolved."""
        self._root.mkdir(parents=True, exist_ok=True)
        return self._root.resolve()

    def resolve(self, path: str) -> Path:
        """The absolute path `path` names inside the workspace (it need not exist yet); raises
        `OutsideWorkspaceError` for a path that leaves it or goes through a symbolic link."""
        parts = self._parts(path)
        with self._root_fd() as root_fd:
            try:
                os.close(open_beneath(root_fd, parts, os.O_PATH))
            except FileNotFoundError:
                pass  # a new file: every part that exists was checked on the way
            except OSError as exc:
                raise _explained(exc, path) from None
        return self.root.joinpath(*parts)

    def relative(self, path: Path) -> str:
        rel = path.relative_to(self.root).as_posix()
        return rel if rel != "." else ""

    # ----- operations ----------------------------------------------------------------------

    def read_text(self, path: str, offset: int = 0, limit: int = 2000) -> TextChunk:
        """Lines [offset, offset+limit) of a UTF-8 text file, at most MAX_READ_BYTES of them."""
        with self._opened(self._parts(path), os.O_RDONLY | _NO_WAIT, path) as fd:
            info = os.fstat(fd)
            _require_file(info, path)
            os.set_blocking(fd, True)
            with os.fdopen(os.dup(fd), "rb") as stream:
                if b"\0" in stream.read(_BINARY_SNIFF):
                    raise InvalidArgumentError(
                        f"{path!r} is a binary file ({info.st_size} bytes), not text: read_file reads text only."
                    )
                stream.seek(0)
                return _read_lines(stream, offset, limit, info.st_size)

    def write_text(self, path: str, content: str, append: bool = False) -> int:
        """Write (or append) UTF-8 text, creating parent folders; returns the file's new size."""
        data = content.encode("utf-8")
        if len(data) > MAX_WRITE_BYTES:
            raise InvalidArgumentError(
                f"content is {len(data)} bytes; one write takes at most {MAX_WRITE_BYTES}: write in parts with append=true."
            )
        parts = self._parts(path)
        if not parts:
            raise InvalidArgumentError(f"{path!r} is the workspace folder: give a file name inside it.")
        flags = os.O_WRONLY | os.O_CREAT | _NO_WAIT | (os.O_APPEND if append else 0)
        with self._folder(parts[:-1], path) as folder, self._opened(parts[-1:], flags, path, folder) as fd:
            info = os.fstat(fd)
            _require_file(info, path)
            self._hand_over(fd, info)
            if append and info.st_size + len(data) > MAX_FILE_BYTES:
                raise InvalidArgumentError(
                    f"{path!r} would grow past {MAX_FILE_BYTES} bytes: workspace files are capped."
                )
            if not append:
                os.ftruncate(fd, 0)  # only now that it is known to be a regular file
            os.set_blocking(fd, True)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            return os.fstat(fd).st_size

    def make_folder(self, path: str) -> Path:
        """Create the folder `path` (and those above it) inside the workspace, following no link."""
        parts = self._parts(path)
        with self._folder(parts, path):
            return self.root.joinpath(*parts)

    def list(self, path: str = ".", pattern: str = "*") -> tuple[list[Entry], bool]:
        """Entries under `path` matching `pattern` (a glob on names; with '/' or '**' on paths
        relative to `path`, searched recursively). Symlinked folders are not descended into.
        Returns the entries (sorted) and whether the listing was cut at MAX_LIST."""
        parts = self._parts(path)
        if ".." in PurePosixPath(pattern).parts:
            raise OutsideWorkspaceError("the pattern contains '..': patterns match inside the folder only.")
        recursive = "/" in pattern or "**" in pattern
        entries: list[Entry] = []
        with self._opened(parts, os.O_RDONLY | _NO_WAIT, path) as fd:
            if not stat.S_ISDIR(os.fstat(fd).st_mode):
                raise InvalidArgumentError(f"{path!r} is not a folder: give a folder (or '.' for the workspace root).")
            # fwalk goes from descriptor to descriptor, so a folder swapped for a link is not entered.
            for folder, dirs, files, folder_fd in os.fwalk(".", dir_fd=fd, follow_symlinks=False):
                dirs.sort()
                below = PurePosixPath(folder)
                for name in sorted(dirs + files):
                    rel = (below / name).as_posix()
                    if _matches(rel, name, pattern, recursive):
                        entries.append(_entry(folder_fd, name, "/".join((*parts, rel))))
                        if len(entries) >= MAX_LIST:
                            return entries, True
                if not recursive:
                    break
        return entries, False

    # ----- opening without following links -------------------------------------------------

    def _hand_over(self, fd: int, info: os.stat_result) -> None:
        """Give what the server just made to the workspace's owner (the confined commands' user,
        when the server runs as root), so that they can change it too."""
        owner = os.stat(self.root)
        if info.st_uid == os.geteuid() != owner.st_uid:
            os.fchown(fd, owner.st_uid, owner.st_gid)

    def _parts(self, path: str) -> tuple[str, ...]:
        """`path`'s components relative to the root; refuses `..`, NUL and absolute paths outside."""
        if "\0" in path:
            raise InvalidArgumentError("path contains a NUL character.")
        pure = PurePosixPath(path.strip() or ".")
        if ".." in pure.parts:
            raise OutsideWorkspaceError(
                f"{path!r} contains '..': paths stay inside the workspace; give them relative to its root "
                "(list_files shows what is there)."
            )
        if pure.is_absolute():
            for root in (PurePosixPath(self._root), PurePosixPath(self.root)):
                if pure.is_relative_to(root):
                    return pure.relative_to(root).parts
            raise OutsideWorkspaceError(
                f"{path!r} is outside the workspace ({self.root}): use a path relative to the workspace root."
            )
        return pure.parts

    @contextlib.contextmanager
    def _root_fd(self) -> Iterator[int]:
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            yield fd
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def _opened(self, parts: tuple[str, ...], flags: int, shown: str, dir_fd: int | None = None) -> Iterator[int]:
        """A descriptor of `parts` below `dir_fd` (default: the root), closed on exit."""
        with contextlib.ExitStack() as stack:
            if dir_fd is None:
                dir_fd = stack.enter_context(self._root_fd())
            try:
                fd = open_beneath(dir_fd, parts, flags)
            except OSError as exc:
                raise _explained(exc, shown) from None
            stack.callback(os.close, fd)
            yield fd

    @contextlib.contextmanager
    def _folder(self, parts: tuple[str, ...], shown: str) -> Iterator[int]:
        """A descriptor of the folder `parts`, creating each missing folder from its parent's descriptor."""
        with self._root_fd() as root_fd:
            current = root_fd
            try:
                for name in parts:
                    try:
                        os.mkdir(name, 0o755, dir_fd=current)
                    except FileExistsError:
                        pass
                    except OSError as exc:
                        raise _explained(exc, shown) from None
                    try:
                        following = open_beneath(current, (name,), os.O_RDONLY | os.O_DIRECTORY)
                    except OSError as exc:
                        raise _explained(exc, shown) from None
                    self._hand_over(following, os.fstat(following))
                    if current != root_fd:
                        os.close(current)
                    current = following
                yield current
            finally:
                if current != root_fd:
                    os.close(current)


def _explained(exc: OSError, shown: str) -> Exception:
    """The model-readable error for an OSError met while opening `shown`."""
    code = exc.errno
    if code in (errno.ELOOP, errno.EXDEV):
        return OutsideWorkspaceError(
            f"{shown!r} goes through a symbolic link: file tools follow no links (one could lead out of the "
            "workspace); use the path of the file itself."
        )
    if code == errno.ENOENT:
        return InvalidArgumentError(f"{shown!r} does not exist: list_files shows what the workspace holds.")
    if code == errno.EISDIR:
        return InvalidArgumentError(f"{shown!r} is a folder: give a file inside it.")
    if code == errno.ENOTDIR:
        return InvalidArgumentError(f"{shown!r}: a part of the path is a file where a folder is needed.")
    if code == errno.ENAMETOOLONG:
        return InvalidArgumentError(f"a name in {shown!r} is too long: names are at most 255 bytes.")
    if code == errno.ENXIO:
        return InvalidArgumentError(f"{shown!r} is not a regular file (a FIFO or socket): file tools use files only.")
    return InvalidArgumentError(f"cannot open {shown!r}: {exc.strerror}.")


def _require_file(info: os.stat_result, shown: str) -> None:
    if stat.S_ISDIR(info.st_mode):
        raise InvalidArgumentError(f"{shown!r} is a folder: use list_files to see what it holds.")
    if not stat.S_ISREG(info.st_mode):
        raise InvalidArgumentError(
            f"{shown!r} is not a regular file (a FIFO, socket or device): file tools use files and folders only."
        )


def _bounded_lines(stream: BinaryIO, cap: int) -> Iterator[bytes]:
    """The file's lines, each cut to its first `cap` bytes: the rest of a longer line is read past
    in small pieces (only if a further line is asked for), never held whole."""
    while line := stream.readline(cap):
        yield line
        if len(line) == cap and not line.endswith(b"\n"):
            while (rest := stream.readline(_SKIP_CHUNK)) and not rest.endswith(b"\n"):
                pass


def _read_lines(stream: BinaryIO, offset: int, limit: int, size: int) -> TextChunk:
    kept: list[bytes] = []
    used = 0
    index = 0
    for index, line in enumerate(_bounded_lines(stream, MAX_READ_BYTES + 1)):
        if index < offset:
            continue
        if len(kept) >= limit:
            return _chunk(kept, offset, None, False, size)
        if used + len(line) > MAX_READ_BYTES:
            if not kept:  # one huge line: return its head rather than nothing
                kept.append(line[:MAX_READ_BYTES])
            return _chunk(kept, offset, None, True, size)
        kept.append(line)
        used += len(line)
    total = index + 1 if size else 0
    return _chunk(kept, offset, total, False, size)


def _chunk(kept: list[bytes], offset: int, total: int | None, truncated: bool, size: int) -> TextChunk:
    text = b"".join(kept).decode("utf-8", "replace")
    return TextChunk(text, offset, len(kept), total, truncated, size)


def _matches(rel: str, name: str, pattern: str, recursive: bool) -> bool:
    if not recursive:
        return fnmatch.fnmatch(name, pattern)
    # fnmatch's '*' crosses '/', so '**/x' already matches at any depth below the top.
    return fnmatch.fnmatch(rel, pattern) or (pattern.startswith("**/") and fnmatch.fnmatch(rel, pattern[3:]))


def _entry(folder_fd: int, name: str, rel: str) -> Entry:
    info = os.stat(name, dir_fd=folder_fd, follow_symlinks=False)
    if stat.S_ISLNK(info.st_mode):
        kind = "symlink"
    elif stat.S_ISDIR(info.st_mode):
        kind = "dir"
    elif stat.S_ISREG(info.st_mode):
        kind = "file"
    else:
        kind = "other"
    return Entry(rel, kind, info.st_size if kind == "file" else 0, info.st_mtime)
