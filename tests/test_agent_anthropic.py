"""The anthropic agent against a local fake of the Messages API, acting on a real desktop through the real server.

The fake checks what a real endpoint would see (the tools offered, the images and tool results sent back)
and scripts the model's side of the conversation; the desktop, the server and the MCP session are real.
Tasks from the example suite run through the benchmark's runner and are scored by their evaluators; the
rest runs against one server shared by the module.
"""

from __future__ import annotations

import base64
import io
import json
import re

import pytest
from PIL import Image

from cua_mcp.bench.agents.anthropic import AnthropicAgent
from tests.support.agent_harness import EXAMPLES, run_agent, run_example
from tests.support.fake_providers import (
    FakeProvider,
    Request,
    anthropic_message,
    assert_tools_as_served,
    error_reply,
    tool_use,
)

KEY = "test-key"


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)


def results(request: Request) -> list[dict]:
    """The tool_result blocks of the request's last (user) message."""
    last = request.body["messages"][-1]
    assert last["role"] == "user", "the last message is not the user's tool results"
    return [block for block in last["content"] if block["type"] == "tool_result"]


def images(block: dict) -> list[bytes]:
    return [
        base64.b64decode(part["source"]["data"])
        for part in block["content"]
        if isinstance(part, dict) and part["type"] == "image"
    ]


def text(block: dict) -> str:
    content = block["content"]
    return content if isinstance(content, str) else " ".join(p["text"] for p in content if p["type"] == "text")


def run(provider: FakeProvider, client, tmp_path, max_steps: int = 15, **options):
    with provider:
        instruction = "Type 'hello agents' into mousepad."
        options = {"base_url": provider.base_url, **options}
        outcome = run_agent(client, AnthropicAgent(), instruction, tmp_path, options, max_steps)
    provider.check()
    return outcome


def solve(provider: FakeProvider, tmp_path, task: str = "mousepad_copy_all", max_steps=None, **options):
    """Run an example task with the runner, the agent talking to the fake."""
    with provider:
        result = run_example(task, AnthropicAgent(), tmp_path, {"base_url": provider.base_url, **options}, max_steps)
    provider.check()
    return result


def stated_size(block: dict) -> tuple[int, int]:
    """The image size a screenshot's text states ("1280x800 PNG of the whole screen ...")."""
    match = re.search(r"(\d+)x(\d+) PNG", text(block))
    assert match, text(block)
    return int(match[1]), int(match[2])


def test_mcp_mode_solves_a_task_in_two_steps(tmp_path):
    instruction = json.loads((EXAMPLES / "mousepad_copy_all.json").read_text())["instruction"]

    def first(request: Request):
        offered = [t["name"] for t in request.body["tools"]]
        assert {"screenshot", "type_text", "press_keys", "snapshot"} <= set(offered)
        assert offered[-1] == "declare_infeasible"
        assert request.body["messages"][0] == {"role": "user", "content": instruction}
        assert request.body["temperature"] == 0.25 and request.body["max_tokens"] == 512
        return anthropic_message([{"type": "text", "text": "Let me look."}, tool_use("screenshot", {})])

    def second(request: Request):
        [shot] = results(request)
        assert not shot.get("is_error")
        [png] = images(shot)
        assert Image.open(io.BytesIO(png)).size == stated_size(shot)
        return anthropic_message(
            [tool_use("press_keys", {"keys": "ctrl+a"}), tool_use("press_keys", {"keys": "ctrl+c"})]
        )

    def third(request: Request):
        selected, copied = results(request)
        assert not selected.get("is_error") and "pressed ctrl+a" in text(selected).lower()
        assert not copied.get("is_error") and "pressed ctrl+c" in text(copied).lower()
        return anthropic_message([{"type": "text", "text": "Copied."}], usage=(300, 5))

    provider = FakeProvider("anthropic", [first, second, third], KEY)
    result = solve(provider, tmp_path, temperature="0.25", max_tokens="512")

    assert result.status == "passed", result.detail  # the evaluator found the document's text on the clipboard
    assert (result.agent_status, result.agent_message) == ("done", "Copied.")
    assert [s.tool for s in result.steps] == ["screenshot", "press_keys", "press_keys"]
    assert result.usage == {"input_tokens": 500, "output_tokens": 45, "images": 1, "requests": 3}
    saved = json.loads((tmp_path / result.folder / "conversation.json").read_text())
    assert [m["role"] for m in saved["messages"]] == ["user", "assistant", "user", "assistant", "user", "assistant"]
    assert "base64 characters>" in json.dumps(saved) and "iVBOR" not in json.dumps(saved)


def test_computer_mode_maps_every_action_onto_the_servers_tools(tmp_path):
    mid = [640, 400]  # the middle of the 1280x800 screen, inside the task's mousepad window
    actions = [
        {"action": "screenshot"},
        {"action": "mouse_move", "coordinate": mid},
        {"action": "cursor_position"},
        {"action": "left_click", "coordinate": mid},
        {"action": "type", "text": "one two"},
        {"action": "double_click"},
        {"action": "triple_click", "coordinate": mid},
        {"action": "left_mouse_down"},
        {"action": "left_mouse_up"},
        {"action": "left_click_drag", "start_coordinate": mid, "coordinate": [mid[0] + 20, mid[1]]},
        {"action": "scroll", "coordinate": mid, "scroll_direction": "down", "scroll_amount": 2},
        {"action": "right_click", "coordinate": mid},
        {"action": "key", "text": "Escape"},
        {"action": "middle_click", "coordinate": mid},
        {"action": "hold_key", "text": "shift", "duration": 0.2},
        {"action": "wait", "duration": 0.2},
        {"action": "key", "text": "ctrl+a Delete"},
        {"action": "type", "text": "XJ-55-PLUM"},
        {"action": "key", "text": "ctrl+a"},
        {"action": "key", "text": "ctrl+c"},
    ]

    def first(request: Request):
        assert "computer-use-2025-01-24" in request.headers.get("anthropic-beta", "")
        computer, infeasible = request.body["tools"]
        assert computer == {
            "type": "computer_20250124",
            "name": "computer",
            "display_width_px": 1280,
            "display_height_px": 800,
        }
        assert infeasible["name"] == "declare_infeasible"
        return anthropic_message([tool_use("computer", a) for a in actions])

    def second(request: Request):
        answers = results(request)
        assert len(answers) == len(actions)
        for action, answer in zip(actions, answers, strict=True):
            assert not answer.get("is_error"), f"{action} failed: {text(answer)}"
        assert text(answers[2]) == f"X={mid[0]},Y={mid[1]}"
        # Each action is answered with a screenshot; only the last three images stay in the context.
        assert sum(len(images(a)) for a in answers) == 3
        assert "typed 7 characters" in text(answers[4]).lower()
        return anthropic_message([{"type": "text", "text": "done"}])

    provider = FakeProvider("anthropic", [first, second], KEY)
    result = solve(provider, tmp_path, mode="computer", max_steps=80)
    assert result.status == "passed", result.detail
    assert {s.tool for s in result.steps} == {
        "screen_info", "screenshot", "move_mouse", "click", "type_text", "press_keys", "mouse_down", "mouse_up",
        "drag", "scroll", "hold_keys", "wait",
    }  # fmt: skip


def test_an_infeasible_task_declared_infeasible_is_scored_as_osworld_does(tmp_path):
    provider = FakeProvider(
        "anthropic",
        [lambda r: anthropic_message([tool_use("declare_infeasible", {"reason": "Mousepad has no cloud sharing"})])],
        KEY,
    )
    result = solve(provider, tmp_path, task="infeasible_mousepad_cloud")
    assert result.status == "passed" and result.agent_status == "infeasible"
    assert result.agent_message == "Mousepad has no cloud sharing"


def test_rate_limit_and_server_error_are_retried(client, tmp_path):
    served = client.list_tools()

    def answer(request: Request):
        assert_tools_as_served(
            {t["name"]: (t["description"], t["input_schema"]) for t in request.body["tools"]}, served
        )
        return anthropic_message([{"type": "text", "text": "nothing to do"}])

    provider = FakeProvider(
        "anthropic",
        [
            lambda r: error_reply("anthropic", 429, "rate_limit_error", "slow down", {"retry-after-ms": "20"}),
            lambda r: error_reply("anthropic", 529, "overloaded_error", "overloaded", {"retry-after-ms": "20"}),
            answer,
        ],
        KEY,
    )
    outcome = run(provider, client, tmp_path)
    assert outcome.result.status == "done" and outcome.result.message == "nothing to do"
    assert len(provider.requests) == 3
    assert outcome.result.usage["requests"] == 1


def test_retries_give_up_as_an_agent_error(client, tmp_path):
    busy = lambda r: error_reply("anthropic", 429, "rate_limit_error", "slow down", {"retry-after-ms": "10"})  # noqa: E731
    provider = FakeProvider("anthropic", [busy, busy], KEY)
    outcome = run(provider, client, tmp_path, max_retries="1")
    assert outcome.result.status == "error" and "slow down" in outcome.result.message


def test_malformed_calls_get_error_results_and_infeasible_ends_the_task(client, tmp_path):
    def first(request: Request):
        return anthropic_message([tool_use("open_the_pod_bay_doors", {}), tool_use("screenshot", {"format": "gif"})])

    def second(request: Request):
        unknown, invalid = results(request)
        assert unknown["is_error"] and "no tool named 'open_the_pod_bay_doors'" in text(unknown)
        assert "screenshot" in text(unknown)  # names what there is
        assert invalid["is_error"] and "format" in text(invalid)
        return anthropic_message([tool_use("declare_infeasible", {"reason": "no pod bay here"})])

    provider = FakeProvider("anthropic", [first, second], KEY)
    outcome = run(provider, client, tmp_path)
    assert outcome.result.status == "infeasible" and outcome.result.message == "no pod bay here"
    assert outcome.tools_called() == ["screenshot"]


def test_computer_actions_with_bad_input_get_error_results(client, tmp_path):
    bad = [
        {"action": "zoom", "region": [0, 0, 10, 10]},
        {"action": "left_click_drag", "coordinate": [10, 10]},
        {"action": "mouse_move", "coordinate": ["a", 3]},
        {"action": "key"},
        {"action": "scroll", "scroll_direction": "sideways"},
        {"action": "left_click", "coordinate": [99999, 5]},
    ]

    def first(request: Request):
        return anthropic_message([tool_use("computer", a) for a in bad])

    def second(request: Request):
        answers = results(request)
        assert all(a["is_error"] for a in answers), [text(a) for a in answers]
        assert "unknown action 'zoom'" in text(answers[0])
        assert "coordinate [x, y]" in text(answers[1]) and "coordinate [x, y]" in text(answers[2])
        assert "needs `text`" in text(answers[3])
        assert "scroll_direction" in text(answers[4])
        assert "outside" in text(answers[5])  # the server's own bounds check
        return anthropic_message([{"type": "text", "text": "giving up"}])

    provider = FakeProvider("anthropic", [first, second], KEY)
    outcome = run(provider, client, tmp_path, mode="computer")
    assert outcome.result.status == "done"


def test_token_budget_stops_the_task(client, tmp_path):
    provider = FakeProvider(
        "anthropic", [lambda r: anthropic_message([tool_use("screen_info", {})], usage=(900, 200))], KEY
    )
    outcome = run(provider, client, tmp_path, token_budget="1000")
    assert outcome.result.status == "fail" and "token budget" in outcome.result.message
    assert outcome.result.usage["input_tokens"] == 900
