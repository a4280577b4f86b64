"""Starting the heavier apps the accessibility tests read: LibreOffice Calc with data, Chromium with a page."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from cua_mcp.sandbox.session import SandboxSession

# A fresh profile shows a tip-of-the-day dialog over the sheet; these keys turn it off.
_LIBREOFFICE_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

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


def home_file(session: SandboxSession, relative: str, text: str) -> Path:
    """Write a file under the desktop's HOME, it and its new folders owned by the desktop's user (the
    apps of a root server's sandbox run as an unprivileged one and must be able to write there too)."""
    home = Path(session.env["HOME"])
    path = home / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if session.user is not None:
        for part in [path, *path.relative_to(home).parents]:
            os.chown(home / part, session.user, -1)
    return path


def launch_calc(session: SandboxSession) -> subprocess.Popen:
    """LibreOffice Calc showing a small sheet of data (a CSV opened without the import dialog)."""
    home_file(session, ".config/libreoffice/4/user/registrymodifications.xcu", _LIBREOFFICE_PROFILE)
    data = home_file(session, "orders.csv", "".join(",".join(row) + "\n" for row in CALC_ROWS))
    return session.launch(["localc", "--norestore", "--nologo", "--infilter=CSV:44,34,UTF8", str(data)])


def launch_chromium(session: SandboxSession) -> subprocess.Popen:
    """Chromium on a local page (the sandbox adds the flags that make it accessible)."""
    page = home_file(session, "order.html", PAGE)
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
