"""Characters of text a model reads per observation result: this checkout's server against another build
of cua-mcp (e.g. a checkout of the release before contract v2), on the same sandbox desktop in one run.

    .venv/bin/python -m benchmarks.text_sizes --before /path/to/other/checkout/.venv/bin/cua-mcp

Both servers attach to one sandbox with mousepad and gtk3-widget-factory; each call is made on both and
the lengths of their text blocks compared (images are not counted).
"""

from __future__ import annotations

import argparse
import time

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import wait_for_app, wait_until
from tests.support.mcp_client import CUA_MCP, McpServerProcess, bus_env, error_text

CALLS = [
    ("snapshot (mousepad focused)", "snapshot", {}),
    ("snapshot gtk3-widget-factory", "snapshot", {"scope": "gtk3-widget-factory"}),
    ("find check boxes", "find", {"scope": "gtk3-widget-factory", "role": "check box"}),
    ("find, no match", "find", {"scope": "gtk3-widget-factory", "role": "push button", "name": "Nothing"}),
    ("wait_for a menu", "wait_for", {"role": "menu", "name": "File", "timeout": 5}),
    ("screen_info", "screen_info", {}),
    ("list_windows", "list_windows", {}),
    ("activate_window", "activate_window", {"window": "Mousepad"}),
    ("clipboard_set", "clipboard_set", {"text": "hello"}),
    ("clipboard_get", "clipboard_get", {}),
    ("screenshot caption", "screenshot", {"format": "jpeg"}),
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--before", required=True, help="the other build's cua-mcp executable")
    args = parser.parse_args()
    with SandboxSession(SandboxConfig()) as session:
        session.launch("gtk3-widget-factory")
        wait_for_app(session, "gtk3-widget-factory")
        session.launch("mousepad")
        wait_for_app(session, "mousepad")
        servers = {}
        for label, command in (("before", args.before), ("after", CUA_MCP)):
            servers[label] = McpServerProcess(["--display", session.display], bus_env(session), command=command).start()
        try:
            after = servers["after"]
            wait_until(lambda: "Mousepad" in after.text("snapshot"), timeout=30, what="mousepad focused")
            time.sleep(2)  # let both apps settle
            rows = ["| result | before (chars) | after (chars) | after / before |", "|---|---|---|---|"]
            total = {"before": 0, "after": 0}
            for label, tool, arguments in CALLS:
                sizes = {}
                for which, server in servers.items():
                    result = server.call_raw(tool, arguments)
                    sizes[which] = len(error_text(result))
                    total[which] += sizes[which]
                rows.append(
                    f"| {label} | {sizes['before']} | {sizes['after']} | {sizes['after'] / sizes['before']:.2f} |"
                )
            rows.append(
                f"| all of them | {total['before']} | {total['after']} | {total['after'] / total['before']:.2f} |"
            )
            print("\n".join(rows))
        finally:
            for server in servers.values():
                server.close()


if __name__ == "__main__":
    main()
