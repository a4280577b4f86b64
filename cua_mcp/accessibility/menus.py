"""Choosing a menu item by its path of names ("File > Save As..."), through the accessibility tree:
the window's menu bar items, then each menu's items, opened one after the other as a person would."""

from __future__ import annotations

import asyncio
import re

from cua_mcp.accessibility.elements import best_match
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import AccessibilityError, InvalidArgumentError

_FILL_S = 3.0  # how long a menu may take to fill in its items once opened (LibreOffice fills them late)
# How long a clicked menu may take to show its items: mousepad took 1.7 s after a keymap change
# (typing characters the keyboard lacks), 0.1 s otherwise.
_OPEN_S = 3.0
_DIALOG_S = 3.0  # how long a "..." item's dialog may take to open
_MENU_ROLES = ("menu", "menu item", "check menu item", "radio menu item")


def parse_path(path: str) -> list[str]:
    parts = [part.strip() for part in re.split(r">", path)]
    if len(parts) < 2 or not all(parts):
        raise InvalidArgumentError(
            f"menu path {path!r} needs a menu and an item separated by '>', e.g. 'File > Save As...'."
        )
    return parts


async def select_menu(a11y: Accessibility, path: str, scope: str = "focused_window") -> str:
    """Open the menus along `path` in the window `scope` names and activate the last item; what was chosen."""
    parts = parse_path(path)
    snap = await a11y.snapshot(scope, cells=False)
    nodes = [node for node, _ in snap.nodes()]
    bars = [node for node in nodes if node.role == "menu bar"]
    tops = [child for bar in bars for child in bar.children if child.role in _MENU_ROLES]
    if not tops:
        raise InvalidArgumentError(f"{snap.scope} has no menu bar: use press_keys or click its menu button instead.")
    current = _pick(tops, parts[0], "the menu bar")
    # Typing may have left scratch key bindings that are undone half a second later; that keymap
    # change, landing while a menu opens, can close it. Undo them first.
    await a11y.desktop.restore_keymap()
    chosen = [current.name.strip()]
    try:
        for part in parts[1:]:
            items = await _open(a11y, current)
            current = _pick(items, part, f"menu {' > '.join(chosen)}")
            chosen.append(current.name.strip())
        if current.role == "menu":
            names = ", ".join(i.name.strip() for i in await _items(a11y, current))
            raise InvalidArgumentError(f"{' > '.join(chosen)} is a submenu; name one of its items: {names}.")
        windows = {w.id for w in await a11y.desktop.list_windows()}
        await press(a11y, current)
        if current.name.strip().endswith(("...", "…")):
            await _dialog_opened(a11y, windows)
    except BaseException:
        await a11y.desktop.press_keys("Escape Escape Escape")  # leave no menu open behind an error
        raise
    return f"chose {' > '.join(chosen)}"


async def press(a11y: Accessibility, node: Node) -> None:
    """Click the element's centre once it shows, as a person would.

    A click rather than the accessible action: an app that runs a dialog from an action invoked over
    accessibility stops answering accessibility calls until that dialog closes (mousepad's Save As)."""
    if not await _showing(a11y, node, _FILL_S):
        raise AccessibilityError(f"{node.name.strip()!r} did not show on screen: take a snapshot and click it.")
    _, (x, y) = await a11y.centre(node.ref)
    # Showing is reported once the popup is mapped, maybe before the X server has it in place.
    await a11y.desktop.settle(_FILL_S)
    await a11y.desktop.click(x, y)


async def _open(a11y: Accessibility, menu: Node) -> list[Node]:
    """Open a menu by clicking it, or by its own action if the click did not open it. Its items."""
    await press(a11y, menu)
    items = await _items(a11y, menu)
    if not (items and await _showing(a11y, items[0], _OPEN_S)):
        await a11y.do_action(menu.ref, None)  # opening a menu runs no dialog: the action is safe here
    return items or await _items(a11y, menu)


async def _showing(a11y: Accessibility, node: Node, timeout: float) -> bool:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        try:
            now, _ = await a11y.centre(node.ref)
            if "showing" in now.states:
                return True
        except InvalidArgumentError:  # no box yet: its popup is still opening
            pass
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.05)


async def _dialog_opened(a11y: Accessibility, before: set[int]) -> None:
    """An item named with "..." opens a dialog, which may take longer than the screen takes to settle."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _DIALOG_S
    while loop.time() < deadline:
        if any(w.active and w.id not in before for w in await a11y.desktop.list_windows()):
            return
        await asyncio.sleep(0.05)


async def _items(a11y: Accessibility, menu: Node) -> list[Node]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _FILL_S
    while True:
        items = [c for c in await a11y.children(menu) if c.role in _MENU_ROLES and c.name]
        if items or loop.time() >= deadline:
            return items
        await asyncio.sleep(0.05)


def _pick(items: list[Node], name: str, where: str) -> Node:
    index = best_match([item.name for item in items], name)
    if index is None:
        names = ", ".join(item.name.strip() for item in items) or "nothing"
        raise InvalidArgumentError(f"{where} has no {name!r}; it has: {names}.")
    return items[index]
