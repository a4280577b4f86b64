"""Choosing a menu item by its path of names ("File > Save As..."), through the accessibility tree:
the window's menu bar items, then each menu's items, opened one after the other as a person would."""

from __future__ import annotations

import asyncio
import re

from cua_mcp.accessibility.elements import best_match
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import InvalidArgumentError

_FILL_S = 3.0  # how long a menu may take to fill in its items once opened (LibreOffice fills them late)
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
    chosen = [current.name.strip()]
    try:
        for part in parts[1:]:
            await press(a11y, current)  # opens the menu, which fills it in some toolkits
            items = await _items(a11y, current)
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
    """Click the element's centre once it shows, as a person would; its own action if it never shows.

    A click rather than the accessible action: an app that runs a dialog from an action invoked over
    accessibility stops answering accessibility calls until that dialog closes (mousepad's Save As)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _FILL_S
    while True:
        try:
            now, (x, y) = await a11y.centre(node.ref)
            if "showing" not in now.states:
                raise InvalidArgumentError("not showing yet")
        except InvalidArgumentError:  # no box yet, or its popup is not mapped yet: a menu still opening
            if loop.time() >= deadline:
                await a11y.do_action(node.ref, None)
                return
            await asyncio.sleep(0.05)
            continue
        await a11y.desktop.click(x, y)
        return


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
