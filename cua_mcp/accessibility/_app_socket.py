"""A socket to an app's own AT-SPI server (`Application.GetApplicationBusAddress`), opened as the
app's user when that is not ours.

at-spi2-atk's server accepts only clients of its own user, and a root server's sandbox runs its apps
as an unprivileged one. The address comes from the app, so a root server must not connect to it as
root either: a short-lived process with the app's uid and gid (and nothing else) connects, hands the
socket over (SCM_RIGHTS) and exits. The kernel keeps that process's credentials on the socket, and
we authenticate as that user (D-Bus EXTERNAL).
"""

from __future__ import annotations

import binascii
import os
import pwd
import socket
import subprocess
import sys
import time

from jeepney.bus import get_bus
from jeepney.io.blocking import prep_socket

# Runs as the app's user with no site packages: connect, hand the socket to fd argv[2], exit.
_CONNECT = (
    "import socket,sys\n"
    "s=socket.socket(socket.AF_UNIX)\n"
    "s.settimeout(float(sys.argv[3]))\n"
    "s.connect(bytes.fromhex(sys.argv[1]))\n"
    "socket.send_fds(socket.socket(fileno=int(sys.argv[2])),[b'.'],[s.fileno()])\n"
)


class AppSocketError(OSError):
    """The app's socket could not be opened or did not accept us."""


def open_app_socket(address: str, user: int | None, timeout: float = 1.0) -> socket.socket:
    """An authenticated, blocking socket to the D-Bus server at `address`, run by uid `user`."""
    target = get_bus(address)
    if os.geteuid() != 0 or user == 0:
        return prep_socket(target, timeout=timeout)
    if user is None:
        raise AppSocketError("the app's user is unknown, and a root server connects only as the app's user")
    sock = _connected_as(user, os.fsencode(target), timeout)
    try:
        _authenticate(sock, user, timeout)
    except BaseException:
        sock.close()
        raise
    sock.settimeout(None)
    return sock


def _connected_as(user: int, target: bytes, timeout: float) -> socket.socket:
    try:
        group = pwd.getpwuid(user).pw_gid
    except KeyError:
        group = user
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with ours, theirs:
        try:
            done = subprocess.run(
                [sys.executable, "-I", "-S", "-c", _CONNECT, target.hex(), str(theirs.fileno()), str(timeout)],
                pass_fds=[theirs.fileno()],
                user=user,
                group=group,
                extra_groups=[],
                env={},
                cwd="/",
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                timeout=timeout + 5,  # the interpreter's own start-up, on a loaded machine
            )
        except subprocess.TimeoutExpired as e:
            raise AppSocketError(f"connecting to {target!r} as uid {user} timed out") from e
        if done.returncode != 0:
            reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["no reason given"]
            raise AppSocketError(f"connecting to {target!r} as uid {user} failed: {reason[0]}")
        ours.settimeout(timeout)
        _, fds, _, _ = socket.recv_fds(ours, 1, 1)
    if len(fds) != 1:
        for fd in fds:
            os.close(fd)
        raise AppSocketError(f"no socket came back from connecting to {target!r} as uid {user}")
    return socket.socket(fileno=fds[0])


def _authenticate(sock: socket.socket, user: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    sock.settimeout(timeout)
    sock.sendall(b"\0AUTH EXTERNAL " + binascii.hexlify(str(user).encode()) + b"\r\n")
    answer = b""
    while not answer.endswith(b"\r\n"):
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(256)
        if not chunk or len(answer) > 4096:
            raise AppSocketError("the app closed its socket during authentication")
        answer += chunk
    if not answer.startswith(b"OK "):
        raise AppSocketError(f"the app refused us: {answer.strip().decode(errors='replace')}")
    sock.sendall(b"BEGIN\r\n")
