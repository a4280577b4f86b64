"""Top-level windows: `list_windows`, `activate_window`, `window_op`.

Geometry goes both ways in the agent coordinate space (the screenshot's), like every x/y.
Changes are requests to the window manager; each tool lists the windows again until the change
shows (or a short deadline passes) and reports what a user would now see.
"""

import asyncio
from collections.abc import Callable
from typing import Annotated, Literal

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from cua_mcp.errors import InvalidArgumentError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.window_match import describe, select_window, window_id_text
from cua_mcp.sandbox.x11.windows import WindowInfo
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply

# How long to wait for the window manager (and the app, for close) to carry out a request.
_SETTLE_S = 3.0
_CLOSE_SETTLE_S = 5.0
_POLL_S = 0.05
# Window managers may shift a frame by a border width; closer than this counts as done.
_TOLERANCE_PX = 3

WindowSelector = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="A window id from list_windows (e.g. '0x01a00003'), or part of its title or app name "
        "(case-insensitive). Several matches are an error that lists them.",
    ),
]


class Window(BaseModel):
    """A top-level window as the window manager shows it; geometry in agent coordinates."""

    id: str = Field(description="Window id; pass it as `window` to the window tools.")
    title: str
    app: str = Field(description="The app's window class (WM_CLASS), e.g. 'Mousepad'.")
    pid: int | None = Field(description="Process id of the app, when it tells.")
    x: int = Field(description="Left edge of the window's content, agent coordinates.")
    y: int = Field(description="Top edge of the window's content, agent coordinates.")
    width: int
    height: int
    active: bool = Field(description="Has keyboard focus.")
    minimized: bool
    maximized: bool
    fullscreen: bool


class WindowList(BaseModel):
    windows: list[Window] = Field(description="Topmost first.")
    active: str | None = Field(description="Id of the focused window, if any.")


class WindowOpResult(BaseModel):
    done: str = Field(description="What happened, in words.")
    applied: bool = Field(description="False when the window did not (yet) change as asked; `done` says why.")
    window: Window | None = Field(description="The window now; null once it is closed.")


def to_model(window: WindowInfo, desktop: Desktop) -> Window:
    scale = desktop.space.scale
    return Window(
        id=window_id_text(window.id),
        title=window.title,
        app=window.wm_class,
        pid=window.pid,
        x=round(window.x * scale),
        y=round(window.y * scale),
        width=max(1, round(window.width * scale)),
        height=max(1, round(window.height * scale)),
        active=window.active,
        minimized=window.minimized,
        maximized=window.maximized,
        fullscreen=window.fullscreen,
    )


def window_line(window: Window) -> str:
    """One window as the model reads it: `0x01a00003 "Untitled 1 - Mousepad" (Mousepad, pid 42) 640x480 at (10,20) active`."""
    flags = [f for f in ("active", "minimized", "maximized", "fullscreen") if getattr(window, f)]
    pid = f", pid {window.pid}" if window.pid else ""
    return " ".join(
        [f'{window.id} "{window.title}" ({window.app or "no class"}{pid})',
         f"{window.width}x{window.height} at ({window.x},{window.y})", *flags]
    )  # fmt: skip


async def find_window(desktop: Desktop, selector: str) -> WindowInfo:
    return select_window(await desktop.list_windows(), selector)


async def _settle(
    desktop: Desktop, window_id: int, done: Callable[[WindowInfo | None], bool], timeout: float = _SETTLE_S
) -> tuple[WindowInfo | None, bool]:
    """List until `done(window)` holds (None = the window is gone) or the deadline passes."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        window = next((w for w in await desktop.list_windows() if w.id == window_id), None)
        if done(window):
            return window, True
        if loop.time() >= deadline:
            return window, False
        await asyncio.sleep(_POLL_S)


def _near(a: int, b: int) -> bool:
    return abs(a - b) <= _TOLERANCE_PX


def register(tools: ToolRegistrar, desktop: Desktop) -> None:
    space = desktop.space
    X = Annotated[int | None, Field(ge=0, le=space.width - 1, description="move: new left edge (agent x).")]
    Y = Annotated[int | None, Field(ge=0, le=space.height - 1, description="move: new top edge (agent y).")]
    W = Annotated[int | None, Field(ge=1, le=space.width, description="resize: new width (agent units).")]
    H = Annotated[int | None, Field(ge=1, le=space.height, description="resize: new height (agent units).")]

    def to_px(value: int | None) -> int | None:
        return None if value is None else max(0, round(value / space.scale))

    def result(done: str, applied: bool, window: WindowInfo | None) -> CallToolResult:
        model = to_model(window, desktop) if window else None
        text = done[0].upper() + done[1:] + (f".\n{window_line(model)}" if model else ".")
        return reply(WindowOpResult(done=done, applied=applied, window=model), text)

    @tools.tool(group="observe", title="List windows", read_only=True, idempotent=True, untrusted_text=True)
    async def list_windows() -> Annotated[CallToolResult, WindowList]:
        """The open top-level windows, topmost first: id, title, app, pid, geometry in agent coordinates,
        and which is active (focused), minimized, maximized or full screen. Use an id or a title with
        activate_window and window_op."""
        windows = [to_model(w, desktop) for w in reversed(await desktop.list_windows())]
        result = WindowList(windows=windows, active=next((w.id for w in windows if w.active), None))
        head = f"{len(windows)} window{'' if len(windows) == 1 else 's'}, topmost first:" if windows else "No windows."
        return reply(result, "\n".join([head, *(window_line(w) for w in windows)]))

    @tools.tool(group="windows", title="Activate a window", read_only=False, idempotent=True)
    async def activate_window(window: WindowSelector) -> Annotated[CallToolResult, WindowOpResult]:
        """Bring a window to the front and give it keyboard focus (un-minimizing it), like clicking it in
        a taskbar. Do this before typing into an app that is not focused."""
        target = await find_window(desktop, window)
        await desktop.window_request(target.id, "activate")
        now, applied = await _settle(desktop, target.id, lambda w: w is not None and w.active)
        if now is None:
            return result(f"{describe(target)} closed meanwhile", False, None)
        done = f"activated {describe(now)}" if applied else f"asked to activate {describe(now)}; it is not focused yet"
        return result(done, applied, now)

    @tools.tool(group="windows", title="Change a window", read_only=False, destructive=True)
    async def window_op(
        window: WindowSelector,
        op: Annotated[
            Literal["close", "minimize", "maximize", "restore", "move", "resize", "fullscreen"],
            Field(
                description="close (the app may ask to save), minimize, maximize, restore (normal size, "
                "visible), move (needs x and/or y), resize (needs width and/or height), fullscreen."
            ),
        ],
        x: X = None,
        y: Y = None,
        width: W = None,
        height: H = None,
    ) -> Annotated[CallToolResult, WindowOpResult]:
        """Close, minimize, maximize, restore, move, resize a window or make it full screen, as the
        window manager's own controls do. Geometry is in agent coordinates (the screenshot's) and
        means the window's content area. Returns the window as it is afterwards."""
        if op == "move" and x is None and y is None:
            raise InvalidArgumentError("op=move needs x and/or y: the new top-left corner in agent coordinates.")
        if op == "resize" and width is None and height is None:
            raise InvalidArgumentError("op=resize needs width and/or height in agent units.")
        if op not in ("move", "resize") and any(v is not None for v in (x, y, width, height)):
            raise InvalidArgumentError(f"op={op} takes no x/y/width/height: use op=move or op=resize for geometry.")
        target = await find_window(desktop, window)
        name = describe(target)

        if op == "close":
            await desktop.window_request(target.id, "close")
            now, applied = await _settle(desktop, target.id, lambda w: w is None, _CLOSE_SETTLE_S)
            if applied:
                return result(f"closed {name}", True, None)
            return result(
                f"asked {name} to close; it is still open (it may be asking whether to save: take a screenshot)",
                False,
                now,
            )

        if op in ("move", "resize"):
            want = (to_px(x), to_px(y), to_px(width), to_px(height))
            # Send all four: a resize alone lets some managers re-place the window.
            current = (target.x, target.y, target.width, target.height)
            request = tuple(c if v is None else v for v, c in zip(want, current, strict=True))
            await desktop.window_request(target.id, "move_resize", request)

            def reached(w: WindowInfo | None) -> bool:
                return w is not None and all(
                    v is None or _near(v, have) for v, have in zip(want, (w.x, w.y, w.width, w.height), strict=True)
                )

            now, applied = await _settle(desktop, target.id, reached)
            if now is None:
                return result(f"{name} closed meanwhile", False, None)
            shown = to_model(now, desktop)
            where = f"at ({shown.x}, {shown.y}), {shown.width}x{shown.height}"
            if applied:
                return result(f"{op}d {name}: now {where}", True, now)
            return result(
                f"asked to {op} {name}, but it is {where}: the window manager keeps windows on screen and apps "
                "have minimum sizes",
                False,
                now,
            )

        checks: dict[str, Callable[[WindowInfo], bool]] = {
            "minimize": lambda w: w.minimized,
            "maximize": lambda w: w.maximized and not w.minimized,
            "fullscreen": lambda w: w.fullscreen,
            "restore": lambda w: not (w.maximized or w.fullscreen or w.minimized),
        }
        await desktop.window_request(target.id, op)  # type: ignore[arg-type]
        now, applied = await _settle(desktop, target.id, lambda w: w is not None and checks[op](w))
        if now is None:
            return result(f"{name} closed meanwhile", False, None)
        past = {
            "minimize": "minimized",
            "maximize": "maximized",
            "fullscreen": "made full screen",
            "restore": "restored",
        }
        if applied:
            return result(f"{past[op]} {describe(now)}", True, now)
        return result(f"asked to {op} {describe(now)}; the window manager has not done it yet", False, now)
