"""The shell group and confinement: run_command only when enabled, its timeout kills everything it
started, and under bubblewrap commands and apps can write the workspace only and, with no network,
cannot reach even a loopback server."""

from __future__ import annotations

import os
import socket
import threading
import uuid
from pathlib import Path

import pytest

from cua_mcp.sandbox.confine import find_bwrap
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.launch import LaunchConfig
from cua_mcp.tools._registry import GROUPS
from tests.support.desktop import wait_until
from tests.support.inprocess import InProcessServer

needs_bwrap = pytest.mark.skipif(find_bwrap() is None, reason="bubblewrap is not available here")


def _desktop(session, **launch) -> Desktop:
    return Desktop.attach(session.display, launch=LaunchConfig(**launch))


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    return tmp_path_factory.mktemp("shell-ws")


@pytest.fixture(scope="module", params=["confined", "unconfined"])
def shell(request, session, workspace):
    """A server with every group, including shell; confined (bubblewrap) or not."""
    desktop = _desktop(session, workspace=workspace, confine=request.param == "confined")
    try:
        with InProcessServer(desktop, groups=GROUPS) as server:
            yield server
    finally:
        desktop.close()


def _processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains `marker`."""
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                    if marker.encode() in f.read():
                        found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_shell_is_not_offered_by_default(client):
    names = [t.name for t in client.list_tools()]
    assert "run_command" not in names and "read_file" in names and "launch" in names


def test_run_command_reports_exit_code_and_output(shell, workspace):
    result = shell.call("run_command", {"command": "echo out; echo err >&2; pwd; exit 3"})
    assert result["exit_code"] == 3 and not result["timed_out"]
    assert result["stdout"] == f"out\n{workspace.resolve()}\n" and result["stderr"] == "err\n"


def test_output_is_capped(shell):
    result = shell.call("run_command", {"command": "head -c 300000 /dev/zero | tr '\\0' x"})
    assert result["truncated"] and "bytes left out" in result["stdout"] and len(result["stdout"]) < 40_000


def test_timeout_kills_the_command_and_its_children(shell):
    marker = f"{uuid.uuid4().int % 10**6 + 1000}.5"  # a sleep length no other process uses
    result = shell.call("run_command", {"command": f"sleep {marker} & sleep {marker}; echo never", "timeout": 2})
    assert result["timed_out"] and result["exit_code"] is None and "never" not in result["stdout"]
    assert wait_until(lambda: not _processes_with(f"sleep\0{marker}"), what="the sleepers to be gone")


def test_a_cancelled_call_kills_the_command(shell):
    marker = f"{uuid.uuid4().int % 10**6 + 1000}.75"
    shell.call_abandoned("run_command", {"command": f"sleep {marker} & sleep {marker}", "timeout": 100}, after=1.5)
    assert wait_until(lambda: not _processes_with(f"sleep\0{marker}"), what="the sleepers to be gone")
    assert shell.call("run_command", {"command": "echo still serving"})["stdout"] == "still serving\n"


def test_background_jobs_do_not_outlive_the_command(shell):
    marker = f"{uuid.uuid4().int % 10**6 + 1000}.25"
    result = shell.call("run_command", {"command": f"sleep {marker} & echo started"})
    assert result["exit_code"] == 0 and result["stdout"] == "started\n"
    assert wait_until(lambda: not _processes_with(f"sleep\0{marker}"), what="the background sleeper to be gone")


def test_bad_cwd_is_explained(shell):
    assert "contains '..'" in shell.error("run_command", {"command": "true", "cwd": ".."})
    assert "not a folder" in shell.error("run_command", {"command": "true", "cwd": "missing"})


# ----- confinement ----------------------------------------------------------------------------


@pytest.fixture
def outside(tmp_path):
    """A folder outside the workspace that the server itself could write."""
    return tmp_path


@needs_bwrap
def test_confined_command_writes_only_the_workspace(session, workspace, outside):
    desktop = _desktop(session, workspace=workspace)
    try:
        with InProcessServer(desktop, groups=GROUPS) as server:
            # `outside` lies under /tmp, which is private inside; /var/tmp is there read-only (the
            # checkout's own folder may itself lie under /tmp, so it cannot stand in for "the system").
            here = Path("/var/tmp") / f"cua-mcp-escaped-{uuid.uuid4().hex}.txt"
            command = f"echo in > inside.txt; echo out > {outside}/escaped.txt; echo out > {here}"
            result = server.call("run_command", {"command": command})
    finally:
        desktop.close()
    assert result["confined"]
    assert (workspace / "inside.txt").read_text() == "in\n"
    assert not (outside / "escaped.txt").exists()
    assert "Read-only file system" in result["stderr"]
    assert not here.exists()


@needs_bwrap
def test_confined_app_writes_only_the_workspace(session, workspace, outside):
    catalog = outside / "apps.toml"
    script = f"echo app > {{workspace}}/from-app.txt; echo app > {outside}/app-escaped.txt; echo done > {{workspace}}/app-done.txt"
    catalog.write_text(f'[apps.writer-probe]\ncommand = ["sh", "-c", "{script}"]\nsandboxed = true\n')
    desktop = _desktop(session, workspace=workspace, apps_config=catalog)
    try:
        with InProcessServer(desktop) as server:
            assert server.call("launch", {"app": "writer-probe", "wait": False})["confined"]
            wait_until(lambda: (workspace / "app-done.txt").exists(), what="the app to finish")
    finally:
        desktop.close()
    assert (workspace / "from-app.txt").read_text() == "app\n"
    assert not (outside / "app-escaped.txt").exists()


def test_launch_failures_are_explained(session, workspace, outside):
    catalog = outside / "apps.toml"
    catalog.write_text(
        '[apps.broken]\ncommand = ["sh", "-c", "echo boom >&2; exit 3"]\n'
        '[apps.missing]\ncommand = ["no-such-program-cua"]\n'
    )
    desktop = _desktop(session, workspace=workspace, apps_config=catalog)
    try:
        with InProcessServer(desktop) as server:
            message = server.error("launch", {"app": "broken"})
            assert "exited with status 3 before showing a window" in message and "boom" in message
            assert "not installed" in server.error("launch", {"app": "missing"})
            assert server.call("list_windows")["windows"] is not None  # still serving
    finally:
        desktop.close()


@pytest.fixture
def loopback_server():
    """A TCP server on 127.0.0.1 that accepts connections: its port."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
                conn.close()
            except OSError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(timeout=2)
    listener.close()


CONNECT = "python3 -c \"import socket; socket.create_connection(('127.0.0.1', {port}), 3); print('connected')\""


@needs_bwrap
@pytest.mark.parametrize("network", [True, False], ids=["network", "no-network"])
def test_no_network_blocks_even_loopback(session, workspace, loopback_server, network):
    desktop = _desktop(session, workspace=workspace, network=network)
    try:
        with InProcessServer(desktop, groups=GROUPS) as server:
            result = server.call("run_command", {"command": CONNECT.format(port=loopback_server), "timeout": 20})
    finally:
        desktop.close()
    if network:
        assert result["exit_code"] == 0 and result["stdout"] == "connected\n"
    else:
        assert result["exit_code"] != 0 and "connected" not in result["stdout"]
        assert "Error" in result["stderr"]  # unreachable or refused, named in the traceback
