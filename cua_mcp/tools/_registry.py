"""Registering tools: groups, the four annotations, and turning our errors into tool errors.

Every tool module declares its tools through `ToolRegistrar.tool`, which is the one place that
decides whether a tool's group is enabled, sets all four annotations explicitly, converts a
`CuaError` into an `isError` result whose message tells the model what to do next, and reports
every call (who, what, how long, how it ended) to the server's `CallObserver`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.types import CallToolResult, TextContent, ToolAnnotations

from cua_mcp.errors import CuaError

GROUPS = ("observe", "input", "windows", "clipboard", "apps", "files", "shell", "office", "browser")
# The shell is opt-in: an agent gets a command line only when the user asks for it.
DEFAULT_GROUPS = frozenset(GROUPS) - {"shell"}
# Tools offered only when allowed by name (`--allow browser_eval`) and their group is enabled.
OPT_IN_TOOLS = ("browser_eval",)
F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
log = logging.getLogger(__name__)


class CallObserver(Protocol):
    """Told about every finished tool call (the server's recorder: audit log, live view)."""

    def on_call(
        self,
        *,
        tool: str,
        arguments: dict[str, Any],
        client: dict[str, Any],
        started: float,
        duration_s: float,
        error: str | None,
        result: str | None,
    ) -> None: ...


@dataclass(frozen=True)
class ToolEntry:
    """One registered tool, as the catalog in the README lists it."""

    name: str
    group: str
    title: str
    annotations: ToolAnnotations


class ToolRegistrar:
    """Adds tools to an `MCPServer`, keeping only those whose group is enabled (default: all but shell)."""

    def __init__(
        self, server: MCPServer, groups: Collection[str] | None = None, observer: CallObserver | None = None
    ) -> None:
        self.server = server
        self.groups = DEFAULT_GROUPS if groups is None else frozenset(groups)
        self.observer = observer
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
        opt_in: bool = False,
    ) -> Callable[[F], F]:
        """Register an async function as a tool; its docstring is the description the model reads.
        An `opt_in` tool (one of OPT_IN_TOOLS) also needs its own name among the enabled groups."""
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
            if group not in self.groups or (opt_in and fn.__name__ not in self.groups):
                return fn
            handler = _model_errors(fn)
            if self.observer is not None:
                handler = _observed(handler, self.observer)
            self.server.add_tool(
                handler,
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


_CONTEXT_PARAM = "cua_call_context"


def _observed(fn: F, observer: CallObserver) -> F:
    """Report each call of `fn` to `observer`, with the calling client taken from the MCP context.

    The SDK hands a tool its `Context` only if the signature asks for one, so the wrapper adds a
    keyword-only context parameter (or reuses the tool's own) and drops it before calling `fn`.
    """
    own_context = find_context_parameter(fn)
    context_name = own_context or _CONTEXT_PARAM
    name = fn.__name__

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        ctx = kwargs.get(context_name) if own_context else kwargs.pop(context_name, None)
        arguments = {k: v for k, v in kwargs.items() if k != context_name}
        started, t0 = time.time(), time.perf_counter()
        error: str | None = None
        result: Any = None
        try:
            result = await fn(*args, **kwargs)
            return result
        except ToolError as exc:
            error = str(exc)
            raise
        except asyncio.CancelledError:
            error = "cancelled (the client cancelled the call or gave up waiting)"
            raise
        except BaseException as exc:
            # Crashes are recorded too, then re-raised for the SDK to turn into an error result.
            error = f"{type(exc).__name__}: {exc}".rstrip(": ")
            raise
        finally:
            try:
                observer.on_call(
                    tool=name,
                    arguments=arguments,
                    client=_client_of(ctx),
                    started=started,
                    duration_s=time.perf_counter() - t0,
                    error=error,
                    result=None if error is not None else _summary(result),
                )
            except Exception:
                # Recording is a side channel: its failure must not change what the model gets.
                log.exception("recording the call of %s failed", name)

    if own_context is None:
        signature = inspect.signature(fn)
        extra = inspect.Parameter(_CONTEXT_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=Context, default=None)
        wrapper.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])  # type: ignore[attr-defined]
        # functools.wraps shares fn's annotation dict; the SDK finds the context param through it.
        wrapper.__annotations__ = {**fn.__annotations__, _CONTEXT_PARAM: Context}
    return wrapper  # type: ignore[return-value]


def _client_of(ctx: Any) -> dict[str, Any]:
    """Who called: the transport, the client's name and version, its address where HTTP knows it."""
    client: dict[str, Any] = {}
    try:
        request_context = ctx.request_context
    except (AttributeError, ValueError):
        return client
    request = getattr(request_context, "request", None)
    address = getattr(request, "client", None)
    client["transport"] = "http" if request is not None and hasattr(request, "headers") else "stdio"
    if address is not None:
        client["remote"] = f"{address.host}:{address.port}"
    client["protocol"] = getattr(request_context, "protocol_version", None)
    params = getattr(getattr(request_context, "session", None), "client_params", None)
    info = getattr(params, "client_info", None)
    if info is not None:
        client["name"] = info.name
        client["version"] = info.version
    return client


_SUMMARY_CHARS = 300


def _summary(result: Any) -> str:
    """A short text of what a tool returned, for people reading the log: images by size, not pixels."""
    if isinstance(result, CallToolResult):
        parts = [
            c.text if isinstance(c, TextContent) else f"[{c.type} {getattr(c, 'mime_type', '')}]".replace(" ]", "]")
            for c in result.content
        ]
        text = " ".join(parts)
    elif hasattr(result, "model_dump_json"):
        text = result.model_dump_json()
    else:
        text = str(result)
    return text if len(text) <= _SUMMARY_CHARS else text[: _SUMMARY_CHARS - 3] + "..."
