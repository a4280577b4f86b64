"""What a client saw last, per scope, so that `snapshot(since="last")` can say only what changed.

Clients are opaque keys (the server's MCP session objects); they are held weakly where they allow it,
and both the clients and the scopes per client are bounded, the least recently used dropped first.
"""

from __future__ import annotations

import difflib
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Hashable

_CLIENTS = 64
_SCOPES = 8


class SnapshotHistory:
    def __init__(self, clients: int = _CLIENTS, scopes: int = _SCOPES) -> None:
        # client key -> (a weak reference to the client, to tell a reused id apart; its scopes' last texts)
        self._clients: OrderedDict[Hashable, tuple[Callable[[], object], OrderedDict[Hashable, str]]] = OrderedDict()
        self._limits = (clients, scopes)
        self._lock = threading.Lock()

    def remember(self, client: object, scope: Hashable, text: str) -> str:
        """Store `text` as the client's last snapshot of `scope`; returns it unchanged."""
        self.changes(client, scope, text)
        return text

    def changes(self, client: object, scope: Hashable, text: str) -> str:
        """The snapshot as changes since the client's previous one of the scope (the whole text the first time)."""
        by_value = isinstance(client, str | int | None)
        key = client if by_value else id(client)
        with self._lock:
            alive, seen = self._clients.pop(key, (None, None))
            if seen is None or alive is None or not (by_value or alive() is client):
                alive, seen = _weak(client), OrderedDict()
            self._clients[key] = (alive, seen)
            while len(self._clients) > self._limits[0]:
                self._clients.popitem(last=False)
            before = seen.pop(scope, None)
            seen[scope] = text
            while len(seen) > self._limits[1]:
                seen.popitem(last=False)
        if before is None:
            return text
        return diff(before, text)


def diff(before: str, after: str) -> str:
    """The header of `after`, then the lines removed (`-`) and added (`+`), and how many stayed the same.
    A changed line shows as its old version removed and its new one added."""
    old, new = before.splitlines(), after.splitlines()
    header, old, new = (new[0] if new else ""), old[1:], new[1:]
    out: list[str] = []
    same = 0
    for op, a0, a1, b0, b1 in difflib.SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            same += a1 - a0
            continue
        out += [f"- {line.lstrip()}" for line in old[a0:a1]]
        out += [f"+ {line.lstrip()}" for line in new[b0:b1]]
    added = sum(1 for line in out if line[0] == "+")
    summary = f"since your last snapshot of this scope: +{added} lines, -{len(out) - added} lines, {same} unchanged"
    return "\n".join([header, summary + ("" if out else " (nothing changed)"), *out])


def _weak(client: object) -> Callable[[], object]:
    try:
        return weakref.ref(client)
    except TypeError:  # None, or a key that is a plain value (a session id): kept as it is
        return lambda: client
