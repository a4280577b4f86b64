"""Observe the screen: `screenshot`, `screen_info`."""

import asyncio
import base64
from typing import Annotated, Literal

from mcp.types import CallToolResult, ImageContent, TextContent
from pydantic import BaseModel, Field

from cua_mcp.accessibility import marks as set_of_marks
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import InvalidArgumentError
from cua_mcp.sandbox.desktop import Desktop, Screenshot
from cua_mcp.sandbox.x11.capture import encode
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply

# The image block carries its own geometry too, for clients that look at content blocks only.
IMAGE_META_KEY = "cua-mcp/screenshot"


class CoordinateSpace(BaseModel):
    """The space every x/y argument is in: the screen scaled so its long side fits the model."""

    width: int = Field(description="Width of the agent coordinate space.")
    height: int = Field(description="Height of the agent coordinate space.")
    scale: float = Field(description="Agent units per screen pixel (1.0 = native pixels).")
    screen_width: int = Field(description="The screen's width in pixels.")
    screen_height: int = Field(description="The screen's height in pixels.")


class MarkInfo(BaseModel):
    number: int
    ref: str = Field(description="Use it as ref= in click, type_text, set_value, element_action.")
    role: str
    name: str
    box: list[int] = Field(description="[x, y, width, height] in agent coordinates.")


class ScreenshotInfo(BaseModel):
    width: int = Field(description="Image width in pixels.")
    height: int = Field(description="Image height in pixels.")
    format: str
    space: CoordinateSpace
    region: list[int] = Field(description="[x, y, width, height] the image shows, in agent coordinates.")
    pixels_per_unit: float = Field(
        description="Image pixels per agent unit; agent x = region x + image x / pixels_per_unit."
    )
    cursor: list[int] = Field(description="Pointer position [x, y] in agent coordinates.")
    marks: list[MarkInfo] | None = Field(default=None, description="With marks=true: what each number marks.")


class Monitor(BaseModel):
    left: int
    top: int
    width: int
    height: int


class ScreenInfoResult(BaseModel):
    display: str
    space: CoordinateSpace
    monitors: list[Monitor]
    cursor: list[int] = Field(description="Pointer position [x, y] in agent coordinates.")
    sandboxed: bool = Field(description="True when the server started this desktop itself.")


def _space(desktop: Desktop) -> CoordinateSpace:
    s = desktop.space
    return CoordinateSpace(
        width=s.width,
        height=s.height,
        scale=round(s.scale, 6),
        screen_width=s.screen_width,
        screen_height=s.screen_height,
    )


def _describe(shot: Screenshot, info: ScreenshotInfo) -> str:
    space = shot.space
    where = (
        "the whole screen"
        if info.region == [0, 0, space.width, space.height]
        else f"region x={info.region[0]} y={info.region[1]} w={info.region[2]} h={info.region[3]} at native detail"
    )
    text = (
        f"{info.width}x{info.height} {info.format.upper()} of {where}. Coordinates for click, scroll and drag are "
        f"in the {space.width}x{space.height} agent space"
    )
    if info.pixels_per_unit != 1:
        text += f" (agent x = {info.region[0]} + image x / {info.pixels_per_unit:g})"
    return text + f". Cursor at ({info.cursor[0]}, {info.cursor[1]})."


def register(tools: ToolRegistrar, desktop: Desktop, a11y: Accessibility | None = None) -> None:
    @tools.tool(group="observe", title="Take a screenshot", read_only=True, idempotent=True)
    async def screenshot(
        format: Annotated[
            Literal["png", "jpeg", "webp"],
            Field(description="png is exact; jpeg is fastest; webp is smallest."),
        ] = "png",
        quality: Annotated[int, Field(ge=1, le=100, description="Quality for jpeg and webp.")] = 80,
        region: Annotated[
            list[int] | None,
            Field(
                min_length=4,
                max_length=4,
                description="[x, y, width, height] in agent coordinates: return only this part, at the "
                "screen's native detail (to zoom in on small text).",
            ),
        ] = None,
        cursor: Annotated[bool, Field(description="Draw the mouse pointer into the image.")] = True,
        marks: Annotated[
            bool,
            Field(
                description="Draw numbered boxes over the focused window's interactive elements and list their refs."
            ),
        ] = False,
    ) -> Annotated[CallToolResult, ScreenshotInfo]:
        """See the screen. Returns an image of the whole desktop scaled into the agent coordinate space
        (the space every x/y argument uses), or of a region at native detail to read small text.
        Take one before acting on pixels and after actions whose effect you need to check."""
        if region is not None and (region[2] < 1 or region[3] < 1):
            raise InvalidArgumentError("region width and height must be at least 1: give [x, y, width, height].")
        shot = await desktop.screenshot(format, quality, tuple(region) if region else None, cursor)
        frame = shot.frame
        info = ScreenshotInfo(
            width=frame.width,
            height=frame.height,
            format=frame.format,
            space=_space(desktop),
            region=list(shot.region),
            pixels_per_unit=round(frame.width / shot.region[2], 4),
            cursor=list(shot.cursor),
        )
        text = _describe(shot, info)
        if marks:
            if a11y is None:
                raise InvalidArgumentError("marks need the accessibility tools; take the screenshot without marks.")
            snap = await a11y.snapshot("focused_window")
            chosen = set_of_marks.choose(snap.roots, desktop.space)
            # Decoding, drawing and encoding take milliseconds: off the event loop, which serves other clients.
            image = await asyncio.to_thread(set_of_marks.draw, frame.data, chosen, shot.region, info.pixels_per_unit)
            frame = await asyncio.to_thread(encode, image, frame.format, quality)
            info.marks = [
                MarkInfo(number=m.number, ref=m.ref, role=m.role, name=m.name, box=list(m.box)) for m in chosen
            ]
            text += "\nMarks (number: ref role name):\n" + set_of_marks.legend(chosen)
        return CallToolResult(
            content=[
                ImageContent(
                    type="image",
                    data=base64.b64encode(frame.data).decode(),
                    mime_type=frame.mime_type,
                    meta={IMAGE_META_KEY: info.model_dump(mode="json")},
                ),
                TextContent(type="text", text=text),
            ],
            structured_content=info.model_dump(mode="json"),
        )

    @tools.tool(group="observe", title="Screen and coordinate space", read_only=True, idempotent=True)
    async def screen_info() -> Annotated[CallToolResult, ScreenInfoResult]:
        """The display, its monitors, the agent coordinate space (the size screenshots have and x/y
        arguments use, with its scale to screen pixels) and where the pointer is."""
        info = await desktop.screen_info()
        result = ScreenInfoResult(
            display=info.display,
            space=_space(desktop),
            monitors=[Monitor(**m) for m in info.monitors],
            cursor=list(info.cursor),
            sandboxed=info.sandboxed,
        )
        space = result.space
        scale = "native pixels" if space.scale == 1 else f"scale {space.scale:g} of the screen's pixels"
        monitors = ", ".join(f"{m.width}x{m.height} at ({m.left},{m.top})" for m in result.monitors)
        text = (
            f"Display {result.display} ({'sandbox' if result.sandboxed else 'attached'}), screen "
            f"{space.screen_width}x{space.screen_height}, monitors: {monitors or 'none reported'}. "
            f"x/y arguments and screenshots use a {space.width}x{space.height} space ({scale}). "
            f"Pointer at ({result.cursor[0]}, {result.cursor[1]})."
        )
        return reply(result, text)
