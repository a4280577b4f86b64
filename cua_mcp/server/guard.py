"""The HTTP front door: Host and Origin checks, then the bearer token, for every route.

A pure ASGI middleware (not Starlette's BaseHTTPMiddleware, which buffers and breaks streams).
The SDK checks Host and Origin again on `/mcp`; doing it here as well covers the live view,
whose frames are as sensitive as the screenshot tool.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs, urlencode

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

COOKIE = "cua_mcp_token"
# Paths anyone may reach: a health probe learns only that the server is up.
_OPEN_PATHS = frozenset({"/healthz"})
# The MCP endpoint takes the token as a header only: a cookie there would let any page the
# user's browser opens send authenticated tool calls (the Origin check is the other guard).
_HEADER_ONLY_PREFIX = "/mcp"


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def host_port(host: str, port: int) -> str:
    """`host:port` as it appears in a Host header (IPv6 in brackets)."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"{host}:{port}"


@dataclass(frozen=True)
class AccessRules:
    """What the guard lets in."""

    allowed_hosts: frozenset[str]
    allowed_origins: frozenset[str]
    token: str | None = field(default=None, repr=False)

    @classmethod
    def for_bind(cls, host: str, port: int, token: str | None, extra_hosts: Iterable[str] = ()) -> AccessRules:
        """The loopback names and the bound address, at the bound port, plus `extra_hosts`
        (names a reverse proxy or remote client uses; `name` or `name:port`)."""
        names = {"127.0.0.1", "localhost", "[::1]"}
        if host not in ("0.0.0.0", "::"):
            names.add(host_port(host, port).rsplit(":", 1)[0])
        hosts = {host_port(name, port) for name in names}
        for extra in extra_hosts:
            hosts.add(extra if re.search(r":\d+$", extra) else f"{extra}:{port}")
        origins = {f"http://{h}" for h in hosts} | {f"https://{h}" for h in hosts}
        return cls(frozenset(hosts), frozenset(origins), token or None)

    def token_matches(self, candidate: str | None) -> bool:
        if self.token is None:
            return True
        if not candidate:
            return False
        # Constant time: the comparison must not reveal how many leading characters were right.
        return hmac.compare_digest(candidate.encode(), self.token.encode())

    @property
    def cookie_value(self) -> str:
        """What the live view's cookie holds: a digest, so the token itself never sits in a browser."""
        return hashlib.sha256(b"cua-mcp live view\0" + (self.token or "").encode()).hexdigest()

    def cookie_matches(self, candidate: str | None) -> bool:
        return bool(candidate) and hmac.compare_digest(candidate.encode(), self.cookie_value.encode())


class Guard:
    """ASGI middleware enforcing `AccessRules` in front of `app`."""

    def __init__(self, app: ASGIApp, rules: AccessRules) -> None:
        self.app = app
        self.rules = rules

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            # No route speaks WebSocket; refusing here keeps the guard's rules from being bypassed.
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http" or scope["path"] in _OPEN_PATHS:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if headers.get("host") not in self.rules.allowed_hosts:
            await _reply(
                send, 421, "Invalid Host header: this server answers only to " + _list(self.rules.allowed_hosts)
            )
            return
        origin = headers.get("origin")
        if origin is not None and origin not in self.rules.allowed_origins:
            await _reply(send, 403, f"Invalid Origin header {origin!r}: cross-site requests are refused")
            return
        if self.rules.token is None:
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        if scope["path"] == "/" and "token" in query:
            await self._login(scope, send, query)
            return
        if self._authorized(scope["path"], headers):
            await self.app(scope, receive, send)
            return
        await _reply(
            send,
            401,
            "Missing or wrong token: send 'Authorization: Bearer <token>' (the live view: open /?token=<token>)",
            [(b"www-authenticate", b'Bearer realm="cua-mcp"')],
        )

    def _authorized(self, path: str, headers: dict[str, str]) -> bool:
        scheme, _, value = headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            return self.rules.token_matches(value.strip())
        if path.startswith(_HEADER_ONLY_PREFIX):
            return False
        cookie: SimpleCookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except Exception:
            return False
        morsel = cookie.get(COOKIE)
        return self.rules.cookie_matches(morsel.value if morsel else None)

    async def _login(self, scope: Scope, send: Send, query: dict[str, list[str]]) -> None:
        """`/?token=T`: a person opening a link cannot send headers, so trade the token for a
        cookie and redirect to a URL without it (out of the address bar and the history)."""
        if not self.rules.token_matches(query["token"][0]):
            await _reply(send, 401, "Wrong token in the link.")
            return
        rest = {k: v for k, v in query.items() if k != "token"}
        location = "/" + (f"?{urlencode(rest, doseq=True)}" if rest else "")
        cookie = f"{COOKIE}={self.rules.cookie_value}; Path=/; HttpOnly; SameSite=Strict"
        await send(
            {
                "type": "http.response.start",
                "status": 303,
                "headers": [
                    (b"location", location.encode()),
                    (b"set-cookie", cookie.encode()),
                    (b"content-length", b"0"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def _list(values: Iterable[str]) -> str:
    return ", ".join(sorted(values))


async def _reply(send: Send, status: int, message: str, extra: list[tuple[bytes, bytes]] | None = None) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *(extra or [])]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
