"""Waiting for the screen to settle after an action: the active app has handled the input, and
nothing was drawn for a short quiet period; bounded.

A `DamageWatch` holds its own X connection with a DAMAGE object on the root window (which covers
every window drawn on the screen, as VNC servers use it). At the NonEmpty report level the server
sends one event when the damaged region becomes non-empty; subtracting it re-arms the next one,
so a busy screen costs a few events a frame, not one a rectangle.

Drawing alone cannot tell a busy app from an idle one: mousepad handling 70 typed keys (each one
announced on the accessibility bus) can go 50 ms without drawing and then draw the rest. So the
active window is first pinged (`_NET_WM_PING`, as window managers ask whether an app hangs): a
toolkit answers it from its event loop once it has read the input queued before it (GDK reads the
next X event only when its own queue is empty), and only then is the quiet period waited out.
"""

from __future__ import annotations

import itertools
import select
import threading
import time
from dataclasses import dataclass

from Xlib import X, Xatom
from Xlib.display import Display
from Xlib.error import XError
from Xlib.ext import damage
from Xlib.protocol import event

QUIET_S = 0.1  # no drawing for this long counts as settled: six frames at 60 Hz
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
    answered_ping: bool | None = None  # None: the active window takes no pings (or there is none)


class DamageWatch:
    """Watches the whole screen for drawing; thread-safe (one waiter at a time)."""

    def __init__(self, display_name: str) -> None:
        self.display_name = display_name
        self.display = Display(display_name)
        if not self.display.has_extension("DAMAGE"):
            self.display.close()
            raise NoDamageError(f"the X server of {display_name} has no DAMAGE extension")
        self.display.damage_query_version()
        self._root = self.display.screen().root
        self._damage = self._root.damage_create(damage.DamageReportNonEmpty)
        # Pong replies go to the root window with SubstructureNotify in their mask.
        self._root.change_attributes(event_mask=X.SubstructureNotifyMask)
        self._event = self.display.extension_event.DamageNotify
        self._atoms = {
            name: self.display.intern_atom(name) for name in ("_NET_ACTIVE_WINDOW", "WM_PROTOCOLS", "_NET_WM_PING")
        }
        self._stamps = itertools.count(1)
        self._pong: int | None = None
        self._lock = threading.Lock()
        self.display.sync()

    def settle(self, bound_s: float, quiet_s: float = QUIET_S, reaction_s: float = REACTION_S) -> Settled:
        """Block until the active app answered a ping, `reaction_s` passed and nothing was drawn for
        `quiet_s`; or until `bound_s` passed.

        Drawing reported before the call (the action just done, or a caret blinking long ago) counts as
        drawing now: the quiet period starts at the call either way."""
        with self._lock:
            start = time.monotonic()
            deadline = start + bound_s
            stamp = self._ping()
            events = self._drain()
            last = start
            while True:
                now = time.monotonic()
                waiting_pong = stamp is not None and self._pong != stamp
                until = max(start + reaction_s, last + quiet_s)
                if now >= until and not waiting_pong:
                    return Settled(True, now - start, events, None if stamp is None else True)
                if now >= deadline:
                    return Settled(False, now - start, events, None if stamp is None else not waiting_pong)
                wake = deadline if waiting_pong and now >= until else min(until, deadline)
                ready, _, _ = select.select([self.display.fileno()], [], [], max(0.0, wake - now))
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

    def _ping(self) -> int | None:
        """Ping the active window if it takes pings; the stamp its answer will carry."""
        active = self._root.get_full_property(self._atoms["_NET_ACTIVE_WINDOW"], Xatom.WINDOW)
        if active is None or not active.value or not active.value[0]:
            return None
        window = self.display.create_resource_object("window", active.value[0])
        try:
            protocols = window.get_full_property(self._atoms["WM_PROTOCOLS"], Xatom.ATOM)
            if protocols is None or self._atoms["_NET_WM_PING"] not in protocols.value:
                return None
            stamp = next(self._stamps)
            message = event.ClientMessage(
                window=window,
                client_type=self._atoms["WM_PROTOCOLS"],
                data=(32, [self._atoms["_NET_WM_PING"], stamp, window.id, 0, 0]),
            )
            window.send_event(message, event_mask=0)
            self.display.flush()
        except XError:  # the window went away meanwhile
            return None
        return stamp

    def _drain(self) -> int:
        """Read pending events, noting pongs; re-arm the damage object if any reported drawing.
        How many reported drawing."""
        seen = 0
        # A flush first: requests and replies in flight may carry events.
        self.display.flush()
        while self.display.pending_events():
            got = self.display.next_event()
            if got.type == self._event:
                seen += 1
            elif got.type == X.ClientMessage and got.data[1][0] == self._atoms["_NET_WM_PING"]:
                self._pong = got.data[1][1]
        if seen:
            self.display.damage_subtract(self._damage, X.NONE, X.NONE)
            self.display.flush()
        return seen
