"""Chromium through its DevTools protocol (Playwright), as a plain Python API: no MCP here."""

from cua_mcp.apps.browser.chromium import Acted, Browser, FormField, Opened, Tab
from cua_mcp.apps.browser.urls import check_url

__all__ = ["Acted", "Browser", "FormField", "Opened", "Tab", "check_url"]
