"""Finding things in screenshots the way a person would: by their colour."""

from __future__ import annotations

import io

from PIL import Image, ImageChops


def find_colour(image_bytes: bytes, rgb: tuple[int, int, int], tolerance: int = 40) -> tuple[int, int, int, int]:
    """Bounding box (x, y, width, height) of the pixels close to `rgb` in an encoded image."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGB")
    bands = [
        band.point(lambda v, c=c: 255 if abs(v - c) <= tolerance else 0)
        for band, c in zip(image.split(), rgb, strict=True)
    ]
    hit = ImageChops.multiply(ImageChops.multiply(bands[0], bands[1]), bands[2])
    box = hit.getbbox()
    if box is None:
        raise AssertionError(f"no pixels of colour {rgb} in the screenshot")
    left, top, right, bottom = box
    return left, top, right - left, bottom - top


def centre(box: tuple[int, int, int, int]) -> tuple[int, int]:
    x, y, w, h = box
    return x + w // 2, y + h // 2
