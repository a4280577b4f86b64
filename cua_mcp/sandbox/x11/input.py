"""Pointer and keyboard through the XTEST extension: no subprocess per action.

An `InputDevice` owns one X connection and is used from one thread (the desktop's X worker).
It remembers every key and button it holds down, so an operation that fails or is cancelled
midway releases them all (`release_all`): no modifier is ever left stuck.

Characters that are not on the keyboard map (é, €, 日本, emoji) are typed by binding their
keysyms to spare keycodes in one keymap change for the whole batch, then restoring the map.
X clients translate keycodes when they read the event, so the map is left in place for a
short settle time on both sides of the batch.
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
_KEYMAP_SETTLE_S = 0.010
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

    # ----- pointer -------------------------------------------------------------------------

    def pointer_position(self) -> tuple[int, int]:
        pointer = self._display.screen().root.query_pointer()
        return pointer.root_x, pointer.root_y

    def move(self, x: int, y: int) -> None:
        xtest.fake_input(self._display, X.MotionNotify, x=x, y=y)
        self._display.sync()

    def button_down(self, button: int) -> None:
        xtest.fake_input(self._display, X.ButtonPress, button)
        self._held_buttons.append(button)
        self._display.sync()

    def button_up(self, button: int) -> None:
        xtest.fake_input(self._display, X.ButtonRelease, button)
        if button in self._held_buttons:
            self._held_buttons.remove(button)
        self._display.sync()

    def click(self, x: int, y: int, button: int, count: int, modifiers: Sequence[int] = ()) -> None:
        with self._modifiers_held(modifiers):
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

    def scroll(self, x: int, y: int, direction: str, amount: int, modifiers: Sequence[int] = ()) -> None:
        button = SCROLL_BUTTONS[direction]
        with self._modifiers_held(modifiers):
            self.move(x, y)
            for _ in range(amount):
                self.button_down(button)
                self.button_up(button)

    # ----- keyboard ------------------------------------------------------------------------

    def press_chords(self, chords: Sequence[Sequence[int]], cancel: threading.Event | None = None) -> None:
        """Press and release each chord in turn (all keys down in order, then up in reverse)."""
        with self._keysyms_bound(k for chord in chords for k in chord) as keycodes:
            for chord in chords:
                _check(cancel)
                self._press_chord([keycodes[k] for k in chord])
            self._display.sync()

    def hold_chord(self, chord: Sequence[int], seconds: float, cancel: threading.Event) -> None:
        """Hold a chord down for `seconds`, or until cancelled; always released."""
        with self._keysyms_bound(chord) as keycodes:
            for keycode, shifted in (keycodes[k] for k in chord):
                if shifted:
                    self._key_down(self._shift_keycode)
                self._key_down(keycode)
            self._display.sync()
            cancel.wait(seconds)

    def type_text(self, text: str, cancel: threading.Event | None = None) -> None:
        """Type text exactly, character by character, binding missing keysyms a batch at a time."""
        keysyms = [char_keysym(char) for char in text]
        for batch in self._batches(keysyms):
            with self._keysyms_bound(batch) as keycodes:
                for index, keysym in enumerate(batch):
                    if index % _FLUSH_EVERY == 0:
                        _check(cancel)
                    self._press_chord([keycodes[keysym]])
                self._display.sync()

    def release_all(self) -> None:
        """Release every key and button this device holds (also those of mouse_down)."""
        self.release_since((0, 0))

    def held_mark(self) -> tuple[int, int]:
        """A mark of what is held now; `release_since(mark)` releases what was pressed after it."""
        return len(self._held_keys), len(self._held_buttons)

    def release_since(self, mark: tuple[int, int]) -> None:
        keys, buttons = mark
        for keycode in reversed(self._held_keys[keys:]):
            xtest.fake_input(self._display, X.KeyRelease, keycode)
        for button in reversed(self._held_buttons[buttons:]):
            xtest.fake_input(self._display, X.ButtonRelease, button)
        del self._held_keys[keys:]
        del self._held_buttons[buttons:]
        self._display.sync()

    # ----- helpers -------------------------------------------------------------------------

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
        for keycode in reversed(pressed):
            self._key_up(keycode)
        self._display.flush()

    def _batches(self, keysyms: list[int]) -> Iterable[list[int]]:
        """Split a keysym sequence so that no piece needs more bindings than there are spare keycodes."""
        room = len(_spare_keycodes(self._display)[0])
        batch: list[int] = []
        unbound: set[int] = set()
        for keysym in keysyms:
            if keysym not in unbound and _locate(self._display, keysym) is None:
                if len(unbound) == room:
                    yield batch
                    batch, unbound = [], set()
                unbound.add(keysym)
            batch.append(keysym)
        if batch:
            yield batch

    def _modifiers_held(self, modifier_keysyms: Sequence[int]) -> _ModifiersHeld:
        return _ModifiersHeld(self, modifier_keysyms)

    def _keysyms_bound(self, keysyms: Iterable[int]) -> _KeysymsBound:
        return _KeysymsBound(self, self._display, keysyms)


class _ModifiersHeld:
    """Context manager: modifier keys down for the body, released after it (also on failure)."""

    def __init__(self, device: InputDevice, keysyms: Sequence[int]) -> None:
        self._device = device
        self._keysyms = keysyms
        self._mark = device.held_mark()

    def __enter__(self) -> None:
        for keysym in self._keysyms:
            keycode = self._device._display.keysym_to_keycode(keysym)
            if not keycode:
                raise InvalidArgumentError(f"modifier keysym {keysym:#x} is not on the keyboard")
            self._device._key_down(keycode)
        if self._keysyms:
            self._device._display.sync()

    def __exit__(self, *exc_info: object) -> None:
        self._device.release_since(self._mark)


class _KeysymsBound:
    """Context manager mapping keysyms to (keycode, needs shift), binding missing ones to spare keycodes.

    On exit everything held is released and the keymap entries it changed are restored.
    """

    def __init__(self, device: InputDevice, display: Display, keysyms: Iterable[int]) -> None:
        self._device = device
        self._display = display
        self._keysyms = set(keysyms)
        self._restore: list[tuple[int, list[int]]] = []
        self._mark = device.held_mark()

    def __enter__(self) -> dict[int, tuple[int, bool]]:
        found: dict[int, tuple[int, bool]] = {}
        missing: list[int] = []
        for keysym in self._keysyms:
            location = _locate(self._display, keysym)
            if location is None:
                missing.append(keysym)
            else:
                found[keysym] = location
        if missing:
            found.update(self._bind(missing))
        return found

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._device.release_since(self._mark)
        finally:
            if self._restore:
                time.sleep(_KEYMAP_SETTLE_S)
                for keycode, previous in self._restore:
                    self._display.change_keyboard_mapping(keycode, [previous])
                self._display.sync()
                _drain_events(self._display)

    def _bind(self, keysyms: list[int]) -> dict[int, tuple[int, bool]]:
        spare, width = _spare_keycodes(self._display)
        if len(spare) < len(keysyms):
            raise InvalidArgumentError(
                f"{len(keysyms)} keys that are not on the keyboard are needed at once, but only "
                f"{len(spare)} keycodes are free: press fewer of them in one call."
            )
        bound = {}
        for keycode, keysym in zip(spare, keysyms, strict=False):
            self._restore.append((keycode, [X.NoSymbol] * width))
            self._display.change_keyboard_mapping(keycode, [[keysym] * width])
            bound[keysym] = (keycode, False)
        self._display.sync()
        time.sleep(_KEYMAP_SETTLE_S)
        return bound


def _locate(display: Display, keysym: int) -> tuple[int, bool] | None:
    """(keycode, needs shift) for a keysym on the first two levels of the keymap, or None."""
    for keycode, index in display.keysym_to_keycodes(keysym):
        if index in (0, 1):
            return keycode, index == 1
    return None


def _spare_keycodes(display: Display) -> tuple[list[int], int]:
    """Keycodes with no keysym at all, and the keymap's keysyms-per-keycode."""
    first = display.display.info.min_keycode
    count = display.display.info.max_keycode - first + 1
    mapping = display.get_keyboard_mapping(first, count)
    return [first + i for i, syms in enumerate(mapping) if not any(syms)], len(mapping[0])


def _drain_events(display: Display) -> None:
    """Read queued events (MappingNotify after our keymap changes) so they never pile up."""
    while display.pending_events():
        event = display.next_event()
        if event.type == X.MappingNotify:
            display.refresh_keyboard_mapping(event)


def _check(cancel: threading.Event | None) -> None:
    if cancel is not None and cancel.is_set():
        raise OperationCancelledError("the input was cancelled midway; every key and button it held is released.")
