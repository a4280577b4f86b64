"""The agent coordinate space: the screen as the model sees it in screenshots.

By default the screen is scaled down so that its long side is at most 1280 px (aspect kept,
never upscaled). Every x/y a tool receives is in this space; this module maps it to screen pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

from cua_mcp.errors import InvalidArgumentError, OutsideScreenError

DEFAULT_LONG_SIDE = 1280


@dataclass(frozen=True)
class AgentSpace:
    """The mapping between agent coordinates and native screen pixels."""

    screen_width: int
    screen_height: int
    width: int
    height: int

    @classmethod
    def for_screen(cls, screen_width: int, screen_height: int, long_side: int | None = DEFAULT_LONG_SIDE):
        """The space for a screen; `long_side=None` keeps native pixels."""
        longest = max(screen_width, screen_height)
        if long_side is None or longest <= long_side:
            return cls(screen_width, screen_height, screen_width, screen_height)
        factor = long_side / longest
        return cls(
            screen_width,
            screen_height,
            max(1, round(screen_width * factor)),
            max(1, round(screen_height * factor)),
        )

    @property
    def scale(self) -> float:
        """Agent units per screen pixel (1.0 when native, below 1 when scaled down)."""
        return self.width / self.screen_width

    @property
    def is_native(self) -> bool:
        return self.width == self.screen_width and self.height == self.screen_height

    def check(self, x: float, y: float) -> None:
        """Raise `OutsideScreenError` unless (x, y) lies inside the space."""
        if not 0 <= x < self.width:
            raise OutsideScreenError("x", x, self.width)
        if not 0 <= y < self.height:
            raise OutsideScreenError("y", y, self.height)

    def to_screen(self, x: float, y: float) -> tuple[int, int]:
        """Screen pixel for an agent point: the centre of the pixels the agent point covers."""
        self.check(x, y)
        sx = int((x + 0.5) * self.screen_width / self.width)
        sy = int((y + 0.5) * self.screen_height / self.height)
        return min(sx, self.screen_width - 1), min(sy, self.screen_height - 1)

    def from_screen(self, sx: float, sy: float) -> tuple[int, int]:
        """Agent point for a screen pixel, clamped into the space."""
        x = int(sx * self.width / self.screen_width)
        y = int(sy * self.height / self.screen_height)
        return min(max(x, 0), self.width - 1), min(max(y, 0), self.height - 1)

    def region_to_screen(self, x: int, y: int, w: int, h: int) -> tuple[int, int, int, int]:
        """Screen rectangle (left, top, width, height) covering an agent rectangle."""
        self.check(x, y)
        if w < 1 or h < 1:
            raise InvalidArgumentError(f"region size {w}x{h} is empty: give a width and height of at least 1.")
        right = min(x + w, self.width)
        bottom = min(y + h, self.height)
        left_px = int(x * self.screen_width / self.width)
        top_px = int(y * self.screen_height / self.height)
        right_px = min(self.screen_width, -(-right * self.screen_width // self.width))
        bottom_px = min(self.screen_height, -(-bottom * self.screen_height // self.height))
        return left_px, top_px, right_px - left_px, bottom_px - top_px
