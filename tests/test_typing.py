"""Typing and key chords land in a real app exactly, read back through AT-SPI (pyatspi)."""

from __future__ import annotations

from tests.support.desktop import mousepad_text, wait_until

UNICODE = "héllo wörld € 日本 🙂"


def test_unicode_text_lands_exactly(client, mousepad):
    client.call("press_keys", {"keys": "ctrl+a BackSpace"})
    client.call("type_text", {"text": UNICODE})
    assert wait_until(lambda: mousepad_text(mousepad) == UNICODE, what="typed text") is True


def test_chord_then_key_replaces_the_text(client, mousepad):
    client.call("type_text", {"text": "first draft"})
    client.call("press_keys", {"keys": "ctrl+a"})
    client.call("press_keys", {"keys": "x"})
    assert wait_until(lambda: mousepad_text(mousepad) == "x", what="replaced text")


def test_long_ascii_and_newlines(client, mousepad):
    client.call("press_keys", {"keys": "ctrl+a Delete"})
    text = "The quick brown fox jumps over the lazy dog. 0123456789 !@#$%^&*()_+-=[]{};':\",./<>?\nsecond line\tTab"
    client.call("type_text", {"text": text})
    assert wait_until(lambda: mousepad_text(mousepad) == text, what="ascii text")


def test_many_distinct_non_keymap_characters_are_typed_in_batches(client, mousepad):
    client.call("press_keys", {"keys": "ctrl+a Delete"})
    text = "".join(chr(c) for c in range(0x3041, 0x3041 + 60))  # 60 distinct hiragana: more than the spare keycodes
    client.call("type_text", {"text": text})
    assert wait_until(lambda: mousepad_text(mousepad) == text, what="hiragana text")


def test_submit_presses_return(client, mousepad):
    client.call("press_keys", {"keys": "ctrl+a Delete"})
    client.call("type_text", {"text": "line", "submit": True})
    assert wait_until(lambda: mousepad_text(mousepad) == "line\n", what="text with newline")
