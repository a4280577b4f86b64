"""Menus and file dialogs in one call: menu_select, file_dialog."""

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from cua_mcp.accessibility import file_dialog as file_dialogs
from cua_mcp.accessibility.menus import select_menu
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.sandbox.window_match import select_window
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._report import ActionReporter, ActionResult, Done, Observe, Settle


def register(tools: ToolRegistrar, a11y: Accessibility, report: ActionReporter) -> None:
    desktop = a11y.desktop

    @tools.tool(group="input", title="Choose a menu item", read_only=False, destructive=True)
    async def menu_select(
        path: Annotated[
            str,
            Field(
                min_length=3,
                max_length=300,
                description="Menu names from the menu bar down, separated by '>': 'File > Save As...', "
                "'Format > Text > Bold'. Any case; dots and underscores may be left out.",
            ),
        ],
        window: Annotated[
            str | None,
            Field(max_length=200, description="A window id or part of its title (default: the active window)."),
        ] = None,
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Open a window's menus by their names and activate the item, in one call (GTK apps, LibreOffice).
        A name that is not there gets the list of what the menu has. Answers with the window or dialog
        that follows, e.g. the Save As dialog (answer that with file_dialog)."""

        async def act() -> Done:
            scope = "focused_window"
            if window is not None:
                target = select_window(await desktop.list_windows(), window)
                await desktop.window_request(target.id, "activate")
                scope = f"window:{target.id}"
            return Done(await select_menu(a11y, path, scope))

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Answer a file dialog", read_only=False, destructive=True)
    async def file_dialog(
        path: Annotated[
            str,
            Field(min_length=1, max_length=4096, description="The file's path, best absolute: /root/notes.txt."),
        ],
        overwrite: Annotated[
            bool, Field(description="Replace the file if it exists (else the call reports that it exists).")
        ] = False,
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Answer the open or save dialog that is showing (GTK's, also LibreOffice's) with a path: puts it in
        the location field, confirms, and replaces an existing file only with overwrite=true. Answers once the
        dialog closed, with the window that follows (an app may then ask about the file format)."""

        async def act() -> Done:
            return Done(await file_dialogs.answer(a11y, path, overwrite))

        return await report.run(act, settle, observe)
