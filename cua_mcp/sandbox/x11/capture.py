"""Screen capture (the X server's own scaling, or mss with the cursor drawn in) and fast encoding.

The hot path of every agent step, so each stage is the cheapest that keeps quality:
- a whole-screen grab scaled by at most 2 is scaled by the X server itself (`server_scale`: RENDER's
  bilinear filter, read through MIT-SHM), about 2 ms where Pillow takes 10;
- otherwise scaling uses the BOX filter, whose output rows depend only on the source rows they cover; so
  the screen can be cut into horizontal bands that map onto whole output rows and each band scaled
  on its own with a byte-identical result. Between two full-screen grabs only the bands whose
  pixels changed are scaled again (an agent's click changes a small part of the screen), and a
  large change is scaled in two halves on two threads;
- PNG is written without row filters at zlib level 1; JPEG and WebP come from Pillow.
"""

from __future__ import annotations

import io
import logging
import math
import struct
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Literal

import mss
from PIL import Image

from cua_mcp.sandbox.x11.server_scale import CursorImage, ServerScaler, ServerScaleUnavailable

log = logging.getLogger(__name__)

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


@dataclass(frozen=True)
class RawGrab:
    """Pixels as grabbed (BGRX), before scaling and encoding."""

    bgra: bytes
    size: tuple[int, int]
    key: tuple  # what was grabbed: successive grabs with the same key share the scaling cache
    cursor: tuple[Image.Image, tuple[int, int]] | None = None  # a pointer still to draw in (RGBA, top-left)


class ScreenCapture:
    """Grabs one X display and turns grabs into images.

    `grab` talks to the X server: call it from the thread that owns the display connection.
    `render` only computes (scaling, encoding): call it from any thread, so a screenshot's
    encoding never holds up input; its caches are guarded by a lock of their own.
    """

    def __init__(self, display_name: str) -> None:
        self._display_name = display_name
        self._mss = mss.MSS(display=display_name, with_cursor=True)
        self._mss_bare: mss.MSS | None = None  # without the cursor; made on first use
        self._render_lock = threading.Lock()
        self._scalers: dict[tuple, _BandScaler] = {}
        self._last_frame: tuple[Image.Image, ImageFormat, int, Frame] | None = None
        self._png_encoders: dict[tuple[int, int], _PngEncoder] = {}
        self._server_scalers: dict[tuple[int, int], ServerScaler | None] = {}  # None: Pillow scales to that size

    def close(self) -> None:
        self._mss.close()
        if self._mss_bare is not None:
            self._mss_bare.close()
        for scaler in self._server_scalers.values():
            if scaler is not None:
                scaler.close()
        self._server_scalers.clear()

    @property
    def screen_size(self) -> tuple[int, int]:
        monitor = self._mss.monitors[0]
        return monitor["width"], monitor["height"]

    @property
    def monitors(self) -> list[dict[str, int]]:
        """The physical monitors (mss lists the whole virtual screen first)."""
        return [dict(m) for m in self._mss.monitors[1:]] or [dict(self._mss.monitors[0])]

    def grab(
        self, box: tuple[int, int, int, int] | None = None, cursor: bool = True, size: tuple[int, int] | None = None
    ) -> RawGrab:
        """The screen, or `box` = (left, top, width, height) in pixels, with or without the pointer.

        With `size`, the whole screen is meant to be rendered at that size: the X server scales it
        right away where it can, and the grab comes back at `size`.
        """
        if box is None and size is not None:
            scaler = self._server_scaler(size)
            if scaler is not None:
                return self._server_grab(scaler, cursor)
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
        return RawGrab(bytes(shot.bgra), shot.size, (box, cursor))

    def _server_scaler(self, size: tuple[int, int]) -> ServerScaler | None:
        if size not in self._server_scalers:
            scaler = None
            if ServerScaler.supports(self.screen_size, size):
                try:
                    scaler = ServerScaler(self._display_name, size)
                except ServerScaleUnavailable as exc:
                    log.info("the X server cannot scale screenshots (%s); Pillow scales them", exc)
            self._server_scalers[size] = scaler
        return self._server_scalers[size]

    def _server_grab(self, scaler: ServerScaler, cursor: bool) -> RawGrab:
        try:
            grabbed = scaler.grab(cursor)
        except ServerScaleUnavailable as exc:
            log.warning("server-side scaling failed (%s); Pillow scales screenshots from now on", exc)
            scaler.close()
            self._server_scalers[scaler.target] = None
            return self.grab(None, cursor, scaler.target)
        overlay = _scaled_cursor(grabbed.cursor, scaler.screen_size, scaler.target) if grabbed.cursor else None
        return RawGrab(grabbed.bgrx, grabbed.size, ("server", grabbed.size, cursor), overlay)

    def render(self, grab: RawGrab, size: tuple[int, int] | None, fmt: ImageFormat, quality: int = 80) -> Frame:
        """Scale a grab to `size` (None: keep it) and encode it, reusing what did not change."""
        with self._render_lock:
            if size is None or size == grab.size:
                image = Image.frombuffer("RGB", grab.size, grab.bgra, "raw", "BGRX", 0, 1)
                if grab.cursor is not None:
                    pointer, corner = grab.cursor
                    image.paste(pointer, corner, pointer)
            else:
                key = (grab.key, grab.size, size)
                scaler = self._scalers.get(key)
                if scaler is None:
                    scaler = self._scalers[key] = _BandScaler(grab.size, size)
                image = scaler.scale(grab.bgra)
            last = self._last_frame
            if last is not None and last[0] is image and last[1:3] == (fmt, quality):
                return last[3]
            encoder = self._png_encoder_for(image.size) if fmt == "png" else None
            frame = encode(image, fmt, quality, encoder)
            self._last_frame = (image, fmt, quality, frame)
            return frame

    def _png_encoder_for(self, size: tuple[int, int]) -> _PngEncoder:
        """The encoder kept for images of this size; only the two most recent sizes are kept."""
        encoder = self._png_encoders.pop(size, None) or _PngEncoder()
        self._png_encoders[size] = encoder  # re-inserted: dicts keep insertion order
        while len(self._png_encoders) > 2:
            del self._png_encoders[next(iter(self._png_encoders))]
        return encoder


def _scaled_cursor(
    cursor: CursorImage, screen: tuple[int, int], target: tuple[int, int]
) -> tuple[Image.Image, tuple[int, int]]:
    """The pointer image and its top-left corner, scaled like the screen it is drawn on."""
    fx, fy = target[0] / screen[0], target[1] / screen[1]
    width, height = cursor.image.size
    scaled = (max(1, round(width * fx)), max(1, round(height * fy)))
    corner = (round(cursor.origin[0] * fx), round(cursor.origin[1] * fy))
    return cursor.image.resize(scaled, Image.Resampling.BOX), corner


def encode(image: Image.Image, fmt: ImageFormat, quality: int = 80, png_encoder: _PngEncoder | None = None) -> Frame:
    """Encode an RGB image as PNG, JPEG or WebP; a kept `png_encoder` re-compresses only what changed."""
    if fmt == "png":
        data = (png_encoder or _PngEncoder()).encode(image)
    else:
        buffer = io.BytesIO()
        if fmt == "jpeg":
            image.save(buffer, "JPEG", quality=quality)
        else:
            image.save(buffer, "WEBP", quality=quality, method=0)
        data = buffer.getvalue()
    return Frame(data=data, format=fmt, width=image.width, height=image.height)


class _PngEncoder:
    """RGB PNGs of successive images of one size, compressing only the bands of rows that changed.

    No row filters, zlib level 1. Each band is a raw deflate segment of its own that ends with a
    full flush (byte aligned, no back references across it), so segments from different calls
    concatenate into one valid stream; the zlib checksum is combined from per-band checksums.
    """

    _BAND_ROWS = 48

    def __init__(self) -> None:
        self._size: tuple[int, int] | None = None
        self._rows: list[bytes] = []  # the raw pixels of each band, to compare against
        self._segments: list[bytes] = []
        self._checksums: list[tuple[int, int]] = []  # (adler32, length) of each band's scanlines

    def encode(self, image: Image.Image) -> bytes:
        width, height = image.size
        if image.size != self._size:
            self._size, self._rows, self._segments, self._checksums = image.size, [], [], []
        stride = width * 3
        pixels = image.tobytes()
        step = self._BAND_ROWS * stride
        bands = [pixels[start : start + step] for start in range(0, len(pixels), step)]
        changed = [i for i, band in enumerate(bands) if i >= len(self._rows) or band != self._rows[i]]
        if len(changed) > 1:
            middle = len(changed) // 2
            upper = _SCALERS.submit(lambda: [_deflate_band(bands[i], stride) for i in changed[:middle]])
            done = [_deflate_band(bands[i], stride) for i in changed[middle:]]
            done = upper.result() + done
        else:
            done = [_deflate_band(bands[i], stride) for i in changed]
        if len(self._rows) != len(bands):
            self._rows = [b""] * len(bands)
            self._segments = [b""] * len(bands)
            self._checksums = [(1, 0)] * len(bands)
        for index, (segment, checksum) in zip(changed, done, strict=True):
            self._rows[index], self._segments[index], self._checksums[index] = bands[index], segment, checksum
        adler = 1
        for band_adler, length in self._checksums:
            adler = _adler32_combine(adler, band_adler, length)
        final_empty_block = b"\x03\x00"
        stream = b"\x78\x01" + b"".join(self._segments) + final_empty_block + struct.pack(">I", adler)
        header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
        return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", stream) + _chunk(b"IEND", b"")


def _deflate_band(rows: bytes, stride: int) -> tuple[bytes, tuple[int, int]]:
    """A band's scanlines (filter byte 0 before each row), deflated up to a full flush."""
    scanlines = b"".join(b"\0" + rows[start : start + stride] for start in range(0, len(rows), stride))
    compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
    segment = compressor.compress(scanlines) + compressor.flush(zlib.Z_FULL_FLUSH)
    return segment, (zlib.adler32(scanlines), len(scanlines))


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """zlib's adler32_combine: the checksum of A+B from those of A and B and the length of B."""
    base = 65521
    remainder = second_length % base
    sum1 = first & 0xFFFF
    sum2 = (remainder * sum1) % base
    sum1 += (second & 0xFFFF) + base - 1
    sum2 += (first >> 16) + (second >> 16) + base - remainder
    sum1 = sum1 % base
    sum2 = sum2 % base
    return sum1 | (sum2 << 16)


def _chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


class _BandScaler:
    """Scales successive grabs of one area to one size, re-scaling only the bands that changed."""

    _BAND_ROWS = 32  # output rows per band, roughly

    def __init__(self, size: tuple[int, int], target: tuple[int, int]) -> None:
        self.size = size
        self.target = target
        width, height = size
        common = math.gcd(height, target[1])
        source_rows, output_rows = height // common, target[1] // common
        # Bands must map onto whole output rows; a ratio with no short period is scaled whole.
        repeat = max(1, self._BAND_ROWS // output_rows) if source_rows <= 256 else 0
        self._band_in = source_rows * repeat
        self._band_out = output_rows * repeat
        self._row_bytes = width * 4
        self._previous: bytes | None = None
        self._image: Image.Image | None = None

    def scale(self, bgra: bytes) -> Image.Image:
        if self._band_in == 0 or self._previous is None or self._image is None:
            image = self._scale_rows(bgra, 0, self.size[1], self.target[1])
        else:
            runs = self._changed_runs(bgra)
            if not runs:
                return self._image  # the very same object: encoders may reuse what they made of it
            image = self._image.copy()
            for first, last in runs:
                top_in, bottom_in = first * self._band_in, min(last * self._band_in, self.size[1])
                top_out = first * self._band_out
                bottom_out = min(last * self._band_out, self.target[1])
                image.paste(self._scale_rows(bgra, top_in, bottom_in, bottom_out - top_out), (0, top_out))
        self._previous, self._image = bgra, image
        return image

    def _changed_runs(self, bgra: bytes) -> list[tuple[int, int]]:
        """Runs [first, last) of band indices whose source bytes differ from the previous grab."""
        assert self._previous is not None
        step = self._band_in * self._row_bytes
        bands = math.ceil(len(bgra) / step)
        runs: list[tuple[int, int]] = []
        for index in range(bands):
            start = index * step
            if bgra[start : start + step] != self._previous[start : start + step]:
                if runs and runs[-1][1] == index:
                    runs[-1] = (runs[-1][0], index + 1)
                else:
                    runs.append((index, index + 1))
        return runs

    def _scale_rows(self, bgra: bytes, top: int, bottom: int, out_rows: int) -> Image.Image:
        """Scale source rows [top, bottom) to `out_rows` rows, in two halves on two threads when large."""
        bands = (bottom - top) // self._band_in if self._band_in else 0
        if bands >= 8:
            middle_in = top + (bands // 2) * self._band_in
            middle_out = (bands // 2) * self._band_out
            upper = _SCALERS.submit(self._scale_slice, bgra, top, middle_in, middle_out)
            lower = self._scale_slice(bgra, middle_in, bottom, out_rows - middle_out)
            image = Image.new("RGB", (self.target[0], out_rows))
            image.paste(upper.result(), (0, 0))
            image.paste(lower, (0, middle_out))
            return image
        return self._scale_slice(bgra, top, bottom, out_rows)

    def _scale_slice(self, bgra: bytes, top: int, bottom: int, out_rows: int) -> Image.Image:
        rows = memoryview(bgra)[top * self._row_bytes : bottom * self._row_bytes]
        part = Image.frombuffer("RGB", (self.size[0], bottom - top), rows, "raw", "BGRX", 0, 1)
        return part.resize((self.target[0], out_rows), Image.Resampling.BOX)
