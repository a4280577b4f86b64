"""Read the accessibility tree with pyatspi, the reference binding, in a separate process.

pyatspi binds to one accessibility bus per process at import time, so tests run it as a
subprocess with the sandbox's environment. Prints JSON.

    python atspi_probe.py text APP [ROLE]     the text of the first element with that role (default: text)
    python atspi_probe.py find APP ROLE NAME  [name, states, extents] of matching elements
    python atspi_probe.py values APP ROLE     [name, states, value or null] of every element with that role
    python atspi_probe.py apps                the application names on the bus
"""

from __future__ import annotations

import json
import sys

import pyatspi


def _walk(node, depth=0):
    yield node
    if depth > 40 or node.getState().contains(pyatspi.STATE_MANAGES_DESCENDANTS):
        return
    for child in node:
        if child is not None:
            yield from _walk(child, depth + 1)


def _app(name: str):
    for app in pyatspi.Registry.getDesktop(0):
        if app is not None and app.name.lower() == name.lower():
            return app
    raise SystemExit(f"no application {name!r} on the accessibility bus")


def main() -> None:
    command, *args = sys.argv[1:]
    if command == "apps":
        print(json.dumps([a.name for a in pyatspi.Registry.getDesktop(0) if a is not None]))
    elif command == "text":
        role = args[1] if len(args) > 1 else "text"
        for node in _walk(_app(args[0])):
            if node.getRoleName() == role:
                text = node.queryText()
                print(json.dumps(text.getText(0, text.characterCount)))
                return
        raise SystemExit(f"no {role} element in {args[0]}")
    elif command == "find":
        app, role, name = args
        found = []
        for node in _walk(_app(app)):
            if node.getRoleName() == role and name.lower() in (node.name or "").lower():
                states = [pyatspi.stateToString(s) for s in node.getState().getStates()]
                ext = node.queryComponent().getExtents(pyatspi.DESKTOP_COORDS)
                found.append([node.name, states, [ext.x, ext.y, ext.width, ext.height]])
        print(json.dumps(found))
    elif command == "values":
        app, role = args
        found = []
        for node in _walk(_app(app)):
            if node.getRoleName() == role:
                states = [pyatspi.stateToString(s) for s in node.getState().getStates()]
                try:
                    value = node.queryValue().currentValue
                except NotImplementedError:
                    value = None
                found.append([node.name, states, value])
        print(json.dumps(found))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
