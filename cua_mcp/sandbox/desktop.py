"""The `Desktop`: one X display with its devices, as a plain async Python API.

A desktop is either a private sandbox this process started (`Desktop.start_sandbox`) or an
existing display it attaches to (`Desktop.attach`), which it never starts or kills anything on.

All X work runs on the desktop's own worker thread, one job at a time: python-xlib and mss are
not thread-safe, and serializing input per desktop is what keeps two clients from interleaving
keystrokes. Every job has a timeout and a cancel flag; a job that fails or is cancelled releases
what it pressed. A display that died is reported at the next call (a sandbox is restarted then).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import mss.exception
from Xlib import error as xerror
from Xlib.display import Display

from cua_mcp.errors import ClipboardError, DisplayGoneError, InvalidArgumentError, OperationCancelledError
from cua_mcp.sandbox.launch import LaunchConfig, Launcher
from cua_mcp.sandbox.session import SandboxConfig, SandboxSession, host_env
from cua_mcp.sandbox.space import DEFAULT_LONG_SIDE, AgentSpace
from cua_mcp.sandbox.x11 import keys
from cua_mcp.sandbox.x11.capture import Frame, ImageFormat, RawGrab, ScreenCapture
from cua_mcp.sandbox.x11.clipboard import X11Clipboard
from cua_mcp.sandbox.x11.input import BUTTONS, KEYMAP_IDLE_S, InputDevice
from cua_mcp.sandbox.x11.settle import DamageWatch, NoDamageError, Settled
from cua_mcp.sandbox.x11.windows import WindowInfo, WindowManagerView, WindowOp

log = logging.getLogger(__name__)
T = TypeVar("T")

_DEFAULT_TIMEOUT_S = 10.0
_LIBREOFFICE_LINE_PAUSE_S = 0.15  # see Desktop._line_pause
_CLIPBOARD_TIMEOUT_S = 5.0
_DISPLAY_ERRORS = (
    xerror.ConnectionClosedError,
    xerror.DisplayError,
    mss.exception.ScreenShotError,
    ConnectionError,
    BrokenPipeError,
)


@dataclass(frozen=True)
class Screenshot:
    """An encoded screenshot and where its pixels lie in the agent space."""

    frame: Frame
    region: tuple[int, int, int, int]  # x, y, width, height in agent coordinates
    space: AgentSpace
    cursor: tuple[int, int]  # in agent coordinates


@dataclass(frozen=True)
class ScreenInfo:
    display: str
    screen_width: int
    screen_height: int
    space: AgentSpace
    monitors: list[dict[str, int]]
    cursor: tuple[int, int]
    sandboxed: bool


class _XDevices:
    """The worker thread's X state: one connection for input and windows, one mss grabber."""

    def __init__(self, display_name: str) -> None:
        self.display = Display(display_name)
        self.input = InputDevice(self.display)
        self.windows = WindowManagerView(self.display)
        self.capture = ScreenCapture(display_name)

    def responds(self) -> bool:
        """Whether the X server still answers on this connection."""
        try:
            self.display.get_input_focus()
        except Exception:
            return False
        return True

    def close(self) -> None:
        for closer in (self.capture.close, self.display.close):
            with contextlib.suppress(Exception):
                closer()


class Desktop:
    """One X display and the operations an agent performs on it."""

    def __init__(
        self,
        display: str,
        space_long_side: int | None,
        session: SandboxSession | None,
        launch: LaunchConfig | None = None,
    ) -> None:
        self.display = display
        self.session = session
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"cua-x{display}")
        self._devices: _XDevices | None = None
        self._restart_lock = asyncio.Lock()
        width, height = self._call_sync(lambda d: d.capture.screen_size)
        self.space = AgentSpace.for_screen(width, height, space_long_side)
        # Apps, shell commands and the workspace folder of this desktop.
        self.launcher = Launcher(self, launch)
        self._clipboard: X11Clipboard | None = None
        self._clipboard_lock = threading.Lock()
        # Screen settling after actions: its own X connection, opened at the first action.
        self._watch: DamageWatch | None = None
        self._damage_missing: str | None = None  # the display that turned out to lack DAMAGE
        self._watch_lock = threading.Lock()

    # ----- construction --------------------------------------------------------------------

    @classmethod
    def attach(
        cls, display: str, long_side: int | None = DEFAULT_LONG_SIDE, launch: LaunchConfig | None = None
    ) -> Desktop:
        """Use an existing X display; nothing is started or stopped on it."""
        try:
            return cls(display, long_side, None, launch)
        except _DISPLAY_ERRORS as exc:
            raise DisplayGoneError(
                f"cannot open X display {display!r}: {exc}. Check that the display runs and that DISPLAY/"
                "XAUTHORITY are passed to the server."
            ) from exc

    @classmethod
    def start_sandbox(
        cls,
        config: SandboxConfig | None = None,
        long_side: int | None = DEFAULT_LONG_SIDE,
        launch: LaunchConfig | None = None,
    ) -> Desktop:
        """Start a private sandbox desktop and return it; `close()` stops it."""
        session = SandboxSession(config).start()
        try:
            return cls(session.display, long_side, session, launch)
        except BaseException:
            session.stop()
            raise

    def close(self) -> None:
        """Release held input, close the X connections, and stop the sandbox if we started one."""
        future = self._executor.submit(self._close_devices, True)
        try:
            future.result(timeout=3)
        except Exception:
            log.debug("closing X devices failed", exc_info=True)
        self._executor.shutdown(wait=False, cancel_futures=True)
        self._close_clipboard()
        self._drop_damage_watch()
        self.launcher.close()
        if self.session is not None:
            self.session.stop()

    def __enter__(self) -> Desktop:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def app_env(self) -> dict[str, str]:
        """The environment apps on this desktop are started with."""
        if self.session is not None:
            return dict(self.session.env)
        return {**host_env(), "DISPLAY": self.display}

    # ----- running X work ------------------------------------------------------------------

    async def run(self, job: Callable[[_XDevices, threading.Event], T], timeout: float = _DEFAULT_TIMEOUT_S) -> T:
        """Run `job(devices, cancel)` on the X worker; on timeout or cancellation set `cancel`."""
        await self._check_alive()
        cancel = threading.Event()
        future: Future[T] = self._executor.submit(self._run_job, job, cancel)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            cancel.set()
            future.cancel()
            raise DisplayGoneError(
                f"the X display {self.display} did not answer within {timeout:g} s; it may be hung. "
                "Try again shortly; if it persists the desktop needs a restart."
            ) from None
        except asyncio.CancelledError:
            cancel.set()
            future.cancel()
            raise
        except DisplayGoneError:
            await self._check_alive()
            raise

    def _run_job(self, job: Callable[[_XDevices, threading.Event], T], cancel: threading.Event) -> T:
        if cancel.is_set():
            raise OperationCancelledError("cancelled before it started")
        try:
            devices = self._connect()
        except _DISPLAY_ERRORS as exc:
            raise DisplayGoneError(
                f"the X display {self.display} is gone and cannot be reopened ({exc}); restart it and retry."
            ) from exc
        mark = devices.input.held_mark()
        try:
            return job(devices, cancel)
        except BaseException as exc:
            # Libraries report a vanished X server in many ways (mss even with a bare assertion):
            # one round trip tells a dead display from a failure of the job itself.
            if isinstance(exc, _DISPLAY_ERRORS) or not devices.responds():
                self._close_devices(release=False)
                raise DisplayGoneError(f"the X display {self.display} is gone ({type(exc).__name__}).") from exc
            devices.input.release_since(mark)
            raise

    def _call_sync(self, job: Callable[[_XDevices], T]) -> T:
        return self._executor.submit(lambda: job(self._connect())).result(timeout=_DEFAULT_TIMEOUT_S)

    def _connect(self) -> _XDevices:
        if self._devices is None:
            self._devices = _XDevices(self.display)
        return self._devices

    def _close_devices(self, release: bool) -> None:
        devices, self._devices = self._devices, None
        if devices is None:
            return
        if release:
            with contextlib.suppress(Exception):
                devices.input.release_all()
                devices.input.restore_keymap()
        devices.close()

    async def _check_alive(self) -> None:
        """In a sandbox, notice a dead Xvfb, bring the desktop back, and tell the caller."""
        if self.session is None or self.session.display_alive:
            return
        async with self._restart_lock:
            if self.session.display_alive:
                return
            old_display = self.display
            await asyncio.to_thread(self._restart_sandbox)
            launched = ", ".join(self.session.config.launch) or "no apps"
            raise DisplayGoneError(
                f"the sandbox display {old_display} had died; a fresh desktop was started on {self.display} "
                f"({launched} relaunched). Take a new screenshot: earlier coordinates and state are void."
            )

    def _restart_sandbox(self) -> None:
        assert self.session is not None
        log.warning("sandbox display %s died; restarting it", self.display)
        self._executor.submit(self._close_devices, False).result(timeout=5)
        config = self.session.config
        self.session.stop()
        self.session = SandboxSession(config).start()
        self.display = self.session.display

    # ----- observe -------------------------------------------------------------------------

    async def screenshot(
        self,
        fmt: ImageFormat = "png",
        quality: int = 80,
        region: tuple[int, int, int, int] | None = None,
        cursor: bool = True,
    ) -> Screenshot:
        """The screen scaled into the agent space, or an agent-space region at native detail."""
        space = self.space
        if region is None:
            box, size, agent_region = None, (space.width, space.height), (0, 0, space.width, space.height)
        else:
            box = space.region_to_screen(*region)
            size = None
            agent_region = (
                *region[:2],
                min(region[2], space.width - region[0]),
                min(region[3], space.height - region[1]),
            )

        def job(devices: _XDevices, cancel: threading.Event) -> tuple[ScreenCapture, RawGrab, tuple[int, int]]:
            return devices.capture, devices.capture.grab(box, cursor, size), devices.input.pointer_position()

        capture, grab, pointer = await self.run(job)
        # Scaling and encoding off the X worker: other clients' input need not wait for them.
        frame = await asyncio.to_thread(capture.render, grab, size, fmt, quality)
        return Screenshot(frame, agent_region, space, space.from_screen(*pointer))

    async def screen_info(self) -> ScreenInfo:
        def job(devices: _XDevices, cancel: threading.Event):
            return devices.capture.monitors, devices.input.pointer_position()

        monitors, pointer = await self.run(job)
        return ScreenInfo(
            display=self.display,
            screen_width=self.space.screen_width,
            screen_height=self.space.screen_height,
            space=self.space,
            monitors=monitors,
            cursor=self.space.from_screen(*pointer),
            sandboxed=self.session is not None,
        )

    async def list_windows(self) -> list[WindowInfo]:
        """Managed top-level windows, bottom of the stack first; geometry in screen pixels."""
        return await self.run(lambda d, c: d.windows.list_windows())

    async def window_request(
        self,
        window_id: int,
        op: WindowOp,
        geometry: tuple[int | None, int | None, int | None, int | None] = (None, None, None, None),
    ) -> None:
        """Ask the window manager to change a window; `geometry` (x, y, width, height in screen
        pixels, None = keep) is for move_resize. Check the outcome with `list_windows`."""

        def job(devices: _XDevices, cancel: threading.Event) -> None:
            view = devices.windows
            if op == "move_resize":
                view.move_resize(window_id, *geometry)
            else:
                getattr(view, op)(window_id)

        await self.run(job)

    # ----- clipboard -------------------------------------------------------------------------

    async def clipboard_get(self) -> str | None:
        """The CLIPBOARD selection as text; None when it is empty (nobody owns it)."""
        await self._check_alive()
        return await self._on_clipboard(lambda clipboard: clipboard.get_text(_CLIPBOARD_TIMEOUT_S))

    async def clipboard_set(self, text: str) -> None:
        """Own the CLIPBOARD selection with `text`; it stays pasteable until something else is copied."""
        await self._check_alive()
        await self._on_clipboard(lambda clipboard: clipboard.set_text(text, _CLIPBOARD_TIMEOUT_S))

    async def _on_clipboard(self, job: Callable[[X11Clipboard], T]) -> T:
        """Run `job` on the clipboard within a bound, whatever the X server does.

        A stopped X server accepts a connection and never replies, so opening the clipboard's
        connection can block for good: the call gives up at the bound, and at most one thread waits
        on that connection (the others find the lock taken and give up too)."""
        bound = 2 * _CLIPBOARD_TIMEOUT_S + 1
        try:
            return await asyncio.wait_for(asyncio.to_thread(lambda: job(self._clipboard_device())), bound)
        except TimeoutError:
            raise ClipboardError(
                f"the X display {self.display} did not answer within {bound:g} s (it may be stopped or hung); "
                "try again shortly."
            ) from None

    def _clipboard_device(self) -> X11Clipboard:
        if not self._clipboard_lock.acquire(timeout=_CLIPBOARD_TIMEOUT_S):
            raise ClipboardError(
                f"the X display {self.display} did not answer (the clipboard's connection is still being "
                "opened); try again shortly."
            )
        try:
            current = self._clipboard
            if current is None or not current.alive or current.display_name != self.display:
                if current is not None:
                    current.close()
                try:
                    self._clipboard = current = X11Clipboard(self.display)
                except _DISPLAY_ERRORS as exc:
                    raise ClipboardError(f"cannot reach the X display {self.display} for the clipboard: {exc}") from exc
            return current
        finally:
            self._clipboard_lock.release()

    def _close_clipboard(self) -> None:
        with self._clipboard_lock:
            if self._clipboard is not None:
                self._clipboard.close()
                self._clipboard = None

    # ----- pointer -------------------------------------------------------------------------
    # Every action answers with the pointer position afterwards (agent coordinates), read in the
    # same job so the answer costs no extra round trip.

    async def click(
        self, x: float | None, y: float | None, button: str = "left", count: int = 1, modifiers: Sequence[str] = ()
    ) -> tuple[int, int]:
        """Click at an agent-space point, or where the pointer is when x and y are None."""
        point = self._screen_point(x, y)
        code = _button(button)
        mods = _modifier_keysyms(modifiers)
        return await self._act(lambda d, c: d.input.click(*point, code, count, mods))

    async def move_mouse(self, x: float, y: float) -> tuple[int, int]:
        point = self.space.to_screen(x, y)
        return await self._act(lambda d, c: d.input.move(*point))

    async def drag(
        self,
        start: tuple[float, float],
        end: tuple[float, float],
        button: str = "left",
        modifiers: Sequence[str] = (),
    ) -> tuple[int, int]:
        a, b = self.space.to_screen(*start), self.space.to_screen(*end)
        code = _button(button)
        mods = _modifier_keysyms(modifiers)
        return await self._act(lambda d, c: d.input.drag(a, b, code, mods, cancel=c))

    async def mouse_down(self, button: str = "left") -> tuple[int, int]:
        code = _button(button)
        return await self._act(lambda d, c: d.input.button_down(code))

    async def mouse_up(self, button: str = "left") -> tuple[int, int]:
        code = _button(button)
        return await self._act(lambda d, c: d.input.button_up(code))

    async def scroll(
        self, x: float | None, y: float | None, direction: str, amount: int = 3, modifiers: Sequence[str] = ()
    ) -> tuple[int, int]:
        """Scroll at an agent-space point, or where the pointer is when x and y are None."""
        point = self._screen_point(x, y)
        mods = _modifier_keysyms(modifiers)
        return await self._act(lambda d, c: d.input.scroll(*point, direction, amount, mods))

    def _screen_point(self, x: float | None, y: float | None) -> tuple[int | None, int | None]:
        return (None, None) if x is None or y is None else self.space.to_screen(x, y)

    async def cursor_position(self) -> tuple[int, int]:
        return await self._act(lambda d, c: None)

    # ----- keyboard ------------------------------------------------------------------------

    async def type_text(self, text: str) -> tuple[int, int]:
        pause = await self._line_pause() if "\n" in text else 0.0
        # About 0.3 ms a character; the timeout grows with the text.
        timeout = _DEFAULT_TIMEOUT_S + len(text) / 200 + text.count("\n") * pause
        return await self._act(lambda d, c: d.input.type_text(text, cancel=c, line_pause=pause), timeout)

    async def _line_pause(self) -> float:
        """How long a newline waits after the text typed before it, for the active window's app.
        LibreOffice runs its autocorrection a moment after typing stops, and a Return that comes before
        it is lost or lands where that moved the caret (Impress's outline text, Calc's formulas):
        0.05 s was not enough, 0.15 s was."""
        active = next((w for w in await self.list_windows() if w.active), None)
        classes = (active.wm_class if active else "").lower()
        return _LIBREOFFICE_LINE_PAUSE_S if "libreoffice" in classes or "soffice" in classes else 0.0

    async def press_keys(self, keys_: str, repeat: int = 1) -> tuple[int, int]:
        chords = keys.parse_keys(keys_) * repeat
        return await self._act(lambda d, c: d.input.press_chords(chords, cancel=c))

    async def hold_keys(self, keys_: str, seconds: float) -> tuple[int, int]:
        chords = keys.parse_keys(keys_)
        if len(chords) != 1:
            raise InvalidArgumentError(f"hold_keys holds one chord at a time, got {len(chords)}: join keys with '+'.")
        return await self._act(lambda d, c: d.input.hold_chord(chords[0], seconds, c), _DEFAULT_TIMEOUT_S + seconds)

    async def _act(
        self, action: Callable[[_XDevices, threading.Event], object], timeout: float = _DEFAULT_TIMEOUT_S
    ) -> tuple[int, int]:
        def job(devices: _XDevices, cancel: threading.Event) -> tuple[int, int]:
            action(devices, cancel)
            return self.space.from_screen(*devices.input.pointer_position())

        try:
            return await self.run(job, timeout)
        finally:
            # Scratch key bindings stay while typing goes on; undo them once the keyboard is idle.
            asyncio.get_running_loop().call_later(KEYMAP_IDLE_S + 0.05, self._restore_keymap_if_idle)

    async def restore_keymap(self) -> None:
        """Undo typing's scratch key bindings now, and let the screen settle after the keymap change."""
        await self.run(lambda d, c: d.input.restore_keymap())
        await self.settle(_DEFAULT_TIMEOUT_S / 5)

    def _restore_keymap_if_idle(self) -> None:
        def restore() -> None:
            if self._devices is not None:
                try:
                    self._devices.input.restore_keymap_if_idle()
                except _DISPLAY_ERRORS:
                    log.debug("could not restore the keymap", exc_info=True)

        with contextlib.suppress(RuntimeError):  # the desktop was closed meanwhile
            self._executor.submit(restore)

    async def wait(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    # ----- settling ------------------------------------------------------------------------

    async def settle(self, bound_s: float) -> Settled | None:
        """Wait until nothing was drawn on the screen for a short quiet period, at most `bound_s`.

        None when this X server cannot report drawing (no DAMAGE extension): nothing was waited."""
        if bound_s <= 0:
            return Settled(True, 0.0, 0)
        await self._check_alive()
        watch = await asyncio.to_thread(self._damage_watch)
        if watch is None:
            return None
        try:
            return await asyncio.to_thread(watch.settle, bound_s)
        except _DISPLAY_ERRORS:
            self._drop_damage_watch()
            return None

    def _damage_watch(self) -> DamageWatch | None:
        with self._watch_lock:
            if self._watch is not None and self._watch.display_name != self.display:
                self._watch.close()  # the sandbox was restarted on another display
                self._watch = None
            if self._watch is None and self._damage_missing != self.display:
                try:
                    self._watch = DamageWatch(self.display)
                except (NoDamageError, *_DISPLAY_ERRORS):
                    log.info("no DAMAGE on %s: actions reply without waiting for the screen", self.display)
                    self._damage_missing = self.display
            return self._watch

    def _drop_damage_watch(self) -> None:
        with self._watch_lock:
            if self._watch is not None:
                self._watch.close()
            self._watch = None


def _button(name: str) -> int:
    try:
        return BUTTONS[name]
    except KeyError:
        raise InvalidArgumentError(f"unknown button {name!r}: use one of {', '.join(BUTTONS)}.") from None


def _modifier_keysyms(names: Sequence[str]) -> list[int]:
    return [keysym for name in names for keysym in keys.parse_chord(name)]
