"""Pure logic of the confinement: the bubblewrap command line, bus socket folders, the warning."""

from __future__ import annotations

import logging
from pathlib import Path

from cua_mcp.sandbox import launch as launch_module
from cua_mcp.sandbox.confine import Confinement, bus_sockets
from cua_mcp.sandbox.launch import LaunchConfig, Launcher


def _pairs(argv: list[str], flag: str) -> list[tuple[str, str]]:
    return [(argv[i + 1], argv[i + 2]) for i, a in enumerate(argv) if a == flag]


def test_wrap_binds_the_system_read_only_and_names_the_writable(tmp_path):
    home, workspace, tmp = tmp_path / "home", tmp_path / "ws", tmp_path / "tmp"
    for path in (home, workspace, tmp, workspace / "nested"):
        path.mkdir()
    confinement = Confinement("bwrap", tmp, (home, workspace, workspace / "nested"), network=False)
    argv = confinement.wrap(["mousepad", "notes.txt"])
    assert argv[:5] == ["bwrap", "--ro-bind", "/", "/", "--dev"]
    assert ("/", "/") in _pairs(argv, "--ro-bind")
    binds = _pairs(argv, "--bind")
    assert (str(tmp), "/tmp") in binds
    assert (str(home), str(home)) in binds and (str(workspace), str(workspace)) in binds
    assert (str(workspace / "nested"), str(workspace / "nested")) not in binds  # inside the workspace already
    assert "--unshare-net" in argv and "--die-with-parent" in argv and "--unshare-pid" not in argv
    assert argv[-3:] == ["--", "mousepad", "notes.txt"]


def test_commands_get_their_own_pids_and_the_network_only_when_allowed(tmp_path):
    argv = Confinement("bwrap", tmp_path, (), network=True).wrap(["true"], own_pids=True)
    assert "--unshare-pid" in argv and tuple(argv[argv.index("--proc") + 1 : argv.index("--proc") + 2]) == ("/proc",)
    assert "--unshare-net" not in argv


def test_bus_sockets():
    address = "unix:path=/tmp/cua-x/runtime/bus,guid=abc;unix:abstract=/tmp/dbus-xyz;tcp:host=localhost,port=1"
    assert bus_sockets(address) == [Path("/tmp/cua-x/runtime/bus")]
    assert bus_sockets(None) == [] and bus_sockets("unix:abstract=/tmp/x") == []


def test_without_bubblewrap_start_up_warns(monkeypatch, caplog):
    monkeypatch.setattr(launch_module, "find_bwrap", lambda: None)
    with caplog.at_level(logging.WARNING, logger="cua_mcp.sandbox.launch"):
        launcher = Launcher(desktop=None, config=LaunchConfig(network=False))  # type: ignore[arg-type]
    assert not launcher.confined
    assert "UNCONFINED" in caplog.text and "--no-network cannot be enforced" in caplog.text


def test_wrap_binds_sockets_alone_hides_homes_and_changes_user(tmp_path):
    socket_file = tmp_path / "bus"
    socket_file.touch()
    x_socket = tmp_path / "X5"
    x_socket.touch()
    argv = Confinement("bwrap", tmp_path, (), reachable=(socket_file,), user=65534, x_socket=x_socket).wrap(["true"])
    ro = _pairs(argv, "--ro-bind")
    assert (str(socket_file), str(socket_file)) in ro and (str(x_socket), str(x_socket)) in ro
    assert (str(tmp_path), str(tmp_path)) not in ro and ("/tmp/.X11-unix", "/tmp/.X11-unix") not in _pairs(
        argv, "--bind"
    )
    assert ("/dev/null", "/etc/shadow") in ro and argv[argv.index("/root") - 1] == "--tmpfs"
    command = argv[argv.index("--") + 1 :]
    assert command[0] == "setpriv" and "--reuid=65534" in command and "--no-new-privs" in command
    assert command[-1] == "true" and "--cap-drop" not in argv
