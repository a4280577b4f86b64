"""Task files: our JSON format, and OSWorld's read as it is (see osworld.py).

Our format:

    {"id": "mousepad_hello", "instruction": "...",
     "setup": [{"type": "write_file", "path": "notes.txt", "content": "..."},
               {"type": "launch", "app": "mousepad", "args": ["notes.txt"]}],
     "evaluator": {"type": "file_contains", "path": "notes.txt", "text": "hello"},
     "max_steps": 15, "time_limit": 300, "tool_beneficial": false,
     "solution": [{"tool": "type_text", "arguments": {"text": "hello"}}, {"declare": "done"}]}

Setup step types are in steps.py, evaluator types in evaluators.py. A file that does not fit is
refused with its name and the field at fault (`TaskFormatError`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from cua_mcp.bench.evaluators import EvalContext, Evaluator, Outcome
from cua_mcp.bench.steps import Step
from cua_mcp.errors import CuaError

# Folders of a suite that hold a task's files, not tasks.
_NOT_TASK_FOLDERS = frozenset({"files", "cache", "pages"})


class TaskFormatError(CuaError):
    """A task file that cannot be read; the message names the file and the field."""


class SolutionStep(BaseModel):
    """One step of a task's known solution: a tool call, or the agent's closing declaration."""

    model_config = ConfigDict(extra="forbid")

    tool: str | None = Field(None, pattern=r"^[a-z0-9_]{1,64}$")
    arguments: dict[str, Any] = {}
    declare: Literal["done", "infeasible", "fail"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> SolutionStep:
        if (self.tool is None) == (self.declare is None):
            raise ValueError("a solution step has either 'tool' (with 'arguments') or 'declare'")
        return self


class _TaskFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,100}$")
    instruction: str = Field(min_length=1, max_length=10_000)
    setup: list[Step] = []
    evaluator: Evaluator
    max_steps: int = Field(15, ge=1, le=500)
    time_limit: float = Field(300.0, gt=0, le=7200)
    tool_beneficial: bool = False
    solution: list[SolutionStep] | None = None
    apps: list[str] = []  # informational: the apps the task is about


class Checker(Protocol):
    async def check(self, ctx: EvalContext) -> Outcome: ...

    def unsupported(self) -> list[str]: ...


class SetupStep(Protocol):
    async def run(self, env: Any) -> None: ...


@dataclass
class Task:
    """A task ready to run, whatever file format it came from."""

    id: str
    instruction: str
    setup: list[SetupStep]
    evaluator: Checker
    source: Path
    max_steps: int = 15
    time_limit: float = 300.0
    tool_beneficial: bool = False
    solution: list[SolutionStep] | None = None
    format: Literal["cua", "osworld"] = "cua"
    apps: list[str] = field(default_factory=list)
    unsupported: list[str] = field(default_factory=list)  # steps or functions we lack, by name

    @property
    def folder(self) -> Path:
        return self.source.parent

    @property
    def infeasible(self) -> bool:
        return getattr(self.evaluator, "type", None) == "infeasible" or "infeasible" in getattr(
            self.evaluator, "functions", ()
        )


def load_task(path: Path, osworld: bool | None = None) -> Task:
    """Read one task file; `osworld` None tells the format from the content."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise TaskFormatError(f"{path}: cannot read the task file: {exc}") from exc
    except json.JSONDecodeError as exc:
        raise TaskFormatError(f"{path}: not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise TaskFormatError(f"{path}: a task file holds one JSON object")
    if osworld or (osworld is None and _looks_osworld(data)):
        from cua_mcp.bench.osworld import task_from_osworld

        return task_from_osworld(data, path)
    try:
        spec = _TaskFile.model_validate(data)
    except ValidationError as exc:
        raise TaskFormatError(f"{path}: {describe_validation(exc)}") from exc
    return Task(
        id=spec.id,
        instruction=spec.instruction,
        setup=list(spec.setup),
        evaluator=spec.evaluator,
        source=path,
        max_steps=spec.max_steps,
        time_limit=spec.time_limit,
        tool_beneficial=spec.tool_beneficial,
        solution=spec.solution,
        apps=spec.apps,
        unsupported=spec.evaluator.unsupported(),
    )


def describe_validation(exc: ValidationError) -> str:
    """The first problem of a pydantic error as 'field a.b.c: message' (and how many more)."""
    errors = exc.errors()
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
    return f"field {where}: {first['msg']}{more}"


def _looks_osworld(data: dict[str, Any]) -> bool:
    evaluator = data.get("evaluator")
    return "config" in data or (isinstance(evaluator, dict) and "func" in evaluator)


def find_task_files(paths: Iterable[Path]) -> list[Path]:
    """Task files named directly, or found under folders (skipping folders of task files)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(
                p for p in sorted(path.rglob("*.json")) if not _NOT_TASK_FOLDERS & set(p.relative_to(path).parts[:-1])
            )
        elif path.is_file():
            found.append(path)
        else:
            raise TaskFormatError(f"{path}: no such task file or folder")
    return found


def load_tasks(paths: Iterable[Path], osworld: bool | None = None, only: Iterable[str] = ()) -> list[Task]:
    """Every task under `paths` (optionally only the ids in `only`); ids must be unique."""
    wanted = set(only)
    tasks = [load_task(p, osworld) for p in find_task_files(paths)]
    if wanted:
        tasks = [t for t in tasks if t.id in wanted]
        missing = wanted - {t.id for t in tasks}
        if missing:
            raise TaskFormatError(f"no task with id {', '.join(sorted(missing))}")
    seen: dict[str, Path] = {}
    for task in tasks:
        if task.id in seen:
            raise TaskFormatError(f"{task.source}: id {task.id!r} is also used by {seen[task.id]}")
        seen[task.id] = task.source
    return tasks
