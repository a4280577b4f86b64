"""The web-form task with GUI tools only and with the browser pack, through real MCP clients, in one run.

Starts a sandbox desktop and a local site (tests/support/web_form.py: an order form that records what
it receives). Each way starts from the same state, the form open in Chromium, and fills the form
(name, email, two drop-downs, a checkbox, a note) and submits it:

- GUI tools: a server with `--deny browser` and a plain Chromium (`launch chromium`): `snapshot` for
  the first field's ref, `type_text` into it, then `press_keys` Tab and `type_text` from field to field
  (drop-downs by typing an option's first letter, the checkbox with space), Enter on the button,
  `snapshot` to see the result.
- Browser pack: a default server (Chromium through DevTools): `browser_snapshot`, `browser_fill_form`,
  `browser_click` (whose answer names the page that follows).

Both must make the site receive exactly the same values, on every run. It prints one row per task
(the columns the office pack's benchmark uses too): tool calls, wall time, characters of text and
images returned to the client, each GUI / pack, and the ratios; medians over --runs. Then it times
`browser_snapshot` against the accessibility `snapshot` of the same page in the same Chromium.

    .venv/bin/python -m benchmarks.bench_browser_pack [--runs 3]
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import wait_until
from tests.support.mcp_client import BlockingClient, attached_server, error_text, model_text
from tests.support.web_form import WebForm, web_form

EXPECTED = {
    "name": "Ada Lovelace",
    "email": "ada@example.org",
    "size": "l",
    "colour": "blue",
    "gift": "on",
    "note": "Ring twice",
}


@dataclass
class Tally:
    """What one way of doing the task cost the client."""

    calls: int = 0
    chars: int = 0
    images: int = 0
    seconds: float = 0.0
    texts: list[str] = field(default_factory=list)
    per_tool: dict[str, float] = field(default_factory=dict)  # seconds spent in each tool


class Counted:
    """Tool calls that count themselves; an error result stops the benchmark."""

    def __init__(self, client: BlockingClient, tally: Tally) -> None:
        self._client = client
        self.tally = tally

    def __call__(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        started = time.perf_counter()
        result = self._client.call_raw(name, arguments or {}, timeout=120)
        self.tally.per_tool[name] = self.tally.per_tool.get(name, 0.0) + time.perf_counter() - started
        if result.is_error:
            raise SystemExit(f"{name}({arguments}) failed: {error_text(result)}")
        text = model_text(result)
        self.tally.calls += 1
        self.tally.chars += len(text)
        self.tally.images += sum(1 for c in result.content if c.type == "image")
        self.tally.texts.append(text)
        return text


def ref(text: str, role: str, name: str) -> str:
    match = re.search(rf'{re.escape(role)} \\?"{re.escape(name)}\\?" \[ref=((?:f\d+)?e\d+)\]', text)
    if match is None:
        raise SystemExit(f"no {role} {name!r} with a ref in:\n{text[:3000]}")
    return match.group(1)


def by_gui(call: Counted) -> None:
    # Keyboard from the first field on: on a busy machine Chromium may apply a click's focus change
    # after keys typed next, so pointer clicks between fields mixed up their text; Tab keeps order.
    page = call("snapshot")
    # Counted: Chromium's tree sometimes still shows the previous page; a model would look again too.
    for _again in range(10):
        if all(f'"{name}"' in page for name in ("Name", "Send order")):
            break
        page = call("snapshot")
    call("type_text", {"ref": ref(page, "textbox", "Name"), "text": EXPECTED["name"]})
    # Typing an option's first letters chooses it in a closed drop-down: L(arge), B(lue).
    for text in (EXPECTED["email"], "L", "B"):
        call("press_keys", {"keys": "Tab"})
        call("type_text", {"text": text})
    call("press_keys", {"keys": "Tab space Tab"})  # tick Gift wrap, on to Note
    call("type_text", {"text": EXPECTED["note"]})
    call("press_keys", {"keys": "Tab Return"})  # Send order
    call("snapshot")


def by_pack(call: Counted) -> None:
    page = call("browser_snapshot")
    fields = [
        {"ref": ref(page, "textbox", "Name"), "value": EXPECTED["name"]},
        {"ref": ref(page, "textbox", "Email"), "value": EXPECTED["email"]},
        {"ref": ref(page, "combobox", "Size"), "value": "Large"},
        {"ref": ref(page, "combobox", "Colour"), "value": "Blue"},
        {"ref": ref(page, "checkbox", "Gift wrap"), "value": "true"},
        {"ref": ref(page, "textbox", "Note"), "value": EXPECTED["note"]},
    ]
    call("browser_fill_form", {"fields": fields})
    call("browser_click", {"ref": ref(page, "button", "Send order")})


def run_task(client: BlockingClient, site: WebForm, reset: Callable[[], None], way: Callable[[Counted], None]) -> Tally:
    reset()
    before = len(site.submissions)
    tally = Tally()
    started = time.perf_counter()
    way(Counted(client, tally))
    # The submission reaches the site before the click's answer; wait for it untimed on a slow machine.
    wait_until(lambda: len(site.submissions) > before, timeout=30, what="the form's submission")
    tally.seconds = time.perf_counter() - started
    if site.submissions[-1] != EXPECTED:
        raise SystemExit(f"{way.__name__}: the site received {site.submissions[-1]}, not {EXPECTED}")
    return tally


def gui_runs(session: SandboxSession, site: WebForm, runs: int) -> list[Tally]:
    with attached_server(session, "--deny", "browser") as client:

        def reset() -> None:
            # Untimed: the form in a new tab (launch hands the URL to the running Chromium), until the
            # accessibility tree shows it. Typing the address lost keys on a loaded machine.
            client.call("launch", {"app": "chromium", "args": [site.url + "/"], "wait": False}, timeout=180)
            wait_until(lambda: _form_in_tree(client), timeout=60, what="the form in the accessibility tree")

        return [run_task(client, site, reset, by_gui) for _ in range(runs)]


def pack_runs(session: SandboxSession, site: WebForm, runs: int, snapshot_runs: int) -> tuple[list[Tally], dict]:
    with attached_server(session) as client:
        client.call("browser_open", {"url": site.url + "/"}, timeout=180)
        tallies = [
            run_task(client, site, lambda: client.call("browser_open", {"url": site.url + "/"}), by_pack)
            for _ in range(runs)
        ]
        client.call("browser_open", {"url": site.url + "/"})
        wait_until(lambda: _title(client).startswith("Order form"), timeout=60, what="the form")
        snapshots = {
            "browser_snapshot": _time_snapshots(client, "browser_snapshot", {}, snapshot_runs),
            "snapshot (accessibility, focused window)": _time_snapshots(client, "snapshot", {}, snapshot_runs),
        }
        return tallies, snapshots


def _form_in_tree(client: BlockingClient) -> bool:
    text = client.call("snapshot")["text"]
    return all(f'"{name}"' in text for name in ("Name", "Send order"))


def _title(client: BlockingClient) -> str:
    windows = client.call("list_windows")["windows"]
    return next((w["title"] for w in windows if w["active"]), "")


def _time_snapshots(client: BlockingClient, tool: str, arguments: dict, runs: int) -> tuple[float, int]:
    samples, chars = [], 0
    for index in range(runs + 2):
        started = time.perf_counter()
        result = client.call_raw(tool, arguments)
        elapsed = (time.perf_counter() - started) * 1000
        if result.is_error:
            raise SystemExit(f"{tool} failed: {error_text(result)}")
        chars = sum(len(c.text) for c in result.content if c.type == "text")
        if index >= 2:
            samples.append(elapsed)
    return statistics.median(samples), chars


def _median(tallies: list[Tally], attribute: str) -> float:
    return statistics.median(getattr(t, attribute) for t in tallies)


def table(rows: list[tuple[str, list[Tally], list[Tally]]]) -> str:
    lines = [
        "| task | tool calls GUI / pack | wall time s GUI / pack | text chars GUI / pack | images GUI / pack "
        "| fewer calls | less time | same result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for task, gui, pack in rows:
        calls = (_median(gui, "calls"), _median(pack, "calls"))
        seconds = (_median(gui, "seconds"), _median(pack, "seconds"))
        chars = (_median(gui, "chars"), _median(pack, "chars"))
        images = (_median(gui, "images"), _median(pack, "images"))
        lines.append(
            f"| {task} | {calls[0]:g} / {calls[1]:g} | {seconds[0]:.2f} / {seconds[1]:.2f} | "
            f"{chars[0]:,.0f} / {chars[1]:,.0f} | {images[0]:g} / {images[1]:g} | {calls[0] / calls[1]:.1f}x | "
            f"{seconds[0] / seconds[1]:.1f}x | yes |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="runs of the task each way (medians)")
    parser.add_argument("--snapshot-runs", type=int, default=15)
    args = parser.parse_args()
    with SandboxSession(SandboxConfig()) as session, web_form() as site:
        gui = gui_runs(session, site, args.runs)
        pack, snapshots = pack_runs(session, site, args.runs, args.snapshot_runs)
    print(f"Web form, {args.runs} runs each way (medians); both ways made the site receive {EXPECTED}.\n")
    print(table([("fill and submit a web form", gui, pack)]))
    for way, tallies in (("GUI tools", gui), ("browser pack", pack)):
        tools = sorted({name for t in tallies for name in t.per_tool})
        spent = ", ".join(f"{name} {statistics.median(t.per_tool.get(name, 0) for t in tallies):.2f}" for name in tools)
        print(f"\n{way}, seconds per tool (median of the runs' totals): {spent}")
    print(f"\nSnapshot of the same form page in the same Chromium, p50 of {args.snapshot_runs}:\n")
    print("| tool | p50 ms | text chars |\n|---|---|---|")
    for tool, (p50, chars) in snapshots.items():
        print(f"| `{tool}` | {p50:.0f} | {chars:,} |")


if __name__ == "__main__":
    main()
