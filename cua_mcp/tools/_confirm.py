"""Asking the person before a call runs (`--confirm GROUPS`), through MCP elicitation.

The client shows the question to its user and sends back the answer. A client that cannot ask
(it declared no elicitation capability, or the call came over a transport with no way back) gets a
refusal that says so: a call the person was to confirm never runs unconfirmed.
"""

from __future__ import annotations

import functools
import inspect
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from mcp.server.mcpserver import Context
from mcp.shared.exceptions import MCPError
from pydantic import BaseModel, Field

from cua_mcp.errors import CuaError

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
log = logging.getLogger(__name__)
_SHOWN_ARGUMENT_CHARS = 200


class ConfirmationRefused(CuaError):
    """The person said no, or could not be asked."""


class Approval(BaseModel):
    approve: bool = Field(description="Run this call.")


def confirmed(fn: F, group: str, context_name: str) -> F:
    """Run `fn` only after the person approves the call, asked through the client."""

    defaults = {name: p.default for name, p in inspect.signature(fn).parameters.items()}

    @functools.wraps(fn)
    async def wrapper(**kwargs: Any) -> Any:
        ctx: Context | None = kwargs.get(context_name)
        # The question names what the caller chose, not every default.
        arguments = {k: v for k, v in kwargs.items() if k != context_name and defaults.get(k) != v}
        await _ask(ctx, fn.__name__, group, arguments)
        return await fn(**kwargs)

    return wrapper  # type: ignore[return-value]


async def _ask(ctx: Context | None, tool: str, group: str, arguments: dict[str, Any]) -> None:
    capabilities = ctx.client_capabilities if ctx is not None else None
    cannot_ask = ConfirmationRefused(
        f"{tool} needs the person's confirmation (this server confirms the {group} group), and this client "
        "cannot ask them (it supports no MCP elicitation): not run. Tell the person what you wanted to do."
    )
    if ctx is None or capabilities is None or capabilities.elicitation is None:
        raise cannot_ask
    shown = json.dumps(arguments, ensure_ascii=False)
    if len(shown) > _SHOWN_ARGUMENT_CHARS:
        shown = shown[: _SHOWN_ARGUMENT_CHARS - 3] + "..."
    try:
        answer = await ctx.elicit(f"Allow the agent to run {tool} {shown}?", Approval)
    except MCPError as exc:
        log.info("asking to confirm %s failed: %s", tool, exc)
        raise cannot_ask from exc
    if answer.action == "accept" and answer.data.approve:
        return
    raise ConfirmationRefused(
        f"the person did not allow {tool} ({'declined' if answer.action != 'cancel' else 'cancelled'}): not run. "
        "Do not retry it; ask them how to go on."
    )
