"""The fast D-Bus backend reads the same tree as pyatspi, the reference binding: same nodes, roles,
names, states, boxes, texts and values, on a GTK 3 editor, a GTK demo, LibreOffice Calc and Chromium."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cua_mcp.accessibility._dbus import AtspiBus
from cua_mcp.accessibility.dbus_backend import DbusBackend
from cua_mcp.accessibility.pyatspi_backend import to_json
from tests.support.apps import launch_calc, launch_chromium
from tests.support.desktop import as_desktop_user, wait_for_app, wait_until


@pytest.fixture(scope="module")
def dbus(session):
    bus = AtspiBus.from_session(session.env["DBUS_SESSION_BUS_ADDRESS"])
    yield DbusBackend(bus)
    bus.close()


def fast_tree(backend: DbusBackend, app_name: str, walk: bool = False) -> list[dict]:
    """The app's tree from its cache (a whole-app read), or walked (what a window read does)."""
    apps = [a for a in backend.applications() if a.name.lower() == app_name]
    roots, notes = backend.read(apps, (lambda app, windows: windows) if walk else None)
    assert not notes, notes
    return [to_json(r) for r in roots]


def reference_tree(session, app_name: str, as_user: bool = True) -> list[dict]:
    """pyatspi's read, as the app's user (libatspi reads only apps of its own user)."""
    argv = [sys.executable, "-m", "cua_mcp.accessibility.pyatspi_backend", app_name]
    out = subprocess.run(
        as_desktop_user(session, argv) if as_user else argv,
        env={**session.env, "PYTHONPATH": str(Path(__file__).parents[1])},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    result = json.loads(out.stdout)
    assert not result["notes"], result["notes"]
    return result["roots"]


def flatten(trees: list[dict]) -> dict[str, tuple]:
    nodes = {}

    def visit(node: dict, parent: str) -> None:
        # A sheet's cells are transient objects, made anew on each request: name them by table and cell name.
        key = (
            f"{parent}/{node['name']}"
            if node["role"] == "table cell" and "transient" in node["states"]
            else node["path"]
        )
        nodes[key] = (
            parent,
            node["role"],
            node["name"],
            tuple(node["states"]),
            node["box"],
            node["text"],
            node["value"],
        )
        for child in node["children"]:
            visit(child, key)

    for tree in trees:
        visit(tree, "")
    return nodes


def assert_same(session, dbus, app_name: str, as_user: bool = True) -> None:
    """Both backends read the same tree. Live apps change (a caret blinks, Chromium's tab name carries its
    memory use), so the two reads are repeated until they agree, and the last difference is reported."""

    def agree() -> bool:
        # Apps settle (caret blink, focus) for a moment after start: first two fast reads must agree.
        fast = _stable(dbus, app_name)
        reference = flatten(reference_tree(session, app_name, as_user))
        assert len(fast) > 5
        missing = sorted(set(reference) - set(fast))
        extra = sorted(set(fast) - set(reference))
        assert not missing and not extra, (
            f"missing {[reference[p][1:3] for p in missing][:10]} extra {[fast[p][1:3] for p in extra][:10]}"
        )
        differ = {p: (fast[p], reference[p]) for p in fast if fast[p] != reference[p]}
        assert not differ, f"{len(differ)} nodes differ, e.g. {list(differ.items())[:3]}"
        # A window read walks instead of fetching the cache: it must read the same tree.
        walked = flatten(fast_tree(dbus, app_name, walk=True))
        changed = [k for k in set(walked) | set(fast) if walked.get(k) != fast.get(k)]
        assert not changed, (
            f"walk and cache differ on {len(changed)} nodes, e.g. {[(walked.get(k), fast.get(k)) for k in changed[:3]]}"
        )
        return True

    wait_until(agree, timeout=60, interval=0.5, what=f"both backends to read {app_name} alike")


def _stable(dbus, app_name: str):
    first = flatten(fast_tree(dbus, app_name))
    second = flatten(fast_tree(dbus, app_name))
    if first != second:
        changed = [(k, first.get(k), second.get(k)) for k in set(first) | set(second) if first.get(k) != second.get(k)]
        raise AssertionError(f"{len(changed)} nodes changed between reads, e.g. {changed[:3]}")
    return second


def test_mousepad(session, dbus):
    # As the server's user: an app's own socket admits only its user (root included only when it is root).
    session.launch("mousepad", as_user=False)
    wait_for_app(session, "mousepad")
    assert_same(session, dbus, "mousepad", as_user=False)
    # Calls went to the app over its own socket (Application.GetApplicationBusAddress), not the bus daemon.
    assert any(dbus.bus.direct(a.bus) for a in dbus.applications() if a.name.lower() == "mousepad")


def test_gtk3_widget_factory(session, dbus):
    session.launch("gtk3-widget-factory")
    wait_for_app(session, "gtk3-widget-factory")
    assert_same(session, dbus, "gtk3-widget-factory")
    # Run as the desktop's user, it is still read over its own socket, opened as that user.
    assert any(dbus.bus.direct(a.bus) for a in dbus.applications() if a.name.lower() == "gtk3-widget-factory")


@pytest.mark.slow
def test_libreoffice_calc(session, dbus):
    launch_calc(session)
    wait_for_app(session, "soffice", timeout=60)
    wait_until(
        lambda: any(n[1] == "table cell" for n in flatten(fast_tree(dbus, "soffice")).values()),
        timeout=60,
        what="cells",
    )
    assert_same(session, dbus, "soffice")


@pytest.mark.slow
def test_chromium(session, dbus):
    launch_chromium(session)
    wait_for_app(session, "chromium", timeout=60)
    wait_until(
        lambda: any(n[2] == "Send" for n in flatten(fast_tree(dbus, "chromium")).values()), timeout=60, what="the page"
    )
    assert_same(session, dbus, "chromium")
