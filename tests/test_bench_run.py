"""`cua-mcp bench run` as a user runs it: real sandbox desktops, real apps, the server reached through
a real MCP client, scores read back from results.json, the report opened in headless Chromium."""

from __future__ import annotations

import http.server
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples" / "tasks"
AGENT_SCRIPT = Path(__file__).parent / "support" / "bench_agent.py"


def bench(*args: str, env: dict[str, str] | None = None, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cua_mcp", "bench", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def outcomes(out: Path) -> dict[str, dict[str, tuple[str, float]]]:
    data = json.loads((out / "results.json").read_text())
    return {run["tools"]: {t["id"]: (t["status"], t["score"]) for t in run["tasks"]} for run in data["runs"]}


def task(folder: Path, data: dict) -> None:
    (folder / f"{data['id']}.json").write_text(json.dumps(data))


@pytest.fixture(scope="module")
def web_files(tmp_path_factory):
    """A local HTTP server with one file, for a download step that really fetches."""
    root = tmp_path_factory.mktemp("web")
    (root / "greeting.txt").write_text("hello from the web\n")
    handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=str(root))  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def edge_suite(tmp_path_factory, web_files):
    """Tasks that must fail, error or be refused in a particular way, and two that must pass."""
    folder = tmp_path_factory.mktemp("suite")
    write_todo = {"tool": "write_file", "arguments": {"path": "todo.txt", "content": "Call Alice\n"}}
    task(
        folder,
        {
            "id": "passes",
            "instruction": "x",
            "evaluator": {"type": "file_equals", "path": "todo.txt", "text": "Call Alice"},
            "solution": [write_todo],
        },
    )
    task(
        folder,
        {
            "id": "wrong_solution",
            "instruction": "x",
            "evaluator": {"type": "file_equals", "path": "todo.txt", "text": "Call Bob"},
            "solution": [write_todo],
        },
    )
    task(
        folder,
        {
            "id": "infeasible_but_done",
            "instruction": "x",
            "evaluator": {"type": "infeasible"},
            "solution": [{"tool": "list_windows", "arguments": {}}],
        },
    )
    task(
        folder,
        {
            "id": "feasible_but_declared",
            "instruction": "x",
            "evaluator": {"type": "file_exists", "path": "nothing.txt", "exists": False},
            "solution": [{"declare": "infeasible"}],
        },
    )
    task(
        folder,
        {
            "id": "unreadable_target",
            "instruction": "x",
            "evaluator": {"type": "sheet_cells", "path": "report.xlsx", "cells": {"A1": 1}},
            "solution": [write_todo],
        },
    )
    task(
        folder,
        {
            "id": "setup_fails",
            "instruction": "x",
            "setup": [{"type": "copy", "source": "files/absent.txt", "path": "a.txt"}],
            "evaluator": {"type": "file_exists", "path": "a.txt"},
            "solution": [write_todo],
        },
    )
    task(
        folder,
        {
            "id": "unsupported",
            "instruction": "x",
            "config": [{"type": "googledrive", "parameters": {}}],
            "evaluator": {"func": "compare_pdfs"},
        },
    )
    task(
        folder,
        {
            "id": "downloads",
            "instruction": "x",
            "config": [
                {
                    "type": "download",
                    "parameters": {
                        "files": [{"url": f"{web_files}/greeting.txt", "path": "/home/user/in/greeting.txt"}]
                    },
                }
            ],
            "evaluator": {
                "func": "compare_text_file",
                "result": {"type": "vm_file", "path": "/home/user/in/greeting.txt"},
                "expected": {"type": "cloud_file", "path": f"{web_files}/greeting.txt", "dest": "greeting.txt"},
            },
            "solution": [{"tool": "list_files", "arguments": {"path": "in"}}],
        },
    )
    return folder


@pytest.fixture(scope="module")
def edge_runs(edge_suite, tmp_path_factory):
    """The edge suite at --parallel 1 (GUI-only and all tools, side by side) and 4 (all tools)."""
    runs = {}
    for parallel, selections in ((1, ["--tools", "gui", "--tools", "all"]), (4, ["--tools", "all"])):
        out = tmp_path_factory.mktemp(f"p{parallel}")
        cache = tmp_path_factory.mktemp(f"cache{parallel}")
        done = bench(
            "run",
            str(edge_suite),
            "--out",
            str(out),
            "--parallel",
            str(parallel),
            "--cache",
            str(cache),
            *selections,
            "--no-progress",
        )
        assert done.returncode == 0, done.stderr[-3000:]
        runs[parallel] = (out, cache)
    return runs


def test_each_edge_case_is_scored_as_it_should_be(edge_runs):
    out, cache = edge_runs[1]
    results = outcomes(out)
    everything = results["all"]
    assert everything["passes"] == ("passed", 1.0)
    assert everything["downloads"] == ("passed", 1.0)
    assert everything["wrong_solution"] == ("failed", 0.0)
    assert everything["infeasible_but_done"] == ("failed", 0.0)  # OSWorld: only saying infeasible scores
    assert everything["feasible_but_declared"] == ("failed", 0.0)
    assert everything["unreadable_target"] == ("failed", 0.0)
    assert everything["setup_fails"][0] == "env_error"
    assert everything["unsupported"][0] == "unsupported"
    # GUI only: the file tool is not offered, so the oracle's write_file cannot solve the task.
    assert results["gui"]["passes"] == ("failed", 0.0)
    assert (cache / "downloads" / "greeting.txt").read_text() == "hello from the web\n"  # kept in the cache
    details = {t["id"]: t["detail"] for t in json.loads((out / "results.json").read_text())["runs"][1]["tasks"]}
    assert "report.xlsx: it does not exist" in details["unreadable_target"]
    assert "files/absent.txt" in details["setup_fails"]
    assert "compare_pdfs" in details["unsupported"] and "config:googledrive" in details["unsupported"]
    assert "declared a feasible task infeasible" in details["feasible_but_declared"]


def test_parallel_four_gives_the_results_of_parallel_one(edge_runs):
    parallel = json.loads((edge_runs[4][0] / "results.json").read_text())["runs"][0]["tasks"]
    assert outcomes(edge_runs[4][0])["all"] == outcomes(edge_runs[1][0])["all"], {
        t["id"]: t["detail"] for t in parallel
    }


def test_a_recording_has_every_call_and_a_screenshot_after_each_action(edge_runs):
    out, _ = edge_runs[1]
    folder = out / "all" / "tasks" / "passes" / "recording"
    calls = [json.loads(line) for line in (folder / "calls.jsonl").read_text().splitlines()]
    assert [c["tool"] for c in calls] == ["write_file"]
    call = calls[0]
    assert call["step"] == 1 and call["outcome"] == "ok" and call["arguments"]["path"] == "todo.txt"
    assert call["duration_ms"] > 0 and call["result_chars"] == len(call["text"]) > 0
    assert (folder / "step_0001.jpg").read_bytes()[:3] == b"\xff\xd8\xff"
    observe = out / "all" / "tasks" / "downloads" / "recording"
    assert not list(observe.glob("*.jpg"))  # list_files only looked


@pytest.mark.slow
def test_the_example_suite_passes_with_the_replay_agent(tmp_path):
    out = tmp_path / "run"
    done = bench("run", str(EXAMPLES), "--out", str(out), "--parallel", "4", "--tools", "all", "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    results = outcomes(out)["all"]
    assert len(results) >= 25
    assert {k: v for k, v in results.items() if v != ("passed", 1.0)} == {}, done.stdout
    data = json.loads((out / "results.json").read_text())
    tasks = {t["id"]: t for t in data["runs"][0]["tasks"]}
    steps = sum(len(t["steps"]) for t in tasks.values())
    # The report, as a browser shows it: one element per step, each naming its call.
    dom = subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", (out / "report.html").as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout
    assert dom.count('class="step ') == steps
    assert 'id="summary"' in dom and "Acc (%)" in dom
    first = tasks["mousepad_type_save"]["steps"][0]
    assert f"<b>{first['tool']}</b>" in dom and "Hello from cua-mcp" in dom
    # OSWorld's layout: one traj.jsonl line per step, the screenshots as PNG.
    export = tmp_path / "osworld"
    assert bench("export", "--osworld", str(out), str(export)).returncode == 0
    traj = (export / "cua-mcp" / "mousepad_type_save" / "traj.jsonl").read_text().splitlines()
    assert len(traj) == len(tasks["mousepad_type_save"]["steps"])
    line = json.loads(traj[0])
    assert line["step_num"] == 1 and line["action"]["tool"] == "type_text"
    assert (export / "cua-mcp" / "mousepad_type_save" / line["screenshot_file"]).read_bytes()[:4] == b"\x89PNG"


def test_the_command_agent_runs_an_external_program_that_solves_a_task(tmp_path):
    out = tmp_path / "run"
    done = bench(
        "run",
        str(EXAMPLES),
        "--only",
        "files_create_todo",
        "--agent",
        "command",
        "--agent-command",
        f"{sys.executable} {AGENT_SCRIPT}",
        "--out",
        str(out),
        "--no-progress",
    )
    assert done.returncode == 0, done.stderr[-3000:]
    data = json.loads((out / "results.json").read_text())
    result = data["runs"][0]["tasks"][0]
    assert (result["status"], result["agent_status"]) == ("passed", "done"), result
    assert [s["tool"] for s in result["steps"]] == ["list_files", "write_file"]
    assert "solved files_create_todo" in (out / "tasks" / "files_create_todo" / "agent.log").read_text()


def _marked(marker: str) -> list[int]:
    """Processes whose environment carries `marker` (what a run started, however deep)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "environ").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def test_ctrl_c_tears_every_desktop_down_and_writes_a_partial_report(tmp_path):
    mark = uuid.uuid4().hex  # every process the run starts inherits it
    out = tmp_path / "run"
    only = ["mousepad_type_save", "windows_activate", "calculator_add", "mousepad_copy_all", "files_sum_csv"]
    args = [a for task_id in only for a in ("--only", task_id)]
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cua_mcp",
            "bench",
            "run",
            str(EXAMPLES),
            *args,
            "--out",
            str(out),
            "--parallel",
            "2",
            "--no-progress",
        ],
        env={**os.environ, "CUA_BENCH_TEST_MARK": mark},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A suite started in the background (`./scripts/test &`) ignores SIGINT, and so would the run.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 120
    while not list(out.glob("tasks/*/recording/calls.jsonl")) and time.monotonic() < deadline:
        time.sleep(0.1)  # until an agent is at work on some desktop
    assert len(_marked(mark)) > 3, "the run started no desktop"
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr[-3000:]
    data = json.loads((out / "results.json").read_text())
    assert data["run"]["partial"] is True
    statuses = [t["status"] for t in data["runs"][0]["tasks"]]
    assert len(statuses) == len(only) and "cancelled" in statuses
    assert (out / "report.html").exists()
    deadline = time.monotonic() + 30
    while _marked(mark) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _marked(mark) == [], "processes of the run outlived it"
    shutil.rmtree(out, ignore_errors=True)
