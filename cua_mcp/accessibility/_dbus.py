"""A pipelining D-Bus client for the accessibility bus (jeepney, blocking, one thread).

Many method calls go out at once and their replies are matched by serial as they come back,
so reading 500 extents costs about one round trip per app instead of 500. A reply can add
follow-up calls at once (an `Exchange`), so a chain of dependent reads keeps the app busy
instead of waiting for a whole round. Every exchange has a deadline, pushed back while replies
come in: an app that does not answer (stopped, hung, dying) costs at most that long, and its
calls come back as `CallFailed` while the other apps' replies are kept.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import select
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from cua_mcp.accessibility import _wire
from cua_mcp.accessibility._app_socket import open_app_socket

DEFAULT_TIMEOUT_S = 2.0
_PROPS = "org.freedesktop.DBus.Properties"


@dataclass(frozen=True)
class Call:
    """One method call: on object `path` of `bus` (an app's unique name)."""

    bus: str
    path: str
    interface: str
    method: str
    signature: str | None = None
    args: tuple[Any, ...] = ()


def prop(bus: str, path: str, interface: str, name: str) -> Call:
    """A Properties.Get call; its result is the bare value."""
    return Call(bus, path, _PROPS, "Get", "ss", (interface, name))


def set_prop(bus: str, path: str, interface: str, name: str, signature: str, value: Any) -> Call:
    return Call(bus, path, _PROPS, "Set", "ssv", (interface, name, (signature, value)))


def _pad(data: bytearray, alignment: int) -> None:
    data.extend(b"\0" * (-len(data) % alignment))


def _put_string(data: bytearray, text: str) -> None:
    raw = text.encode()
    _pad(data, 4)
    data.extend(struct.pack("<I", len(raw)))
    data.extend(raw + b"\0")


_SIMPLE_BODIES = frozenset({None, "", "i", "u", "ii", "iiu", "s", "ss", "isi"})
_FIXED_BODIES = {None: "", "": "", "i": "<i", "u": "<I", "ii": "<ii", "iiu": "<iiI"}  # 4-byte words only


@functools.lru_cache(maxsize=1024)
def _fields_after_path(interface: str, method: str, bus: str, signature: str | None) -> bytes:
    """Header fields that follow the path. Each field starts 8-aligned, so their bytes do not depend
    on the path's length: encoded once per kind of call."""
    fields = bytearray()
    for field, value in ((2, interface), (3, method), (6, bus)):
        _pad(fields, 8)
        fields.extend(bytes((field, 1, ord("s"), 0)))
        _put_string(fields, value)
    if signature:
        _pad(fields, 8)
        raw = signature.encode()
        fields.extend(bytes((8, 1, ord("g"), 0, len(raw))) + raw + b"\0")
    return bytes(fields)


def _body(call: Call) -> bytes:
    packer = _FIXED_BODIES.get(call.signature)
    if packer is not None:
        return struct.pack(packer, *call.args) if packer else b""
    body = bytearray()
    for code, arg in zip(call.signature or "", call.args, strict=True):
        if code == "s":
            _put_string(body, arg)
        else:
            _pad(body, 4)
            body.extend(struct.pack("<i" if code == "i" else "<I", arg))
    return bytes(body)


def _encode_call(call: Call, serial: int) -> bytes:
    """A method call on the wire. jeepney's general serialiser costs about 0.2 ms a message, which is
    most of a big snapshot's time: the few signatures AT-SPI calls use are encoded here directly."""
    if call.signature not in _SIMPLE_BODIES:
        message = new_method_call(
            DBusAddress(call.path, call.bus, call.interface), call.method, call.signature, call.args
        )
        return message.serialise(serial=serial)
    body = _body(call)
    path = call.path.encode()
    fields = struct.pack("<4BI", 1, 1, ord("o"), 0, len(path)) + path + b"\0"
    fields += b"\0" * (-len(fields) % 8) + _fields_after_path(call.interface, call.method, call.bus, call.signature)
    header = struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body), serial, len(fields)) + fields
    return header + b"\0" * (-len(header) % 8) + body


class CallFailed(Exception):
    """A call that returned a D-Bus error or no answer before the deadline."""

    def __init__(self, call: Call, reason: str, timed_out: bool = False) -> None:
        super().__init__(f"{call.interface}.{call.method} on {call.bus}{call.path}: {reason}")
        self.call = call
        self.reason = reason
        self.timed_out = timed_out


class _Link:
    """One socket to the accessibility bus or directly to one app: what is still to send, what came in."""

    def __init__(self, sock: socket.socket, serials: Iterator[int]) -> None:
        sock.setblocking(False)  # an app busy writing replies must not wait for us to stop writing
        self.sock = sock
        self.serials = serials
        self.outbox = bytearray()
        self.buffer = bytearray()
        self.closed = False

    def next_message(self) -> _wire.Reply | None:
        """The next whole message already read, parsed; None when it has not all come yet."""
        size = _wire.message_length(self.buffer)
        if size is None or len(self.buffer) < size:
            return None
        raw = bytes(self.buffer[:size])
        del self.buffer[:size]
        return _wire.parse(raw)

    def flush(self) -> None:
        """Send what the socket takes now."""
        try:
            sent = self.sock.send(self.outbox)
        except BlockingIOError:
            return
        except OSError:
            self.closed = True
            return
        del self.outbox[:sent]

    def receive(self) -> None:
        """Read what the socket has; `closed` when the peer closed it."""
        try:
            chunk = self.sock.recv(1 << 20)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.closed = True
        self.buffer.extend(chunk)


OnReply = Callable[[Any], None]


class Exchange:
    """Calls in flight together on an `AtspiBus`, and the calls added while their replies come in.

    `add` sends at once; `run` collects until every call is answered or nothing came for `timeout`
    seconds. A call's `on_reply` runs as soon as its result is in and may `add` follow-up calls: they
    queue behind the calls still being served, so an app is never idle between two rounds."""

    def __init__(self, bus: AtspiBus, timeout: float) -> None:
        self.bus = bus
        self.timeout = timeout
        self.results: list[Any] = []
        self._calls: list[Call] = []
        self._on_reply: dict[int, OnReply] = {}
        self._pending: dict[tuple[int, int], int] = {}  # (link id, serial) -> index
        self._owed: dict[int, int] = {}  # link id -> replies still owed
        self._links: dict[int, _Link] = {}

    def add(self, calls: Sequence[Call], on_reply: Callable[[int, Any], None] | None = None) -> list[int]:
        """Send `calls`; returns their indexes in `results`. `on_reply(i, result)` runs when call i is in."""
        indexes = []
        for call in calls:
            index = len(self._calls)
            self._calls.append(call)
            self.results.append(None)
            if on_reply is not None:
                self._on_reply[index] = functools.partial(on_reply, len(indexes))
            self._send(index)
            indexes.append(index)
        return indexes

    def add_group(self, calls: Sequence[Call], on_all: Callable[[list[Any]], None]) -> None:
        """Send `calls`; `on_all(results)` runs once all of them are in (at once when there are none)."""
        if not calls:
            on_all([])
            return
        results: list[Any] = [None] * len(calls)
        left = [len(calls)]

        def one(i: int, result: Any) -> None:
            results[i] = result
            left[0] -= 1
            if not left[0]:
                on_all(results)

        self.add(calls, one)

    def _send(self, index: int) -> None:
        call = self._calls[index]
        link = self.bus.link_for(call.bus)
        serial = next(link.serials)
        link.outbox += _encode_call(call, serial)
        self._links[id(link)] = link
        self._pending[id(link), serial] = index
        self._owed[id(link)] = self._owed.get(id(link), 0) + 1

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout
        while self._pending:
            for link in list(self._links.values()):
                if link.outbox:
                    link.flush()
                if self._read(link):
                    deadline = time.monotonic() + self.timeout
                if link.closed:
                    self._lost(link)
            busy = [link for key, link in self._links.items() if self._owed.get(key) or link.outbox]
            if not busy:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._give_up()
                break
            readable, writable, _ = select.select(
                [link.sock for link in busy], [link.sock for link in busy if link.outbox], [], remaining
            )
            for link in busy:
                if link.sock in readable:
                    link.receive()
                if link.sock in writable:
                    link.flush()

    def _read(self, link: _Link) -> bool:
        """Match the messages read on `link` to their calls; whether any reply came."""
        key, came = id(link), False
        while (reply := link.next_message()) is not None:
            index = self._pending.pop((key, reply.reply_serial), None)
            if index is None:
                continue  # a signal, or a late reply to an abandoned call
            came = True
            self._owed[key] -= 1
            self._settle(index, _result(self._calls[index], reply))
        return came

    def _settle(self, index: int, result: Any) -> None:
        self.results[index] = result
        on_reply = self._on_reply.pop(index, None)
        if on_reply is not None:
            on_reply(result)

    def _lost(self, link: _Link) -> None:
        """The app went away or dropped us: ask its calls again through the bus, which says which
        (e.g. ServiceUnknown). A closed bus connection cannot be recovered here."""
        if link is self.bus.main:
            raise ConnectionError("the accessibility bus closed the connection")
        self.bus.drop(link)
        key = id(link)
        again = [index for (k, _), index in self._pending.items() if k == key]
        self._forget(key)
        for index in again:
            self._send(index)

    def _give_up(self) -> None:
        """Nothing came in time: the calls still pending fail, without follow-ups (which would wait
        again). A link that stopped reading what we send is dropped, so later calls to its app go
        through the bus."""
        for link in self._links.values():
            if link.outbox and link is not self.bus.main:
                self.bus.drop(link)
        for index in self._pending.values():
            call = self._calls[index]
            self.results[index] = CallFailed(call, f"no answer within {self.timeout:g} s", timed_out=True)
        self._pending.clear()
        self._on_reply.clear()

    def _forget(self, key: int) -> None:
        self._pending = {k: i for k, i in self._pending.items() if k[0] != key}
        self._owed.pop(key, None)
        self._links.pop(key, None)


class AtspiBus:
    """One connection to the accessibility bus, plus direct connections to the apps that offer one
    (`Application.GetApplicationBusAddress`, what libatspi uses): calls to such an app skip the bus
    daemon, which otherwise routes every call and reply (about a third of a big snapshot's CPU).
    Not thread-safe: use it from one thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._conn: DBusConnection = open_dbus_connection(address)
        # After the handshake jeepney is only used to encode unusual calls: replies are read here.
        self.main = _Link(self._conn.sock, self._conn.outgoing_serial)
        self._direct: dict[str, _Link] = {}  # app bus name -> its direct connection

    @classmethod
    def from_session(cls, session_bus_address: str, timeout: float = DEFAULT_TIMEOUT_S) -> AtspiBus:
        """Ask the session bus's `org.a11y.Bus` where the accessibility bus is, and connect."""
        with open_dbus_connection(session_bus_address) as session:
            reply = session.send_and_get_reply(
                new_method_call(DBusAddress("/org/a11y/bus", "org.a11y.Bus", "org.a11y.Bus"), "GetAddress"),
                timeout=timeout,
            )
        if reply.header.message_type == MessageType.error:
            raise ConnectionError(f"org.a11y.Bus.GetAddress failed: {reply.body}")
        return cls(reply.body[0])

    def close(self) -> None:
        for link in self._direct.values():
            with contextlib.suppress(OSError):
                link.sock.close()
        self._direct.clear()
        self._conn.close()

    def connect_direct(self, bus: str, address: str, user: int | None = None, timeout: float = 1.0) -> bool:
        """Talk to app `bus` (run by uid `user`) over its own socket from now on; False (and the bus
        it stays) when that fails."""
        if bus in self._direct:
            return True
        try:
            sock = open_app_socket(address, user, timeout)
        except (OSError, ValueError, StopIteration, RuntimeError):
            return False
        self._direct[bus] = _Link(sock, itertools.count(1))
        return True

    def direct(self, bus: str) -> bool:
        return bus in self._direct

    def link_for(self, bus: str) -> _Link:
        return self._direct.get(bus, self.main)

    def exchange(self, timeout: float = DEFAULT_TIMEOUT_S) -> Exchange:
        return Exchange(self, timeout)

    def call(self, call: Call, timeout: float = DEFAULT_TIMEOUT_S) -> Any:
        """One call; returns its result (a single value is unwrapped) or raises `CallFailed`."""
        result = self.call_many([call], timeout)[0]
        if isinstance(result, CallFailed):
            raise result
        return result

    def call_many(self, calls: Sequence[Call], timeout: float = DEFAULT_TIMEOUT_S) -> list[Any]:
        """Send every call, then collect the replies; each entry is a result or a `CallFailed`."""
        exchange = self.exchange(timeout)
        exchange.add(calls)
        exchange.run()
        return exchange.results

    def drop(self, link: _Link) -> None:
        """Stop using a direct connection (its app went away or stopped reading)."""
        for bus, known in list(self._direct.items()):
            if known is link:
                del self._direct[bus]
        with contextlib.suppress(OSError):
            link.sock.close()


def _result(call: Call, reply: _wire.Reply) -> Any:
    if reply.kind == _wire.ERROR:
        detail = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
        return CallFailed(call, f"{reply.error_name}: {detail}".strip())
    body = reply.body
    value = body[0] if len(body) == 1 else body
    if call.interface == _PROPS and call.method == "Get":
        value = value[1]  # (signature, value) variant
    return value
