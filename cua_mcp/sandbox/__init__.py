"""The desktop itself, as a plain Python API that knows nothing of MCP."""

from cua_mcp.sandbox.desktop import Desktop, ScreenInfo, Screenshot
from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from cua_mcp.sandbox.space import AgentSpace

__all__ = ["AgentSpace", "Desktop", "SandboxConfig", "SandboxSession", "ScreenInfo", "Screenshot"]
