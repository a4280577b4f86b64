"""Setters do what the model means and say what they did (gtk3-widget-factory), read back through pyatspi."""

from __future__ import annotations

import pytest

from cua_mcp.accessibility.elements import best_match
from tests.support.desktop import atspi, wait_for_app, wait_until
from tests.support.mcp_client import error_text

APP = "gtk3-widget-factory"


@pytest.fixture(scope="module")
def factory(session, client):
    session.launch(APP)
    wait_for_app(session, APP)
    wait_until(lambda: client.call("find", {"role": "spin button", "scope": APP})["elements"], what="its controls")
    return session


def enabled(client, role: str, **filters) -> list[dict]:
    found = client.call("find", {"scope": APP, "role": role, **filters})["elements"]
    return [e for e in found if "enabled" in e["states"]]


def set_value(client, ref: str, value: str) -> str:
    result = client.call_raw("set_value", {"ref": ref, "value": value})
    assert not result.is_error, error_text(result)
    return result.content[0].text


def element_line(text: str) -> str:
    """The acted-on element's line in an action's answer."""
    return next(line for line in text.splitlines() if line.startswith("Element now: "))


def values(session, role: str) -> list[list]:
    return atspi(session, "values", APP, role)


def test_a_spin_button_value_is_committed(client, factory):
    spin = enabled(client, "spin button")[0]
    text = set_value(client, spin["ref"], "42")
    assert text.startswith("Set the value to 42.") and "42" in element_line(text)
    # The widget's own adjustment holds it, not only the field's text.
    assert wait_until(lambda: any(v == 42 for _, _, v in values(factory, "spin button")), what="42 committed")


def test_a_slider_takes_a_number_within_its_range(client, factory):
    slider = enabled(client, "slider")[0]
    set_value(client, slider["ref"], "30")
    assert wait_until(lambda: any(v == 30 for _, _, v in values(factory, "slider")), what="the slider at 30")
    message = client.error("set_value", {"ref": slider["ref"], "value": "1e9"})
    assert "takes" in message and "not 1e+09" in message


def test_a_check_box_state_is_read_back_before_the_reply(client, factory):
    box = next(e for e in enabled(client, "check box") if "checked" not in e["states"])
    text = set_value(client, box["ref"], "true")
    assert " checked" in element_line(text)
    assert any("checked" in states for name, states, _ in values(factory, "check box") if name == box["name"])
    text = set_value(client, box["ref"], "off")
    assert " checked" not in element_line(text)


def test_a_combo_box_choice_matches_any_case(client, factory):
    combo = enabled(client, "combo box", name="Left")[0]
    set_value(client, combo["ref"], "rIGHT")
    assert wait_until(lambda: atspi(factory, "find", APP, "combo box", "Right"), what="Right chosen")
    message = client.error("set_value", {"ref": combo["ref"], "value": "Sideways"})
    assert "its choices are" in message and "Middle" in message


@pytest.mark.parametrize(
    ("wanted", "names", "index"),
    [
        ("top left", ["Top-Right", "Top-Left"], 1),
        ("Top–Left", ["top left"], 0),  # an en dash
        ("save as", ["Save", "Save _As…"], 1),
        ("Save As...", ["Save As…      "], 0),
        ("zoom", ["Zoom In", "Zoom Out"], 0),
        ("nothing", ["Zoom In"], None),
    ],
)
def test_names_match_ignoring_case_dashes_spaces_and_dots(wanted, names, index):
    assert best_match(names, wanted) == index
