"""The one place that composes the server: which tool modules serve which desktop."""

from __future__ import annotations

from collections.abc import Collection

from mcp.server import MCPServer

from cua_mcp import __version__
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.tools import accessibility, clipboard, elements, files, input, launch, menus, screen, shell, windows
from cua_mcp.tools._registry import CallObserver, ToolRegistrar
from cua_mcp.tools._report import DEFAULT_SETTLE_S, ActionReporter

INSTRUCTIONS = """\
You control a Linux desktop. Look with `screenshot` (its pixels are the coordinate space every x/y
argument uses; `screen_info` tells its size) or read it as named elements with `snapshot` or `find`
(each line has a ref like e12). Act with `click`, `type_text`, `press_keys`, `scroll` and `drag` (by
x/y or by ref), `set_value` and `element_action`; manage windows with `list_windows`,
`activate_window` and `window_op`; start apps with `launch`; move text with `clipboard_get` and
`clipboard_set`; exchange files through the workspace with `read_file`, `write_file`, `list_files`.
Look again after acting to check the effect. Errors say what to do next."""


def build_server(
    desktop: Desktop,
    *,
    groups: Collection[str] | None = None,
    log_level: str = "WARNING",
    observer: CallObserver | None = None,
    a11y_backend: str = "dbus",
    settle_s: float = DEFAULT_SETTLE_S,
) -> tuple[MCPServer, ToolRegistrar]:
    """An MCP server whose tools act on `desktop`; the registrar holds the tool catalog.

    `groups` are the enabled tool groups (see `server.policy`); `observer` hears of every call
    (the audit log and the live view's list of recent calls, see `server.recording`); `settle_s` bounds how
    long an action waits for the screen to stop changing before it answers."""
    server = MCPServer(
        "cua-mcp",
        title="cua-mcp: a Linux desktop for computer-use agents",
        version=__version__,
        instructions=INSTRUCTIONS,
        log_level=log_level,  # type: ignore[arg-type]
    )
    registrar = ToolRegistrar(server, groups, observer)
    # One accessibility client per desktop: it holds the refs that stay valid across snapshots.
    a11y = Accessibility(desktop, a11y_backend)
    screen.register(registrar, desktop, a11y)
    # Every input and element action answers through one reporter: settled screen, focus, windows.
    report = ActionReporter(desktop, a11y, settle_s)
    input.register(registrar, desktop, a11y, report)
    accessibility.register(registrar, a11y)
    elements.register(registrar, a11y, report)
    menus.register(registrar, a11y, report)
    for module in (windows, launch, clipboard, files, shell):
        module.register(registrar, desktop)
    return server, registrar
