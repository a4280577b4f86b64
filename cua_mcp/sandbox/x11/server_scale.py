"""Screen grabs scaled by the X server: RENDER composites the root window through a scaling transform
into a pixmap, and MIT-SHM hands the pixmap over in shared memory.

Scaling a 1920x1080 grab to 1280x720 with Pillow costs 10-12 ms of CPU; pixman, which does RENDER's
work inside the X server, scales the same in about 2 ms with its SIMD bilinear path, and the grab then
moves a 1280x720 image instead of the whole screen. Bilinear sampling weighs every source pixel only
while a destination pixel spans at most two source pixels, so `ServerScaler.supports` admits ratios
up to 2 (1920x1080, 2560x1440 and the like); beyond that the caller scales with Pillow's BOX filter.

The server leaves the pointer out of what RENDER reads, so the grab also fetches the cursor image
(XFixes) in the same round trip, for the caller to draw in.

XCB, not Xlib, through ctypes: XCB reports a lost connection as an error state instead of exiting the
process from an I/O error handler.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import mmap
import os
import struct
from dataclasses import dataclass

from PIL import Image

_FIXED_ONE = 1 << 16
_MAX_RATIO = 2.0
_CP_SUBWINDOW_MODE = 1 << 8
_INCLUDE_INFERIORS = 1
_PICT_OP_SRC = 1
_Z_PIXMAP = 2
_ALL_PLANES = 0xFFFFFFFF


class ServerScaleUnavailable(Exception):
    """The X server (or its connection) cannot scale grabs: RENDER, MIT-SHM 1.2 or XFixes is missing."""


@dataclass(frozen=True)
class CursorImage:
    """The pointer's image (RGBA, straight alpha) and where its top-left corner is, in screen pixels."""

    image: Image.Image
    origin: tuple[int, int]


@dataclass(frozen=True)
class ScaledGrab:
    bgrx: bytes
    size: tuple[int, int]
    cursor: CursorImage | None


class _Screen(ctypes.Structure):
    _fields_ = [
        ("root", ctypes.c_uint32),
        ("default_colormap", ctypes.c_uint32),
        ("white_pixel", ctypes.c_uint32),
        ("black_pixel", ctypes.c_uint32),
        ("current_input_masks", ctypes.c_uint32),
        ("width_in_pixels", ctypes.c_uint16),
        ("height_in_pixels", ctypes.c_uint16),
        ("width_in_millimeters", ctypes.c_uint16),
        ("height_in_millimeters", ctypes.c_uint16),
        ("min_installed_maps", ctypes.c_uint16),
        ("max_installed_maps", ctypes.c_uint16),
        ("root_visual", ctypes.c_uint32),
        ("backing_stores", ctypes.c_uint8),
        ("save_unders", ctypes.c_uint8),
        ("root_depth", ctypes.c_uint8),
        ("allowed_depths_len", ctypes.c_uint8),
    ]


class _ScreenIterator(ctypes.Structure):
    _fields_ = [("data", ctypes.POINTER(_Screen)), ("rem", ctypes.c_int), ("index", ctypes.c_int)]


class _Transform(ctypes.Structure):
    _fields_ = [("matrix", ctypes.c_int32 * 9)]


class _Libraries:
    """libxcb and the RENDER, MIT-SHM and XFixes libraries, with the signatures used here."""

    def __init__(self) -> None:
        self.c = ctypes.CDLL(ctypes.util.find_library("c"))
        self.xcb = _load("xcb")
        self.render = _load("xcb-render")
        self.shm = _load("xcb-shm")
        self.xfixes = _load("xcb-xfixes")
        conn, ptr, u8, u16, u32, i16 = (
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.c_uint8,
            ctypes.c_uint16,
            ctypes.c_uint32,
            ctypes.c_int16,
        )
        cookie, error_out = ctypes.c_uint, ctypes.POINTER(ctypes.c_void_p)
        _sig(self.c.free, None, ptr)
        _sig(self.xcb.xcb_connect, conn, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int))
        _sig(self.xcb.xcb_connection_has_error, ctypes.c_int, conn)
        _sig(self.xcb.xcb_disconnect, None, conn)
        _sig(self.xcb.xcb_get_setup, ptr, conn)
        _sig(self.xcb.xcb_setup_roots_iterator, _ScreenIterator, ptr)
        _sig(self.xcb.xcb_screen_next, None, ctypes.POINTER(_ScreenIterator))
        _sig(self.xcb.xcb_generate_id, u32, conn)
        _sig(self.xcb.xcb_flush, ctypes.c_int, conn)
        _sig(self.xcb.xcb_request_check, ptr, conn, cookie)
        _sig(self.xcb.xcb_create_pixmap_checked, cookie, conn, u8, u32, u32, u16, u16)
        _sig(self.render.xcb_render_query_version, cookie, conn, u32, u32)
        _sig(self.render.xcb_render_query_version_reply, ptr, conn, cookie, error_out)
        _sig(self.render.xcb_render_query_pict_formats, cookie, conn)
        _sig(self.render.xcb_render_query_pict_formats_reply, ptr, conn, cookie, error_out)
        _sig(self.render.xcb_render_create_picture_checked, cookie, conn, u32, u32, u32, u32, ptr)
        _sig(self.render.xcb_render_set_picture_transform_checked, cookie, conn, u32, _Transform)
        _sig(self.render.xcb_render_set_picture_filter_checked, cookie, conn, u32, u16, ctypes.c_char_p, u32, ptr)
        _sig(
            self.render.xcb_render_composite_checked,
            cookie,
            conn,
            u8,
            u32,
            u32,
            u32,
            *(i16,) * 6,
            u16,
            u16,
        )
        _sig(self.shm.xcb_shm_query_version, cookie, conn)
        _sig(self.shm.xcb_shm_query_version_reply, ptr, conn, cookie, error_out)
        _sig(self.shm.xcb_shm_attach_fd_checked, cookie, conn, u32, ctypes.c_int32, u8)
        _sig(self.shm.xcb_shm_get_image, cookie, conn, u32, i16, i16, u16, u16, u32, u8, u32, u32)
        _sig(self.shm.xcb_shm_get_image_reply, ptr, conn, cookie, error_out)
        _sig(self.xfixes.xcb_xfixes_query_version, cookie, conn, u32, u32)
        _sig(self.xfixes.xcb_xfixes_query_version_reply, ptr, conn, cookie, error_out)
        _sig(self.xfixes.xcb_xfixes_get_cursor_image, cookie, conn)
        _sig(self.xfixes.xcb_xfixes_get_cursor_image_reply, ptr, conn, cookie, error_out)


def _load(name: str) -> ctypes.CDLL:
    path = ctypes.util.find_library(name)
    if path is None:
        raise ServerScaleUnavailable(f"lib{name} is not installed")
    return ctypes.CDLL(path)


def _sig(function, restype, *argtypes) -> None:
    function.restype = restype
    function.argtypes = list(argtypes)


@functools.cache
def _libraries() -> _Libraries:
    return _Libraries()


class ServerScaler:
    """Grabs of the whole screen at one scaled size, made by the X server. One thread uses it at a time."""

    @staticmethod
    def supports(screen: tuple[int, int], target: tuple[int, int]) -> bool:
        """Whether bilinear sampling from `screen` down to `target` weighs every source pixel."""
        ratios = (screen[0] / target[0], screen[1] / target[1])
        return screen != target and all(1.0 <= ratio <= _MAX_RATIO for ratio in ratios)

    def __init__(self, display_name: str, target: tuple[int, int]) -> None:
        self._libs = _libraries()
        self.target = target
        self._conn: int | None = None
        self._buffer: mmap.mmap | None = None
        screen_number = ctypes.c_int(0)
        self._conn = self._libs.xcb.xcb_connect(display_name.encode(), ctypes.byref(screen_number))
        try:
            self._check_connection()
            self._setup(screen_number.value)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        if self._buffer is not None:
            self._buffer.close()
            self._buffer = None
        if self._conn is not None:
            self._libs.xcb.xcb_disconnect(self._conn)  # frees the server-side pixmap, pictures and segment
            self._conn = None

    def grab(self, cursor: bool) -> ScaledGrab:
        """The whole screen scaled to `target` (BGRX), and the cursor image when asked for."""
        libs, conn = self._libs, self._conn
        width, height = self.target
        composite = libs.render.xcb_render_composite_checked(
            conn, _PICT_OP_SRC, self._source, 0, self._destination, 0, 0, 0, 0, 0, 0, width, height
        )
        image = libs.shm.xcb_shm_get_image(
            conn, self._pixmap, 0, 0, width, height, _ALL_PLANES, _Z_PIXMAP, self._segment, 0
        )
        pointer = libs.xfixes.xcb_xfixes_get_cursor_image(conn) if cursor else None
        self._reply(libs.shm.xcb_shm_get_image_reply, image, "MIT-SHM GetImage")
        self._checked(composite, "RENDER Composite")
        cursor_image = None
        if pointer is not None:
            cursor_image = self._cursor(self._reply_bytes(libs.xfixes.xcb_xfixes_get_cursor_image_reply, pointer))
        assert self._buffer is not None
        with memoryview(self._buffer) as pixels:
            bgrx = bytes(pixels[: width * height * 4])
        return ScaledGrab(bgrx, self.target, cursor_image)

    # ----- setting up ----------------------------------------------------------------------

    def _setup(self, screen_number: int) -> None:
        libs, conn = self._libs, self._conn
        iterator = libs.xcb.xcb_setup_roots_iterator(libs.xcb.xcb_get_setup(conn))
        for _ in range(screen_number):
            libs.xcb.xcb_screen_next(ctypes.byref(iterator))
        screen = iterator.data.contents
        self.screen_size = (screen.width_in_pixels, screen.height_in_pixels)
        if screen.root_depth != 24 or not self.supports(self.screen_size, self.target):
            raise ServerScaleUnavailable(f"a depth-{screen.root_depth} {self.screen_size} screen is scaled by Pillow")
        self._reply(
            libs.render.xcb_render_query_version_reply, libs.render.xcb_render_query_version(conn, 0, 11), "RENDER"
        )
        self._reply(
            libs.xfixes.xcb_xfixes_query_version_reply, libs.xfixes.xcb_xfixes_query_version(conn, 4, 0), "XFixes"
        )
        shm_version = self._reply_bytes(
            libs.shm.xcb_shm_query_version_reply, libs.shm.xcb_shm_query_version(conn), "MIT-SHM"
        )
        if struct.unpack_from("=HH", shm_version, 8) < (1, 2):
            raise ServerScaleUnavailable("MIT-SHM 1.2 (file-descriptor passing) is missing")
        picture_format = self._root_format(screen.root_visual)
        width, height = self.target
        self._pixmap = libs.xcb.xcb_generate_id(conn)
        self._checked(
            libs.xcb.xcb_create_pixmap_checked(conn, 24, self._pixmap, screen.root, width, height), "CreatePixmap"
        )
        self._source = libs.xcb.xcb_generate_id(conn)
        include_inferiors = (ctypes.c_uint32 * 1)(_INCLUDE_INFERIORS)
        self._checked(
            libs.render.xcb_render_create_picture_checked(
                conn, self._source, screen.root, picture_format, _CP_SUBWINDOW_MODE, include_inferiors
            ),
            "RENDER CreatePicture",
        )
        self._destination = libs.xcb.xcb_generate_id(conn)
        self._checked(
            libs.render.xcb_render_create_picture_checked(
                conn, self._destination, self._pixmap, picture_format, 0, None
            ),
            "RENDER CreatePicture",
        )
        # Destination pixel centres map to source points: x' = x * screen_width / target_width.
        transform = _Transform()
        transform.matrix[:] = [
            round(self.screen_size[0] / width * _FIXED_ONE), 0, 0,
            0, round(self.screen_size[1] / height * _FIXED_ONE), 0,
            0, 0, _FIXED_ONE,
        ]  # fmt: skip
        self._checked(
            libs.render.xcb_render_set_picture_transform_checked(conn, self._source, transform), "SetPictureTransform"
        )
        self._checked(
            libs.render.xcb_render_set_picture_filter_checked(conn, self._source, 8, b"bilinear", 0, None),
            "SetPictureFilter",
        )
        self._attach_shared_memory(width * height * 4)

    def _attach_shared_memory(self, size: int) -> None:
        fd = os.memfd_create("cua-mcp-grab", os.MFD_CLOEXEC)
        try:
            os.ftruncate(fd, size)
            self._buffer = mmap.mmap(fd, size, prot=mmap.PROT_READ)
            self._segment = self._libs.xcb.xcb_generate_id(self._conn)
            # XCB passes the descriptor to the server and closes it, whether or not the attach succeeds.
            cookie = self._libs.shm.xcb_shm_attach_fd_checked(self._conn, self._segment, fd, 0)
            fd = -1
            self._checked(cookie, "MIT-SHM AttachFd (a remote display cannot share memory)")
        finally:
            if fd >= 0:
                os.close(fd)

    def _root_format(self, root_visual: int) -> int:
        """The RENDER picture format of the root window's visual."""
        libs, conn = self._libs, self._conn
        reply = self._reply_bytes(
            libs.render.xcb_render_query_pict_formats_reply, libs.render.xcb_render_query_pict_formats(conn), "RENDER"
        )
        num_formats, num_screens = struct.unpack_from("=II", reply, 8)
        offset = 32 + num_formats * 28
        for _ in range(num_screens):
            num_depths, _fallback = struct.unpack_from("=II", reply, offset)
            offset += 8
            for _ in range(num_depths):
                _depth, num_visuals = struct.unpack_from("=BxH4x", reply, offset)
                offset += 8
                for index in range(num_visuals):
                    visual, picture_format = struct.unpack_from("=II", reply, offset + index * 8)
                    if visual == root_visual:
                        return picture_format
                offset += num_visuals * 8
        raise ServerScaleUnavailable("RENDER lists no picture format for the root window's visual")

    # ----- replies and errors --------------------------------------------------------------

    def _cursor(self, reply: bytes) -> CursorImage:
        x, y, width, height, x_hot, y_hot = struct.unpack_from("=hhHHHH", reply, 8)
        argb = reply[32 : 32 + width * height * 4]
        # XFixes gives premultiplied ARGB words: in memory B, G, R, A.
        image = Image.frombuffer("RGBa", (width, height), argb, "raw", "BGRa", 0, 1).convert("RGBA")
        return CursorImage(image, (x - x_hot, y - y_hot))

    def _reply(self, read_reply, cookie: int, what: str) -> None:
        self._libs.c.free(self._reply_pointer(read_reply, cookie, what))

    def _reply_bytes(self, read_reply, cookie: int, what: str = "request") -> bytes:
        pointer = self._reply_pointer(read_reply, cookie, what)
        try:
            (length,) = struct.unpack_from("=I", ctypes.string_at(pointer, 8), 4)
            return ctypes.string_at(pointer, 32 + 4 * length)
        finally:
            self._libs.c.free(pointer)

    def _reply_pointer(self, read_reply, cookie: int, what: str) -> int:
        error = ctypes.c_void_p()
        pointer = read_reply(self._conn, cookie, ctypes.byref(error))
        if error.value:
            code = ctypes.string_at(error.value, 2)[1]
            self._libs.c.free(error.value)
            raise ServerScaleUnavailable(f"{what} failed with X error {code}")
        if not pointer:
            self._check_connection()
            raise ServerScaleUnavailable(f"{what} got no reply")
        return pointer

    def _checked(self, cookie: int, what: str) -> None:
        error = self._libs.xcb.xcb_request_check(self._conn, cookie)
        if error:
            code = ctypes.string_at(error, 2)[1]
            self._libs.c.free(error)
            raise ServerScaleUnavailable(f"{what} failed with X error {code}")
        self._check_connection()

    def _check_connection(self) -> None:
        if self._conn is None or self._libs.xcb.xcb_connection_has_error(self._conn):
            raise ConnectionError("the connection to the X server is broken")
