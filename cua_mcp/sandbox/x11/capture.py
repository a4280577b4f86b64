"""Screen capture with mss (XShm, cursor drawn in through XFixes) and fast encoding.

The hot path of every agent step, so each stage is the cheapest that keeps quality:
the BGRX grab is converted and scaled in two halves on two threads (BOX filter, which
splits exactly along a row that maps to a whole output row), PNG is written without
row filters at zlib level 1, JPEG and WebP come from Pillow.
"""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import mss
import mss.tools
from PIL import Image

ImageFormat = Literal["png", "jpeg", "webp"]
MIME_TYPES: dict[str, str] = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}

_SCALERS = ThreadPoolExecutor(max_workers=2, thread_name_prefix="cua-scale")


@dataclass(frozen=True)
class Frame:
    """An encoded image of the screen or part of it."""

    data: bytes
    format: ImageFormat
    width: int
    height: int

    @property
    def mime_type(self) -> str:
        return MIME_TYPES[self.format]


class ScreenCapture:
    """Grabs one X display. Use from one thread (mss keeps per-connection state)."""

    def __init__(self, display_name: str) -> None:
        self._display_name = display_name
        self._mss = mss.MSS(display=display_name, with_cursor=True)
        self._mss_bare: mss.MSS | None = None  # without the cursor; made on first use

    def close(self) -> None:
        self._mss.close()
        if self._mss_bare is not None:
            self._mss_bare.close()

    @property
    def screen_size(self) -> tuple[int, int]:
        monitor = self._mss.monitors[0]
        return monitor["width"], monitor["height"]

    @property
    def monitors(self) -> list[dict[str, int]]:
        """The physical monitors (mss lists the whole virtual screen first)."""
        return [dict(m) for m in self._mss.monitors[1:]] or [dict(self._mss.monitors[0])]

    def grab(
        self,
        box: tuple[int, int, int, int] | None = None,
        size: tuple[int, int] | None = None,
        cursor: bool = True,
    ) -> Image.Image:
        """The screen (or `box` = left, top, width, height in pixels), scaled to `size` if given."""
        grabber = self._mss
        if not cursor:
            if self._mss_bare is None:
                self._mss_bare = mss.MSS(display=self._display_name, with_cursor=False)
            grabber = self._mss_bare
        if box is None:
            width, height = self.screen_size
            box = (0, 0, width, height)
        left, top, width, height = box
        shot = grabber.grab({"left": left, "top": top, "width": width, "height": height})
        return _to_image(shot.bgra, shot.size, size)


def encode(image: Image.Image, fmt: ImageFormat, quality: int = 80) -> Frame:
    """Encode an RGB image as PNG, JPEG or WebP."""
    if fmt == "png":
        data = mss.tools.to_png(image.tobytes(), image.size, level=1)
    else:
        buffer = io.BytesIO()
        if fmt == "jpeg":
            image.save(buffer, "JPEG", quality=quality)
        else:
            image.save(buffer, "WEBP", quality=quality, method=0)
        data = buffer.getvalue()
    return Frame(data=data, format=fmt, width=image.width, height=image.height)


def _to_image(bgra: bytes, size: tuple[int, int], target: tuple[int, int] | None) -> Image.Image:
    width, height = size
    if target is None or target == size:
        return Image.frombuffer("RGB", size, bgra, "raw", "BGRX", 0, 1)
    target_w, target_h = target
    split_out = target_h // 2
    # A row of the source that maps onto a whole output row: BOX scaling of the halves is then exact.
    split_in = split_out * height // target_h
    if split_out == 0 or split_in * target_h != split_out * height:
        image = Image.frombuffer("RGB", size, bgra, "raw", "BGRX", 0, 1)
        return image.resize(target, Image.Resampling.BOX)
    view = memoryview(bgra)
    row_bytes = width * 4

    def scale(top: int, bottom: int, out_h: int) -> Image.Image:
        part = Image.frombuffer(
            "RGB", (width, bottom - top), view[top * row_bytes : bottom * row_bytes], "raw", "BGRX", 0, 1
        )
        return part.resize((target_w, out_h), Image.Resampling.BOX)

    upper = _SCALERS.submit(scale, 0, split_in, split_out)
    lower = scale(split_in, height, target_h - split_out)
    result = Image.new("RGB", target)
    result.paste(upper.result(), (0, 0))
    result.paste(lower, (0, split_out))
    return result
