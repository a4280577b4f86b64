"""`cua-mcp bench run --executor ray` on a real two-node Ray cluster on this machine (each node declares one
desktop): the same results as a local run with tasks on both nodes, and a node killed mid-task survived."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.desktop import wait_until
from tests.support.ray_cluster import RAY_ENV, RayCluster, RayNode

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CUA_MCP = str(Path(sys.executable).with_name("cua-mcp"))
# Example tasks with light apps only (no LibreOffice or Chromium), to keep the test short.
LIGHT_TASKS = ["clipboard_set_ticket", "files_append_line", "files_create_todo", "mousepad_copy_all"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with RayCluster(tmp_path_factory.mktemp("ray-logs")) as running:
        yield running


def bench(out: Path, *args: str) -> subprocess.Popen:
    env = {**os.environ, **RAY_ENV}
    argv = [CUA_MCP, "bench", "run", *args, "--out", str(out), "--no-progress"]
    return subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def results(out: Path) -> dict[str, dict]:
    [run] = json.loads((out / "results.json").read_text())["runs"]
    return {task["id"]: task for task in run["tasks"]}


def finish(process: subprocess.Popen, timeout: float = 600) -> str:
    try:
        output, _ = process.communicate(timeout=timeout)
    except BaseException:
        process.send_signal(signal.SIGINT)  # the run's own Ctrl-C: it tears its desktops down
        try:
            process.wait(timeout=60)
        finally:
            process.kill()
        raise
    assert process.returncode == 0, output
    return output


@pytest.mark.timeout(1200)
def test_the_suite_on_two_nodes_matches_a_local_run(cluster, tmp_path):
    only = [arg for task in LIGHT_TASKS for arg in ("--only", task)]
    finish(bench(tmp_path / "local", "examples/tasks", *only, "--parallel", "2"))
    finish(bench(tmp_path / "ray", "examples/tasks", *only, "--executor", "ray", "--address", cluster.address))

    local, remote = results(tmp_path / "local"), results(tmp_path / "ray")
    assert {i: r["status"] for i, r in remote.items()} == {i: r["status"] for i, r in local.items()}
    assert {i: r["score"] for i, r in remote.items()} == {i: r["score"] for i, r in local.items()}
    assert any(r["status"] == "passed" for r in remote.values()), remote
    assert len({r["node"] for r in remote.values()}) == 2, "the tasks did not run on both nodes"
    for task_id, result in remote.items():
        # The trajectory came back with its screenshots, as a local run keeps them.
        assert [s["tool"] for s in result["steps"]] == [s["tool"] for s in local[task_id]["steps"]]
        shots = [s["screenshot"] for s in result["steps"] if s["screenshot"]]
        assert shots and all((tmp_path / "ray" / result["folder"] / shot).is_file() for shot in shots)
    assert "report.html" in os.listdir(tmp_path / "ray")


def desktop_on(node: RayNode) -> int | None:
    """The pid of an Xvfb started (through a Ray worker) under this node's `ray start`, if one runs."""
    parents = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
                parents[int(entry.name)] = (int(stat.rsplit(")", 1)[1].split()[1]), stat.split("(", 1)[1].split(")")[0])
            except (OSError, ValueError):
                continue
    for pid, (_, name) in parents.items():
        if name == "Xvfb":
            ancestor = pid
            while ancestor in parents and ancestor > 1:
                ancestor = parents[ancestor][0]
                if ancestor == node.process.pid:
                    return pid
    return None


@pytest.mark.timeout(900)
def test_a_node_lost_mid_task_is_an_environment_error_retried_elsewhere(cluster, tmp_path):
    # Two tasks that hold their desktops long enough to lose one: one lands on each node.
    tasks = tmp_path / "tasks"
    tasks.mkdir()
    for n in (1, 2):
        task = {
            "id": f"slow_{n}",
            "instruction": "Copy the text of the open document to the clipboard.",
            "setup": [
                {"type": "write_file", "path": "notes.txt", "content": "survived"},
                {"type": "launch", "app": "mousepad", "args": ["notes.txt"]},
                {"type": "sleep", "seconds": 8},
            ],
            "evaluator": {"type": "clipboard", "equals": "survived"},
            "solution": [
                {"tool": "press_keys", "arguments": {"keys": "ctrl+a"}},
                {"tool": "press_keys", "arguments": {"keys": "ctrl+c"}},
                {"tool": "wait", "arguments": {"seconds": 0.3}},
            ],
        }
        (tasks / f"slow_{n}.json").write_text(json.dumps(task))
    worker = cluster.nodes[1]
    process = bench(tmp_path / "out", str(tasks), "--executor", "ray", "--address", cluster.address)
    xvfb = wait_until(lambda: desktop_on(worker), timeout=180, interval=0.2, what="a desktop on the worker node")
    worker.kill()
    output = finish(process)

    by_id = results(tmp_path / "out")
    assert all(r["status"] == "passed" for r in by_id.values()), output
    [retried] = [r for r in by_id.values() if r["attempts"] == 2]
    assert "node lost mid-task" in retried["detail"] and "environment error" in retried["detail"]
    assert retried["node"] == by_id[next(i for i in by_id if i != retried["id"])]["node"]  # ran on the survivor
    assert "node lost mid-task" in (tmp_path / "out" / "report.html").read_text()
    # The lost node's desktop did not outlive it.
    wait_until(lambda: not Path(f"/proc/{xvfb}").exists(), timeout=30, what="the lost node's Xvfb to end")
