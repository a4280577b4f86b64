"""Evaluators: how a task is scored once the agent stops. Each is a pydantic model with
`check(ctx) -> Outcome`; a task file gives one under `evaluator` (an object with a `type`), and
`all` / `any` combine them.

A score is 1.0 or 0.0 (OSWorld's functions may give fractions). An evaluator that cannot read its
target scores 0 and says why in `detail`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from cua_mcp.bench import documents
from cua_mcp.bench.env import TaskEnv
from cua_mcp.errors import CuaError


@dataclass(frozen=True)
class Outcome:
    score: float
    detail: str

    @property
    def passed(self) -> bool:
        return self.score >= 1.0


@dataclass
class EvalContext:
    env: TaskEnv
    agent_status: str  # the agent's own ending (`AgentResult.status`): infeasible tasks are scored on it


def _verdict(ok: bool, detail: str) -> Outcome:
    return Outcome(1.0 if ok else 0.0, detail)


class _Evaluator(BaseModel):
    model_config = ConfigDict(extra="forbid")

    async def check(self, ctx: EvalContext) -> Outcome:
        raise NotImplementedError

    def unsupported(self) -> list[str]:
        """Names of functions this evaluator needs and the harness lacks (OSWorld's)."""
        return []


class FileExists(_Evaluator):
    type: Literal["file_exists"]
    path: str
    exists: bool = True

    async def check(self, ctx: EvalContext) -> Outcome:
        there = ctx.env.path(self.path).is_file()
        return _verdict(there == self.exists, f"{self.path} {'exists' if there else 'does not exist'}")


class _TextFile(_Evaluator):
    path: str
    ignore_case: bool = False

    def _read(self, ctx: EvalContext) -> str:
        target = ctx.env.path(self.path)
        if not target.is_file():
            raise documents.UnreadableError(f"cannot read {self.path}: it does not exist")
        try:
            text = target.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise documents.UnreadableError(f"cannot read {self.path}: {exc}") from exc
        return text.casefold() if self.ignore_case else text


class FileContains(_TextFile):
    type: Literal["file_contains"]
    text: str

    async def check(self, ctx: EvalContext) -> Outcome:
        wanted = self.text.casefold() if self.ignore_case else self.text
        found = wanted in self._read(ctx)
        return _verdict(found, f"{self.path} {'contains' if found else 'does not contain'} {self.text!r}")


class FileEquals(_TextFile):
    """The file's text equals `text` (trailing whitespace of the file ignored)."""

    type: Literal["file_equals"]
    text: str

    async def check(self, ctx: EvalContext) -> Outcome:
        got = self._read(ctx).rstrip()
        wanted = (self.text.casefold() if self.ignore_case else self.text).rstrip()
        return _verdict(got == wanted, f"{self.path} holds {got[:200]!r}, expected {wanted[:200]!r}")


class SheetCells(_Evaluator):
    """Cells of a spreadsheet (xlsx, ods or csv) hold these values: {"B2": 42, "A1": "Total"}."""

    type: Literal["sheet_cells"]
    path: str
    sheet: str | int | None = None
    cells: dict[str, Any] = Field(min_length=1)

    async def check(self, ctx: EvalContext) -> Outcome:
        rows = documents.sheet_rows(ctx.env.path(self.path), self.sheet)
        wrong = [
            f"{a}={documents.cell(rows, a)!r} (expected {v!r})"
            for a, v in self.cells.items()
            if not documents.same_value(documents.cell(rows, a), v)
        ]
        return _verdict(not wrong, "; ".join(wrong) or f"all {len(self.cells)} cells as expected")


class DocumentText(_Evaluator):
    """A document (docx, odt or text) has a paragraph containing `contains`, formatted as asked."""

    type: Literal["document_text"]
    path: str
    contains: str
    bold: bool | None = None
    italic: bool | None = None
    underline: bool | None = None
    style: str | None = None  # a paragraph style name, e.g. "Heading 1"

    async def check(self, ctx: EvalContext) -> Outcome:
        paragraphs = documents.paragraphs(ctx.env.path(self.path))
        holding = [p for p in paragraphs if self.contains in p.text]
        if not holding:
            return _verdict(False, f"no paragraph of {self.path} contains {self.contains!r}")
        for p in holding:
            if self.style is not None and p.style != self.style:
                continue
            runs = [r for r in p.runs if r.text.strip() and (r.text in self.contains or self.contains in r.text)]
            if all(self._formatted(r) for r in runs) and (runs or not self._wants_format()):
                return _verdict(True, f"{self.contains!r} found as asked")
        return _verdict(False, f"{self.contains!r} is there but not formatted as asked (style, bold, italic)")

    def _wants_format(self) -> bool:
        return any(v is not None for v in (self.bold, self.italic, self.underline))

    def _formatted(self, run: documents.Run) -> bool:
        wanted = {"bold": self.bold, "italic": self.italic, "underline": self.underline}
        return all(v is None or getattr(run, k) == v for k, v in wanted.items())


class SlideText(_Evaluator):
    """A presentation has `count` slides (if given) and slide `slide` (1-based) holds `contains`."""

    type: Literal["slide_text"]
    path: str
    slide: int = Field(1, ge=1)
    contains: str | None = None
    count: int | None = None

    async def check(self, ctx: EvalContext) -> Outcome:
        deck = documents.slides(ctx.env.path(self.path))
        if self.count is not None and len(deck) != self.count:
            return _verdict(False, f"{len(deck)} slides, expected {self.count}")
        if self.contains is None:
            return _verdict(True, f"{len(deck)} slides")
        if self.slide > len(deck):
            return _verdict(False, f"no slide {self.slide}: the deck has {len(deck)}")
        texts = deck[self.slide - 1]
        return _verdict(any(self.contains in t for t in texts), f"slide {self.slide} texts: {texts!r}")


class Element(_Evaluator):
    """An accessible element (by role, name substring, text substring and states, anywhere on the
    desktop) is there; with `present: false`, that none is."""

    type: Literal["element"]
    role: str | None = None
    name: str | None = None
    text: str | None = None
    states: list[str] = []
    present: bool = True

    async def check(self, ctx: EvalContext) -> Outcome:
        try:
            found, _ = await ctx.env.a11y.find("desktop", self.role, self.name, self.text, self.states)
        except CuaError as exc:
            raise documents.UnreadableError(f"cannot read the accessibility tree: {exc}") from exc
        what = f"role={self.role!r} name={self.name!r} text={self.text!r} states={self.states}"
        return _verdict(bool(found) == self.present, f"{len(found)} element(s) with {what}")


class Clipboard(_Evaluator):
    type: Literal["clipboard"]
    equals: str | None = None
    contains: str | None = None

    async def check(self, ctx: EvalContext) -> Outcome:
        try:
            text = await ctx.env.desktop.clipboard_get() or ""
        except CuaError as exc:
            raise documents.UnreadableError(f"cannot read the clipboard: {exc}") from exc
        ok = (self.equals is None or text.strip() == self.equals.strip()) and (
            self.contains is None or self.contains in text
        )
        return _verdict(ok, f"clipboard holds {text[:200]!r}")


class CommandOutput(_Evaluator):
    """A shell command run in the sandbox (in the workspace) exits with `exit_code` and prints what is asked."""

    type: Literal["command"]
    command: str
    exit_code: int | None = 0
    stdout_contains: str | None = None
    stdout_matches: str | None = None  # a regular expression searched in stdout

    async def check(self, ctx: EvalContext) -> Outcome:
        result = await ctx.env.command(self.command)
        ok = (
            (self.exit_code is None or result.exit_code == self.exit_code)
            and (self.stdout_contains is None or self.stdout_contains in result.stdout)
            and (self.stdout_matches is None or re.search(self.stdout_matches, result.stdout) is not None)
        )
        return _verdict(ok, f"exit {result.exit_code}, stdout {result.stdout[:200]!r}")


class Infeasible(_Evaluator):
    """The task cannot be done: success is the agent saying so (OSWorld's `infeasible`)."""

    type: Literal["infeasible"]

    async def check(self, ctx: EvalContext) -> Outcome:
        said = ctx.agent_status == "infeasible"
        return _verdict(said, "the agent declared the task infeasible" if said else "the agent did not say infeasible")


class _Combined(_Evaluator):
    of: list[Evaluator] = Field(min_length=1)
    _combine: ClassVar[Callable[[list[float]], float]]

    async def check(self, ctx: EvalContext) -> Outcome:
        outcomes = [await score(e, ctx) for e in self.of]
        return Outcome(type(self)._combine([o.score for o in outcomes]), " | ".join(o.detail for o in outcomes))

    def unsupported(self) -> list[str]:
        return [n for e in self.of for n in e.unsupported()]


class AllOf(_Combined):
    type: Literal["all"]
    _combine = min


class AnyOf(_Combined):
    type: Literal["any"]
    _combine = max


Evaluator = Annotated[
    FileExists
    | FileContains
    | FileEquals
    | SheetCells
    | DocumentText
    | SlideText
    | Element
    | Clipboard
    | CommandOutput
    | Infeasible
    | AllOf
    | AnyOf,
    Field(discriminator="type"),
]
AllOf.model_rebuild()
AnyOf.model_rebuild()


async def score(evaluator: _Evaluator, ctx: EvalContext) -> Outcome:
    """Run one evaluator; an unreadable target scores 0 with the reason."""
    try:
        return await evaluator.check(ctx)
    except (documents.UnreadableError, CuaError) as exc:
        return Outcome(0.0, str(exc))
