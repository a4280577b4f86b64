"""The live view: a page where a person watches the desktop and the agent's latest tool calls.

    GET /            the page (plain HTML + JS, no build step)
    GET /frame.jpg   the current screen as JPEG; the page polls it about four times a second
    GET /calls.json  recent tool calls, `?after=SEQ` for only the newer ones

Frames come from `Desktop.screenshot`, so they queue behind tool calls on the desktop's one X
worker and never interleave with an agent's input. Viewers share one cached frame.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import asdict
from importlib import resources

from fastapi import FastAPI, Query
from fastapi.responses import HTMLResponse, JSONResponse, Response

from cua_mcp.errors import CuaError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.recording import CallRecorder

# Four viewers polling at 4 fps still cost one capture each 0.2 s.
_FRAME_MAX_AGE_S = 0.2
_NO_STORE = {"cache-control": "no-store"}


class _FrameCache:
    """The latest JPEG of the screen, refreshed at most every `_FRAME_MAX_AGE_S`."""

    def __init__(self, desktop: Desktop) -> None:
        self._desktop = desktop
        self._lock = asyncio.Lock()
        self._frame: bytes | None = None
        self._taken = 0.0

    async def get(self) -> bytes:
        async with self._lock:
            if self._frame is None or time.monotonic() - self._taken > _FRAME_MAX_AGE_S:
                shot = await self._desktop.screenshot("jpeg", 70, cursor=True)
                self._frame, self._taken = shot.frame.data, time.monotonic()
            return self._frame


def add_live_view(app: FastAPI, desktop: Desktop, recorder: CallRecorder) -> None:
    page = resources.files("cua_mcp.server").joinpath("live_view.html").read_text(encoding="utf-8")
    frames = _FrameCache(desktop)

    @app.get("/", include_in_schema=False)
    async def live_view() -> HTMLResponse:
        return HTMLResponse(page, headers=_NO_STORE)

    @app.get("/frame.jpg", include_in_schema=False)
    async def frame() -> Response:
        try:
            data = await frames.get()
        except CuaError as exc:
            # The page shows the reason and keeps polling: a restarting sandbox comes back.
            return JSONResponse({"error": str(exc)}, status_code=503, headers=_NO_STORE)
        return Response(data, media_type="image/jpeg", headers=_NO_STORE)

    @app.get("/calls.json", include_in_schema=False)
    async def calls(after: int = Query(0, ge=0), limit: int = Query(50, ge=1, le=500)) -> JSONResponse:
        recent = recorder.recent(after, limit)
        return JSONResponse(
            {"last": recorder.last_seq, "calls": [asdict(r) for r in recent]},
            headers=_NO_STORE,
        )
