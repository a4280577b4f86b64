"""Element refs: short tokens (`e12`) that name one accessible object across snapshots."""

from __future__ import annotations

import re
import threading

from cua_mcp.errors import InvalidArgumentError, StaleRefError

_REF = re.compile(r"e(\d{1,9})")


class RefTable:
    """Hands out one ref per (bus name, object path) and resolves it back. Thread-safe."""

    def __init__(self) -> None:
        self._by_key: dict[tuple[str, str], str] = {}
        self._by_ref: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()

    def ref_for(self, bus: str, path: str) -> str:
        with self._lock:
            ref = self._by_key.get((bus, path))
            if ref is None:
                ref = f"e{len(self._by_ref) + 1}"
                self._by_key[(bus, path)] = ref
                self._by_ref[ref] = (bus, path)
            return ref

    def resolve(self, ref: str) -> tuple[str, str]:
        """The object a ref names; `InvalidArgumentError` for a malformed one, `StaleRefError` for an unknown one."""
        ref = ref.strip()
        if not _REF.fullmatch(ref):
            raise InvalidArgumentError(
                f"{ref!r} is not an element ref: refs look like 'e12' and come from snapshot or find."
            )
        with self._lock:
            key = self._by_ref.get(ref)
        if key is None:
            raise StaleRefError(ref)
        return key

    def forget(self, ref: str) -> None:
        with self._lock:
            key = self._by_ref.pop(ref, None)
            if key is not None:
                self._by_key.pop(key, None)
