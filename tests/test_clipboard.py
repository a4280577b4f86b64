"""The clipboard: what the server sets is pasteable in a real app after the call returns, and what
an app copies (or another clipboard tool sets) is what clipboard_get returns."""

from __future__ import annotations

import subprocess

import pytest

from tests.support.desktop import mousepad_text, wait_until

TEXT = "Grüße, 世界! €5\nsecond line"


def xclip_out(session) -> str:
    out = subprocess.run(
        ["xclip", "-o", "-selection", "clipboard"], env=session.env, capture_output=True, timeout=10, check=True
    )
    return out.stdout.decode("utf-8")


def test_set_text_pastes_into_an_app(client, mousepad):
    client.call("clipboard_set", {"text": TEXT})
    client.call("activate_window", {"window": "mousepad"})
    client.call("press_keys", {"keys": "ctrl+a Delete ctrl+v"})
    assert wait_until(lambda: mousepad_text(mousepad) == TEXT, what="pasted text")
    # Another clipboard client reads the same text after the call has long returned.
    assert xclip_out(mousepad) == TEXT


def test_get_text_copied_in_an_app(client, mousepad):
    client.call("activate_window", {"window": "mousepad"})
    client.call("press_keys", {"keys": "ctrl+a Delete"})
    client.call("type_text", {"text": "copied from mousepad ✓"})
    wait_until(lambda: mousepad_text(mousepad) == "copied from mousepad ✓", what="typed text")
    client.call("press_keys", {"keys": "ctrl+a ctrl+c"})
    assert wait_until(lambda: client.call("clipboard_get")["text"] == "copied from mousepad ✓", what="copied text")


@pytest.mark.parametrize(
    "text",
    ["from xclip: ünïcode", "large " * 100_000],  # 600 KB arrives in parts (INCR)
    ids=["short", "incremental"],
)
def test_get_text_set_by_another_client(client, session, text):
    # xclip in the foreground (-quiet) serving exactly one paste (-loops 1): ours.
    xclip = subprocess.Popen(
        ["xclip", "-quiet", "-loops", "1", "-selection", "clipboard", "-i"],
        env=session.env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert xclip.stdin is not None
        xclip.stdin.write(text.encode())
        xclip.stdin.close()
        assert wait_until(lambda: client.call("clipboard_get")["text"] == text, what="xclip text")
    finally:
        xclip.kill()
        xclip.wait(timeout=5)


def test_set_empty_and_long_text(client):
    client.call("clipboard_set", {"text": ""})
    assert client.call("clipboard_get") == {"text": "", "empty": False}
    long_text = "0123456789abcdef" * 5000  # 80 KB
    client.call("clipboard_set", {"text": long_text})
    assert client.call("clipboard_get")["text"] == long_text
