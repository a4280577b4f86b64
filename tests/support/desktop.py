"""Test helpers around a real sandbox desktop."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from cua_mcp.sandbox import confine
from cua_mcp.sandbox.session import SandboxSession

PROBE = Path(__file__).with_name("atspi_probe.py")


def as_desktop_user(session: SandboxSession, argv: list[str]) -> list[str]:
    """`argv` run as the user the desktop's apps run as: libatspi (pyatspi) reads an app's tree only
    as the app's own user, and a root server's sandbox runs its apps as an unprivileged one."""
    return argv if session.user is None else [*confine.as_user(session.user), *argv]


def atspi(session: SandboxSession, *args: str, timeout: float = 20) -> object:
    """Run the pyatspi probe against the session's accessibility bus and decode its JSON."""
    out = subprocess.run(
        as_desktop_user(session, [sys.executable, str(PROBE), *args]),
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
