"""Chromium: a local page's form filled by refs through the MCP client, read back through accessibility."""

from __future__ import annotations

import re

import pytest

from tests.support.apps import launch_chromium
from tests.support.desktop import wait_for_app, wait_until

pytestmark = pytest.mark.slow
SCOPE = "chromium"


@pytest.fixture(scope="module")
def chromium(session, client):
    launch_chromium(session)
    wait_for_app(session, "chromium", timeout=60)
    wait_until(lambda: find(client, role="push button", name="Send"), timeout=60, what="the page's Send button")
    return session


def find(client, **filters) -> list[dict]:
    return client.call("find", {"scope": SCOPE, **filters})["elements"]


def test_fill_the_web_form_by_refs(client, chromium):
    entry = find(client, role="entry", name="Name")[0]
    typed = client.call("type_text", {"ref": entry["ref"], "text": "Ada Lovelace"})

    def name_typed() -> bool:
        text = client.call("read_text", {"ref": entry["ref"]})["text"]
        assert text == "Ada Lovelace", f"the field reads {text!r} after {typed}"
        return True

    assert wait_until(name_typed, what="name typed")

    box = find(client, role="check box", name="Gift wrap")[0]
    client.call("set_value", {"ref": box["ref"], "value": "true"})
    assert wait_until(
        lambda: "checked" in find(client, role="check box", name="Gift wrap")[0]["states"], what="checked"
    )

    text = client.text("snapshot", {"scope": SCOPE, "query": "order"})
    assert re.search(r'\n *heading "Order form" \[ref=e\d+\]\n', text)
