"""Answering the GTK open or save dialog that is showing with a path, in one step.

The path goes into the dialog's location field through accessibility (no typing: the field's
completion popup cannot swallow keys), the dialog's own Save/Open button is pressed by its action,
and the outcome is watched: the dialog closes, or GTK asks whether to replace an existing file
(answered only when `overwrite`), or the dialog stays open and says why."""

from __future__ import annotations

import asyncio

from cua_mcp.accessibility.elements import comparable
from cua_mcp.accessibility.menus import press
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import AccessibilityError, CuaError, FileExistsInDialogError, InvalidArgumentError

_CONFIRM = ("save", "open", "select", "export", "insert", "ok")
_REPLACE = "replace"
_APPEAR_S = 3.0  # for the location field to appear after ctrl+L, and for the dialog to answer
_CLOSE_S = 10.0  # for the dialog to close once confirmed (a slow app writing its file)


async def answer(a11y: Accessibility, path: str, overwrite: bool) -> str:
    """Put `path` in the showing file dialog and confirm it; what happened."""
    if not path.strip() or any(ord(c) < 32 for c in path):
        raise InvalidArgumentError("path must be a file path on one line, e.g. /root/workspace/report.txt.")
    desktop = a11y.desktop
    dialog = next((w for w in await desktop.list_windows() if w.active), None)
    snap = await a11y.snapshot("focused_window", cells=False)
    nodes = [node for node, _ in snap.nodes()]
    if dialog is None or not any(n.role == "file chooser" for n in nodes):
        raise InvalidArgumentError(
            "no file dialog is the active window: open one first (menu_select 'File > Save As...' or ctrl+s / "
            "ctrl+o), or activate_window it." + "".join(f" ({note})" for note in snap.notes)
        )
    field = _location_field(nodes)
    if field is None:  # an Open dialog hides its location field until asked
        await desktop.press_keys("ctrl+l")
        field = await _poll(a11y, _location_field)
        if field is None:
            raise AccessibilityError("the file dialog shows no location field, even after ctrl+L: type the path.")
    await a11y.set_value(field.ref, path)
    button = await _poll(a11y, _confirm_button)  # GTK enables it once it has seen the new text
    if button is None:
        raise AccessibilityError("the file dialog has no Save or Open button enabled: look at it with snapshot.")
    await press(a11y, button)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _CLOSE_S
    while loop.time() < deadline:
        await asyncio.sleep(0.1)
        windows = await desktop.list_windows()
        if all(w.id != dialog.id for w in windows):
            return f"{button.name.lower()} {path!r}: the dialog closed"
        if any(w.active and w.id != dialog.id for w in windows):
            try:
                await _answer_question(a11y, path, overwrite)
            except CuaError:
                await _until_active(a11y, dialog.id)  # so that the next call finds the file dialog
                raise
    nodes = await _dialog_nodes(a11y)
    said = "; ".join(n.name or n.text or "" for n in nodes if n.role in ("label", "alert") and (n.name or n.text))
    raise AccessibilityError(
        f"the file dialog is still open after {_CLOSE_S:g} s"
        + (f"; it says: {said[:300]}" if said else "")
        + ". A folder path opens the folder: give a file's path, or look with snapshot."
    )


async def _answer_question(a11y: Accessibility, path: str, overwrite: bool) -> None:
    """The dialog asks something in a window of its own: whether to replace the file, or an error."""
    nodes = await _dialog_nodes(a11y)
    replace = _named(nodes, _REPLACE)
    if replace is not None and overwrite:
        await press(a11y, replace)
        return
    said = " ".join(n.name.strip() for n in nodes if n.role in ("label", "alert") and n.name.strip())
    answer = _named(nodes, "cancel") or _named(nodes, "ok") or _named(nodes, "close")
    if answer is None:
        return  # not a question this dialog asked: keep waiting for the dialog to close
    await press(a11y, answer)  # back to the file dialog, ready for another path
    if replace is not None:
        raise FileExistsInDialogError(
            f"{path} already exists and overwrite is false: the dialog is still open. Call file_dialog again with "
            "overwrite=true to replace the file, or with another path."
        )
    raise AccessibilityError(
        f"the file dialog answered: {said[:300] or 'an error'}. It is still open: try another path."
    )


async def _until_active(a11y: Accessibility, window_id: int) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _APPEAR_S
    while loop.time() < deadline:
        if any(w.active and w.id == window_id for w in await a11y.desktop.list_windows()):
            return
        await asyncio.sleep(0.05)


async def _dialog_nodes(a11y: Accessibility) -> list[Node]:
    snap = await a11y.snapshot("focused_window", cells=False)
    return [node for node, _ in snap.nodes()]


async def _poll(a11y: Accessibility, pick) -> Node | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _APPEAR_S
    while loop.time() < deadline:
        found = pick(await _dialog_nodes(a11y))
        if found is not None:
            return found
        await asyncio.sleep(0.1)
    return None


def _location_field(nodes: list[Node]) -> Node | None:
    fields = [
        n
        for n in nodes
        if n.role == "text" and "editable" in n.states and "single line" in n.states and "showing" in n.states
    ]
    # The location field is the one with focus, or the only one (a search field may sit beside it).
    return next((n for n in fields if "focused" in n.states), fields[0] if len(fields) == 1 else None)


def _confirm_button(nodes: list[Node]) -> Node | None:
    buttons = [n for n in nodes if n.role == "push button" and "enabled" in n.states and "showing" in n.states]
    return next((b for word in _CONFIRM for b in buttons if comparable(b.name) == word), None)


def _named(nodes: list[Node], word: str) -> Node | None:
    return next((n for n in nodes if n.role == "push button" and comparable(n.name) == word), None)
