"""Screenshots: sizes, formats, regions and the coordinate space agree with screen_info.

This module talks to the server in the 2026-07-28 protocol era (the stateless `Client`);
the others use the 2025-11-25 handshake.
"""

from __future__ import annotations

import io
import subprocess

import pytest
from PIL import Image, ImageChops

from tests.support.mcp_client import attached_server


@pytest.fixture(scope="module")
def client(session):
    with attached_server(session, modern=True) as mcp:
        yield mcp


def decode(data: bytes) -> Image.Image:
    return Image.open(io.BytesIO(data))


def test_the_modern_protocol_era_is_spoken(client):
    assert client.protocol_version == "2026-07-28"


def test_screenshot_size_and_space_match_screen_info(client):
    info = client.call("screen_info")
    assert info["space"] == {
        "width": 1280,
        "height": 720,
        "scale": 0.666667,
        "screen_width": 1920,
        "screen_height": 1080,
    }
    assert info["monitors"] == [{"left": 0, "top": 0, "width": 1920, "height": 1080}]
    data, mime, meta = client.image()
    image = decode(data)
    assert (mime, image.format, image.size) == ("image/png", "PNG", (1280, 720))
    assert (meta["width"], meta["height"]) == image.size == (info["space"]["width"], info["space"]["height"])
    assert meta["space"] == info["space"] and meta["region"] == [0, 0, 1280, 720]
    assert meta["pixels_per_unit"] == 1
    result = client.call_raw("screenshot", {"format": "jpeg"})
    assert result.content[0].meta["cua-mcp/screenshot"]["space"] == info["space"]


@pytest.mark.parametrize(("fmt", "pil_format"), [("jpeg", "JPEG"), ("webp", "WEBP")])
def test_lossy_formats(client, fmt, pil_format):
    data, mime, meta = client.image({"format": fmt, "quality": 60})
    image = decode(data)
    assert mime == f"image/{fmt}" and image.format == pil_format and image.size == (1280, 720)
    assert meta["format"] == fmt


def test_region_comes_at_native_detail_and_says_how_it_maps_back(client):
    data, _, meta = client.image({"region": [100, 50, 200, 100]})
    image = decode(data)
    # 200x100 agent units are 300x150 screen pixels at scale 2/3.
    assert image.size == (300, 150)
    assert meta["region"] == [100, 50, 200, 100]
    assert meta["pixels_per_unit"] == 1.5


def test_region_is_clipped_at_the_edge(client):
    data, _, meta = client.image({"region": [1200, 700, 500, 500]})
    assert meta["region"] == [1200, 700, 80, 20]
    assert decode(data).size == (120, 30)


def test_cursor_is_drawn_only_when_asked(client):
    client.call("move_mouse", {"x": 640, "y": 360})
    region = {"region": [630, 350, 30, 30]}
    with_cursor = decode(client.image({**region, "cursor": True})[0]).convert("RGB")
    without = decode(client.image({**region, "cursor": False})[0]).convert("RGB")
    assert with_cursor.tobytes() != without.tobytes()
    assert len(without.getcolors()) == 1  # the empty root window under the pointer is one colour


def test_scaled_screenshot_is_the_screen_sampled_bilinearly(client, session):
    # The X server scales the whole screen: each image pixel is the screen sampled bilinearly at the
    # pixel's centre. A grid of one-pixel lines on the root window shows any shift or stretch.
    background = decode(client.image({"region": [0, 0, 10, 10]})[0]).convert("RGB").getpixel((0, 0))
    subprocess.run(["xsetroot", "-mod", "5", "7"], env=session.env, check=True)
    try:
        native = decode(client.image({"region": [0, 0, 1280, 720], "cursor": False})[0]).convert("RGB")
        scaled = decode(client.image({"cursor": False})[0]).convert("RGB")
    finally:
        subprocess.run(["xsetroot", "-solid", "#{:02x}{:02x}{:02x}".format(*background)], env=session.env, check=True)
    assert native.size == (1920, 1080) and scaled.size == (1280, 720)
    assert len(native.getcolors(2**16)) > 1
    expected = native.transform((1280, 720), Image.Transform.AFFINE, (1.5, 0, 0, 0, 1.5, 0), Image.Resampling.BILINEAR)
    assert max(high for _, high in ImageChops.difference(scaled, expected).getextrema()) <= 2


def test_cursor_lands_where_the_pointer_is_in_a_scaled_screenshot(client):
    client.call("move_mouse", {"x": 900, "y": 500})
    with_cursor = decode(client.image({"cursor": True})[0]).convert("RGB")
    without = decode(client.image({"cursor": False})[0]).convert("RGB")
    left, top, right, bottom = ImageChops.difference(with_cursor, without).getbbox()
    # The pointer's hot spot is at its image's top left, give or take the arrow's margin.
    assert left - 4 <= 900 <= right and top - 4 <= 500 <= bottom and right - left < 30 and bottom - top < 30


def test_native_scale(session):
    with attached_server(session, "--scale", "native") as native:
        info = native.call("screen_info")
        assert info["space"]["width"] == 1920 and info["space"]["scale"] == 1
        data, _, _ = native.image()
        assert decode(data).size == (1920, 1080)
        assert native.error("click", {"x": 1920, "y": 5}).endswith(
            "x=1920 is outside 0..1919: coordinates are in the screenshot's space (x from 0 to 1919); "
            "take a screenshot or call screen_info to see it."
        )
