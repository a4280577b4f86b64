"""`cua-mcp bench run --executor ray --address HOST:PORT`: the tasks of a run on the desktops of a Ray cluster.

Each task is one Ray task that asks for a `desktop` resource (a node declares how many desktops it
hosts: `ray start ... --resources='{"desktop": 2}'`), so Ray places it on a node with a free one. There it
runs the runner's own `run_task` (a fresh sandbox desktop, the setup, the agent, the evaluator) in a
scratch folder, and returns the result with the task's folder (trajectory, screenshots, the agent's
conversation) packed; the driver unpacks it into the run's folder, so the report is the same as a local
run's. Nodes need what a local run needs (the project's `scripts/setup`) and the task files at the same
path as the driver (the container image puts both in place).

A node lost mid-task (its machine, raylet or worker gone) is Ray's system error, not the task's: the
attempt counts as an environment error and the task runs once more, on whichever node has a desktop free
(the lost one's is gone); the result says so in its detail and in `attempts`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import ipaddress
import logging
import os
import shutil
import tempfile
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import ray
import ray.exceptions

from cua_mcp.bench.agents.base import Agent
from cua_mcp.bench.results import Status, TaskResult
from cua_mcp.bench.runner import RunOptions, new_result, run_task
from cua_mcp.bench.tasks import Task

log = logging.getLogger(__name__)

ATTEMPTS = 2  # a task whose node is lost runs once more


class RayExecutor:
    """Runs each task as a Ray task holding one `desktop` resource; results come back as they finish."""

    def __init__(self, parallel: int = 1, address: str | None = None) -> None:
        # Ray queues the tasks on the cluster's free desktops itself; `parallel` is the local executor's knob.
        self.address = address

    async def run(self, tasks: list[Task], agent: Agent, options: RunOptions) -> AsyncIterator[TaskResult]:
        _connect(self.address)
        running: dict[asyncio.Future, tuple[Task, int, str]] = {}

        def submit(task: Task, attempt: int, note: str = "") -> None:
            ref = _run_on_node.remote(task, agent, options)
            running[asyncio.ensure_future(_await(ref))] = (task, attempt, note)

        for task in tasks:
            submit(task, 1)
        try:
            while running:
                done, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                for future in done:
                    task, attempt, note = running.pop(future)
                    try:
                        data, archive, node = future.result()
                    except ray.exceptions.RayTaskError as exc:  # run_task itself raised: the harness's fault
                        yield _failed(
                            task, agent, options, "error", f"{note}the task raised on its node: {exc}", attempt
                        )
                        continue
                    except ray.exceptions.RayError as exc:  # the node, its raylet or the worker was lost
                        lost = f"attempt {attempt}: node lost mid-task ({type(exc).__name__}), an environment error"
                        log.warning("%s: %s", task.id, lost)
                        if attempt < ATTEMPTS:
                            submit(task, attempt + 1, f"{note}{lost}; retried. ")
                        else:
                            yield _failed(task, agent, options, "env_error", f"{note}{lost}.", attempt)
                        continue
                    result = TaskResult.from_json(data)
                    _unpack(archive, options.out_dir / result.folder)
                    result.node, result.attempts = node, attempt
                    result.detail = note + result.detail
                    yield result
        finally:
            for future in running:
                future.cancel()
            if running:
                await asyncio.gather(*running, return_exceptions=True)


def _connect(address: str | None) -> None:
    if ray.is_initialized():
        return
    address = address or os.environ.get("RAY_ADDRESS") or "auto"
    kwargs: dict[str, Any] = {"address": address, "logging_level": logging.WARNING}
    host = address.rpartition(":")[0]
    if _is_loopback(host):
        # A cluster on this machine's loopback: the driver is on its node (Ray would pick the network address).
        kwargs["_node_ip_address"] = host
    ray.init(**kwargs)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _await(ref: ray.ObjectRef) -> Any:
    try:
        return await ref
    except asyncio.CancelledError:
        # Ctrl-C: stop the remote task; killing its worker makes the sandbox's reaper tear the desktop down.
        ray.cancel(ref, force=True)
        raise


@ray.remote(num_cpus=0, resources={"desktop": 1}, max_retries=0)
def _run_on_node(task: Task, agent: Agent, options: RunOptions) -> tuple[dict[str, Any], bytes, str]:
    """On the node: run the task in a scratch folder; its result, its folder packed, and the node's id."""
    scratch = Path(tempfile.mkdtemp(prefix="cua-bench-"))
    try:
        result = asyncio.run(run_task(task, agent, dataclasses.replace(options, out_dir=scratch)))
        return result.to_json(), _pack(scratch / result.folder), ray.get_runtime_context().get_node_id()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _pack(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # screenshots are compressed already
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _unpack(data: bytes, folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        # zipfile drops absolute paths and ".." and makes no links: a node cannot write outside the folder.
        archive.extractall(folder)


def _failed(task: Task, agent: Agent, options: RunOptions, status: Status, detail: str, attempts: int) -> TaskResult:
    result = new_result(task, agent, options, status)
    result.detail, result.attempts, result.folder = detail, attempts, ""
    return result
