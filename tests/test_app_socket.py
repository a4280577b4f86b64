"""Attacks on the direct sockets to apps: the address comes from the app, so a root server opens it
only as the app's own user, never as root, and a bad address fails fast into the bus's route."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
import threading
import time
from pathlib import Path

import pytest

from cua_mcp.accessibility._app_socket import AppSocketError, open_app_socket

NOBODY = 65534

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="a root server's behaviour")


@pytest.fixture
def open_dir():
    """A folder any user may enter (pytest's own tmp_path is root's alone)."""
    path = Path(tempfile.mkdtemp(prefix="cua-mcp-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


class _Listener:
    """A D-Bus-like server on a path socket that records who connected and answers EXTERNAL auth."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.bind(path)
        self.sock.listen(4)
        self.peers: list[int] = []
        self.lines: list[bytes] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
                self.peers.append(int.from_bytes(creds[4:8], "little"))
                conn.settimeout(5)
                data = b""
                while b"\r\n" not in data:
                    data += conn.recv(256)
                self.lines.append(data)
                conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
                while b"BEGIN\r\n" not in data:
                    data += conn.recv(256)

    def close(self) -> None:
        self.sock.close()


def test_the_app_sees_its_own_user_and_never_root(open_dir):

    listener = _Listener(str(open_dir / "socket"))
    os.chmod(open_dir / "socket", 0o777)
    sock = open_app_socket(f"unix:path={open_dir / 'socket'}", NOBODY, timeout=2)
    sock.close()
    listener.close()
    assert listener.peers == [NOBODY]
    assert listener.lines[0] == b"\0AUTH EXTERNAL " + str(NOBODY).encode().hex().encode() + b"\r\n"


def test_an_address_only_root_can_reach_is_not_reached(open_dir):

    # A hostile app names a socket in a folder only root may enter (the server's own, say).
    private = open_dir / "private"
    private.mkdir(mode=0o700)
    listener = _Listener(str(private / "socket"))
    with pytest.raises(OSError):
        open_app_socket(f"unix:path={private / 'socket'}", NOBODY, timeout=2)
    time.sleep(0.2)
    listener.close()
    assert listener.peers == []


def test_an_app_of_unknown_user_gets_no_root_connection(open_dir):

    listener = _Listener(str(open_dir / "socket"))
    with pytest.raises(AppSocketError, match="user is unknown"):
        open_app_socket(f"unix:path={open_dir / 'socket'}", None, timeout=2)
    time.sleep(0.2)
    listener.close()
    assert listener.peers == []


def test_abstract_addresses_work_and_bad_ones_fail_fast(open_dir):
    name = f"cua-mcp-test-{os.getpid()}"
    listener = _Listener(f"\0{name}")
    open_app_socket(f"unix:abstract={name}", NOBODY, timeout=2).close()
    listener.close()
    assert listener.peers == [NOBODY]
    start = time.monotonic()
    for address in (f"unix:path={open_dir / 'absent'}", "unix:abstract=cua-mcp-nobody-listens-here"):
        with pytest.raises(OSError):
            open_app_socket(address, NOBODY, timeout=1)
    assert time.monotonic() - start < 30  # bounded: no hang (a generous bound, not a timing figure)


def test_a_server_that_never_answers_times_out(open_dir):

    silent = socket.socket(socket.AF_UNIX)
    silent.bind(str(open_dir / "socket"))
    os.chmod(open_dir / "socket", 0o777)
    silent.listen(4)  # accepts into its backlog, never answers the authentication
    with pytest.raises(OSError):
        open_app_socket(f"unix:path={open_dir / 'socket'}", NOBODY, timeout=1)
    silent.close()
