"""Input a client's session holds down after a call returns (mouse_down), let go when that session ends.

stdio releases everything when the server exits; an HTTP session can end long before the server
does (the client deletes it, it expires, or a new one takes its place), and its button must not
stay down for the next client. The SDK unwinds a connection's exit stack when its session ends.
A stateless request (the 2026 era over HTTP) is a connection of its own with no session: there is
nothing to outlive, and what it holds stays held until mouse_up, as over stdio.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from mcp.server.connection import Connection
from mcp.server.mcpserver import Context

from cua_mcp.errors import CuaError

log = logging.getLogger(__name__)
_STATE_KEY = "cua_mcp.held_buttons"


def _connection(ctx: Context) -> Connection:
    # The SDK (2.3) gives a tool's context no public way to its connection; its session holds it.
    return ctx.request_context.session._connection


def hold_for_session(ctx: Context, button: str, release: Callable[[str], Awaitable[Any]]) -> None:
    """Remember that this call's session pressed `button`; `release(button)` runs when the session ends."""
    connection = _connection(ctx)
    if connection.session_id is None:
        return
    held: set[str] | None = connection.state.get(_STATE_KEY)
    if held is None:
        held = connection.state[_STATE_KEY] = set()

        async def let_go() -> None:
            for name in sorted(held):
                try:
                    await release(name)
                except CuaError:
                    log.warning("could not release the %s button of an ended session", name, exc_info=True)

        connection.exit_stack.push_async_callback(let_go)
    held.add(button)


def released_by_session(ctx: Context, button: str) -> None:
    """This call's session let go of `button` itself."""
    held = _connection(ctx).state.get(_STATE_KEY)
    if held is not None:
        held.discard(button)
