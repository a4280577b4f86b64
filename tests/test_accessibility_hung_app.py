"""A stopped app costs at most the per-call timeout: the snapshot returns the rest and names it."""

from __future__ import annotations

import os
import signal
import time

import pytest

from tests.support.desktop import wait_for_app, wait_until

CALL_TIMEOUT_S = 2.0
MARGIN_S = 3.0  # two round trips of timeouts at most (applications, then trees) plus a slow machine


@pytest.fixture(scope="module")
def apps(session, client):
    mousepad = session.launch("mousepad")
    factory = session.launch("gtk3-widget-factory")
    wait_for_app(session, "mousepad")
    wait_for_app(session, "gtk3-widget-factory")
    wait_until(lambda: "gtk3-widget-factory" in client.text("snapshot", {"scope": "desktop"}), what="both apps")
    return mousepad, factory


def test_snapshot_with_a_stopped_app_returns_in_time_and_names_it(client, apps):
    _, factory = apps
    os.kill(factory.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        snap = client.call("snapshot", {"scope": "desktop"})
        elapsed = time.monotonic() - started
    finally:
        os.kill(factory.pid, signal.SIGCONT)
    assert elapsed < 2 * CALL_TIMEOUT_S + MARGIN_S
    assert any("gtk3-widget-factory" in note and "did not answer" in note for note in snap["notes"]), snap["notes"]
    assert 'application "mousepad"' in snap["text"]
    assert "[note:" in snap["text"]


def test_the_app_is_back_after_it_continues(client, apps):
    assert wait_until(
        lambda: (
            not client.call("snapshot", {"scope": "desktop"})["notes"]
            and "gtk3-widget-factory" in client.text("snapshot", {"scope": "desktop"})
        ),
        timeout=20,
        what="the app answering again",
    )
