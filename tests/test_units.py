"""Pure logic: the coordinate space, key names, and the split scaler's exactness."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from PIL import Image

from cua_mcp.errors import InvalidArgumentError, OutsideScreenError, UnknownKeyError
from cua_mcp.sandbox.space import AgentSpace
from cua_mcp.sandbox.x11 import keys
from cua_mcp.sandbox.x11.capture import _adler32_combine, _BandScaler, _PngEncoder, encode
from cua_mcp.sandbox.x11.server_scale import ServerScaler


class TestAgentSpace:
    def test_scales_the_long_side_to_1280(self):
        space = AgentSpace.for_screen(1920, 1080)
        assert (space.width, space.height) == (1280, 720)
        assert space.scale == pytest.approx(2 / 3)

    def test_portrait_and_odd_sizes(self):
        assert AgentSpace.for_screen(1080, 1920).width == 720
        space = AgentSpace.for_screen(1366, 768)
        assert (space.width, space.height) == (1280, 720)

    def test_never_upscales_and_native_keeps_pixels(self):
        assert AgentSpace.for_screen(1024, 768).is_native
        assert AgentSpace.for_screen(3840, 2160, long_side=None).width == 3840

    def test_round_trip_stays_within_one_unit(self):
        space = AgentSpace.for_screen(1920, 1080)
        for x, y in [(0, 0), (1279, 719), (640, 360), (1, 718)]:
            sx, sy = space.to_screen(x, y)
            assert 0 <= sx < 1920 and 0 <= sy < 1080
            assert space.from_screen(sx, sy) == (x, y)

    def test_outside_points_are_refused_with_the_range(self):
        space = AgentSpace.for_screen(1920, 1080)
        with pytest.raises(OutsideScreenError, match=r"x=1280 is outside 0..1279"):
            space.to_screen(1280, 0)
        with pytest.raises(OutsideScreenError, match=r"y=-1 is outside 0..719"):
            space.to_screen(0, -1)

    def test_region_maps_to_covering_pixels_and_clips(self):
        space = AgentSpace.for_screen(1920, 1080)
        assert space.region_to_screen(100, 50, 200, 100) == (150, 75, 300, 150)
        assert space.region_to_screen(1200, 700, 500, 500) == (1800, 1050, 120, 30)
        with pytest.raises(InvalidArgumentError):
            space.region_to_screen(0, 0, 0, 10)


class TestKeys:
    def test_aliases_and_case(self):
        assert keys.parse_keys("CTRL+Shift+t") == [[keys.key_keysym("Control_L"), keys.key_keysym("Shift_L"), ord("t")]]
        assert keys.parse_keys("enter esc pgdn win") == [
            [keys.key_keysym("Return")],
            [keys.key_keysym("Escape")],
            [keys.key_keysym("Next")],
            [keys.key_keysym("Super_L")],
        ]

    def test_function_keys_up_to_f24(self):
        assert keys.parse_chord("F24") == [keys.key_keysym("F24")]
        assert keys.parse_chord("f1") == [keys.key_keysym("F1")]

    def test_single_characters_keep_case(self):
        assert keys.parse_chord("A") == [ord("A")]
        assert keys.parse_chord("a") == [ord("a")]
        assert keys.parse_chord("€") == [0x01000000 | ord("€")]

    def test_plus_key(self):
        assert keys.parse_keys("ctrl++ +") == [[keys.key_keysym("ctrl"), ord("+")], [ord("+")]]

    def test_unknown_key_suggests_close_names(self):
        with pytest.raises(UnknownKeyError) as caught:
            keys.parse_chord("ctrl+Escpe")
        assert caught.value.name == "Escpe"
        assert "escape" in [s.lower() for s in caught.value.suggestions]

    @pytest.mark.parametrize("bad", ["ctrl+", "+ctrl", "a++b", ""])
    def test_malformed_chords(self, bad):
        with pytest.raises(InvalidArgumentError):
            keys.parse_chord(bad)

    def test_text_characters(self):
        assert keys.char_keysym("\n") == keys.key_keysym("Return")
        assert keys.char_keysym("é") == 0xE9
        assert keys.char_keysym("🙂") == 0x01000000 | 0x1F642


class TestCapture:
    @pytest.mark.parametrize(
        ("screen", "target", "expected"),
        [
            ((1920, 1080), (1280, 720), True),  # 1.5
            ((2560, 1440), (1280, 720), True),  # 2: every pixel still weighs in
            ((1366, 768), (1280, 720), True),
            ((3840, 2160), (1280, 720), False),  # 3: bilinear would skip a column in three
            ((1280, 720), (1280, 720), False),  # nothing to scale
        ],
    )
    def test_the_x_server_scales_by_at_most_two(self, screen, target, expected):
        assert ServerScaler.supports(screen, target) is expected

    @pytest.mark.parametrize(
        ("size", "target"), [((1920, 1080), (1280, 720)), ((1366, 768), (1280, 720)), ((1000, 999), (800, 799))]
    )
    def test_band_scaling_equals_whole_image_scaling_frame_after_frame(self, size, target):
        rng = random.Random(7)
        scaler = _BandScaler(size, target)
        frame = bytearray(rng.randbytes(size[0] * size[1] * 4))
        row = size[0] * 4
        for changed_rows in [None, (5, 9), (0, size[1]), (size[1] - 3, size[1]), (400, 700), (0, 0)]:
            if changed_rows is not None:
                top, bottom = changed_rows
                frame[top * row : bottom * row] = rng.randbytes((bottom - top) * row)
            whole = Image.frombuffer("RGB", size, bytes(frame), "raw", "BGRX", 0, 1).resize(
                target, Image.Resampling.BOX
            )
            assert scaler.scale(bytes(frame)).tobytes() == whole.tobytes(), changed_rows

    @pytest.mark.parametrize("fmt", ["png", "jpeg", "webp"])
    def test_encode_round_trips(self, fmt):
        image = Image.new("RGB", (64, 32), (10, 200, 30))
        frame = encode(image, fmt, 90)
        assert (frame.width, frame.height, frame.mime_type) == (64, 32, f"image/{fmt}")
        decoded = Image.open(io.BytesIO(frame.data)).convert("RGB")
        assert decoded.size == (64, 32)
        r, g, b = decoded.getpixel((5, 5))
        assert abs(r - 10) < 8 and abs(g - 200) < 8 and abs(b - 30) < 8

    @pytest.mark.parametrize("size", [(1, 1), (3, 2), (1281, 721)])
    def test_png_is_lossless_at_any_size(self, size):
        image = Image.frombytes("RGB", size, random.Random(3).randbytes(size[0] * size[1] * 3))
        decoded = Image.open(io.BytesIO(encode(image, "png").data))
        decoded.load()
        assert decoded.mode == "RGB" and decoded.tobytes() == image.tobytes()

    def test_incremental_png_stays_lossless_as_bands_change(self):
        rng = random.Random(5)
        encoder = _PngEncoder()
        pixels = bytearray(rng.randbytes(333 * 250 * 3))
        for top, bottom in [(0, 250), (10, 12), (0, 0), (200, 250), (47, 49), (0, 250)]:
            pixels[top * 999 : bottom * 999] = rng.randbytes((bottom - top) * 999)
            image = Image.frombytes("RGB", (333, 250), bytes(pixels))
            data = encode(image, "png", png_encoder=encoder).data
            decoded = Image.open(io.BytesIO(data))
            decoded.load()
            assert decoded.tobytes() == image.tobytes(), (top, bottom)
            idat_length = int.from_bytes(data[33:37], "big")
            assert data[37:41] == b"IDAT"
            zlib.decompress(data[41 : 41 + idat_length])  # strict: checks the combined adler32 too

    def test_adler32_combine_matches_zlib(self):
        a, b = b"hello " * 1000, bytes(range(256)) * 300
        assert _adler32_combine(zlib.adler32(a), zlib.adler32(b), len(b)) == zlib.adler32(a + b)
