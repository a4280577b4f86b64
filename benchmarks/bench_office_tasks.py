"""Office tasks done through the LibreOffice tools and with GUI tools only, through a real MCP client.

    .venv/bin/python -m benchmarks.bench_office_tasks [--gui]

Each task runs on a fresh sandbox desktop and server; a run counts the tool calls, the wall time from
the first call to the last (and from the answer of the first, the call that opens the app, as an
OSWorld task starts with its app open), and the characters and images the calls returned, then checks
the saved file with a real reader (openpyxl, python-docx, python-pptx). The pack side always runs;
`--gui` adds the GUI-only way (snapshot, click, type_text, press_keys, as a scripted agent that looks
before it acts and polls the snapshot until what it waits for shows).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pptx

from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.mcp_client import McpServerProcess, attached_server, model_text

VALUES = [(i * 7) % 23 + 1 for i in range(20)]
STORY = ["The old cat slept.", "A cat is not a dog, said the cat.", "No cat today."]
SLIDES = [("Quarterly review", "Team North"), ("Sales", "Up 10%\nNew customers"), ("Plans", "Hire two people")]


@dataclass
class Run:
    """What one way of doing a task cost, from the client's side."""

    client: McpServerProcess
    calls: int = 0
    chars: int = 0
    images: int = 0
    started: float = 0.0
    opened: float = 0.0  # when the call that opened the app answered
    ended: float = 0.0
    log: list[str] = field(default_factory=list)

    def __call__(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        if not self.calls:
            self.started = time.perf_counter()
        result = self.client.call_raw(name, arguments or {}, timeout=240)
        self.ended = time.perf_counter()
        if not self.calls:
            self.opened = self.ended
        self.calls += 1
        text = model_text(result)
        self.chars += len(text)
        self.images += sum(1 for c in result.content if c.type == "image")
        self.log.append(f"{name}: {'ERROR ' if result.is_error else ''}{text[:120]!r}")
        return text

    def until(self, pattern: str, tries: int = 60) -> re.Match:
        """Snapshot until `pattern` shows (each snapshot counts, as an agent's look would)."""
        text = ""
        for _ in range(tries):
            text = self("snapshot")
            match = re.search(pattern, text)
            if match:
                return match
            time.sleep(1)
        raise RuntimeError(f"{pattern!r} never showed; last snapshot:\n{text[:1500]}")


# ----- checks: the same for both ways --------------------------------------------------------------


def check_sum(path: Path) -> None:
    sheet = openpyxl.load_workbook(path).active
    values = openpyxl.load_workbook(path, data_only=True).active
    assert [sheet.cell(r, 1).value for r in range(1, 21)] == VALUES
    assert sheet["A21"].value == "=SUM(A1:A20)" and values["A21"].value == sum(VALUES)


def check_story(path: Path) -> None:
    text = [p.text for p in docx.Document(str(path)).paragraphs if p.text]
    assert text == [line.replace("cat", "dog") for line in STORY], text


def check_deck(path: Path) -> None:
    deck = pptx.Presentation(str(path))
    got = [tuple(s.text_frame.text for s in slide.shapes if s.has_text_frame) for slide in deck.slides]
    assert got == SLIDES, got


# ----- the pack ------------------------------------------------------------------------------------


def pack_sum(run: Run, workspace: Path) -> Path:
    run("office_open", {"new": "calc"})
    run("calc_set_cells", {"range": "A1", "values": [[v] for v in VALUES] + [["=SUM(A1:A20)"]]})
    run("office_save", {"path": "sum.xlsx"})
    return workspace / "sum.xlsx"


def pack_story(run: Run, workspace: Path) -> Path:
    run("office_open", {"path": "story.docx"})
    run("writer_find_replace", {"find": "cat", "replace": "dog"})
    run("office_save", {})
    return workspace / "story.docx"


def pack_deck(run: Run, workspace: Path) -> Path:
    run("office_open", {"new": "impress"})
    (title, text), *rest = SLIDES
    run("impress_set_title", {"slide": 1, "title": title})
    run("impress_set_text", {"slide": 1, "shape": 2, "text": text})
    for title, text in rest:
        run("impress_add_slide", {"title": title, "text": text})
    run("office_save", {"path": "deck.pptx"})
    return workspace / "deck.pptx"


# ----- GUI tools only ------------------------------------------------------------------------------


def gui_sum(run: Run, workspace: Path) -> Path:
    run("launch", {"app": "libreoffice-calc"})
    cell = run.until(r"address a cell as (e\d+:A1)")  # the empty sheet's line says how its cells are named
    run("click", {"ref": cell[1]})
    run("type_text", {"text": "\n".join(map(str, VALUES)) + "\n=SUM(A1:A20)\n"})
    run.until(rf"\n\s*21\t{sum(VALUES)}\b")
    return gui_save_as(run, workspace / "sum.xlsx")


def gui_story(run: Run, workspace: Path) -> Path:
    run("launch", {"app": "libreoffice-writer", "args": [str(workspace / "story.docx")]})
    run.until(r"The old cat slept")
    run("press_keys", {"keys": "ctrl+h"})
    dialog = run.until(
        r'label "Find:" \[ref=e\d+\]\n\s*textbox \[ref=(e\d+)\][^\n]*\n'
        r'\s*label "Replace:" \[ref=e\d+\]\n\s*textbox \[ref=(e\d+)\]'
    )
    run("type_text", {"ref": dialog[1], "text": "cat"})
    run("type_text", {"ref": dialog[2], "text": "dog"})
    replace_all = run.until(r'button "Replace All" \[ref=(e\d+)\]\n')
    run("click", {"ref": replace_all[1]})
    close = run.until(r'button "Close" \[ref=(e\d+)\]')
    run("click", {"ref": close[1]})
    save = run.until(r'window "story\.docx - LibreOffice Writer"[\s\S]*button "Save" \[ref=(e\d+)\]')
    run("click", {"ref": save[1]})
    run.until(r'alert "Question"')  # keep the format? (its default button: Use Word 2007-365!)
    run("press_keys", {"keys": "Return"})
    run.until(r'window "story\.docx - LibreOffice Writer"')
    return workspace / "story.docx"


def gui_deck(run: Run, workspace: Path) -> Path:
    run("launch", {"app": "libreoffice-impress"})
    close = run.until(r'dialog "Select a Template"[\s\S]*button "Close" \[ref=(e\d+)\]')
    run("click", {"ref": close[1]})
    for number, (title, text) in enumerate(SLIDES, start=1):
        if number > 1:
            new_slide = run.until(r'button "New Slide" \[ref=(e\d+)\]')
            run("click", {"ref": new_slide[1]})
            run("press_keys", {"keys": "Escape"})  # the answer says the button took the focus: give it back
        # The slide being edited, with its two placeholders still empty.
        slide = run.until(
            rf'group "PageShape: Slide {number}"[^\n]*\n\s*group "PresentationTitle" \[ref=(e\d+)\][^\n]*\n'
            r'\s*paragraph [^\n]*"Click to add Title"\n\s*group "Presentation(?:Subtitle|Outliner)" \[ref=(e\d+)\]'
        )
        run("click", {"ref": slide[1]})
        run("type_text", {"text": title})
        run("click", {"ref": slide[2]})
        run("type_text", {"text": text})
    run("press_keys", {"keys": "Escape"})
    return gui_save_as(run, workspace / "deck.pptx")


def gui_save_as(run: Run, path: Path) -> Path:
    """Save As through LibreOffice's dialog, keeping the file's format when it asks."""
    run("press_keys", {"keys": "ctrl+shift+s"})
    run.until(r'(dialog|file chooser) "Save')
    run("type_text", {"text": f"{path}\n"})
    run.until(r'alert "Question"')  # keep the format? (its default button: Use Excel/PowerPoint 2007-365!)
    run("press_keys", {"keys": "Return"})
    run.until(rf"{re.escape(path.name)} - LibreOffice")
    return path


TASKS: list[tuple[str, Callable, Callable | None, Callable]] = [
    ("fill 20 cells and a SUM, save as xlsx", pack_sum, gui_sum, check_sum),
    ("replace a word throughout, save as docx", pack_story, gui_story, check_story),
    ("build a 3-slide deck, save as pptx", pack_deck, gui_deck, check_deck),
]


def run_task(way: Callable, check: Callable) -> Run:
    workspace = Path(tempfile.mkdtemp(prefix="office-task-"))
    story = docx.Document()
    for line in STORY:
        story.add_paragraph(line)
    story.save(str(workspace / "story.docx"))
    with (
        SandboxSession(SandboxConfig(width=1920, height=1080)) as session,
        attached_server(session, "--workspace", str(workspace)) as client,
    ):
        run = Run(client)
        path = way(run, workspace)
        check(path)
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gui", action="store_true", help="also run the GUI-only way where there is one")
    args = parser.parse_args()
    rows = ["| task | way | tool calls | wall s | wall s once the app is open | chars returned | images | "
            "file passes the checks |",
            "|---|---|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for name, pack, gui, check in TASKS:
        ways = [("office tools", pack)] + ([("GUI tools only", gui)] if args.gui and gui else [])
        for label, way in ways:
            try:
                run = run_task(way, check)
                rows.append(
                    f"| {name} | {label} | {run.calls} | {run.ended - run.started:.1f} | {run.ended - run.opened:.1f} | "
                    f"{run.chars} | {run.images} | yes |"
                )
            except (AssertionError, RuntimeError) as exc:
                rows.append(f"| {name} | {label} | | | | | | no: {str(exc).splitlines()[0][:80]} |")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
