"""Filling a GTK form by refs (gtk3-widget-factory) and reading the values back."""

from __future__ import annotations

import pytest

from tests.support.desktop import wait_for_app, wait_until


@pytest.fixture(scope="module")
def factory(session, client):
    session.launch("gtk3-widget-factory")
    wait_for_app(session, "gtk3-widget-factory")
    wait_until(
        lambda: client.call("find", {"role": "spin button", "scope": "gtk3-widget-factory"})["elements"],
        what="widget factory controls",
    )
    return session


def first(client, **filters) -> dict:
    found = client.call("find", {"scope": "gtk3-widget-factory", **filters})["elements"]
    enabled = [e for e in found if "enabled" in e["states"]]
    assert enabled, f"nothing enabled matches {filters}"
    return enabled[0]


def test_fill_a_form_by_refs_and_read_it_back(client, factory):
    entry = first(client, role="text", states=["editable", "single line"])
    client.call("set_value", {"ref": entry["ref"], "value": "Ada Lovelace"})
    assert client.call("read_text", {"ref": entry["ref"]})["text"] == "Ada Lovelace"

    spin = first(client, role="spin button")
    done = client.call("set_value", {"ref": spin["ref"], "value": "42"})
    assert done["element"].endswith("= 42"), done["element"]

    box = next(
        e
        for e in client.call("find", {"scope": "gtk3-widget-factory", "role": "check box"})["elements"]
        if "enabled" in e["states"] and "checked" not in e["states"] and "indeterminate" not in e["states"]
    )
    done = client.call("set_value", {"ref": box["ref"], "value": "true"})
    assert " checked" in done["element"]  # read back before the reply


def test_click_by_ref_runs_the_default_action(client, factory):
    toggle = next(
        e
        for e in client.call("find", {"scope": "gtk3-widget-factory", "role": "toggle button", "name": "togglebutton"})[
            "elements"
        ]
        if "enabled" in e["states"] and "checked" not in e["states"]
    )
    result = client.call("click", {"ref": toggle["ref"]})
    assert "ran" in result["done"]
    message = client.error("element_action", {"ref": toggle["ref"], "action": "nonsense"})
    assert "its actions are" in message


def test_choose_in_a_combo_box_by_name(client, factory):
    combo = first(client, role="combo box", name="Left")
    client.call("set_value", {"ref": combo["ref"], "value": "Right"})
    assert wait_until(
        lambda: client.call("find", {"scope": "gtk3-widget-factory", "role": "combo box", "name": "Right"})["elements"],
        what="Right chosen",
    )
    message = client.error("set_value", {"ref": combo["ref"], "value": "Sideways"})
    assert "its choices are" in message and "Middle" in message
