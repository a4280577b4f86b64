"""The server with `--a11y-backend pyatspi` serves the same snapshot as the default D-Bus backend."""

from __future__ import annotations

import pytest

from tests.support.desktop import wait_for_app, wait_until
from tests.support.mcp_client import attached_server


@pytest.fixture(scope="module")
def reference_client(session):
    with attached_server(session, "--a11y-backend", "pyatspi") as mcp:
        yield mcp


def test_both_backends_give_the_same_snapshot(session, client, reference_client):
    session.launch("gtk3-widget-factory")
    wait_for_app(session, "gtk3-widget-factory")
    args = {"scope": "gtk3-widget-factory", "mode": "all", "boxes": True}

    def same():
        fast = client.text("snapshot", args)
        reference = reference_client.text("snapshot", args)
        # Refs are per server: compare the lines without them.
        strip = lambda text: [line.split(" [ref=")[0] + line.split("]", 1)[-1] for line in text.splitlines()]  # noqa: E731
        return len(fast.splitlines()) > 50 and strip(fast) == strip(reference)

    assert wait_until(same, timeout=30, what="equal snapshots")
