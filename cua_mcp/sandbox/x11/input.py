"""Pointer and keyboard through the XTEST extension: no subprocess per action.

An `InputDevice` owns one X connection and is used from one thread (the desktop's X worker).
It remembers every key and button it holds down, so an operation that fails or is cancelled
midway releases what it pressed (`release_since`): no modifier is ever left stuck.

Pointer and key events are sent (flushed), not waited for one by one: the server handles one
connection's requests in order, so a single round trip at the end of an action (the desktop asks
where the pointer is after each) confirms them all. Waiting after each event cost a round trip per
event, several per click, each slowed down by whatever the X server draws meanwhile.

Characters that are not on the keyboard map (é, €, 日本, emoji) are typed by binding their
keysyms to spare keycodes, all of a batch in one go (`_ScratchKeymap`). X clients re-read the
keymap lazily, when they handle the MappingNotify that a change sends them; an app that lags
behind must still find the binding its key events were typed with. So bindings stay in place
while typing goes on (later calls reuse them), a keycode is rebound to another keysym only after
a gap, and the map is restored once the keyboard has been idle for a moment.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from Xlib import XK, X
from Xlib.display import Display
from Xlib.ext import xtest

from cua_mcp.errors import InvalidArgumentError, OperationCancelledError
from cua_mcp.sandbox.x11.keys import char_keysym

BUTTONS = {"left": 1, "middle": 2, "right": 3}
SCROLL_BUTTONS = {"up": 4, "down": 5, "left": 6, "right": 7}
_KEYMAP_SETTLE_S = 0.010  # after binding, before the first key event that needs it
_REBIND_GAP_S = 0.25  # a keycode typed this recently keeps its keysym a little longer
KEYMAP_IDLE_S = 0.5  # scratch bindings are undone once the keyboard has been idle this long
_DOUBLE_CLICK_GAP_S = 0.02
_FLUSH_EVERY = 32


class InputDevice:
    """Synthetic pointer and keyboard on one X display."""

    def __init__(self, display: Display) -> None:
        self._display = display
        if not display.has_extension("XTEST"):
            raise RuntimeError("the X server has no XTEST extension")
        self._held_keys: list[int] = []
        self._held_buttons: list[int] = []
        self._shift_keycode = display.keysym_to_keycode(XK.XK_Shift_L)
        self._scratch = _ScratchKeymap(display)

    # ----- pointer -------------------------------------------------------------------------

    def pointer_position(self) -> tuple[int, int]:
        pointer = self._display.screen().root.query_pointer()
        return pointer.root_x, pointer.root_y

    def move(self, x: int, y: int) -> None:
        xtest.fake_input(self._display, X.MotionNotify, x=x, y=y)
        self._display.flush()

    def button_down(self, button: int) -> None:
        xtest.fake_input(self._display, X.ButtonPress, button)
        self._held_buttons.append(button)
        self._display.flush()

    def button_up(self, button: int) -> None:
        xtest.fake_input(self._display, X.ButtonRelease, button)
        if button in self._held_buttons:
            self._held_buttons.remove(button)
        self._display.flush()

    def click(self, x: int | None, y: int | None, button: int, count: int, modifiers: Sequence[int] = ()) -> None:
        """Click at (x, y), or where the pointer is when they are None."""
        with self._modifiers_held(modifiers):
            if x is not None and y is not None:
                self.move(x, y)
            for index in range(count):
                if index:
                    time.sleep(_DOUBLE_CLICK_GAP_S)
                self.button_down(button)
                self.button_up(button)

    def drag(
        self,
        start: tuple[int, int],
        end: tuple[int, int],
        button: int,
        modifiers: Sequence[int] = (),
        steps: int = 12,
        cancel: threading.Event | None = None,
    ) -> None:
        """Press at `start`, move in steps (toolkits need intermediate motion), release at `end`."""
        with self._modifiers_held(modifiers):
            self.move(*start)
            self.button_down(button)
            for step in range(1, steps + 1):
                _check(cancel)
                x = round(start[0] + (end[0] - start[0]) * step / steps)
                y = round(start[1] + (end[1] - start[1]) * step / steps)
                self.move(x, y)
                time.sleep(0.005)
            self.button_up(button)

    def scroll(self, x: int | None, y: int | None, direction: str, amount: int, modifiers: Sequence[int] = ()) -> None:
        """Turn the wheel at (x, y), or where the pointer is when they are None."""
        button = SCROLL_BUTTONS[direction]
        with self._modifiers_held(modifiers):
            if x is not None and y is not None:
                self.move(x, y)
            for _ in range(amount):
                self.button_down(button)
                self.button_up(button)

    # ----- keyboard ------------------------------------------------------------------------

    def press_chords(self, chords: Sequence[Sequence[int]], cancel: threading.Event | None = None) -> None:
        """Press and release each chord in turn (all keys down in order, then up in reverse)."""
        self._scratch.bind(k for chord in chords for k in chord)
        mark = self.held_mark()
        try:
            for chord in chords:
                _check(cancel)
                self._press_chord([self._scratch.locate(k) for k in chord])
        finally:
            self.release_since(mark)

    def hold_chord(self, chord: Sequence[int], seconds: float, cancel: threading.Event) -> None:
        """Hold a chord down for `seconds`, or until cancelled; always released."""
        mark = self.held_mark()
        try:
            self._hold(chord)
            cancel.wait(seconds)
        finally:
            self.release_since(mark)

    def type_text(self, text: str, cancel: threading.Event | None = None, line_pause: float = 0.0) -> None:
        """Type text exactly, character by character, binding missing keysyms a batch at a time; a
        newline after typed text waits `line_pause` seconds first."""
        keysyms = [char_keysym(char) for char in text]
        mark = self.held_mark()
        previous = None  # the keysym typed last, across batches
        try:
            for batch in self._batches(keysyms):
                self._scratch.bind(batch)
                for index, keysym in enumerate(batch):
                    if index % _FLUSH_EVERY == 0:
                        _check(cancel)
                    if line_pause and keysym == XK.XK_Return and previous not in (None, XK.XK_Return):
                        self._display.sync()
                        time.sleep(line_pause)
                    self._press_chord([self._scratch.locate(keysym)])
                    previous = keysym
                self._display.sync()
        finally:
            self.release_since(mark)

    def restore_keymap_if_idle(self) -> None:
        """Undo the scratch bindings once no key has been pressed for `KEYMAP_IDLE_S`."""
        if self._scratch.idle_for() >= KEYMAP_IDLE_S:
            self._scratch.restore()

    def release_all(self) -> None:
        """Release every key and button this device holds (also those of mouse_down)."""
        self.release_since((0, 0))

    def restore_keymap(self) -> None:
        self._scratch.restore()

    def held_mark(self) -> tuple[int, int]:
        """A mark of what is held now; `release_since(mark)` releases what was pressed after it."""
        return len(self._held_keys), len(self._held_buttons)

    def release_since(self, mark: tuple[int, int]) -> None:
        keys, buttons = mark
        if len(self._held_keys) == keys and len(self._held_buttons) == buttons:
            return
        for keycode in reversed(self._held_keys[keys:]):
            xtest.fake_input(self._display, X.KeyRelease, keycode)
        for button in reversed(self._held_buttons[buttons:]):
            xtest.fake_input(self._display, X.ButtonRelease, button)
        del self._held_keys[keys:]
        del self._held_buttons[buttons:]
        self._display.sync()

    # ----- helpers -------------------------------------------------------------------------

    def _hold(self, keysyms: Sequence[int]) -> None:
        """Press keys and keep them down (the caller releases them), binding any not on the keyboard."""
        self._scratch.bind(keysyms)
        for keycode, shifted in (self._scratch.locate(k) for k in keysyms):
            if shifted:
                self._key_down(self._shift_keycode)
            self._key_down(keycode)
            self._scratch.used(keycode)
        self._display.sync()

    def _key_down(self, keycode: int) -> None:
        xtest.fake_input(self._display, X.KeyPress, keycode)
        self._held_keys.append(keycode)

    def _key_up(self, keycode: int) -> None:
        xtest.fake_input(self._display, X.KeyRelease, keycode)
        if keycode in self._held_keys:
            self._held_keys.remove(keycode)

    def _press_chord(self, keys: Sequence[tuple[int, bool]]) -> None:
        """Press keys given as (keycode, needs shift), then release them in reverse order."""
        pressed = []
        for keycode, shifted in keys:
            if shifted and self._shift_keycode not in pressed:
                self._key_down(self._shift_keycode)
                pressed.append(self._shift_keycode)
            self._key_down(keycode)
            pressed.append(keycode)
            self._scratch.used(keycode)
        for keycode in reversed(pressed):
            self._key_up(keycode)
        self._display.flush()

    def _batches(self, keysyms: list[int]) -> Iterable[list[int]]:
        """Split a keysym sequence so that no piece needs more scratch keycodes than there are."""
        room = self._scratch.room
        batch: list[int] = []
        scratch: set[int] = set()
        for keysym in keysyms:
            if keysym not in scratch and not self._scratch.on_keyboard(keysym):
                if len(scratch) == room:
                    yield batch
                    batch, scratch = [], set()
                scratch.add(keysym)
            batch.append(keysym)
        if batch:
            yield batch

    def _modifiers_held(self, modifier_keysyms: Sequence[int]) -> _ModifiersHeld:
        return _ModifiersHeld(self, modifier_keysyms)


class _ModifiersHeld:
    """Context manager: modifier keys down for the body, released after it (also on failure)."""

    def __init__(self, device: InputDevice, keysyms: Sequence[int]) -> None:
        self._device = device
        self._keysyms = keysyms
        self._mark = device.held_mark()

    def __enter__(self) -> None:
        if self._keysyms:
            self._device._hold(self._keysyms)

    def __exit__(self, *exc_info: object) -> None:
        self._device.release_since(self._mark)


class _ScratchKeymap:
    """Keysyms that are not on the keyboard, bound to spare keycodes while they are in use."""

    def __init__(self, display: Display) -> None:
        self._display = display
        first = display.display.info.min_keycode
        mapping = display.get_keyboard_mapping(first, display.display.info.max_keycode - first + 1)
        self._width = len(mapping[0])
        self._pool = frozenset(first + i for i, syms in enumerate(mapping) if not any(syms))
        self._bound: dict[int, int] = {}  # keysym -> keycode
        self._last_used: dict[int, float] = {}  # keycode -> when it was last pressed

    @property
    def room(self) -> int:
        """How many keysyms can be bound at once."""
        return len(self._pool)

    def on_keyboard(self, keysym: int) -> bool:
        """Whether the keyboard map itself (not a scratch binding) has the keysym on level 0 or 1."""
        return any(
            index in (0, 1) and keycode not in self._pool for keycode, index in self._display.keysym_to_keycodes(keysym)
        )

    def locate(self, keysym: int) -> tuple[int, bool]:
        """(keycode, needs shift) of a keysym that is on the keyboard or bound."""
        if keysym in self._bound:
            return self._bound[keysym], False
        for keycode, index in self._display.keysym_to_keycodes(keysym):
            if index in (0, 1) and keycode not in self._pool:
                return keycode, index == 1
        raise KeyError(keysym)

    def bind(self, keysyms: Iterable[int]) -> None:
        """Make every keysym typeable, binding the missing ones in one keymap change."""
        wanted = set(keysyms)
        missing = [k for k in wanted if k not in self._bound and not self.on_keyboard(k)]
        if not missing:
            return
        if len(missing) + len(wanted & self._bound.keys()) > self.room:
            raise InvalidArgumentError(
                f"{len(missing)} keys that are not on the keyboard are needed at once, but only "
                f"{self.room} keycodes are free: press fewer of them in one call."
            )
        taken = set(self._bound.values())
        free = sorted(self._pool - taken)
        # Evict the least recently used bindings this call does not need.
        evictable = sorted((self._last_used.get(kc, 0.0), kc, ks) for ks, kc in self._bound.items() if ks not in wanted)
        changes = []
        for keysym in missing:
            if free:
                keycode = free.pop()
            else:
                last_used, keycode, old = evictable.pop(0)
                del self._bound[old]
                # An app may not have read the keys typed with this keycode yet.
                time.sleep(max(0.0, last_used + _REBIND_GAP_S - time.monotonic()))
            self._bound[keysym] = keycode
            changes.append((keycode, keysym))
        for keycode, keysym in changes:
            self._display.change_keyboard_mapping(keycode, [[keysym] * self._width])
        self._display.sync()
        _drain_events(self._display)
        time.sleep(_KEYMAP_SETTLE_S)

    def used(self, keycode: int) -> None:
        if keycode in self._pool:
            self._last_used[keycode] = time.monotonic()

    def idle_for(self) -> float:
        return time.monotonic() - max(self._last_used.values(), default=0.0)

    def restore(self) -> None:
        """Unbind every scratch keysym."""
        if not self._bound:
            return
        for keycode in self._bound.values():
            self._display.change_keyboard_mapping(keycode, [[X.NoSymbol] * self._width])
        self._bound.clear()
        self._display.sync()
        _drain_events(self._display)


def _drain_events(display: Display) -> None:
    """Read queued events (MappingNotify after our keymap changes) so they never pile up."""
    while display.pending_events():
        event = display.next_event()
        if event.type == X.MappingNotify:
            display.refresh_keyboard_mapping(event)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise OperationCancelledError("the input was cancelled midway; every key and button it held is released.")
