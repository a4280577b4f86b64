"""Element refs: short tokens (`e12`) that name one accessible object across snapshots."""

from __future__ import annotations

import re
import threading

from cua_mcp.errors import InvalidArgumentError, StaleRefError, UnknownRefError

# ASCII digits only: \d would take any script's digits.
_REF = re.compile(r"e([0-9]{1,9})")
_CELL_REF = re.compile(r"(e[0-9]{1,9}):([A-Za-z]{1,3}[1-9][0-9]{0,6})")


class RefTable:
    """Hands out one ref per (bus name, object path) and resolves it back. Thread-safe.

    Some apps make a new object each time they are asked (a sheet's cells), so the table is bounded:
    the refs used least recently are dropped first, and then fail closed like any vanished object."""

    def __init__(self, limit: int = 50_000) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._by_ref: dict[str, tuple[str, str]] = {}
        self._next = 1
        self._limit = limit
        self._lock = threading.Lock()

    def ref_for(self, bus: str, path: str) -> str:
        with self._lock:
            key = (bus, path)
            ref = self._by_key.pop(key, None)
            if ref is None:
                ref = f"e{self._next}"
                self._next += 1
                self._by_ref[ref] = key
                if len(self._by_ref) > self._limit:
                    oldest = next(iter(self._by_key))
                    self._by_ref.pop(self._by_key.pop(oldest), None)
            self._by_key[key] = ref  # most recently used last
            return ref

    def split(self, ref: str) -> tuple[str, str | None]:
        """A ref and, for a sheet cell's ref (`e40:C5`), the cell's address; the address is None otherwise."""
        match = _CELL_REF.fullmatch(ref.strip())
        return (match[1], match[2].upper()) if match else (ref, None)

    def resolve(self, ref: str) -> tuple[str, str]:
        """The object a ref names; `InvalidArgumentError` for a malformed one, `UnknownRefError` for one never
        handed out, `StaleRefError` for one whose object went away."""
        ref = ref.strip()
        match = _REF.fullmatch(ref)
        if not match:
            raise InvalidArgumentError(
                f"{ref!r} is not an element ref: refs look like 'e12' (or 'e40:C5' for a cell of table e40) "
                "and come from snapshot or find."
            )
        with self._lock:
            key = self._by_ref.get(ref)
            never_given = not 0 < int(match[1]) < self._next
        if never_given:
            raise UnknownRefError(ref)
        if key is None:
            raise StaleRefError(ref)
        return key

    def forget(self, ref: str) -> None:
        with self._lock:
            key = self._by_ref.pop(ref, None)
            if key is not None:
                self._by_key.pop(key, None)
