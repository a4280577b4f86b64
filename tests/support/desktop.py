"""Test helpers around a real sandbox desktop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from cua_mcp.sandbox.session import SandboxSession

PROBE = Path(__file__).with_name("atspi_probe.py")


def atspi(session: SandboxSession, *args: str, timeout: float = 20) -> object:
    """Run the pyatspi probe against the session's accessibility bus and decode its JSON.

    It runs as the desktop's own user when the desktop has one: run as root, pyatspi loses the apps of a
    desktop whose apps run as that user (their names read empty, their trees unreachable)."""
    user = getattr(session, "user", None)
    as_user = [] if user is None else ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups"]
    out = subprocess.run(
        [*as_user, sys.executable, str(PROBE), *args],
        env=session.env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if out.returncode != 0:
        raise AssertionError(f"atspi probe {args} failed: {out.stderr.strip()[-500:]}")
    return json.loads(out.stdout)


def wait_until(predicate, timeout: float = 10, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = predicate()
            if value:
                return value
        except AssertionError as exc:
            last_error = exc
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}" + (f": {last_error}" if last_error else ""))


def wait_for_app(session: SandboxSession, name: str, timeout: float = 20) -> None:
    wait_until(lambda: name.lower() in [a.lower() for a in atspi(session, "apps")], timeout, 0.2, f"app {name}")


def mousepad_text(session: SandboxSession) -> str:
    """The text of the mousepad document, read through AT-SPI."""
    return atspi(session, "text", "mousepad")


def desktop_owned(session: SandboxSession, path: Path, text: str | None = None) -> Path:
    """Make a folder (or, with `text`, a file) under the sandbox's HOME owned by the desktop's user, as if
    its apps had made it: they run as that user and cannot write what root made."""
    home = Path(session.env["HOME"])
    folder = path if text is None else path.parent
    folder.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_text(text)
    user = getattr(session, "user", None)
    if user is not None:
        for part in [path, *path.parents]:
            if part == home or home not in part.parents:
                break
            os.chown(part, user, user)
    return path
