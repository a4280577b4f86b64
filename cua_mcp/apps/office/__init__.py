"""LibreOffice through UNO: the instance the server starts and the helper process that speaks UNO."""

from cua_mcp.apps.office.instance import FORMATS, Office

__all__ = ["FORMATS", "Office"]
