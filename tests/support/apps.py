"""Starting the heavier apps the accessibility tests read: LibreOffice Calc with data, Chromium with a page."""

from __future__ import annotations

import subprocess
from pathlib import Path

from cua_mcp.apps.office.instance import QUIET_PROFILE
from cua_mcp.sandbox.session import SandboxSession

CALC_ROWS = [("name", "qty", "price")] + [(f"item{i}", str(i), f"{i * 1.5:g}") for i in range(1, 31)]

PAGE = """<!doctype html><html><head><title>Order form</title></head><body>
<h1>Order form</h1>
<p>Fill in the order and press Send.</p>
<label>Name <input id="name" type="text"></label>
<label><input id="gift" type="checkbox"> Gift wrap</label>
<button id="send">Send</button>
<a href="#details">Details</a>
</body></html>
"""


def launch_calc(session: SandboxSession) -> subprocess.Popen:
    """LibreOffice Calc showing a small sheet of data (a CSV opened without the import dialog)."""
    profile = Path(session.env["HOME"]) / ".config/libreoffice/4/user"
    profile.mkdir(parents=True, exist_ok=True)
    (profile / "registrymodifications.xcu").write_text(QUIET_PROFILE)  # no tip-of-the-day dialog over the sheet
    data = Path(session.env["HOME"]) / "orders.csv"
    data.write_text("".join(",".join(row) + "\n" for row in CALC_ROWS))
    return session.launch(["localc", "--norestore", "--nologo", "--infilter=CSV:44,34,UTF8", str(data)])


def launch_chromium(session: SandboxSession) -> subprocess.Popen:
    """Chromium on a local page (the sandbox adds the flags that make it accessible)."""
    page = Path(session.env["HOME"]) / "order.html"
    page.write_text(PAGE)
    return session.launch(
        [
            "chromium",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--password-store=basic",
            f"--user-data-dir={session.env['HOME']}/chromium",
            f"file://{page}",
        ]
    )
