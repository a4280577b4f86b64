"""Screen and input speed: cua-mcp through a real MCP client against the reference tools.

Starts a sandbox desktop (1920x1080, mousepad and gtk3-widget-factory open so the screen is not
empty), starts a cua-mcp server attached to it over stdio, and times each action through the SDK's
`ClientSession`, awaited from the benchmark's own event loop as an agent loop would. In the same run
it times the same actions done the way the reference computer-use tools do them (one `xdotool`
process per action; `scrot` then an ImageMagick `convert` to resize), and prints median, p90 and the
ratio as a Markdown table.

Screenshots are timed three ways: after a full-screen change (the root background is recoloured
before each shot), after a small change (one character typed into mousepad), and of an unchanged
screen, since parts of the pipeline reuse what did not change. Input is timed with settle=0 (the
action alone, as xdotool does it), and again answered once the screen settled (the default), against
the reference's fixed delay before it looks.

    .venv/bin/python benchmarks/bench_screen_input.py [--runs 40]
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import wait_for_app
from tests.support.mcp_client import CUA_MCP, error_text

ASCII_100 = ("The quick brown fox jumps over the lazy dog 0123456789. " * 2)[:100]
NON_ASCII_20 = "héllo wörld € 日本語 🙂ñç"[:20]
REFERENCE_DELAY_S = 2.0  # the screenshot delay of Anthropic's reference computer-use tool


async def timed(action: Callable[[], Any], runs: int, reset: Callable[[], Any] | None = None) -> list[float]:
    """Milliseconds per run, after two warm-up runs; `reset` runs untimed before each. Either may be async."""
    samples = []
    for index in range(runs + 2):
        if reset is not None:
            await _settled(reset())
        started = time.perf_counter()
        await _settled(action())
        elapsed = (time.perf_counter() - started) * 1000
        if index >= 2:
            samples.append(elapsed)
    return samples


async def _settled(result: Any) -> None:
    if inspect.isawaitable(result):
        await result


class _Client:
    """Tool calls through the SDK's client session; an error result stops the benchmark."""

    def __init__(self, session: ClientSession) -> None:
        self._session = session

    async def call(self, name: str, arguments: dict[str, Any] | None = None) -> None:
        result = await self._session.call_tool(name, arguments or {})
        if result.is_error:
            raise SystemExit(f"{name}({arguments}) failed: {error_text(result)}")


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    asyncio.run(_main(parser.parse_args()))


async def _main(args: argparse.Namespace) -> None:
    for tool in ("xdotool", "scrot", "convert", "xsetroot"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: run scripts/setup")

    with SandboxSession(SandboxConfig(width=1920, height=1080)) as session:
        session.launch("gtk3-widget-factory")
        wait_for_app(session, "gtk3-widget-factory")
        session.launch("mousepad")
        wait_for_app(session, "mousepad")
        time.sleep(1.0)
        env = {**os.environ, "DBUS_SESSION_BUS_ADDRESS": session.env["DBUS_SESSION_BUS_ADDRESS"]}
        xenv = {**os.environ, "DISPLAY": session.display}
        tmp = Path(tempfile.mkdtemp(prefix="cua-bench-"))

        def run(*argv: str) -> None:
            subprocess.run(argv, env=xenv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

        def reference_screenshot(fmt: str) -> None:
            # Anthropic's reference tool: scrot with the pointer, then convert to the scaled size.
            run("scrot", "-o", "-p", str(tmp / "full.png"))
            out = tmp / f"scaled.{fmt}"
            run(
                "convert",
                str(tmp / "full.png"),
                "-resize",
                "1280x720!",
                *(["-quality", "80"] if fmt == "jpg" else []),
                str(out),
            )

        def reference_type(text: str) -> None:
            # The reference types in chunks of 50 characters with a 12 ms delay between keys.
            for start in range(0, len(text), 50):
                run("xdotool", "type", "--delay", "12", "--", text[start : start + 50])

        colours = iter(f"#{(index * 2654435761) & 0xFFFFFF:06x}" for index in range(1, 10**6))

        settled_runs = max(3, args.runs // 10)

        def reference_settled(act: Callable[[], None], look: bool = False) -> None:
            """Anthropic's reference computer-use tool waits a fixed 2 s after an action before it looks."""
            act()
            time.sleep(REFERENCE_DELAY_S)
            if look:
                reference_screenshot("png")

        def full_change() -> None:
            run("xsetroot", "-solid", next(colours))

        server = StdioServerParameters(command=CUA_MCP, args=["--display", session.display], env=env)
        async with stdio_client(server) as (read, write), ClientSession(read, write) as client_session:
            await client_session.initialize()
            await client_session.list_tools()  # the client checks structured results against the schemas
            mcp = _Client(client_session)
            clear = lambda: mcp.call("press_keys", {"keys": "ctrl+a Delete", "settle": 0})  # noqa: E731
            # Put the keyboard focus in mousepad's text area.
            await mcp.call("click", {"x": 640, "y": 400})

            async def small_change() -> None:
                await mcp.call("type_text", {"text": "x", "settle": 0})
                await asyncio.sleep(0.05)  # let mousepad redraw

            reference_png = await timed(lambda: reference_screenshot("png"), args.runs)
            reference_jpeg = await timed(lambda: reference_screenshot("jpg"), args.runs)
            png = lambda: mcp.call("screenshot")  # noqa: E731
            jpeg = lambda: mcp.call("screenshot", {"format": "jpeg"})  # noqa: E731
            scenarios = (
                ("full-screen change", full_change),
                ("small change", small_change),
                ("unchanged screen", None),
            )
            rows = [
                (
                    f"screenshot {fmt} 1280x720, {scenario}",
                    await timed(shot, args.runs, reset),
                    reference,
                    "scrot + convert",
                )
                for fmt, shot, reference in (("PNG", png, reference_png), ("JPEG", jpeg, reference_jpeg))
                for scenario, reset in scenarios
            ]
            rows += [
                (
                    "click",
                    await timed(lambda: mcp.call("click", {"x": 900, "y": 600, "settle": 0}), args.runs),
                    await timed(lambda: run("xdotool", "mousemove", "1350", "900", "click", "1"), args.runs),
                    "xdotool mousemove click",
                ),
                (
                    "type_text, 100 ASCII characters",
                    await timed(lambda: mcp.call("type_text", {"text": ASCII_100, "settle": 0}), args.runs, clear),
                    await timed(lambda: reference_type(ASCII_100), max(5, args.runs // 4), clear),
                    "xdotool type (50-char chunks, 12 ms delay)",
                ),
                (
                    "type_text, 20 non-ASCII characters",
                    await timed(lambda: mcp.call("type_text", {"text": NON_ASCII_20, "settle": 0}), args.runs, clear),
                    await timed(lambda: reference_type(NON_ASCII_20), max(5, args.runs // 4), clear),
                    "xdotool type (12 ms delay)",
                ),
                (
                    "press_keys ctrl+a",
                    await timed(lambda: mcp.call("press_keys", {"keys": "ctrl+a", "settle": 0}), args.runs),
                    await timed(lambda: run("xdotool", "key", "ctrl+a"), args.runs),
                    "xdotool key",
                ),
                # What settling costs: the same actions answered once the screen settled, against the
                # reference's way to the same certainty (a fixed 2 s delay before looking).
                (
                    "click, answered once the screen settled",
                    await timed(lambda: mcp.call("click", {"x": 900, "y": 600}), args.runs),
                    await timed(
                        lambda: reference_settled(lambda: run("xdotool", "mousemove", "1350", "900", "click", "1")),
                        settled_runs,
                    ),
                    "xdotool, then the 2 s screenshot delay",
                ),
                (
                    "type_text 100 ASCII, settled",
                    await timed(lambda: mcp.call("type_text", {"text": ASCII_100}), args.runs, clear),
                    await timed(lambda: reference_settled(lambda: reference_type(ASCII_100)), settled_runs, clear),
                    "xdotool, then the 2 s screenshot delay",
                ),
                (
                    "press_keys ctrl+a, settled, with observe=screenshot",
                    await timed(lambda: mcp.call("press_keys", {"keys": "ctrl+a", "observe": "screenshot"}), args.runs),
                    await timed(
                        lambda: reference_settled(lambda: run("xdotool", "key", "ctrl+a"), look=True), settled_runs
                    ),
                    "xdotool, 2 s delay, scrot + convert",
                ),
            ]
        shutil.rmtree(tmp, ignore_errors=True)

    print(f"\n{args.runs} runs each (reference typing: fewer runs), 1920x1080 Xvfb, {os.cpu_count()} cores\n")
    print("| action | cua-mcp p50 | cua-mcp p90 | reference p50 | reference p90 | speed-up (p50) | reference |")
    print("|---|---|---|---|---|---|---|")
    for name, ours, theirs, how in rows:
        ratio = statistics.median(theirs) / statistics.median(ours)
        print(
            f"| {name} | {statistics.median(ours):.1f} ms | {p90(ours):.1f} ms | {statistics.median(theirs):.1f} ms "
            f"| {p90(theirs):.1f} ms | {ratio:.1f}x | {how} |"
        )


if __name__ == "__main__":
    main()
