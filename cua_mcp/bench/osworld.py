"""OSWorld's task JSON, read as it is: its `config` steps become our setup steps, and its evaluator's
getters and metric functions are implemented here with OSWorld's names and meaning.

Supported config steps: download, launch, open, execute, command, sleep, activate_window,
close_window, chrome_open_tabs. Getters: vm_file, cloud_file (through the cache folder), rule,
accessibility_tree, active_tab. Functions: compare_table, compare_docx_files, compare_pptx_files,
exact_match, check_include_exclude, compare_text_file, compare_csv, check_list, infeasible,
is_expected_active_tab, is_expected_url_pattern_match. A task that needs anything else is marked
unsupported with the names it needs, and never run half-way.

The VM user's home (`/home/user`) is the task's workspace. Chromium is started with a DevTools
port of its own, which is what OSWorld's port forwarding (`socat`) stands in for: that launch is
accepted and does nothing.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from cua_mcp.bench import documents
from cua_mcp.bench.env import EnvironmentFailure, TaskEnv
from cua_mcp.bench.evaluators import EvalContext, Outcome
from cua_mcp.bench.steps import (
    ActivateWindow,
    CloseWindow,
    Command,
    Download,
    Launch,
    OpenFile,
    OpenTabs,
    Sleep,
)
from cua_mcp.bench.tasks import Task, TaskFormatError

# OSWorld launches these programs; ours are catalog apps.
_PROGRAMS = {
    "google-chrome": "chromium",
    "chromium": "chromium",
    "chromium-browser": "chromium",
    "gnome-calculator": "gnome-calculator",
    "mousepad": "mousepad",
    "gedit": "mousepad",
}
_OFFICE_FLAGS = {"--calc": "libreoffice-calc", "--writer": "libreoffice-writer", "--impress": "libreoffice-impress"}


# ----- the task ------------------------------------------------------------------------------------


def task_from_osworld(data: dict[str, Any], path: Path) -> Task:
    """A `Task` from OSWorld's JSON; names of what we lack go to `unsupported`."""
    for name in ("id", "instruction", "evaluator"):
        if name not in data:
            raise TaskFormatError(f"{path}: field {name}: required in an OSWorld task")
    evaluator = data["evaluator"]
    if not isinstance(evaluator, dict) or "func" not in evaluator:
        raise TaskFormatError(f"{path}: field evaluator.func: required in an OSWorld task")
    unsupported: list[str] = []
    setup = _steps(data.get("config") or [], path, "config", unsupported)
    checker = OSWorldEvaluator(evaluator, _steps(evaluator.get("postconfig") or [], path, "postconfig", unsupported))
    unsupported += checker.unsupported()
    return Task(
        id=str(data["id"]),
        instruction=str(data["instruction"]),
        setup=setup,
        evaluator=checker,
        source=path,
        max_steps=int(data.get("max_steps", 15)),
        time_limit=float(data.get("time_limit", 300)),
        # OSWorld-MCP marks tasks that an API tool should help with; a `solution` is our addition.
        tool_beneficial=bool(data.get("tool_beneficial", False)),
        solution=_solution(data.get("solution"), path),
        format="osworld",
        apps=list(data.get("related_apps") or []),
        unsupported=sorted(set(unsupported)),
    )


def _solution(raw: Any, path: Path) -> Any:
    if raw is None:
        return None
    from pydantic import TypeAdapter, ValidationError

    from cua_mcp.bench.tasks import SolutionStep, describe_validation

    try:
        return TypeAdapter(list[SolutionStep]).validate_python(raw)
    except ValidationError as exc:
        raise TaskFormatError(f"{path}: solution: {describe_validation(exc)}") from exc


def _steps(config: list[Any], path: Path, where: str, unsupported: list[str]) -> list[Any]:
    steps: list[Any] = []
    for index, item in enumerate(config):
        if not isinstance(item, dict) or "type" not in item:
            raise TaskFormatError(f"{path}: field {where}.{index}: a step is an object with a 'type'")
        kind, params = item["type"], item.get("parameters") or {}
        try:
            steps.extend(_step(kind, params, unsupported))
        except (KeyError, TypeError, ValueError) as exc:
            raise TaskFormatError(f"{path}: field {where}.{index} ({kind}): {exc!r} missing or wrong") from exc
    return steps


def _command_list(command: Any) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


def _step(kind: str, params: dict[str, Any], unsupported: list[str]) -> list[Any]:
    if kind == "download":
        return [Download(type="download", url=f["url"], path=f["path"]) for f in params["files"]]
    if kind == "open":
        return [OpenFile(type="open", path=params["path"])]
    if kind == "sleep":
        return [Sleep(type="sleep", seconds=float(params["seconds"]))]
    if kind == "activate_window":
        return [ActivateWindow(type="activate_window", window=params["window_name"])]
    if kind == "close_window":
        return [CloseWindow(type="close_window", window=params["window_name"])]
    if kind == "chrome_open_tabs":
        return [OpenTabs(type="open_tabs", urls=list(params["urls_to_open"]))]
    if kind in ("execute", "command"):
        argv = _command_list(params["command"])
        if any("pyautogui" in part for part in argv):
            unsupported.append(f"{kind}:pyautogui")
            return []
        line = argv[0] if params.get("shell") and len(argv) == 1 else shlex.join(argv)
        return [Command(type="command", command=line, check=False)]
    if kind == "launch":
        argv = _command_list(params["command"])
        program = Path(argv[0]).name
        if program == "socat":
            return []  # OSWorld forwards Chrome's DevTools port with it; ours is reached directly
        if program in ("libreoffice", "soffice"):
            app = next((a for flag, a in _OFFICE_FLAGS.items() if flag in argv), "libreoffice-writer")
            files = [a for a in argv[1:] if not a.startswith("-")]
            return [Launch(type="launch", app=app, args=files)]
        if program in _PROGRAMS:
            app = _PROGRAMS[program]
            args = [a for a in argv[1:] if not a.startswith("-")]
            return [Launch(type="launch", app=app, args=args, devtools=app == "chromium")]
        unsupported.append(f"launch:{program}")
        return []
    unsupported.append(f"config:{kind}")
    return []


# ----- the evaluator --------------------------------------------------------------------------------


class OSWorldEvaluator:
    """OSWorld's `evaluator` object: postconfig steps, then func(result, expected, **options), combined
    by `conj` as OSWorld combines them (and: 0 if any is 0, else the mean; or: 1 if any is 1, else the max)."""

    def __init__(self, spec: dict[str, Any], postconfig: list[Any]) -> None:
        self.spec = spec
        self.postconfig = postconfig
        funcs = spec["func"]
        self.functions: list[str] = list(funcs) if isinstance(funcs, list) else [funcs]
        self.conj = spec.get("conj", "and")

    def _per_function(self, key: str) -> list[Any]:
        value = self.spec.get(key)
        if isinstance(self.spec["func"], list):
            return list(value) if isinstance(value, list) else [value] * len(self.functions)
        return [value]

    def unsupported(self) -> list[str]:
        missing = [f for f in self.functions if f not in METRICS]
        for key in ("result", "expected"):
            for getter in self._per_function(key):
                if isinstance(getter, dict) and getter.get("type") not in GETTERS:
                    missing.append(f"getter:{getter.get('type')}")
        for options in self._per_function("options"):
            for rule in (options or {}).get("rules", []) if isinstance(options, dict) else []:
                if isinstance(rule, dict) and rule.get("type") not in _TABLE_RULES:
                    missing.append(f"compare_table rule:{rule.get('type')}")
        return missing

    async def check(self, ctx: EvalContext) -> Outcome:
        if self.functions == ["infeasible"]:
            said = ctx.agent_status == "infeasible"
            return Outcome(1.0 if said else 0.0, "infeasible: the agent " + ("said so" if said else "did not say so"))
        try:
            for step in self.postconfig:
                await step.run(ctx.env)
        except EnvironmentFailure as exc:
            return Outcome(0.0, f"postconfig failed: {exc}")
        scores, details = [], []
        results, expecteds = self._per_function("result"), self._per_function("expected")
        options = self._per_function("options")
        for name, result_spec, expected_spec, opts in zip(self.functions, results, expecteds, options, strict=True):
            try:
                result = await _get(ctx.env, result_spec)
                expected = await _get(ctx.env, expected_spec) if expected_spec else None
                args = [result] if expected_spec is None else [result, expected]
                value = float(METRICS[name](*args, **(opts or {})))
            except (documents.UnreadableError, EnvironmentFailure) as exc:
                value, exc_text = 0.0, str(exc)
                details.append(f"{name}: {exc_text}")
            else:
                details.append(f"{name} = {value:g}")
            if self.conj == "and" and value == 0.0:
                return Outcome(0.0, "; ".join(details))
            if self.conj == "or" and value == 1.0:
                return Outcome(1.0, "; ".join(details))
            scores.append(value)
        total = sum(scores) / len(scores) if self.conj == "and" else max(scores)
        return Outcome(total, "; ".join(details))


# ----- getters ----------------------------------------------------------------------------------------


async def _vm_file(env: TaskEnv, spec: dict[str, Any]) -> Any:
    if spec.get("multi"):
        return [_existing(env.path(p)) for p in spec["path"]]
    return _existing(env.path(spec["path"]))


def _existing(path: Path) -> str | None:
    return str(path) if path.is_file() else None  # OSWorld's getters give None for a missing file


async def _cloud_file(env: TaskEnv, spec: dict[str, Any]) -> Any:
    if spec.get("multi"):
        paths = [str(await env.fetch(u, d)) for u, d in zip(spec["path"], spec["dest"], strict=True)]
        gives = spec.get("gives", [0])
        return [paths[i] for i in gives] if len(gives) > 1 else paths[gives[0]]
    return str(await env.fetch(spec["path"], spec.get("dest", "")))


async def _rule(env: TaskEnv, spec: dict[str, Any]) -> Any:
    return spec["rules"]


async def _accessibility_tree(env: TaskEnv, spec: dict[str, Any]) -> Any:
    from cua_mcp.accessibility.osworld import to_xml

    return to_xml((await env.a11y.snapshot("desktop")).roots, env.desktop.space)


async def _active_tab(env: TaskEnv, spec: dict[str, Any]) -> Any:
    """The tab in front, from Chromium's DevTools list (most recently active page first)."""
    targets = await env.devtools("/json/list")
    pages = [t for t in targets if isinstance(t, dict) and t.get("type") == "page"]  # type: ignore[union-attr]
    if not pages:
        return None
    return {"title": pages[0].get("title", ""), "url": pages[0].get("url", "")}


GETTERS: dict[str, Callable[[TaskEnv, dict[str, Any]], Awaitable[Any]]] = {
    "vm_file": _vm_file,
    "cloud_file": _cloud_file,
    "rule": _rule,
    "accessibility_tree": _accessibility_tree,
    "active_tab": _active_tab,
}


async def _get(env: TaskEnv, spec: Any) -> Any:
    if not isinstance(spec, dict):
        return spec
    return await GETTERS[spec["type"]](env, spec)


# ----- metric functions (OSWorld's names, arguments and meaning) ---------------------------------------


def exact_match(result: Any, rules: dict[str, Any]) -> float:
    return 1.0 if result == rules["expected"] else 0.0


def check_include_exclude(result: Any, rules: dict[str, Any]) -> float:
    if result is None:
        return 0.0
    text = str(result)
    ok = all(s in text for s in rules.get("include", [])) and not any(s in text for s in rules.get("exclude", []))
    return 1.0 if ok else 0.0


def _read_text(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise documents.UnreadableError(f"cannot read {Path(path).name}: {exc}") from exc


def compare_text_file(file1: str | None, file2: str | None, **options: Any) -> float:
    text1, text2 = _read_text(file1), _read_text(file2)
    if text1 is None or text2 is None:
        return 0.0
    if options.get("ignore_blanks", False):
        text1, text2 = re.sub(r"[\t\n]", " ", text1).strip(), re.sub(r"[\t\n]", " ", text2).strip()
        text1, text2 = re.sub(r"\s+", " ", text1), re.sub(r"\s+", " ", text2)
    if options.get("ignore_case", False):
        text1, text2 = text1.lower(), text2.lower()
    return 1.0 if text1 == text2 else 0.0


def compare_csv(result: str | None, expected: str | None, **options: Any) -> float:
    got, want = _read_text(result), _read_text(expected)
    if got is None or want is None:
        return 0.0
    lines1 = [line.strip() for line in got.splitlines()]
    lines2 = [line.strip() for line in want.splitlines()]
    if options.get("strict", True) is False:
        lines1, lines2 = [x for x in lines1 if x], [x for x in lines2 if x]
    if options.get("ignore_case", False):
        lines1, lines2 = [x.lower() for x in lines1], [x.lower() for x in lines2]
    return 1.0 if lines1 == lines2 else 0.0


def check_list(result: str | None, rules: dict[str, Any]) -> float:
    text = _read_text(result)
    if text is None:
        return 0.0
    lines = text.splitlines()
    expect = [re.compile(p) for p in rules.get("expect", [])]
    unexpect = [re.compile(p) for p in rules.get("unexpect", [])]
    hit = all(any(p.search(line) for line in lines) for p in expect)
    miss = not any(p.search(line) for p in unexpect for line in lines)
    return 1.0 if hit and miss else 0.0


def is_expected_active_tab(active_tab_info: dict[str, Any] | None, rule: dict[str, Any]) -> float:
    if not active_tab_info:
        return 0.0
    if rule.get("type") == "url":
        return 1.0 if active_tab_info.get("url") == rule["url"] else 0.0
    raise documents.UnreadableError(f"is_expected_active_tab: rule type {rule.get('type')!r} is not supported")


def is_expected_url_pattern_match(result: Any, rules: dict[str, Any]) -> float:
    if not result:
        return 0.0
    url = result.get("url", "") if isinstance(result, dict) else str(result)
    return 1.0 if all(re.search(p, url) for p in rules["expected"]) else 0.0


def _normalise(text: str, options: dict[str, Any]) -> str:
    if options.get("ignore_blanks", True):
        text = re.sub(r"\s+", " ", text).strip()
    if options.get("ignore_case", False):
        text = text.lower()
    return text


def compare_docx_files(file1: str | None, file2: str | None, **options: Any) -> float:
    if file1 is None or file2 is None:
        return 0.0
    got = [_normalise(p.text, options) for p in documents.paragraphs(Path(file1))]
    want = [_normalise(p.text, options) for p in documents.paragraphs(Path(file2))]
    if options.get("content_only", False):
        return 1.0 if " ".join(got).strip() == " ".join(want).strip() else 0.0
    if options.get("ignore_order", False):
        got, want = sorted(got), sorted(want)
    return 1.0 if got == want else 0.0


def compare_pptx_files(file1: str | None, file2: str | None, **options: Any) -> float:
    if file1 is None or file2 is None:
        return 0.0
    got = [[t.strip() for t in slide] for slide in documents.slides(Path(file1))]
    want = [[t.strip() for t in slide] for slide in documents.slides(Path(file2))]
    return 1.0 if got == want else 0.0


_TABLE_RULES = frozenset({"sheet_data", "sheet_name", "check_cell"})


def _sheet(path: str, ref: str | int) -> list[list[documents.Cell]]:
    """OSWorld's sheet reference: "RI0"/"EI0" by index, "RNname"/"ENname" by name (the path already chosen)."""
    text = str(ref)
    if text[1:2] == "I":
        return documents.sheet_rows(Path(path), int(text[2:]))
    if text[1:2] == "N":
        return documents.sheet_rows(Path(path), text[2:])
    return documents.sheet_rows(Path(path), int(text))


def _pick(result: str, expected: str | None, ref: Any) -> str:
    return expected if str(ref).startswith("E") and expected is not None else result


def compare_table(result: str | None, expected: str | None = None, **options: Any) -> float:
    """Sheets compared by OSWorld's rules: sheet_data (same values), sheet_name (same names),
    check_cell (a cell's value, method eq). With no rules, every sheet's values must match."""
    if result is None:
        return 0.0
    rules = options.get("rules") or [{"type": "sheet_all"}]
    for rule in rules:
        kind = rule["type"]
        if kind == "sheet_all":
            names = documents.sheet_names(Path(result))
            if expected is None or names != documents.sheet_names(Path(expected)):
                return 0.0
            pairs = [
                (documents.sheet_rows(Path(result), i), documents.sheet_rows(Path(expected), i))
                for i in range(len(names))
            ]
            if not all(_same_rows(a, b) for a, b in pairs):
                return 0.0
        elif kind == "sheet_data":
            first = _sheet(_pick(result, expected, rule["sheet_idx0"]), rule["sheet_idx0"])
            second = _sheet(_pick(result, expected, rule["sheet_idx1"]), rule["sheet_idx1"])
            if not _same_rows(first, second):
                return 0.0
        elif kind == "sheet_name":
            if expected is None or documents.sheet_names(Path(result)) != documents.sheet_names(Path(expected)):
                return 0.0
        elif kind == "check_cell":
            rows = _sheet(result, rule.get("sheet_idx", 0))
            for prop, check in rule.get("props", {}).items():
                if prop != "value" or check.get("method", "eq") != "eq":
                    raise documents.UnreadableError(f"check_cell: {prop}/{check.get('method')} is not supported")
                if not documents.same_value(documents.cell(rows, rule["coordinate"]), check["ref"]):
                    return 0.0
    return 1.0


def _same_rows(first: list[list[documents.Cell]], second: list[list[documents.Cell]]) -> bool:
    if len(first) != len(second):
        return False
    return all(
        len(a) == len(b) and all(documents.same_value(x, y) for x, y in zip(a, b, strict=True))
        for a, b in zip(first, second, strict=True)
    )


METRICS: dict[str, Callable[..., float]] = {
    "compare_table": compare_table,
    "compare_docx_files": compare_docx_files,
    "compare_pptx_files": compare_pptx_files,
    "exact_match": exact_match,
    "check_include_exclude": check_include_exclude,
    "compare_text_file": compare_text_file,
    "compare_csv": compare_csv,
    "check_list": check_list,
    "infeasible": lambda *args, **kwargs: 0.0,  # scored on the agent's declaration, in check()
    "is_expected_active_tab": is_expected_active_tab,
    "is_expected_url_pattern_match": is_expected_url_pattern_match,
}
