"""The CLIPBOARD selection as text, on a dedicated X connection and thread.

X has no clipboard store: the clipboard is whichever client owns the CLIPBOARD selection, and a
paste asks that owner for the data. So setting it means owning it and answering every paste
(SelectionRequest) for as long as we hold it. That is this module's thread, which keeps running
after the call returns. Reading asks the current owner to convert the selection to UTF8_STRING
(or STRING) into a property of our window, receiving large answers incrementally (INCR).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from Xlib import X, Xatom
from Xlib.display import Display
from Xlib.error import XError
from Xlib.protocol import event

from cua_mcp.errors import ClipboardError

log = logging.getLogger(__name__)
T = TypeVar("T")

# One ChangeProperty request must carry the whole text (we do not send INCR); the core protocol's
# request limit is 256 KiB.
MAX_SET_BYTES = 200_000
_TEXT_TYPES = ("UTF8_STRING", "text/plain;charset=utf-8", "TEXT", "STRING", "text/plain")


class X11Clipboard:
    """Owns and reads the CLIPBOARD selection of one display. Thread-safe; blocking calls."""

    def __init__(self, display_name: str) -> None:
        self.display_name = display_name
        self._display = Display(display_name)
        # Errors of requests without replies (a requestor window gone mid-paste) arrive late: log, go on.
        self._display.set_error_handler(lambda err, request: log.debug("X error on the clipboard: %s", err))
        screen = self._display.screen()
        # An unmapped 1x1 window: selection owner, and where converted data is delivered.
        self._window = screen.root.create_window(-10, -10, 1, 1, 0, screen.root_depth, event_mask=X.PropertyChangeMask)
        self._window.set_wm_name("cua-mcp clipboard")
        self._atoms = {name: self._display.intern_atom(name) for name in (
            "CLIPBOARD", "TARGETS", "TIMESTAMP", "MULTIPLE", "INCR", "_CUA_MCP_CLIP", "_CUA_MCP_TIME",
            *_TEXT_TYPES,
        )}  # fmt: skip
        self._display.flush()
        self._owned: tuple[bytes, int] | None = None  # our text (UTF-8) and when we took ownership
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], Future]] = queue.SimpleQueue()
        self._wake_r, self._wake_w = os.pipe()
        self._closed = threading.Event()
        self.failed: BaseException | None = None
        self._thread = threading.Thread(target=self._serve, name=f"cua-clipboard{display_name}", daemon=True)
        self._thread.start()

    # ----- public, any thread --------------------------------------------------------------

    @property
    def alive(self) -> bool:
        return self._thread.is_alive() and self.failed is None

    def set_text(self, text: str, timeout: float = 5.0) -> None:
        data = text.encode("utf-8")
        if len(data) > MAX_SET_BYTES:
            raise ClipboardError(
                f"the text is {len(data)} bytes in UTF-8; the clipboard takes at most {MAX_SET_BYTES}. "
                "Write long text to a file instead."
            )
        self._call(lambda: self._own(data, time.monotonic() + timeout), timeout + 1)

    def get_text(self, timeout: float = 5.0) -> str | None:
        """The clipboard's text; None when nobody owns the clipboard."""
        return self._call(lambda: self._convert(time.monotonic() + timeout), timeout + 1)

    def close(self) -> None:
        if self._closed.is_set():
            return
        self._closed.set()
        self._wake()
        self._thread.join(timeout=3)
        with contextlib.suppress(Exception):
            self._display.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    # ----- the clipboard thread ------------------------------------------------------------

    def _call(self, job: Callable[[], T], timeout: float) -> T:
        if not self.alive:
            raise ClipboardError(f"the clipboard connection to display {self.display_name} is gone; try again.")
        future: Future[T] = Future()
        self._jobs.put((job, future))
        self._wake()
        try:
            return future.result(timeout=timeout)
        except TimeoutError:
            raise ClipboardError("the clipboard did not answer in time; try again.") from None

    def _wake(self) -> None:
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")

    def _serve(self) -> None:
        try:
            while not self._closed.is_set():
                readable, _, _ = select.select([self._display.fileno(), self._wake_r], [], [], 1.0)
                if self._wake_r in readable:
                    os.read(self._wake_r, 4096)
                self._dispatch_pending()
                while not self._jobs.empty():
                    job, future = self._jobs.get()
                    if future.set_running_or_notify_cancel():
                        try:
                            future.set_result(job())
                        except BaseException as exc:
                            future.set_exception(exc)
        except BaseException as exc:
            # The display went away: fail queued calls; the desktop makes a new clipboard next time.
            self.failed = exc
            log.debug("clipboard thread for %s stopped", self.display_name, exc_info=True)
            while not self._jobs.empty():
                _, future = self._jobs.get()
                with contextlib.suppress(Exception):
                    future.set_exception(ClipboardError(f"the X display {self.display_name} is gone."))

    def _dispatch_pending(self) -> None:
        while self._display.pending_events():
            self._handle(self._display.next_event())

    def _wait_event(self, match: Callable[[Any], bool], deadline: float) -> Any | None:
        """The first event `match` accepts, serving every other event meanwhile; None at the deadline."""
        while True:
            while self._display.pending_events():
                ev = self._display.next_event()
                if match(ev):
                    return ev
                self._handle(ev)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            select.select([self._display.fileno()], [], [], min(remaining, 0.5))

    def _handle(self, ev: Any) -> None:
        if ev.type == X.SelectionRequest and ev.selection == self._atoms["CLIPBOARD"]:
            self._answer(ev)
        elif ev.type == X.SelectionClear and ev.selection == self._atoms["CLIPBOARD"]:
            self._owned = None  # someone copied something else

    def _server_time(self, deadline: float) -> int:
        """A current server timestamp (ICCCM: never own or convert with CurrentTime)."""
        atom = self._atoms["_CUA_MCP_TIME"]
        self._window.change_property(atom, Xatom.STRING, 8, b"", mode=X.PropModeAppend)
        self._display.flush()
        ev = self._wait_event(
            lambda e: e.type == X.PropertyNotify and e.atom == atom and e.window.id == self._window.id, deadline
        )
        if ev is None:
            raise ClipboardError("the X server did not answer; try again.")
        return ev.time

    def _own(self, data: bytes, deadline: float) -> None:
        stamp = self._server_time(deadline)
        clipboard = self._atoms["CLIPBOARD"]
        self._window.set_selection_owner(clipboard, stamp)
        self._display.flush()
        if self._display.get_selection_owner(clipboard).id != self._window.id:
            raise ClipboardError("could not take the clipboard (another app claimed it at the same moment); try again.")
        self._owned = (data, stamp)

    def _answer(self, ev: Any) -> None:
        """Answer one paste: hand over our text in the form the requestor asked for."""
        prop = ev.property or ev.target  # obsolete clients pass None: use the target as property
        owned = self._owned
        atoms = self._atoms
        try:
            if owned is None or ev.owner.id != self._window.id:
                prop = X.NONE
            elif ev.target == atoms["TARGETS"]:
                offered = [atoms[n] for n in ("TARGETS", "TIMESTAMP", *_TEXT_TYPES)]
                ev.requestor.change_property(prop, Xatom.ATOM, 32, offered)
            elif ev.target == atoms["TIMESTAMP"]:
                ev.requestor.change_property(prop, Xatom.INTEGER, 32, [owned[1]])
            elif ev.target in (atoms["UTF8_STRING"], atoms["TEXT"], atoms["text/plain;charset=utf-8"]):
                ev.requestor.change_property(prop, atoms["UTF8_STRING"], 8, owned[0])
            elif ev.target in (atoms["STRING"], atoms["text/plain"]):
                latin1 = owned[0].decode("utf-8").encode("latin-1", "replace")
                ev.requestor.change_property(prop, Xatom.STRING, 8, latin1)
            else:
                prop = X.NONE  # MULTIPLE, images, ...: refuse; the requestor falls back to a text target
            notify = event.SelectionNotify(
                time=ev.time, requestor=ev.requestor, selection=ev.selection, target=ev.target, property=prop
            )
            ev.requestor.send_event(notify, event_mask=0)
            self._display.flush()
        except XError:
            log.debug("clipboard requestor vanished", exc_info=True)

    def _convert(self, deadline: float) -> str | None:
        clipboard = self._atoms["CLIPBOARD"]
        owner = self._display.get_selection_owner(clipboard)
        if owner == X.NONE or not getattr(owner, "id", 0):
            return None
        if owner.id == self._window.id and self._owned is not None:
            return self._owned[0].decode("utf-8")
        stamp = self._server_time(deadline)
        prop = self._atoms["_CUA_MCP_CLIP"]
        for target in ("UTF8_STRING", "STRING"):
            self._window.delete_property(prop)
            self._window.convert_selection(clipboard, self._atoms[target], prop, stamp)
            self._display.flush()
            ev = self._wait_event(
                lambda e: (
                    e.type == X.SelectionNotify and e.selection == clipboard and e.requestor.id == self._window.id
                ),
                deadline,
            )
            if ev is None:
                raise ClipboardError(
                    f"the app owning the clipboard (window 0x{owner.id:x}) did not answer in time; it may be busy. "
                    "Try again."
                )
            if ev.property == X.NONE:
                continue  # it cannot give this form; try the next
            data, kind = self._read_property(prop, deadline)
            return data.decode("latin-1" if kind == Xatom.STRING else "utf-8", "replace")
        raise ClipboardError("the clipboard holds no text (the app that owns it offers another kind of data).")

    def _read_property(self, prop: int, deadline: float) -> tuple[bytes, int]:
        value = self._window.get_full_property(prop, X.AnyPropertyType)
        self._window.delete_property(prop)  # also tells an INCR sender to start
        self._display.flush()
        if value is None:
            return b"", Xatom.STRING
        if value.property_type != self._atoms["INCR"]:
            return _as_bytes(value.value), value.property_type
        chunks: list[bytes] = []
        kind = Xatom.STRING
        while True:
            ev = self._wait_event(
                lambda e: (
                    e.type == X.PropertyNotify
                    and e.atom == prop
                    and e.state == X.PropertyNewValue
                    and e.window.id == self._window.id
                ),
                deadline,
            )
            if ev is None:
                raise ClipboardError("the clipboard's owner stopped sending its (large) text; try again.")
            part = self._window.get_full_property(prop, X.AnyPropertyType)
            self._window.delete_property(prop)
            self._display.flush()
            if part is None or not len(part.value):
                return b"".join(chunks), kind
            kind = part.property_type
            chunks.append(_as_bytes(part.value))


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("latin-1", "replace")
    return bytes(value)
