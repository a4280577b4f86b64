"""A pipelining D-Bus client for the accessibility bus (jeepney, blocking, one thread).

Many method calls go out at once and their replies are matched by serial as they come back,
so reading 500 extents costs about one round trip per app instead of 500. Every batch has a
deadline: an app that does not answer (stopped, hung, dying) costs at most that long, and its
calls come back as `CallFailed` while the other apps' replies are kept.
"""

from __future__ import annotations

import select
import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jeepney import DBusAddress, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from cua_mcp.accessibility import _wire

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


def _encode_call(call: Call, serial: int) -> bytes:
    """A method call on the wire. jeepney's general serialiser costs about 0.2 ms a message, which is
    most of a big snapshot's time: the few signatures AT-SPI calls use are encoded here directly."""
    if call.signature not in _SIMPLE_BODIES:
        message = new_method_call(
            DBusAddress(call.path, call.bus, call.interface), call.method, call.signature, call.args
        )
        return message.serialise(serial=serial)
    body = bytearray()
    for code, arg in zip(call.signature or "", call.args, strict=True):
        if code == "s":
            _put_string(body, arg)
        else:
            _pad(body, 4)
            body.extend(struct.pack("<i" if code == "i" else "<I", arg))
    fields = bytearray()
    for field, type_code, value in (
        (1, "o", call.path),
        (2, "s", call.interface),
        (3, "s", call.method),
        (6, "s", call.bus),
    ):
        _pad(fields, 8)
        fields.extend(bytes((field, 1, ord(type_code), 0)))
        _put_string(fields, value)
    if call.signature:
        _pad(fields, 8)
        raw = call.signature.encode()
        fields.extend(bytes((8, 1, ord("g"), 0, len(raw))) + raw + b"\0")
    header = bytearray(struct.pack("<cBBBIII", b"l", 1, 0, 1, len(body), serial, len(fields)))
    header.extend(fields)
    _pad(header, 8)
    return bytes(header + body)


class CallFailed(Exception):
    """A call that returned a D-Bus error or no answer before the deadline."""

    def __init__(self, call: Call, reason: str, timed_out: bool = False) -> None:
        super().__init__(f"{call.interface}.{call.method} on {call.bus}{call.path}: {reason}")
        self.call = call
        self.reason = reason
        self.timed_out = timed_out


class AtspiBus:
    """One connection to the accessibility bus. Not thread-safe: use it from one thread."""

    def __init__(self, address: str) -> None:
        self.address = address
        self._conn: DBusConnection = open_dbus_connection(address)
        # After the handshake jeepney is only used to encode unusual calls: replies are read here.
        self._sock = self._conn.sock
        self._buffer = bytearray()

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
        self._conn.close()

    def _next_reply(self, timeout: float) -> _wire.Reply | None:
        """The next message on the socket, parsed; None when none comes within `timeout`."""
        deadline = time.monotonic() + timeout
        while True:
            size = _wire.message_length(self._buffer)
            if size is not None and len(self._buffer) >= size:
                raw = bytes(self._buffer[:size])
                del self._buffer[:size]
                return _wire.parse(raw)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            ready, _, _ = select.select([self._sock], [], [], remaining)
            if not ready:
                return None
            chunk = self._sock.recv(1 << 20)
            if not chunk:
                raise ConnectionError("the accessibility bus closed the connection")
            self._buffer.extend(chunk)

    def call(self, call: Call, timeout: float = DEFAULT_TIMEOUT_S) -> Any:
        """One call; returns its result (a single value is unwrapped) or raises `CallFailed`."""
        result = self.call_many([call], timeout)[0]
        if isinstance(result, CallFailed):
            raise result
        return result

    def call_many(self, calls: Sequence[Call], timeout: float = DEFAULT_TIMEOUT_S) -> list[Any]:
        """Send every call, then collect the replies; each entry is a result or a `CallFailed`."""
        results: list[Any] = [None] * len(calls)
        pending: dict[int, int] = {}
        chunks = []
        for index, call in enumerate(calls):
            serial = next(self._conn.outgoing_serial)
            chunks.append(_encode_call(call, serial))
            pending[serial] = index
        self._sock.sendall(b"".join(chunks))
        deadline = time.monotonic() + timeout
        while pending:
            remaining = deadline - time.monotonic()
            reply = self._next_reply(remaining) if remaining > 0 else None
            if reply is None:
                for index in pending.values():
                    results[index] = CallFailed(calls[index], f"no answer within {timeout:g} s", timed_out=True)
                break
            index = pending.pop(reply.reply_serial, None)
            if index is None:
                continue  # a signal or a late reply to an abandoned call
            if reply.kind == _wire.ERROR:
                detail = reply.body[0] if reply.body and isinstance(reply.body[0], str) else ""
                results[index] = CallFailed(calls[index], f"{reply.error_name}: {detail}".strip())
            else:
                body = reply.body
                value = body[0] if len(body) == 1 else body
                if calls[index].interface == _PROPS and calls[index].method == "Get":
                    value = value[1]  # (signature, value) variant
                results[index] = value
        return results
