"""The one place that composes the server: which tool modules serve which desktop."""

from __future__ import annotations

from collections.abc import Collection

from mcp.server import MCPServer

from cua_mcp import __version__
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.apps.office import Office
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.tools import accessibility, clipboard, files, input, launch, office, screen, shell, windows
from cua_mcp.tools._registry import CallObserver, ToolRegistrar

INSTRUCTIONS = """\
You control a Linux desktop. Look with `screenshot` (its pixels are the coordinate space every x/y
argument uses; `screen_info` tells its size) or read it as named elements with `snapshot` or `find`
(each line has a ref like e12). Act with `click`, `type_text`, `press_keys`, `scroll` and `drag` (by
x/y or by ref), `set_value` and `element_action`; manage windows with `list_windows`,
`activate_window` and `window_op`; start apps with `launch`; move text with `clipboard_get` and
`clipboard_set`; exchange files through the workspace with `read_file`, `write_file`, `list_files`.
Look again after acting to check the effect. Errors say what to do next."""
OFFICE_INSTRUCTIONS = """
For LibreOffice documents prefer the office tools (`office_info`, `office_open`, `office_save`,
`calc_*`, `writer_*`, `impress_*`): they read and change a document through LibreOffice's own API
in one call, where clicking and typing take many."""


def build_server(
    desktop: Desktop,
    *,
    groups: Collection[str] | None = None,
    log_level: str = "WARNING",
    observer: CallObserver | None = None,
    a11y_backend: str = "dbus",
) -> tuple[MCPServer, ToolRegistrar]:
    """An MCP server whose tools act on `desktop`; the registrar holds the tool catalog.

    `groups` are the enabled tool groups (see `server.policy`); `observer` hears of every call
    (the audit log and the live view's list of recent calls, see `server.recording`)."""
    server = MCPServer(
        "cua-mcp",
        title="cua-mcp: a Linux desktop for computer-use agents",
        version=__version__,
        instructions=INSTRUCTIONS + (OFFICE_INSTRUCTIONS if groups is None or "office" in groups else ""),
        log_level=log_level,  # type: ignore[arg-type]
    )
    registrar = ToolRegistrar(server, groups, observer)
    # The server's LibreOffice: `launch` of a LibreOffice app starts it, the office tools drive it, and
    # snapshots read its sheets' visible cells through it.
    soffice = Office(desktop.launcher) if "office" in registrar.groups else None
    # One accessibility client per desktop: it holds the refs that stay valid across snapshots.
    a11y = Accessibility(desktop, a11y_backend, sheets=soffice)
    screen.register(registrar, desktop, a11y)
    input.register(registrar, desktop, a11y)
    accessibility.register(registrar, a11y)
    launch.register(registrar, desktop, soffice)
    if soffice is not None:
        office.register(registrar, soffice)
    for module in (windows, clipboard, files, shell):
        module.register(registrar, desktop)
    return server, registrar
