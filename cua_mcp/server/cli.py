"""`cua-mcp`: serve a desktop over MCP (stdio).

Without --display it starts a private sandbox desktop and stops it on exit (also on SIGINT,
SIGTERM, or when the client closes stdin). With --display it attaches to an existing display.
stdout carries the protocol: every log line goes to stderr.
"""

from __future__ import annotations

import argparse
import importlib.util
import logging
import re
import signal
import sys

import anyio

from cua_mcp import __version__
from cua_mcp.errors import CuaError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.session import SandboxConfig
from cua_mcp.sandbox.space import DEFAULT_LONG_SIDE
from cua_mcp.server.app import build_server

log = logging.getLogger("cua_mcp")


def _screen_size(value: str) -> tuple[int, int]:
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
        type=_screen_size,
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
    parser.add_argument("--version", action="version", version=f"cua-mcp {__version__}")
    args = parser.parse_args(argv)
    if args.a11y_backend == "pyatspi" and importlib.util.find_spec("pyatspi") is None:
        parser.error("--a11y-backend pyatspi needs pyatspi (Debian's python3-pyatspi) importable; use dbus")
    if args.display and args.launch:
        parser.error("--launch starts apps on a sandbox desktop; attach mode (--display) starts nothing")
    return args


def _raise_system_exit(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    signal.signal(signal.SIGTERM, _raise_system_exit)
    try:
        if args.display:
            desktop = Desktop.attach(args.display, args.scale)
        else:
            width, height = args.screen
            config = SandboxConfig(width=width, height=height, window_manager=args.window_manager, launch=args.launch)
            desktop = Desktop.start_sandbox(config, args.scale)
    except CuaError as exc:
        print(f"cua-mcp: {exc}", file=sys.stderr)
        return 2
    log.info("serving display %s over stdio", desktop.display)
    try:
        server, _ = build_server(desktop, log_level=args.log_level, a11y_backend=args.a11y_backend)
        anyio.run(server.run_stdio_async)
    except KeyboardInterrupt:
        pass
    finally:
        desktop.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
