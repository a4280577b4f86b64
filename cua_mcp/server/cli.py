"""`cua-mcp`: serve a desktop over MCP (stdio, or streamable HTTP with --transport http).

Without --display it starts a private sandbox desktop and stops it on exit (also on SIGINT,
SIGTERM, or when the client closes stdin). With --display it attaches to an existing display.
stdout carries the protocol: every log line goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import os
import re
import signal
import sys
from pathlib import Path

import anyio

from cua_mcp import __version__
from cua_mcp.errors import CuaError
from cua_mcp.sandbox.apps import AppCatalog, CatalogError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.launch import LaunchConfig
from cua_mcp.sandbox.session import SandboxConfig
from cua_mcp.sandbox.space import DEFAULT_LONG_SIDE
from cua_mcp.server.app import build_server
from cua_mcp.server.http import (
    DEFAULT_HOST,
    DEFAULT_MAX_SESSIONS,
    DEFAULT_PORT,
    DEFAULT_SESSION_IDLE_TIMEOUT_S,
    HttpSettings,
    serve_http,
)
from cua_mcp.server.policy import PolicyError, resolve_confirm, resolve_groups
from cua_mcp.server.recording import CallRecorder, recording_frame
from cua_mcp.server.stdio import serve_stdio
from cua_mcp.tools._registry import GROUPS

log = logging.getLogger("cua_mcp")


def screen_size(value: str) -> tuple[int, int]:
    match = re.fullmatch(r"(\d{2,5})x(\d{2,5})", value)
    if not match:
        raise argparse.ArgumentTypeError(f"{value!r} is not a size like 1920x1080")
    return int(match[1]), int(match[2])


def _scale(value: str) -> int | None:
    if value == "native":
        return None
    if value.isdigit() and int(value) >= 64:
        return int(value)
    raise argparse.ArgumentTypeError(f"{value!r}: use 'native' or the long side in pixels, e.g. 1280")


def _port(value: str) -> int:
    if value.isdigit() and 1 <= int(value) <= 65535:
        return int(value)
    raise argparse.ArgumentTypeError(f"{value!r} is not a port number (1-65535)")


def _positive_int(value: str) -> int:
    if value.isdigit() and int(value) > 0:
        return int(value)
    raise argparse.ArgumentTypeError(f"{value!r} is not a positive whole number")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="cua-mcp",
        description="An MCP server that hands a Linux desktop (screen, mouse, keyboard) to a language model.",
    )
    parser.add_argument(
        "--display",
        help="attach to this existing X display (e.g. :1); without it a private sandbox desktop starts",
    )
    parser.add_argument(
        "--screen",
        type=screen_size,
        default=(1920, 1080),
        metavar="WxH",
        help="sandbox screen size (1920x1080)",
    )
    parser.add_argument(
        "--scale",
        type=_scale,
        default=DEFAULT_LONG_SIDE,
        metavar="N|native",
        help=f"long side of the agent coordinate space ({DEFAULT_LONG_SIDE}); 'native' uses screen pixels",
    )
    parser.add_argument(
        "--launch",
        action="append",
        default=[],
        metavar="CMD",
        help="start an app on the sandbox desktop (repeatable)",
    )
    parser.add_argument(
        "--window-manager",
        choices=("openbox", "xfwm4", "none"),
        default="openbox",
        help="sandbox window manager",
    )
    parser.add_argument(
        "--workspace",
        type=Path,
        metavar="DIR",
        help="the folder file tools, shell commands and confined apps may write "
        "(default: HOME/workspace in the sandbox, ./cua-workspace when attached)",
    )
    parser.add_argument(
        "--apps-config",
        type=Path,
        metavar="FILE",
        help="a TOML app catalog whose [apps.NAME] entries add to or replace the shipped ones",
    )
    parser.add_argument(
        "--no-network",
        action="store_true",
        help="confined apps and shell commands get no network at all, not even loopback (needs bubblewrap)",
    )
    parser.add_argument(
        "--a11y-backend",
        choices=("dbus", "pyatspi"),
        default="dbus",
        help="how the accessibility tree is read: dbus (fast, pure Python) or pyatspi (the reference binding, "
        "where the system has it)",
    )
    parser.add_argument(
        "--log-level",
        default="WARNING",
        choices=("DEBUG", "INFO", "WARNING", "ERROR"),
        help="stderr log level",
    )
    _add_http_arguments(parser)
    _add_policy_arguments(parser)
    parser.add_argument("--version", action="version", version=f"cua-mcp {__version__}")
    args = parser.parse_args(argv)
    if args.a11y_backend == "pyatspi" and importlib.util.find_spec("pyatspi") is None:
        parser.error("--a11y-backend pyatspi needs pyatspi (Debian's python3-pyatspi) importable; use dbus")
    if args.display and args.launch:
        parser.error("--launch starts apps on a sandbox desktop; attach mode (--display) starts nothing")
    if args.apps_config is not None:
        try:
            AppCatalog.load(args.apps_config)  # fail at start-up, not at the first launch
        except CatalogError as exc:
            parser.error(str(exc))
    try:
        args.groups = resolve_groups(args.allow, args.deny, args.read_only)
        args.confirm = resolve_confirm(args.confirm)
    except PolicyError as exc:
        parser.error(str(exc))
    args.token = args.token or os.environ.get("CUA_MCP_TOKEN") or None
    args.http = HttpSettings(
        args.host,
        args.port,
        args.token,
        tuple(args.allowed_host),
        session_idle_timeout=args.session_idle_timeout,
        max_sessions=args.max_sessions,
    )
    if args.transport == "http":
        try:
            args.http.check()
        except CuaError as exc:
            parser.error(str(exc))
    return args


def _add_http_arguments(parser: argparse.ArgumentParser) -> None:
    http = parser.add_argument_group("HTTP transport")
    http.add_argument("--transport", choices=("stdio", "http"), default="stdio", help="how clients connect (stdio)")
    http.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on ({DEFAULT_HOST}: this machine only)")
    http.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"port to listen on ({DEFAULT_PORT})")
    http.add_argument(
        "--token",
        help="bearer token clients must send; prefer the CUA_MCP_TOKEN environment variable (other users see "
        "command lines). Required for any address but loopback",
    )
    http.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME[:PORT]",
        help="another Host header to accept (a reverse proxy's or the machine's name); repeatable",
    )
    http.add_argument(
        "--session-idle-timeout",
        type=_positive_int,
        default=DEFAULT_SESSION_IDLE_TIMEOUT_S,
        metavar="SECONDS",
        help=f"end a session that made no request for this long; its held mouse buttons are released "
        f"({DEFAULT_SESSION_IDLE_TIMEOUT_S})",
    )
    http.add_argument(
        "--max-sessions",
        type=_positive_int,
        default=DEFAULT_MAX_SESSIONS,
        metavar="N",
        help=f"sessions open at once; a new one beyond this ends the one idle longest ({DEFAULT_MAX_SESSIONS})",
    )


def _add_policy_arguments(parser: argparse.ArgumentParser) -> None:
    policy = parser.add_argument_group("policy and audit")
    groups = ", ".join(GROUPS)
    policy.add_argument(
        "--allow",
        action="append",
        default=[],
        metavar="GROUP",
        help=f"enable a tool group on top of the defaults (all but shell); groups: {groups}",
    )
    policy.add_argument("--deny", action="append", default=[], metavar="GROUP", help="disable a tool group")
    policy.add_argument("--read-only", action="store_true", help="offer the observe group alone")
    policy.add_argument(
        "--confirm",
        action="append",
        default=[],
        metavar="GROUP",
        help="ask the person (MCP elicitation) before each call of a tool in GROUP runs; clients that cannot ask "
        "are refused such calls. Repeatable, or comma-separated",
    )
    policy.add_argument("--audit-log", type=Path, metavar="FILE", help="append every tool call to FILE as JSON lines")
    policy.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="keep a recording in DIR: calls.jsonl (every call with its arguments, timing, outcome and whole "
        "result text) and a screenshot after each call that acted",
    )
    policy.add_argument(
        "--redact-text",
        action="store_true",
        help="record typed text and other text arguments as their length only (audit log and live view)",
    )


def _raise_system_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["bench"]:
        from cua_mcp.bench.cli import main as bench_main  # the benchmark's own dependencies load only here

        return bench_main(argv[1:])
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    signal.signal(signal.SIGTERM, _raise_system_exit)
    launch = LaunchConfig(workspace=args.workspace, network=not args.no_network, apps_config=args.apps_config)
    try:
        if args.display:
            desktop = Desktop.attach(args.display, args.scale, launch)
        else:
            width, height = args.screen
            config = SandboxConfig(width=width, height=height, window_manager=args.window_manager, launch=args.launch)
            desktop = Desktop.start_sandbox(config, args.scale, launch)
    except CuaError as exc:
        print(f"cua-mcp: {exc}", file=sys.stderr)
        return 2
    try:
        recorder = CallRecorder(
            audit_log=args.audit_log,
            redact_text=args.redact_text,
            record_dir=args.record,
            capture=lambda: recording_frame(desktop),
        )
    except OSError as exc:
        desktop.close()
        print(f"cua-mcp: cannot open the audit log or the recording: {exc}", file=sys.stderr)
        return 2
    try:
        server, _ = build_server(
            desktop,
            groups=args.groups,
            confirm=args.confirm,
            log_level=args.log_level,
            observer=recorder,
            a11y_backend=args.a11y_backend,
        )
        if args.transport == "http":
            serve_http(server, desktop, recorder, args.http, args.log_level)
        else:
            log.info("serving display %s over stdio", desktop.display)
            if sys.stdin.isatty():
                # A person started the server by hand: stdio expects a client, so say what is going on.
                print(
                    f"cua-mcp: display {desktop.display} is served over stdio to an MCP client; to watch it in a "
                    "browser, run with --transport http instead. Ctrl-C stops it.",
                    file=sys.stderr,
                )
            anyio.run(serve_stdio, server)
    except KeyboardInterrupt:
        pass
    finally:
        recorder.close()
        desktop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
