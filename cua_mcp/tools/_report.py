"""What every input or element action answers, once the screen has settled: what was done, the
active window, the focused element's line, windows that opened or closed, the acted element's new
line, and on request a screenshot or snapshot taken in the same call."""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Literal

from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import BaseModel, Field

from cua_mcp.accessibility import text_format
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import CuaError, StaleRefError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.window_match import window_id_text
from cua_mcp.sandbox.x11.windows import WindowInfo

# An animating app (gtk3-widget-factory's spinner) never goes quiet: every action then waits this long.
DEFAULT_SETTLE_S = 1.0

Settle = Annotated[
    float | None,
    Field(
        ge=0,
        le=10,
        description="Most seconds to wait for the screen to stop changing before answering (default: the "
        "server's, usually 1); 0 answers at once.",
    ),
]
Observe = Annotated[
    Literal["none", "screenshot", "snapshot"],
    Field(description="Also return a screenshot, or a snapshot of the focused window, taken after the action."),
]


class ActionResult(BaseModel):
    """What an action did and what the screen looks like after it settled."""

    done: str = Field(description="What was performed.")
    cursor: list[int] = Field(description="Pointer position [x, y] in agent coordinates after the action.")
    settled: bool = Field(description="False when the screen was still changing when the wait ended.")
    active_window: str | None = Field(description="The active window after the action: id, title, app.")
    focused: str | None = Field(description="The focused element's snapshot line, if the app says which.")
    element: str | None = Field(default=None, description="The acted-on element's line after the action.")
    opened: list[str] = Field(description="Windows (and dialogs) that appeared.")
    closed: list[str] = Field(description="Windows (and dialogs) that went away.")


@dataclass
class Done:
    """What an action reports it did; `ref` names an element to re-read for its new line."""

    text: str
    ref: str | None = None
    # The element may vanish because the action worked (a row that opens a folder, a dialog button).
    gone_means: str = "it is gone now, as the action closed or replaced it"


class ActionReporter:
    """Runs an action, waits for the screen to settle, and describes the outcome for a model."""

    def __init__(self, desktop: Desktop, a11y: Accessibility | None, settle_s: float = DEFAULT_SETTLE_S) -> None:
        self.desktop = desktop
        self.a11y = a11y
        self.settle_s = settle_s

    async def run(
        self, act: Callable[[], Awaitable[Done]], settle: float | None = None, observe: str = "none"
    ) -> CallToolResult:
        before = await self.desktop.list_windows()
        done = await act()
        settled = await self.desktop.settle(self.settle_s if settle is None else settle)
        after = await self.desktop.list_windows()
        cursor = await self.desktop.cursor_position()
        result = ActionResult(
            done=done.text,
            cursor=list(cursor),
            settled=settled is None or settled.quiet,
            active_window=next((_window(w) for w in after if w.active), None),
            focused=await self._focused_line(),
            opened=[_window(w) for w in after if w.id not in {b.id for b in before}],
            closed=[_window(w) for w in before if w.id not in {a.id for a in after}],
        )
        if done.ref is not None:
            result.element = await self._element_line(done.ref, done.gone_means)
        content: list[TextContent | ImageContent] = [TextContent(type="text", text=_text(result, settled is None))]
        if observe == "screenshot":
            shot = await self.desktop.screenshot()
            data = base64.b64encode(shot.frame.data).decode()
            content.append(ImageContent(type="image", data=data, mime_type=shot.frame.mime_type))
        elif observe == "snapshot":
            content.append(TextContent(type="text", text=await self._snapshot_text()))
        return CallToolResult(content=content, structured_content=result.model_dump(mode="json"))

    async def _focused_line(self) -> str | None:
        if self.a11y is None:
            return None
        try:
            node = await self.a11y.focused()
        except CuaError:
            return None  # an app that does not answer must not turn a done action into an error
        return self.line(node) if node is not None else None

    async def _element_line(self, ref: str, gone_means: str) -> str:
        assert self.a11y is not None
        try:
            return self.line(await self.a11y.element(ref, contents=True))
        except StaleRefError:
            return f"{ref}: {gone_means}"
        except CuaError as exc:
            return f"{ref}: could not be read again ({exc})"

    def line(self, node: Node) -> str:
        return text_format.format_line(node, 0, self.desktop.space).strip()

    async def _snapshot_text(self) -> str:
        if self.a11y is None:
            return "(no snapshot: the accessibility tools are off)"
        try:
            snap = await self.a11y.snapshot("focused_window")
        except CuaError as exc:
            return f"(no snapshot: {exc})"
        text, _, _ = text_format.snapshot_text(snap, self.desktop.space)
        return text


def _window(window: WindowInfo) -> str:
    return f"{window.title!r} ({window.wm_class or 'unknown app'}, {window_id_text(window.id)})"


def _text(result: ActionResult, unwatched: bool) -> str:
    done = result.done[:1].upper() + result.done[1:]
    lines = [done if done.endswith((".", "…")) else done + "."]
    if result.opened:
        lines.append("Opened: " + "; ".join(result.opened) + ".")
    if result.closed:
        lines.append("Closed: " + "; ".join(result.closed) + ".")
    lines.append(f"Active window: {result.active_window or 'none'}.")
    if result.element is not None:
        lines.append(f"Element now: {result.element}")
    if result.focused is not None and result.focused != result.element:
        lines.append(f"Focused: {result.focused}")
    if not result.settled:
        lines.append("The screen was still changing when the wait ended: look again before relying on it.")
    elif unwatched:
        lines.append("(This display cannot report drawing, so the screen may still be changing.)")
    return "\n".join(lines)
