"""App APIs as plain Python (LibreOffice through UNO, Chromium through DevTools): nothing of MCP here."""
