"""Screen and input speed: cua-mcp through a real MCP client against the reference tools.

Starts a sandbox desktop (1920x1080, mousepad and gtk3-widget-factory open so the screen is not
empty), attaches a cua-mcp server to it over stdio, and times each action through the SDK's
client. In the same run it times the same actions done the way the reference computer-use tools
do them (one `xdotool` process per action; `scrot` then an ImageMagick `convert` to resize), and
prints median, p90 and the ratio as a Markdown table.

cua-mcp re-scales only the parts of the screen that changed since its last screenshot, so
screenshots are timed three ways: after a full-screen change (the root background is recoloured
before each shot, which changes every band of rows), after a small change (one character typed
into mousepad), and of an unchanged screen.

    .venv/bin/python benchmarks/bench_screen_input.py [--runs 40]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import wait_for_app
from tests.support.mcp_client import McpServerProcess

ASCII_100 = ("The quick brown fox jumps over the lazy dog 0123456789. " * 2)[:100]
NON_ASCII_20 = "héllo wörld € 日本語 🙂ñç"[:20]


def timed(action: Callable[[], object], runs: int, reset: Callable[[], object] | None = None) -> list[float]:
    """Milliseconds per run, after two warm-up runs; `reset` runs untimed before each."""
    samples = []
    for index in range(runs + 2):
        if reset is not None:
            reset()
        started = time.perf_counter()
        action()
        elapsed = (time.perf_counter() - started) * 1000
        if index >= 2:
            samples.append(elapsed)
    return samples


def p90(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=10)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    for tool in ("xdotool", "scrot", "convert", "xsetroot"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is missing: run scripts/setup")

    with SandboxSession(SandboxConfig(width=1920, height=1080)) as session:
        session.launch("gtk3-widget-factory")
        wait_for_app(session, "gtk3-widget-factory")
        session.launch("mousepad")
        wait_for_app(session, "mousepad")
        time.sleep(1.0)
        env = {"DBUS_SESSION_BUS_ADDRESS": session.env["DBUS_SESSION_BUS_ADDRESS"]}
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

        def full_change() -> None:
            run("xsetroot", "-solid", next(colours))

        with McpServerProcess(["--display", session.display], env=env) as mcp:
            clear = lambda: mcp.call("press_keys", {"keys": "ctrl+a Delete"})  # noqa: E731
            # Put the keyboard focus in mousepad's text area.
            mcp.call("click", {"x": 640, "y": 400})

            def small_change() -> None:
                mcp.call("type_text", {"text": "x"})
                time.sleep(0.05)  # let mousepad redraw

            reference_png = timed(lambda: reference_screenshot("png"), args.runs)
            reference_jpeg = timed(lambda: reference_screenshot("jpg"), args.runs)
            png = lambda: mcp.image()  # noqa: E731
            jpeg = lambda: mcp.image({"format": "jpeg"})  # noqa: E731
            scenarios = (
                ("full-screen change", full_change),
                ("small change", small_change),
                ("unchanged screen", None),
            )
            rows = [
                (f"screenshot {fmt} 1280x720, {scenario}", timed(shot, args.runs, reset), reference, "scrot + convert")
                for fmt, shot, reference in (("PNG", png, reference_png), ("JPEG", jpeg, reference_jpeg))
                for scenario, reset in scenarios
            ]
            rows += [
                (
                    "click",
                    timed(lambda: mcp.call("click", {"x": 900, "y": 600}), args.runs),
                    timed(lambda: run("xdotool", "mousemove", "1350", "900", "click", "1"), args.runs),
                    "xdotool mousemove click",
                ),
                (
                    "type_text, 100 ASCII characters",
                    timed(lambda: mcp.call("type_text", {"text": ASCII_100}), args.runs, clear),
                    timed(lambda: reference_type(ASCII_100), max(5, args.runs // 4), clear),
                    "xdotool type (50-char chunks, 12 ms delay)",
                ),
                (
                    "type_text, 20 non-ASCII characters",
                    timed(lambda: mcp.call("type_text", {"text": NON_ASCII_20}), args.runs, clear),
                    timed(lambda: reference_type(NON_ASCII_20), max(5, args.runs // 4), clear),
                    "xdotool type (12 ms delay)",
                ),
                (
                    "press_keys ctrl+a",
                    timed(lambda: mcp.call("press_keys", {"keys": "ctrl+a"}), args.runs),
                    timed(lambda: run("xdotool", "key", "ctrl+a"), args.runs),
                    "xdotool key",
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
