"""Accessibility: AT-SPI snapshots, element refs, text and OSWorld formats, element actions.

Plain Python, no MCP: `Accessibility` is the async API one desktop's tools use; the backends beside
`backend.Backend` read trees (`dbus_backend`, the fast default; `pyatspi_backend`, the reference).
"""

from cua_mcp.accessibility.model import AppInfo, Node, Snapshot
from cua_mcp.accessibility.refs import RefTable
from cua_mcp.accessibility.service import BACKENDS, Accessibility

__all__ = ["BACKENDS", "Accessibility", "AppInfo", "Node", "RefTable", "Snapshot"]
