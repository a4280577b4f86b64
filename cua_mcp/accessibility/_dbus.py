"""A pipelining D-Bus client for the accessibility bus (jeepney, blocking, one thread).

Many method calls go out at once and their replies are matched by serial as they come back,
so reading 500 extents costs about one round trip per app instead of 500. Every batch has a
deadline: an app that does not answer (stopped, hung, dying) costs at most that long, and its
calls come back as `CallFailed` while the other apps' replies are kept.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jeepney import DBusAddress, HeaderFields, MessageType, new_method_call
from jeepney.io.blocking import DBusConnection, open_dbus_connection

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
        for index, call in enumerate(calls):
            message = new_method_call(
                DBusAddress(call.path, call.bus, call.interface), call.method, call.signature, call.args
            )
            serial = next(self._conn.outgoing_serial)
            self._conn.send(message, serial=serial)
            pending[serial] = index
        deadline = time.monotonic() + timeout
        while pending:
            remaining = deadline - time.monotonic()
            try:
                if remaining <= 0:
                    raise TimeoutError
                message = self._conn.receive(timeout=remaining)
            except TimeoutError:
                for index in pending.values():
                    results[index] = CallFailed(calls[index], f"no answer within {timeout:g} s", timed_out=True)
                break
            index = pending.pop(message.header.fields.get(HeaderFields.reply_serial, -1), None)
            if index is None:
                continue  # a signal or a late reply to an abandoned call
            if message.header.message_type == MessageType.error:
                name = message.header.fields.get(HeaderFields.error_name, "error")
                detail = message.body[0] if message.body else ""
                results[index] = CallFailed(calls[index], f"{name}: {detail}".strip())
            else:
                body = message.body
                value = body[0] if len(body) == 1 else body
                if calls[index].interface == _PROPS and calls[index].method == "Get":
                    value = value[1]  # (signature, value) variant
                results[index] = value
        return results
