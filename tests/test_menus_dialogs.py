"""Menus by name and GTK file dialogs in one call each (mousepad), checked on disk and through pyatspi."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.apps import home_file
from tests.support.desktop import atspi, mousepad_text, wait_until
from tests.support.mcp_client import error_text, model_text

SAVES = 10


def act(client, name: str, arguments: dict) -> str:
    result = client.call_raw(name, arguments, timeout=120)
    assert not result.is_error, f"{name}({arguments}): {error_text(result)}"
    return model_text(result)


def failure(client, name: str, arguments: dict) -> str:
    result = client.call_raw(name, arguments, timeout=120)
    assert result.is_error, f"{name}({arguments}) should fail: {error_text(result)}"
    return error_text(result)


@pytest.fixture(scope="module")
def home(mousepad) -> Path:
    return Path(mousepad.env["HOME"])


def document(client) -> str:
    return client.call("find", {"role": "text", "states": ["editable"]})["elements"][0]["ref"]


def test_save_as_through_the_dialog_ten_times_in_a_row(client, mousepad, home):
    folder = home_file(mousepad, "nested/deeper/.keep", "").parent
    for run in range(SAVES):
        # Without a newline the text is inserted through accessibility; typed, characters the keyboard
        # lacks change the keymap, after which mousepad can miss the next click on its menu bar.
        act(client, "type_text", {"ref": document(client), "text": f"run {run}: héllo wörld € 日本. "})
        text = act(client, "menu_select", {"path": "File > Save As..."})
        assert "Active window: 'Save As'" in text, text
        target = folder / f"note-{run}.txt"
        text = act(client, "file_dialog", {"path": str(target)})
        assert "Closed: 'Save As'" in text and f"note-{run}.txt - Mousepad" in text, text
        assert wait_until(lambda t=target: t.exists() and t.read_text() == mousepad_text(mousepad), what="the file")
    assert (folder / f"note-{SAVES - 1}.txt").read_text().count("héllo wörld € 日本") == SAVES


def test_an_existing_file_is_replaced_only_with_overwrite(client, mousepad, home):
    target = home_file(mousepad, "existing.txt", "keep me\n")
    act(client, "type_text", {"ref": document(client), "text": "new words. "})
    act(client, "menu_select", {"path": "file > save as"})
    message = failure(client, "file_dialog", {"path": str(target)})
    assert "already exists" in message and "overwrite=true" in message
    assert target.read_text() == "keep me\n"
    text = act(client, "file_dialog", {"path": str(target), "overwrite": True})
    assert "Closed: 'Save As'" in text
    assert wait_until(lambda: "new words" in target.read_text(), what="the replaced file")


def test_a_missing_folder_is_reported_and_the_dialog_stays(client, mousepad, home):
    act(client, "menu_select", {"path": "File > Save As..."})
    message = failure(client, "file_dialog", {"path": str(home / "no-such-folder" / "x.txt")})
    assert "No such file or directory" in message and "still open" in message
    assert not (home / "no-such-folder").exists()
    act(client, "press_keys", {"keys": "Escape"})


def test_open_a_nested_file_through_the_open_dialog(client, mousepad, home):
    nested = home_file(mousepad, "a/b/c/deep.txt", "from deep inside\n").parent
    text = act(client, "menu_select", {"path": "File > Open..."})
    assert "Open" in text
    text = act(client, "file_dialog", {"path": str(nested / "deep.txt")})
    assert "deep.txt - Mousepad" in text, text
    assert atspi(mousepad, "find", "mousepad", "page tab", "deep.txt")


def test_menu_names_are_matched_loosely_and_a_wrong_one_lists_the_menu(client, mousepad):
    message = failure(client, "menu_select", {"path": "File > Frobnicate"})
    assert "no 'Frobnicate'" in message and "Save As..." in message
    message = failure(client, "menu_select", {"path": "Gadgets > Thing"})
    assert "the menu bar has no 'Gadgets'" in message and "Edit" in message
    assert "Select All" in act(client, "menu_select", {"path": "EDIT > select-all"})


def test_file_dialog_without_a_dialog_says_how_to_open_one(client, mousepad):
    assert "no file dialog" in failure(client, "file_dialog", {"path": "/tmp/x.txt"})


@pytest.mark.parametrize("path", ["/tmp/a\nb.txt", "/tmp/\x00.txt", "   "])
def test_a_path_that_is_not_one_line_is_refused(client, mousepad, path):
    message = failure(client, "file_dialog", {"path": path})
    assert "one line" in message or "NUL character" in message  # the server refuses NUL in every argument


def test_an_action_whose_element_goes_away_is_done(client, mousepad):
    act(client, "press_keys", {"keys": "ctrl+shift+s"})
    cancel = wait_until(
        lambda: client.call("find", {"role": "push button", "name": "Cancel"})["elements"], what="the Cancel button"
    )[0]["ref"]
    text = act(client, "element_action", {"ref": cancel})
    assert f"{cancel}: it is gone now" in text and "Closed: 'Save As'" in text
