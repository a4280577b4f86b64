"""Serving MCP over streamable HTTP: FastAPI + uvicorn host the SDK's app, the live view and `/healthz`.

    POST /mcp        MCP, both protocol eras: 2025-11-25 sessions and 2026-07-28 stateless requests
    GET  /           the live view (see live_view.py)
    GET  /healthz    liveness, open to all

Security model: loopback by default; any other bind needs a token. Every route but /healthz
passes the `Guard` (Host, Origin, bearer token). Sessions end: one idle for `session_idle_timeout`
expires, and at `max_sessions` a new one takes the place of the one idle longest (instead of the
SDK's refusal, which would let abandoned sessions lock everyone out until they expire). Replies to legacy clients are plain JSON instead
of an SSE stream, because the SDK client refuses SSE events over 1 MiB and a native-scale PNG of a
busy screen is more than that in base64.
"""

from __future__ import annotations

import logging
import math
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI
from mcp.server import MCPServer
from mcp.server.streamable_http import MCP_SESSION_ID_HEADER
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from mcp.shared.inbound import MCP_PROTOCOL_VERSION_HEADER
from mcp.types.version import HANDSHAKE_PROTOCOL_VERSIONS
from starlette.types import ASGIApp, Receive, Scope, Send

from cua_mcp import __version__
from cua_mcp.errors import CuaError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.guard import AccessRules, Guard, is_loopback
from cua_mcp.server.live_view import add_live_view
from cua_mcp.server.recording import CallRecorder

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
DEFAULT_SESSION_IDLE_TIMEOUT_S = 600
DEFAULT_MAX_SESSIONS = 100


class InsecureBindError(CuaError):
    """A bind that would expose the desktop to the network without a token."""


@dataclass(frozen=True)
class HttpSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = field(default=None, repr=False)
    extra_hosts: tuple[str, ...] = ()
    session_idle_timeout: float = DEFAULT_SESSION_IDLE_TIMEOUT_S
    max_sessions: int = DEFAULT_MAX_SESSIONS

    def check(self) -> None:
        """Refuse to expose a desktop beyond this machine without a token."""
        if not self.token and not is_loopback(self.host):
            raise InsecureBindError(
                f"refusing to listen on {self.host}: anyone who can reach it could control this desktop. "
                "Set a token with CUA_MCP_TOKEN (or --token), or bind to 127.0.0.1."
            )


def build_http_app(server: MCPServer, desktop: Desktop, recorder: CallRecorder, settings: HttpSettings) -> Guard:
    """The ASGI app: the guard in front of FastAPI, which holds the live view and mounts MCP."""
    settings.check()
    rules = AccessRules.for_bind(settings.host, settings.port, settings.token, settings.extra_hosts)
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=sorted(rules.allowed_hosts),
        allowed_origins=sorted(rules.allowed_origins),
    )
    mcp_app = server.streamable_http_app(
        json_response=True,
        transport_security=security,
        host=settings.host,
        session_idle_timeout=settings.session_idle_timeout,
        max_sessions=settings.max_sessions,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # A mounted app's own lifespan never runs: the session manager must be entered here.
        async with server.session_manager.run():
            yield

    app = FastAPI(
        title="cua-mcp", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None
    )

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    add_live_view(app, desktop, recorder)
    app.mount("/", _RoomForNewSessions(mcp_app, server.session_manager))  # last: routes above win
    return Guard(app, rules)


class _RoomForNewSessions:
    """In front of the MCP app: a request that opens a session, at the cap, ends the session idle longest."""

    def __init__(self, app: ASGIApp, manager: StreamableHTTPSessionManager) -> None:
        self._app = app
        self._manager = manager

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and _opens_a_session(scope):
            _end_longest_idle_session(self._manager)
        await self._app(scope, receive, send)


def _opens_a_session(scope: Scope) -> bool:
    """A request without a session that the SDK serves in the handshake era (where sessions live)."""
    headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
    version = headers.get(MCP_PROTOCOL_VERSION_HEADER.lower())
    return MCP_SESSION_ID_HEADER.lower() not in headers and (version is None or version in HANDSHAKE_PROTOCOL_VERSIONS)


def _end_longest_idle_session(manager: StreamableHTTPSessionManager) -> None:
    """At the cap, forget the session whose idle deadline comes first and end it.

    The SDK offers no public view of its sessions: this reads its table. A session serving a request
    has no deadline (it is not idle) and is never ended here; when all are busy the SDK answers 503.
    Ending it cancels its idle scope, as its expiry would, so its cleanup (held buttons) runs.
    """
    sessions = manager._server_instances
    if manager.max_sessions is None or len(sessions) < manager.max_sessions:
        return
    idle = [
        (transport.idle_scope.deadline, session_id)
        for session_id, transport in sessions.items()
        if transport.idle_scope is not None and math.isfinite(transport.idle_scope.deadline)
    ]
    if not idle:
        return
    _, session_id = min(idle)
    transport = sessions.pop(session_id)
    manager._session_owners.pop(session_id, None)
    log.info("session %s ended to make room for a new one (%d sessions open)", session_id, len(sessions) + 1)
    transport.idle_scope.cancel()


def serve_http(
    server: MCPServer, desktop: Desktop, recorder: CallRecorder, settings: HttpSettings, log_level: str
) -> None:
    """Serve until SIGINT/SIGTERM (uvicorn handles both and shuts down gracefully)."""
    app = build_http_app(server, desktop, recorder, settings)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=log_level.lower(),
        access_log=log_level == "DEBUG",
        timeout_graceful_shutdown=3,
        lifespan="on",
    )
    where = f"http://{settings.host}:{settings.port}"
    # Printed whatever the log level: the person who started the server needs the URLs.
    print(f"cua-mcp: display {desktop.display}: MCP endpoint {where}/mcp, live view {where}/", file=sys.stderr)
    uvicorn.Server(config).run()
