"""The errors cua-mcp raises on purpose.

Every message is written for the model on the other side of the protocol: it says what went
wrong and what to do next. `tools/` turns these into `isError` tool results in one place.
"""

from __future__ import annotations


class CuaError(Exception):
    """A failure the caller can act on; its message says how."""


class InvalidArgumentError(CuaError, ValueError):
    """An argument is well-typed but makes no sense (empty text, an unknown button, ...)."""


class OutsideScreenError(InvalidArgumentError):
    """A coordinate lies outside the agent coordinate space."""

    def __init__(self, axis: str, value: float, limit: int) -> None:
        super().__init__(
            f"{axis}={value:g} is outside 0..{limit - 1}: coordinates are in the screenshot's space "
            f"({axis} from 0 to {limit - 1}); take a screenshot or call screen_info to see it."
        )


class UnknownKeyError(InvalidArgumentError):
    """A key name that maps to no key."""

    def __init__(self, name: str, suggestions: list[str]) -> None:
        self.name = name
        self.suggestions = suggestions
        hint = f" Did you mean {', '.join(repr(s) for s in suggestions)}?" if suggestions else ""
        super().__init__(
            f"unknown key {name!r}.{hint} Use names like ctrl, alt, shift, super, Return, Escape, Tab, "
            "BackSpace, Delete, Home, End, Page_Up, Up, F1..F24, or a single character; join a chord "
            "with '+' (ctrl+shift+t) and separate keys pressed one after another with spaces."
        )


class DisplayGoneError(CuaError):
    """The X display is dead or does not answer."""


class OperationCancelledError(CuaError):
    """An input operation was cancelled midway; what it pressed was released."""


class SandboxError(CuaError):
    """The sandbox desktop could not be started or a part of it failed."""


class WindowNotFoundError(InvalidArgumentError):
    """No window, or more than one, matches what the caller named."""


class UnknownAppError(InvalidArgumentError):
    """An app name that is not in the catalog."""


class LaunchError(CuaError):
    """An app or command could not be started, or its window never appeared."""


class PolicyDenied(CuaError):
    """Something the server's tool groups do not allow (a terminal without the shell group)."""


class OutsideWorkspaceError(InvalidArgumentError):
    """A path that leads out of the workspace folder."""


class ClipboardError(CuaError):
    """The clipboard could not be read or set."""


class StaleRefError(CuaError):
    """An element ref whose object no longer exists (or was never handed out)."""

    def __init__(self, ref: str, detail: str = "") -> None:
        self.ref = ref
        super().__init__(
            f"ref {ref} no longer exists{f' ({detail})' if detail else ''}: take a new snapshot (or find) "
            "and use the refs it gives."
        )


class UnknownRefError(InvalidArgumentError):
    """A well-formed element ref that this server never handed out."""

    def __init__(self, ref: str) -> None:
        self.ref = ref
        super().__init__(f"no element {ref} was ever given: take a snapshot (or find) and use the refs it lists.")


class AccessibilityError(CuaError):
    """The accessibility bus or an app on it failed to do what was asked."""
