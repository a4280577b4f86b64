"""Set-of-marks: numbered boxes drawn over the interactive elements of a screenshot, with a legend of refs."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, ImageDraw

from cua_mcp.accessibility import text_format
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.roles import web_role
from cua_mcp.sandbox.space import AgentSpace

_COLOURS = ("#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#008080", "#9a6324", "#800000")
MAX_MARKS = 150


@dataclass(frozen=True)
class Mark:
    number: int
    ref: str
    role: str
    name: str
    box: tuple[int, int, int, int]  # agent coordinates
    word: str  # the role in the words the snapshot prints (button, checkbox, ...)


def choose(roots: list[Node], space: AgentSpace) -> list[Mark]:
    """The controls worth a mark: interactive, not windows, with a box on screen; at most MAX_MARKS."""
    marks: list[Mark] = []
    for line in text_format.select(roots, "interactive"):
        node = line.node
        box = text_format.box_in_space(node, space)
        if node.role in text_format.WINDOW_ROLES or box is None or node.role not in text_format.CONTROL_ROLES:
            continue
        marks.append(Mark(len(marks) + 1, node.ref, node.role, node.name.strip(), box, web_role(node)))
        if len(marks) == MAX_MARKS:
            break
    return marks


def draw(
    image_bytes: bytes, marks: list[Mark], region: tuple[int, int, int, int], pixels_per_unit: float
) -> Image.Image:
    """Draw the marks over an encoded screenshot of `region` (agent coordinates)."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGB")
    pen = ImageDraw.Draw(image)
    rx, ry = region[:2]
    for mark in marks:
        x, y, w, h = mark.box
        left, top = (x - rx) * pixels_per_unit, (y - ry) * pixels_per_unit
        right, bottom = left + w * pixels_per_unit, top + h * pixels_per_unit
        if right < 0 or bottom < 0 or left > image.width or top > image.height:
            continue
        colour = _COLOURS[mark.number % len(_COLOURS)]
        pen.rectangle((left, top, right, bottom), outline=colour, width=2)
        label = str(mark.number)
        text_w = 7 * len(label) + 4
        pen.rectangle((left, top, left + text_w, top + 12), fill=colour)
        pen.text((left + 2, top), label, fill="white")
    return image


def legend(marks: list[Mark]) -> str:
    return "\n".join(f"{m.number}: {m.ref} {m.word}" + (f' "{m.name}"' if m.name else "") for m in marks)
