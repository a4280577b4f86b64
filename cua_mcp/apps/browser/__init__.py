"""Chromium through its DevTools protocol (Playwright), as a plain Python API: no MCP here."""

from cua_mcp.apps.browser.chromium import Acted, Browser, FormField, Opened, PageText, Tab
from cua_mcp.apps.browser.urls import check_url

__all__ = ["Acted", "Browser", "FormField", "Opened", "PageText", "Tab", "check_url"]
