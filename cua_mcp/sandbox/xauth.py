"""X authorization: the cookie a sandbox display demands, and who holds it.

A sandbox's Xvfb starts with `-auth FILE`, so only clients that present its MIT-MAGIC-COOKIE-1
may connect: the server itself, and the desktop's apps and commands (each given a file with this
display's cookie alone). A process on the machine that can reach the socket, or the abstract
socket, but holds no cookie is refused.

The server's own connections (python-xlib, mss and XCB all read $XAUTHORITY when they connect)
use one file per server process: a copy of the user's own entries (so attached displays still
authorize) plus one entry per sandbox display this process runs.

The file format is libXau's: per entry, a 16-bit family, then address, display number, protocol
name and data, each a 16-bit big-endian length and that many bytes.
"""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import struct
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

_FAMILY_LOCAL = 256  # a local socket, by this machine's host name (python-xlib ignores wildcard entries)
_COOKIE = b"MIT-MAGIC-COOKIE-1"


@dataclass(frozen=True)
class Entry:
    family: int
    address: bytes
    number: bytes  # the display number, as text; empty matches any
    name: bytes
    data: bytes


def cookie_entry(cookie: bytes, display: str | None = None) -> Entry:
    """An entry for `display`'s cookie (for any display when None: a file of one desktop's)."""
    number = _number(display).encode() if display else b""
    return Entry(_FAMILY_LOCAL, socket.gethostname().encode(), number, _COOKIE, cookie)


def new_cookie() -> bytes:
    return secrets.token_bytes(16)


def read(path: Path) -> list[Entry]:
    """The entries of an authority file; none if it is missing or cut short."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    entries, at = [], 0
    try:
        while at < len(data):
            (family,) = struct.unpack_from(">H", data, at)
            at += 2
            fields = []
            for _ in range(4):
                (length,) = struct.unpack_from(">H", data, at)
                fields.append(data[at + 2 : at + 2 + length])
                at += 2 + length
            entries.append(Entry(family, *fields))
    except struct.error:
        pass
    return entries


def write(path: Path, entries: list[Entry], owner: int | None = None) -> Path:
    """Write `entries` to `path` (mode 0600, owned by `owner` if given), replacing it atomically."""
    blob = b"".join(
        struct.pack(">H", e.family)
        + b"".join(struct.pack(">H", len(f)) + f for f in (e.address, e.number, e.name, e.data))
        for e in entries
    )
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".xauth-")
    try:
        os.write(fd, blob)
        if owner is not None:
            os.fchown(fd, owner, owner)
    finally:
        os.close(fd)
    os.replace(temporary, path)
    return path


def for_display(source: Path, display: str) -> list[Entry]:
    """The entries of `source` that authorize `display` (by number, or for any display)."""
    number = _number(display).encode()
    return [e for e in read(source) if e.number in (number, b"")]


def _number(display: str) -> str:
    return display.rpartition(":")[2].partition(".")[0]


class ProcessAuthority:
    """The authority file of this server process (see the module's docstring)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: Path | None = None
        self._own: dict[bytes, Entry] = {}
        self._inherited: list[Entry] = []
        self._original: str | None = None

    def grant(self, entry: Entry) -> None:
        """Let this process's X connections to the entry's display authorize with its cookie."""
        with self._lock:
            self._own[entry.number] = entry
            self._rewrite()

    def revoke(self, entry: Entry) -> None:
        with self._lock:
            if self._own.get(entry.number) == entry:
                del self._own[entry.number]
                self._rewrite()

    def _rewrite(self) -> None:
        if self._path is None:
            self._original = os.environ.get("XAUTHORITY")
            self._inherited = read(user_authority())
            fd, name = tempfile.mkstemp(prefix="cua-mcp-xauth-")
            os.close(fd)
            self._path = Path(name)
            atexit.register(self._path.unlink, missing_ok=True)
        entries = [*self._own.values(), *self._inherited]  # ours first: libXau takes the first match
        if entries:
            write(self._path, entries)
            os.environ["XAUTHORITY"] = str(self._path)
        elif self._original is None:  # an empty file makes python-xlib print a warning on stdout
            os.environ.pop("XAUTHORITY", None)
        else:
            os.environ["XAUTHORITY"] = self._original


def user_authority() -> Path:
    """The authority file this process's X clients read (as libXau finds it)."""
    return Path(os.environ.get("XAUTHORITY") or Path.home() / ".Xauthority")


# One per process, as $XAUTHORITY is: every sandbox of the process adds its entry to it.
PROCESS_AUTHORITY = ProcessAuthority()
