#!/usr/bin/env python3
"""Run the attacks of tests/support/attacks.py against real servers and print the README's
security table (Markdown): each attack, its attempts, and how many got out.

    .venv/bin/python scripts/security_attacks.py [--calls 100]

Servers it starts (and stops): one on its own sandbox desktop with every group on and a token in
its environment; one with the default groups; one attached to a desktop started as Debian starts
one (bus socket in /tmp). A second sandbox desktop is the "other display". Exit status 1 if any
attack got out. To add a row, add an attack to tests/support/attacks.py and call it below.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support import attacks
from tests.support.mcp_client import McpServerProcess
from tests.support.processes import child_server_pid


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100, help="calls of each file tool during the symlink race")
    args = parser.parse_args()
    token = secrets.token_urlsafe(16)
    outcomes: list[attacks.Outcome] = []
    with tempfile.TemporaryDirectory(prefix="cua-attacks-") as scratch:
        root = Path(scratch)
        workspace, outside = root / "workspace", root / "outside"
        workspace.mkdir()
        outside.mkdir()
        shell_args = ["--allow", "shell", "--workspace", str(workspace)]
        with McpServerProcess(shell_args, env={"CUA_MCP_TOKEN": token}) as shell:
            server_pid = child_server_pid()
            outcomes += attacks.symlink_race(shell, workspace, outside, args.calls)
            outcomes += attacks.fifo_starvation(shell, workspace)
            outcomes.append(attacks.huge_line(shell, workspace, server_pid))
            outcomes.append(attacks.host_secrets(shell))
            outcomes.append(attacks.token_in_environment(shell, token))
            with SandboxSession(SandboxConfig(width=640, height=480, window_manager="none")) as other:
                outcomes.append(attacks.other_displays(shell, other.display))
        with McpServerProcess(["--workspace", str(workspace)]) as default:
            outcomes.append(attacks.terminal_without_shell(default))
            outcomes.append(attacks.app_file_arguments(default))
        with attacks.DebianDesktop() as debian:
            env = {"DBUS_SESSION_BUS_ADDRESS": debian.env["DBUS_SESSION_BUS_ADDRESS"]}
            with McpServerProcess(["--display", debian.display, *shell_args], env=env) as attached:
                marker = Path(f"/tmp/cua-host-only-{secrets.token_hex(4)}")
                marker.write_text("host secret")
                try:
                    outcomes.append(attacks.attached_tmp(attached, marker))
                finally:
                    marker.unlink()
    print(attacks.TABLE_HEADER)
    for outcome in outcomes:
        print(outcome.row())
    return 1 if any(o.escapes for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
