"""The run's progress on stderr: a rich progress bar (tasks done, running, passed, failed, elapsed
and expected time), or one line per finished task when stderr is not a terminal."""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress

from cua_mcp.bench.results import TaskResult
from cua_mcp.bench.tasks import Task


class Progress:
    def __init__(self, total: int, bar: bool) -> None:
        self.total = total
        self.running = self.passed = self.failed = self.done = 0
        self._bar = (
            RichProgress(
                TextColumn("[bold]{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("elapsed"),
                TimeElapsedColumn(),
                TextColumn("left"),
                TimeRemainingColumn(),
                console=Console(file=sys.stderr),
                transient=False,
            )
            if bar
            else None
        )
        self._id: Any = None

    def __enter__(self) -> Progress:
        if self._bar is not None:
            self._bar.start()
            self._id = self._bar.add_task(self._text(), total=self.total)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def started(self, task: Task) -> None:
        self.running += 1
        self._update(0)

    def finished(self, result: TaskResult) -> None:
        self.running = max(0, self.running - 1)
        self.done += 1
        if result.status == "passed":
            self.passed += 1
        else:
            self.failed += 1
        self._update(1)
        if self._bar is None:
            print(f"[{self.done}/{self.total}] {result.id}: {result.status} {result.detail[:120]}", file=sys.stderr)

    def _text(self) -> str:
        return f"running {self.running} · passed {self.passed} · not passed {self.failed}"

    def _update(self, advance: int) -> None:
        if self._bar is not None:
            self._bar.update(self._id, advance=advance, description=self._text())
