"""The benchmark's parts that need no desktop: task files, OSWorld's metric functions on real
office files, document readers, and the metrics over results."""

from __future__ import annotations

import json
from pathlib import Path

import docx
import openpyxl
import pptx
import pytest

from cua_mcp.bench import documents, osworld
from cua_mcp.bench.results import StepRecord, TaskResult, summarize
from cua_mcp.bench.runner import tool_selection
from cua_mcp.bench.tasks import TaskFormatError, load_task, load_tasks

EXAMPLES = Path(__file__).parent.parent / "examples" / "tasks"


def write(tmp_path: Path, data: object, name: str = "task.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


GOOD = {
    "id": "t1",
    "instruction": "do it",
    "evaluator": {"type": "file_exists", "path": "a.txt"},
    "solution": [{"tool": "write_file", "arguments": {"path": "a.txt", "content": "x"}}],
}


def test_every_example_task_loads_with_a_solution_and_the_suite_has_its_mix():
    tasks = load_tasks([EXAMPLES])
    assert len(tasks) >= 25
    assert all(t.solution for t in tasks), [t.id for t in tasks if not t.solution]
    assert not [t.id for t in tasks if t.unsupported]
    assert sum(t.tool_beneficial for t in tasks) * 3 >= len(tasks)
    assert sum(t.infeasible for t in tasks) >= 3
    assert sum(t.format == "osworld" for t in tasks) >= 5


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"evaluator": None}, "evaluator"),
        ({"setup": [{"type": "launch"}]}, "setup.0.launch.app"),
        ({"setup": [{"type": "teleport"}]}, "setup.0"),
        ({"max_steps": 0}, "max_steps"),
        ({"solution": [{"tool": "click", "declare": "done"}]}, "solution.0"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_a_malformed_task_names_the_file_and_the_field(tmp_path, change, field):
    data = {**GOOD, **change}
    if change.get("evaluator", 1) is None:
        del data["evaluator"]
    path = write(tmp_path, data)
    with pytest.raises(TaskFormatError) as caught:
        load_task(path)
    message = str(caught.value)
    assert str(path) in message
    assert f"field {field}" in message


def test_a_task_file_that_is_not_json_says_so(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{"id": "x",')
    with pytest.raises(TaskFormatError, match=r"broken\.json: not valid JSON"):
        load_task(path)


def test_an_osworld_task_needing_what_we_lack_is_unsupported_by_name(tmp_path):
    path = write(
        tmp_path,
        {
            "id": "ow",
            "instruction": "x",
            "config": [{"type": "googledrive", "parameters": {}}, {"type": "sleep", "parameters": {"seconds": 1}}],
            "evaluator": {"func": ["compare_pdfs", "exact_match"], "result": [{"type": "vm_window_size"}, None]},
        },
    )
    task = load_task(path)
    assert task.format == "osworld"
    assert task.unsupported == ["compare_pdfs", "config:googledrive", "getter:vm_window_size"]


def test_an_osworld_step_missing_its_parameters_names_it(tmp_path):
    path = write(tmp_path, {"id": "ow", "instruction": "x", "config": [{"type": "open"}], "evaluator": {"func": "x"}})
    with pytest.raises(TaskFormatError, match=r"field config\.0 \(open\)"):
        load_task(path)


def test_duplicate_ids_are_refused(tmp_path):
    write(tmp_path, GOOD, "a.json")
    write(tmp_path, GOOD, "b.json")
    with pytest.raises(TaskFormatError, match="id 't1' is also used"):
        load_tasks([tmp_path])


# ----- documents and OSWorld's functions on real files -------------------------------------------


def workbook(path: Path, rows: list[tuple], title: str = "Sheet1") -> str:
    book = openpyxl.Workbook()
    book.active.title = title
    for row in rows:
        book.active.append(row)
    book.save(path)
    return str(path)


def test_compare_table_by_sheet_data_and_cells(tmp_path):
    result = workbook(tmp_path / "r.xlsx", [("a", 1), ("b", 2.0)])
    same = workbook(tmp_path / "e.xlsx", [("a", 1.0), ("b", 2)])
    other = workbook(tmp_path / "o.xlsx", [("a", 1), ("b", 3)])
    rules = {"rules": [{"type": "sheet_data", "sheet_idx0": "RI0", "sheet_idx1": "EI0"}]}
    assert osworld.compare_table(result, same, **rules) == 1.0
    assert osworld.compare_table(result, other, **rules) == 0.0
    assert osworld.compare_table(result, other) == 0.0  # no rules: every sheet's values
    check = {"type": "check_cell", "sheet_idx": 0, "coordinate": "B2", "props": {"value": {"method": "eq", "ref": 2}}}
    assert osworld.compare_table(result, None, rules=[check]) == 1.0
    assert osworld.compare_table(None, same, **rules) == 0.0  # OSWorld: a missing result file scores 0


def test_an_unreadable_spreadsheet_says_which_file_and_why(tmp_path):
    broken = tmp_path / "broken.xlsx"
    broken.write_text("not a zip")
    with pytest.raises(documents.UnreadableError, match=r"cannot read the spreadsheet broken\.xlsx: BadZipFile"):
        documents.sheet_rows(broken)
    with pytest.raises(documents.UnreadableError, match=r"missing\.ods: it does not exist"):
        documents.sheet_rows(tmp_path / "missing.ods")


def test_ods_cells_are_read_with_their_types():
    rows = documents.sheet_rows(EXAMPLES / "files" / "budget.ods")
    assert rows == [["Rent", 300.0], ["Food", 200.0], ["Travel", 100.0]]
    assert documents.cell(rows, "b2") == 200.0


def test_compare_docx_and_pptx_files(tmp_path):
    def document(name: str, *texts: str) -> str:
        d = docx.Document()
        for text in texts:
            d.add_paragraph(text)
        d.save(tmp_path / name)
        return str(tmp_path / name)

    assert osworld.compare_docx_files(document("a.docx", "One  two", "x"), document("b.docx", "One two", "x")) == 1.0
    assert osworld.compare_docx_files(document("c.docx", "One"), document("d.docx", "one")) == 0.0
    assert osworld.compare_docx_files(document("e.docx", "One"), document("f.docx", "one"), ignore_case=True) == 1.0

    def deck(name: str, *titles: str) -> str:
        p = pptx.Presentation()
        for title in titles:
            p.slides.add_slide(p.slide_layouts[5]).shapes.title.text = title
        p.save(tmp_path / name)
        return str(tmp_path / name)

    assert osworld.compare_pptx_files(deck("a.pptx", "A", "B"), deck("b.pptx", "A", "B")) == 1.0
    assert osworld.compare_pptx_files(deck("c.pptx", "A"), deck("d.pptx", "A", "B")) == 0.0


def test_text_list_and_url_functions(tmp_path):
    one, two = tmp_path / "1.txt", tmp_path / "2.txt"
    one.write_text("a  b\nc")
    two.write_text("a b c")
    assert osworld.compare_text_file(str(one), str(two)) == 0.0
    assert osworld.compare_text_file(str(one), str(two), ignore_blanks=True) == 1.0
    assert osworld.check_list(str(one), {"expect": ["^c$"], "unexpect": ["z"]}) == 1.0
    assert osworld.check_list(str(one), {"expect": ["^d$"]}) == 0.0
    assert osworld.check_include_exclude("hello world", {"include": ["hello"], "exclude": ["bye"]}) == 1.0
    assert osworld.check_include_exclude("hello bye", {"include": ["hello"], "exclude": ["bye"]}) == 0.0
    assert osworld.exact_match("42", {"expected": "42"}) == 1.0
    tab = {"url": "file:///w/site/pricing.html", "title": "Pricing"}
    assert osworld.is_expected_url_pattern_match(tab, {"expected": [r"pricing\.html$"]}) == 1.0
    assert osworld.is_expected_active_tab(tab, {"type": "url", "url": "file:///w/site/index.html"}) == 0.0


# ----- metrics -------------------------------------------------------------------------------------


def result(status: str, beneficial: bool, groups: list[str]) -> TaskResult:
    steps = [StepRecord(i + 1, "t", {}, "ok", "", server_ms=10.0, client_ms=2.0, group=g) for i, g in enumerate(groups)]
    return TaskResult("x", status, tool_beneficial=beneficial, steps=steps)  # type: ignore[arg-type]


def test_acc_tir_and_acs_as_osworld_mcp_defines_them():
    results = [
        result("passed", True, ["observe", "files"]),  # beneficial and a tool used: a TIR hit
        result("passed", False, ["input", "input", "input", "input"]),  # not beneficial, GUI only: a hit
        result("failed", True, ["input"]),  # beneficial, no tool: a miss
        result("failed", False, ["shell"]),  # not beneficial, a tool: a miss
        result("env_error", True, []),  # never ran: counted apart
    ]
    s = summarize(results)
    assert (s["ran"], s["passed"], s["env_errors"]) == (4, 2, 1)
    assert s["acc"] == 50.0
    assert s["tir"] == 50.0
    assert s["acs"] == 3.0  # (2 + 4) / 2 passed tasks
    assert s["calls_by_group"] == {"files": 1, "input": 5, "observe": 1, "shell": 1}


def test_tool_selections():
    assert tool_selection("gui") == (frozenset({"observe", "input", "windows"}), "gui")
    assert "shell" in tool_selection("all")[0]
    assert tool_selection("observe,files") == (frozenset({"observe", "files"}), "files,observe")
    with pytest.raises(ValueError, match="--tools 'nope'"):
        tool_selection("nope")
