"""Key names as people and models write them, resolved to X keysyms.

`parse_keys("ctrl+a Delete")` gives two chords: [Control_L, a] then [Delete]. Names are
case-insensitive except single characters ("A" is the shifted letter); familiar aliases
(enter, esc, pgup, win, cmd, ...) map to the X names.
"""

from __future__ import annotations

import difflib
from functools import cache

from Xlib import XK

from cua_mcp.errors import InvalidArgumentError, UnknownKeyError

XK.load_keysym_group("xf86")

ALIASES: dict[str, str] = {
    "ctrl": "Control_L",
    "control": "Control_L",
    "lctrl": "Control_L",
    "rctrl": "Control_R",
    "alt": "Alt_L",
    "lalt": "Alt_L",
    "ralt": "Alt_R",
    "altgr": "ISO_Level3_Shift",
    "option": "Alt_L",
    "shift": "Shift_L",
    "lshift": "Shift_L",
    "rshift": "Shift_R",
    "super": "Super_L",
    "win": "Super_L",
    "windows": "Super_L",
    "meta": "Super_L",
    "cmd": "Super_L",
    "command": "Super_L",
    "enter": "Return",
    "return": "Return",
    "ret": "Return",
    "esc": "Escape",
    "escape": "Escape",
    "tab": "Tab",
    "space": "space",
    "spacebar": "space",
    "backspace": "BackSpace",
    "bksp": "BackSpace",
    "del": "Delete",
    "delete": "Delete",
    "ins": "Insert",
    "insert": "Insert",
    "home": "Home",
    "end": "End",
    "pageup": "Prior",
    "page_up": "Prior",
    "pgup": "Prior",
    "pagedown": "Next",
    "page_down": "Next",
    "pgdn": "Next",
    "up": "Up",
    "down": "Down",
    "left": "Left",
    "right": "Right",
    "arrowup": "Up",
    "arrowdown": "Down",
    "arrowleft": "Left",
    "arrowright": "Right",
    "capslock": "Caps_Lock",
    "numlock": "Num_Lock",
    "scrolllock": "Scroll_Lock",
    "printscreen": "Print",
    "print": "Print",
    "prtsc": "Print",
    "pause": "Pause",
    "menu": "Menu",
    "apps": "Menu",
    "plus": "plus",
    "minus": "minus",
    "volumeup": "XF86AudioRaiseVolume",
    "volumedown": "XF86AudioLowerVolume",
    "mute": "XF86AudioMute",
}
ALIASES.update({f"f{n}": f"F{n}" for n in range(1, 25)})


@cache
def _keysym_names() -> dict[str, str]:
    """Every keysym name Xlib knows, by its lower-case form."""
    names = {}
    for attr in dir(XK):
        if attr.startswith("XK_"):
            name = attr[3:]
            names.setdefault(name.lower(), name)
    return names


def char_keysym(char: str) -> int:
    """The keysym that types one character (Latin-1 keysyms equal their code point)."""
    if char == "\n":
        return XK.XK_Return
    if char == "\t":
        return XK.XK_Tab
    code = ord(char)
    if 0x20 <= code <= 0x7E or 0xA0 <= code <= 0xFF:
        return code
    return 0x01000000 | code


def key_keysym(name: str) -> int:
    """The keysym for one key name; raises `UnknownKeyError` with close matches."""
    if len(name) == 1:
        return char_keysym(name)
    lower = name.lower()
    canonical = ALIASES.get(lower) or _keysym_names().get(lower)
    if canonical is not None:
        keysym = XK.string_to_keysym(canonical)
        if keysym:
            return keysym
    candidates = {**{n.lower(): n for n in _keysym_names().values()}, **{a: a for a in ALIASES}}
    matches = difflib.get_close_matches(lower, list(candidates), n=3, cutoff=0.6)
    raise UnknownKeyError(name, [candidates[m] for m in matches])


def parse_chord(chord: str) -> list[int]:
    """Keysyms of one chord such as "ctrl+shift+t" or "ctrl++" (the plus key), in press order."""
    if not chord:
        raise InvalidArgumentError("empty key chord: give a key name such as 'Return' or 'ctrl+s'.")
    if chord == "+":
        parts = ["+"]
    elif chord.endswith("++"):
        # "ctrl++": the last key is the plus sign itself.
        parts = [*chord[:-2].split("+"), "+"]
    else:
        parts = chord.split("+")
    if any(part == "" for part in parts):
        raise InvalidArgumentError(f"malformed chord {chord!r}: join keys with single '+', e.g. 'ctrl+shift+t'.")
    return [key_keysym(part) for part in parts]


def parse_keys(keys: str) -> list[list[int]]:
    """Chords separated by whitespace, pressed one after another: "ctrl+a Delete"."""
    chords = keys.split()
    if not chords:
        raise InvalidArgumentError("no keys given: pass a key or chord such as 'Return', 'ctrl+s' or 'alt+F4'.")
    return [parse_chord(chord) for chord in chords]
