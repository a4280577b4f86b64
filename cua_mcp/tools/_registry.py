"""Registering tools: groups, the four annotations, and turning our errors into tool errors.

Every tool module declares its tools through `ToolRegistrar.tool`, which is the one place that
decides whether a tool's group is enabled, sets all four annotations explicitly, and converts a
`CuaError` into an `isError` result whose message tells the model what to do next.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp.types import ToolAnnotations

from cua_mcp.errors import CuaError

GROUPS = ("observe", "input", "windows", "clipboard", "apps", "files", "shell", "office", "browser")
# The shell is opt-in: an agent gets a command line only when the user asks for it.
DEFAULT_GROUPS = frozenset(GROUPS) - {"shell"}
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


@dataclass(frozen=True)
class ToolEntry:
    """One registered tool, as the catalog in the README lists it."""

    name: str
    group: str
    title: str
    annotations: ToolAnnotations


class ToolRegistrar:
    """Adds tools to an `MCPServer`, keeping only those whose group is enabled (default: all but shell)."""

    def __init__(self, server: MCPServer, groups: Collection[str] | None = None) -> None:
        self.server = server
        self.groups = DEFAULT_GROUPS if groups is None else frozenset(groups)
        self.catalog: list[ToolEntry] = []

    def tool(
        self,
        *,
        group: str,
        title: str,
        read_only: bool,
        destructive: bool = False,
        idempotent: bool = False,
        open_world: bool = False,
    ) -> Callable[[F], F]:
        """Register an async function as a tool; its docstring is the description the model reads."""
        if group not in GROUPS:
            raise ValueError(f"unknown tool group {group!r}")
        annotations = ToolAnnotations(
            title=title,
            readOnlyHint=read_only,
            destructiveHint=destructive,
            idempotentHint=idempotent,
            openWorldHint=open_world,
        )

        def decorator(fn: F) -> F:
            if group not in self.groups:
                return fn
            self.server.add_tool(
                _model_errors(fn),
                name=fn.__name__,
                title=title,
                description=inspect.getdoc(fn),
                annotations=annotations,
            )
            self.catalog.append(ToolEntry(fn.__name__, group, title, annotations))
            return fn

        return decorator


def _model_errors(fn: F) -> F:
    """Re-raise our errors as `ToolError`, so their message reaches the model as an isError result."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except CuaError as exc:
            raise ToolError(str(exc)) from exc

    return wrapper  # type: ignore[return-value]
