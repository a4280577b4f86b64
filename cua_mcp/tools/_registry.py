"""Registering tools: groups, the four annotations, argument checks, and turning our errors into tool errors.

Every tool module declares its tools through `ToolRegistrar.tool`, which is the one place that
decides whether a tool's group is enabled, sets all four annotations explicitly, checks each call's
arguments strictly (`_arguments.ArgumentCheck`: no unknown names, no conversions), converts a
`CuaError` into an `isError` result whose message tells the model what to do next (and any other
failure into one that at least says what failed), and reports every call, refused ones included
(who, what, how long, how it ended), to the server's `CallObserver`.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import inspect
import logging
import os
import secrets
import time
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from mcp.server import MCPServer
from mcp.server.mcpserver import Context
from mcp.server.mcpserver.exceptions import ToolError
from mcp.server.mcpserver.utilities.context_injection import find_context_parameter
from mcp.shared.exceptions import MCPError
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel

from cua_mcp.errors import CuaError
from cua_mcp.tools._arguments import ArgumentCheck, RawArguments
from cua_mcp.tools._confirm import confirmed

GROUPS = ("observe", "input", "windows", "clipboard", "apps", "files", "shell", "office", "browser")
# The shell is opt-in: an agent gets a command line only when the user asks for it.
DEFAULT_GROUPS = frozenset(GROUPS) - {"shell"}
# What a call may take at most, unless its tool declares more (run_command's own timeout allows 120 s).
DEFAULT_DEADLINE_S = 90.0
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
        returned: Any = None,
    ) -> None: ...

    async def after_action(self, tool: str) -> None:
        """Called once a tool that acts (not read-only) has succeeded, before its result is sent
        (a recording takes its screenshot of the effect here)."""


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
        self,
        server: MCPServer,
        groups: Collection[str] | None = None,
        observer: CallObserver | None = None,
        confirm: Collection[str] = (),
    ) -> None:
        self.server = server
        self.groups = DEFAULT_GROUPS if groups is None else frozenset(groups)
        self.observer = observer
        # Groups whose calls the person confirms first (MCP elicitation), see `_confirm`.
        self.confirm = frozenset(confirm)
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
        untrusted_text: bool = False,
        deadline_s: float = DEFAULT_DEADLINE_S,
    ) -> Callable[[F], F]:
        """Register an async function as a tool; its docstring is the description the model reads.

        `untrusted_text=True` declares that the tool returns text read from apps, pages or files:
        its text blocks reach the model inside an `<untrusted-content>` fence (see `fence`).
        `deadline_s` bounds every call (a tool whose own timeout argument allows longer declares more):
        past it the call is cancelled and answered with an error, whatever it was waiting on."""
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
            # Every handler takes the call's MCP context (the SDK passes it to a parameter typed
            # Context): the observer, the confirmation and a tool that asks for it use it.
            own_context = find_context_parameter(fn)
            context_name = own_context or _CONTEXT_PARAM
            inner = _fenced(fn) if untrusted_text else fn
            if own_context is None:
                inner = _without(inner, _CONTEXT_PARAM)
            inner = _bounded(inner, deadline_s)  # inside the confirmation: a person may take their time
            if group in self.confirm:
                inner = confirmed(inner, group, context_name)
            handler = _model_errors(_checked(inner, ArgumentCheck(fn.__name__, fn, frozenset({context_name}))))
            if self.observer is not None:
                handler = _observed(handler, self.observer, context_name, acts=not read_only)
            if own_context is None:
                handler = _taking_context(handler, fn)
            self.server.add_tool(
                handler,
                name=fn.__name__,
                title=title,
                description=inspect.getdoc(fn),
                annotations=annotations,
            )
            # The schema the client sees is fn's; the SDK's own lenient check is turned off so that
            # ours runs instead, inside the observer (a refused call is audited like any other).
            registered = self.server._tool_manager.get_tool(fn.__name__)
            registered.fn_metadata.arg_model = RawArguments
            registered.parameters["additionalProperties"] = False  # as the check enforces: say so in the schema
            self.catalog.append(ToolEntry(fn.__name__, group, title, annotations))
            return fn

        return decorator


def fence(text: str, source: str) -> str:
    """`text` between an opening and a closing line that carry one fresh random id.

    The id is drawn for every call, so text inside (a page, a document) cannot close the fence early:
    a client or a model trusts only the closing line whose id matches the opening one."""
    fence_id = secrets.token_hex(8)
    return f'<untrusted-content source="{source}" id="{fence_id}">\n{text}\n</untrusted-content id="{fence_id}">'


def _fenced(fn: F) -> F:
    """Return `fn`'s result with its text blocks fenced; the structured content is for programs and stays."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        result = await fn(**kwargs)
        if isinstance(result, CallToolResult):
            content = [
                TextContent(type="text", text=fence(c.text, fn.__name__)) if isinstance(c, TextContent) else c
                for c in result.content
            ]
            return result.model_copy(update={"content": content})
        if isinstance(result, BaseModel):
            text = result.model_dump_json(by_alias=True, indent=2)
            return CallToolResult(
                content=[TextContent(type="text", text=fence(text, fn.__name__))],
                structured_content=result.model_dump(mode="json", by_alias=True),
            )
        raise TypeError(f"{fn.__name__} returned {type(result).__name__}: an untrusted_text tool returns a model")

    return wrapper  # type: ignore[return-value]


def _bounded(fn: F, seconds: float) -> F:
    """Cancel `fn` at `seconds` and answer with an error that says so."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        bound = asyncio.timeout(seconds)
        try:
            async with bound:
                return await fn(**kwargs)
        except TimeoutError:
            if not bound.expired():
                raise
            raise ToolError(
                f"{fn.__name__} did not finish within {seconds:g} s and was stopped: the desktop or an app is not "
                "answering. Look with screenshot, then try again or another way."
            ) from None

    return wrapper  # type: ignore[return-value]


def _checked(fn: F, check: ArgumentCheck) -> F:
    """Call `fn` with the arguments `check` accepts (it raises `InvalidArgumentError` for the others)."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        return await fn(**check(kwargs))

    return wrapper  # type: ignore[return-value]


# What to do about the operating system errors a tool can meet with a caller's path or text.
_OS_ERROR_HINTS = {
    errno.ENAMETOOLONG: "each part of a path may have at most 255 bytes (the whole path 4096): use shorter names",
    errno.ENOSPC: "the disk is full: free space or write less",
    errno.EROFS: "that place is read-only: write in the workspace",
    errno.EILSEQ: "a name is not valid text: use UTF-8 names",
}


def _model_errors(fn: F) -> F:
    """Re-raise our errors as `ToolError`, so their message reaches the model as an isError result.

    Any other failure gets a message too (the SDK would answer only "Error executing tool X"): an
    operating system error says which, with what to do where that is known; a crash says so and is
    logged with its traceback.
    """

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return await fn(*args, **kwargs)
        except CuaError as exc:
            raise ToolError(str(exc)) from exc
        except TimeoutError as exc:
            raise ToolError(
                f"{fn.__name__} took too long and was stopped: the desktop or an app did not answer in time; "
                "try again, or look with screenshot."
            ) from exc
        except OSError as exc:
            reason = os.strerror(exc.errno) if exc.errno else str(exc) or type(exc).__name__
            hint = _OS_ERROR_HINTS.get(exc.errno or 0, "check the arguments and try again")
            raise ToolError(f"{fn.__name__} failed: {reason.lower()}; {hint}.") from exc
        except (ToolError, MCPError):
            raise
        except Exception as exc:
            log.exception("%s failed unexpectedly", fn.__name__)
            raise ToolError(
                f"{fn.__name__} failed unexpectedly ({type(exc).__name__}; the server's log has the details): "
                "try again, or reach the goal another way."
            ) from exc

    return wrapper  # type: ignore[return-value]


_CONTEXT_PARAM = "cua_call_context"


def _observed(fn: F, observer: CallObserver, context_name: str, acts: bool) -> F:
    """Report each call of `fn` to `observer`, with the calling client taken from the MCP context;
    after a call of a tool that `acts`, let the observer look at the screen (a recording's screenshot)."""
    name = fn.__name__

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        ctx = kwargs.get(context_name)
        arguments = {k: v for k, v in kwargs.items() if k != context_name}
        started, t0 = time.time(), time.perf_counter()
        error: str | None = None
        result: Any = None
        try:
            result = await fn(**kwargs)
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
                    returned=result,
                )
            except Exception:
                # Recording is a side channel: its failure must not change what the model gets.
                log.exception("recording the call of %s failed", name)
        if acts:
            try:
                await observer.after_action(name)
            except Exception:
                log.exception("recording after %s failed", name)
        return result

    return wrapper  # type: ignore[return-value]


def _without(fn: F, parameter: str) -> F:
    """Call `fn` without the keyword argument `parameter` (which only the wrappers around it use)."""

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        kwargs.pop(parameter, None)
        return await fn(**kwargs)

    return wrapper  # type: ignore[return-value]


def _taking_context(handler: F, fn: Callable[..., Any]) -> F:
    """`handler`, declared with fn's parameters plus a keyword-only context parameter for the SDK to fill."""
    signature = inspect.signature(fn)
    extra = inspect.Parameter(_CONTEXT_PARAM, inspect.Parameter.KEYWORD_ONLY, annotation=Context, default=None)
    handler.__signature__ = signature.replace(parameters=[*signature.parameters.values(), extra])  # type: ignore[attr-defined]
    # functools.wraps shares fn's annotation dict; the SDK finds the context param through it.
    handler.__annotations__ = {**fn.__annotations__, _CONTEXT_PARAM: Context}
    return handler


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
