"""The workspace folder: the one place file tools read and write.

Every path is taken relative to the workspace root. Refused: `..` anywhere, absolute paths
outside the root, and paths that lead out through a symlink (resolved before use; the final
component is also opened with O_NOFOLLOW, so a link swapped in afterwards is not followed).
"""

from __future__ import annotations

import contextlib
import fnmatch
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cua_mcp.errors import InvalidArgumentError, OutsideWorkspaceError

MAX_READ_BYTES = 256 * 1024  # what one read_file call returns at most
MAX_WRITE_BYTES = 5 * 1024 * 1024  # what one write_file call may write
MAX_FILE_BYTES = 50 * 1024 * 1024  # what the workspace lets a file grow to through append
MAX_LIST = 1000
_BINARY_SNIFF = 8192


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
        """The absolute path `path` names inside the workspace; raises `OutsideWorkspaceError`."""
        if "\0" in path:
            raise InvalidArgumentError("path contains a NUL character.")
        root = self.root
        pure = PurePosixPath(path.strip() or ".")
        if ".." in pure.parts:
            raise OutsideWorkspaceError(
                f"{path!r} contains '..': paths stay inside the workspace; give them relative to its root "
                "(list_files shows what is there)."
            )
        candidate = Path(pure) if pure.is_absolute() else root / pure
        if not Path(os.path.abspath(candidate)).is_relative_to(root):
            raise OutsideWorkspaceError(
                f"{path!r} is outside the workspace ({root}): use a path relative to the workspace root."
            )
        real = Path(os.path.realpath(candidate))
        if not real.is_relative_to(root):
            raise OutsideWorkspaceError(
                f"{path!r} leads out of the workspace through a symbolic link: only files inside it can be used."
            )
        return real

    def relative(self, path: Path) -> str:
        rel = path.relative_to(self.root).as_posix()
        return rel if rel != "." else ""

    # ----- operations ----------------------------------------------------------------------

    def read_text(self, path: str, offset: int = 0, limit: int = 2000) -> TextChunk:
        """Lines [offset, offset+limit) of a UTF-8 text file, at most MAX_READ_BYTES of them."""
        target = self.resolve(path)
        with _open_no_follow(target, os.O_RDONLY, path) as fd:
            info = os.fstat(fd)
            if stat.S_ISDIR(info.st_mode):
                raise InvalidArgumentError(f"{path!r} is a folder: use list_files to see what it holds.")
            if not stat.S_ISREG(info.st_mode):
                raise InvalidArgumentError(f"{path!r} is not a regular file.")
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
        return self.write_bytes(path, data, append)

    def write_bytes(self, path: str, data: bytes, append: bool = False, limit: int = MAX_FILE_BYTES) -> int:
        """Write (or append) bytes, creating parent folders; returns the file's new size."""
        target = self.resolve(path)
        if target == self.root or target.is_dir():
            raise InvalidArgumentError(f"{path!r} is a folder: give a file name inside it.")
        self._make_parents(target.parent)
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if append else os.O_TRUNC)
        with _open_no_follow(target, flags, path) as fd:
            info = os.fstat(fd)
            if not stat.S_ISREG(info.st_mode):
                raise InvalidArgumentError(f"{path!r} is not a regular file.")
            if (info.st_size if append else 0) + len(data) > limit:
                raise InvalidArgumentError(f"{path!r} would grow past {limit} bytes: workspace files are capped.")
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            return os.fstat(fd).st_size

    def list(self, path: str = ".", pattern: str = "*") -> tuple[list[Entry], bool]:
        """Entries under `path` matching `pattern` (a glob on names; with '/' or '**' on paths
        relative to `path`, searched recursively). Symlinked folders are not descended into.
        Returns the entries (sorted) and whether the listing was cut at MAX_LIST."""
        base = self.resolve(path)
        if not base.is_dir():
            raise InvalidArgumentError(f"{path!r} is not a folder: give a folder (or '.' for the workspace root).")
        if ".." in PurePosixPath(pattern).parts:
            raise OutsideWorkspaceError("the pattern contains '..': patterns match inside the folder only.")
        recursive = "/" in pattern or "**" in pattern
        entries: list[Entry] = []
        for directory, dirs, files in os.walk(base, followlinks=False):
            dirs.sort()
            for name in sorted(dirs + files):
                full = Path(directory) / name
                if _matches(full.relative_to(base).as_posix(), name, pattern, recursive):
                    entries.append(_entry(full, self.relative(full)))
                    if len(entries) >= MAX_LIST:
                        return entries, True
            if not recursive:
                break
        return entries, False

    def _make_parents(self, folder: Path) -> None:
        root = self.root
        if folder != root:
            folder.mkdir(parents=True, exist_ok=True)
            if not Path(os.path.realpath(folder)).is_relative_to(root):
                raise OutsideWorkspaceError("the folder leads out of the workspace through a symbolic link.")


@contextlib.contextmanager
def _open_no_follow(target: Path, flags: int, shown: str):
    try:
        fd = os.open(target, flags | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
    except FileNotFoundError:
        raise InvalidArgumentError(f"{shown!r} does not exist: list_files shows what the workspace holds.") from None
    except IsADirectoryError:
        raise InvalidArgumentError(f"{shown!r} is a folder: give a file inside it.") from None
    except OSError as exc:
        if exc.errno == 40:  # ELOOP: the last component became a symlink after resolve()
            raise OutsideWorkspaceError(f"{shown!r} is a symbolic link: open the file it points to instead.") from None
        raise InvalidArgumentError(f"cannot open {shown!r}: {exc.strerror}.") from None
    try:
        yield fd
    finally:
        os.close(fd)


def _read_lines(stream, offset: int, limit: int, size: int) -> TextChunk:
    kept: list[bytes] = []
    used = 0
    index = 0
    truncated = False
    for index, line in enumerate(stream):
        if index < offset:
            continue
        if len(kept) >= limit:
            return _chunk(kept, offset, None, False, size)
        if used + len(line) > MAX_READ_BYTES:
            if not kept:  # one huge line: return its head rather than nothing
                kept.append(line[:MAX_READ_BYTES])
            truncated = True
            return _chunk(kept, offset, None, truncated, size)
        kept.append(line)
        used += len(line)
    total = index + 1 if size else 0
    return _chunk(kept, offset, total, truncated, size)


def _chunk(kept: list[bytes], offset: int, total: int | None, truncated: bool, size: int) -> TextChunk:
    text = b"".join(kept).decode("utf-8", "replace")
    return TextChunk(text, offset, len(kept), total, truncated, size)


def _matches(rel: str, name: str, pattern: str, recursive: bool) -> bool:
    if not recursive:
        return fnmatch.fnmatch(name, pattern)
    # fnmatch's '*' crosses '/', so '**/x' already matches at any depth below the top.
    return fnmatch.fnmatch(rel, pattern) or (pattern.startswith("**/") and fnmatch.fnmatch(rel, pattern[3:]))


def _entry(full: Path, rel: str) -> Entry:
    info = full.lstat()
    if stat.S_ISLNK(info.st_mode):
        kind = "symlink"
    elif stat.S_ISDIR(info.st_mode):
        kind = "dir"
    elif stat.S_ISREG(info.st_mode):
        kind = "file"
    else:
        kind = "other"
    return Entry(rel, kind, info.st_size if kind == "file" else 0, info.st_mtime)
