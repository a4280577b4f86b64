"""Waiting for the screen to settle after an action: no X damage for a short quiet period, bounded.

A `DamageWatch` holds its own X connection with a DAMAGE object on the root window (which covers
every window drawn on the screen, as VNC servers use it). At the NonEmpty report level the server
sends one event when the damaged region becomes non-empty; subtracting it re-arms the next one,
so a busy screen costs a few events a frame, not one a rectangle.
"""

from __future__ import annotations

import select
import threading
import time
from dataclasses import dataclass

from Xlib import X
from Xlib.display import Display
from Xlib.ext import damage

QUIET_S = 0.05  # no drawing for this long counts as settled: about three frames at 60 Hz
# An app may think that long before it draws what an action did (mousepad building its Save dialog
# after ctrl+s drew it after 60-100 ms, measured), while drawing of its own (a key's echo, a caret)
# comes at once: so the wait lasts at least this long, whatever was drawn meanwhile.
REACTION_S = 0.15


class NoDamageError(RuntimeError):
    """The X server has no DAMAGE extension: drawing cannot be watched."""


@dataclass(frozen=True)
class Settled:
    """How waiting went: whether the screen went quiet before the bound, and how long it took."""

    quiet: bool
    waited_s: float
    damage_events: int


class DamageWatch:
    """Watches the whole screen for drawing; thread-safe (one waiter at a time)."""

    def __init__(self, display_name: str) -> None:
        self.display_name = display_name
        self.display = Display(display_name)
        if not self.display.has_extension("DAMAGE"):
            self.display.close()
            raise NoDamageError(f"the X server of {display_name} has no DAMAGE extension")
        self.display.damage_query_version()
        self._damage = self.display.screen().root.damage_create(damage.DamageReportNonEmpty)
        self._event = self.display.extension_event.DamageNotify
        self._lock = threading.Lock()
        self.display.sync()

    def settle(self, bound_s: float, quiet_s: float = QUIET_S, reaction_s: float = REACTION_S) -> Settled:
        """Block until `reaction_s` passed and nothing was drawn for `quiet_s`, or until `bound_s` passed.

        Drawing reported before the call (the action just done, or a caret blinking long ago) counts as
        drawing now: the quiet period starts at the call either way."""
        with self._lock:
            start = time.monotonic()
            deadline = start + bound_s
            events = self._drain()
            last = start
            while True:
                now = time.monotonic()
                until = max(start + reaction_s, last + quiet_s)
                if now >= until:
                    return Settled(True, now - start, events)
                if now >= deadline:
                    return Settled(False, now - start, events)
                ready, _, _ = select.select([self.display.fileno()], [], [], min(until, deadline) - now)
                if ready or self.display.pending_events():
                    seen = self._drain()
                    if seen:
                        events += seen
                        last = time.monotonic()

    def close(self) -> None:
        try:
            self.display.damage_destroy(self._damage)
            self.display.close()
        except Exception:  # the display is gone: nothing to release
            pass

    def _drain(self) -> int:
        """Read pending events; re-arm the damage object if any reported drawing. How many did."""
        seen = 0
        # A flush first: requests and replies in flight may carry events.
        self.display.flush()
        while self.display.pending_events():
            event = self.display.next_event()
            if event.type == self._event:
                seen += 1
        if seen:
            self.display.damage_subtract(self._damage, X.NONE, X.NONE)
            self.display.flush()
        return seen
