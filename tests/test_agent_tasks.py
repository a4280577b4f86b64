"""Real tasks solved element-first, through refs only, with the outcome checked outside the server
(on disk, through pyatspi, through X). The benchmark runs the same tasks GUI-only too."""

from __future__ import annotations

import pytest

from benchmarks.agent_tasks import TASKS, Agent, Task
from cua_mcp.sandbox.session import SandboxConfig, SandboxSession
from tests.support.desktop import wait_until
from tests.support.mcp_client import attached_server


@pytest.mark.parametrize("task", TASKS, ids=[t.name.split(":")[0] + ":" + t.name.split(":")[1][:24] for t in TASKS])
def test_a_task_solved_through_refs(task: Task):
    with SandboxSession(SandboxConfig()) as session:
        task.setup(session)
        with attached_server(session) as client:
            agent = Agent(client)
            task.refs(agent, session)
            assert wait_until(lambda: task.check(session), timeout=20, what=task.name), agent.tally.log
        assert all(not call.startswith(("screenshot", 'click({"x"')) for call in agent.tally.log), agent.tally.log
