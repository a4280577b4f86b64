"""Serving MCP over streamable HTTP: FastAPI + uvicorn host the SDK's app, the live view and `/healthz`.

    POST /mcp        MCP, both protocol eras: 2025-11-25 sessions and 2026-07-28 stateless requests
    GET  /           the live view (see live_view.py)
    GET  /healthz    liveness, open to all

Security model: loopback by default; any other bind needs a token. Every route but /healthz
passes the `Guard` (Host, Origin, bearer token). Replies to legacy clients are plain JSON instead
of an SSE stream, because the SDK client refuses SSE events over 1 MiB and a native-scale PNG of a
busy screen is more than that in base64.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import uvicorn
from fastapi import FastAPI
from mcp.server import MCPServer
from mcp.server.transport_security import TransportSecuritySettings

from cua_mcp import __version__
from cua_mcp.errors import CuaError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.guard import AccessRules, Guard, is_loopback
from cua_mcp.server.live_view import add_live_view
from cua_mcp.server.recording import CallRecorder

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765


class InsecureBindError(CuaError):
    """A bind that would expose the desktop to the network without a token."""


@dataclass(frozen=True)
class HttpSettings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    token: str | None = field(default=None, repr=False)
    extra_hosts: tuple[str, ...] = ()

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
    mcp_app = server.streamable_http_app(json_response=True, transport_security=security, host=settings.host)

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
    app.mount("/", mcp_app)  # last: routes above win
    return Guard(app, rules)


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
