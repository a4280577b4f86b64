"""The tool catalog as a Markdown table, generated from the registered tools so the README never drifts.

python -m cua_mcp.server.catalog --display :N     # print the table for a running display
"""

from __future__ import annotations

import argparse

from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.server.app import build_server
from cua_mcp.tools._registry import GROUPS, OPT_IN_TOOLS, ToolEntry

START = "<!-- catalog:start -->"
END = "<!-- catalog:end -->"


def markdown(entries: list[ToolEntry]) -> str:
    def flag(value: bool | None) -> str:
        return "yes" if value else "no"

    lines = [
        "| tool | group | title | read-only | destructive | idempotent | open world |",
        "|---|---|---|---|---|---|---|",
    ]
    for entry in sorted(entries, key=lambda e: (e.group, e.name)):
        a = entry.annotations
        lines.append(
            f"| `{entry.name}` | {entry.group} | {entry.title} | {flag(a.read_only_hint)} | "
            f"{flag(a.destructive_hint)} | {flag(a.idempotent_hint)} | {flag(a.open_world_hint)} |"
        )
    return "\n".join(lines)


def catalog_for(desktop: Desktop) -> str:
    """The table for every tool the server can register (all groups and opt-in tools, shell included)."""
    _, registrar = build_server(desktop, groups=(*GROUPS, *OPT_IN_TOOLS))
    return markdown(registrar.catalog)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--display", required=True)
    args = parser.parse_args()
    with Desktop.attach(args.display) as desktop:
        print(catalog_for(desktop))


if __name__ == "__main__":
    main()
