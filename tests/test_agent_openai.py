"""The openai agent against local fakes of chat completions and the Responses API, acting on a real desktop
through the real server: an example task through the benchmark's runner, scored by its evaluator; the rest
against one server shared by the module."""

from __future__ import annotations

import base64
import io
import json

import pytest
from PIL import Image

from cua_mcp.bench.agents.openai import OpenAIAgent
from tests.support.agent_harness import EXAMPLES, run_agent, run_example
from tests.support.fake_providers import (
    FakeProvider,
    Request,
    assert_tools_as_served,
    chat_completion,
    computer_call,
    error_reply,
    output_message,
    response,
)

KEY = "test-key"


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def run(provider: FakeProvider, client, tmp_path, max_steps: int = 15, **options):
    with provider:
        instruction = "Type 'hello agents' into mousepad."
        options = {"base_url": provider.base_url, **options}
        outcome = run_agent(client, OpenAIAgent(), instruction, tmp_path, options, max_steps)
    provider.check()
    return outcome


def solve(provider: FakeProvider, tmp_path, max_steps=None, **options):
    """Run the example task mousepad_copy_all with the runner, the agent talking to the fake."""
    with provider:
        options = {"base_url": provider.base_url, **options}
        result = run_example("mousepad_copy_all", OpenAIAgent(), tmp_path, options, max_steps)
    provider.check()
    return result


def png_size(url: str) -> tuple[int, int]:
    head, _, data = url.partition(",")
    assert head == "data:image/png;base64", head
    return Image.open(io.BytesIO(base64.b64decode(data))).size


# ----- chat completions ----------------------------------------------------------------------------------------


def tool_messages(request: Request) -> list[dict]:
    messages = request.body["messages"]
    last_call = max(i for i, m in enumerate(messages) if m.get("tool_calls"))
    return [m for m in messages[last_call + 1 :] if m["role"] == "tool"]


def image_urls(message: dict) -> list[str]:
    return [p["image_url"]["url"] for p in message["content"] if p["type"] == "image_url"]


def test_chat_solves_a_task_in_two_steps(tmp_path):
    instruction = json.loads((EXAMPLES / "mousepad_copy_all.json").read_text())["instruction"]

    def first(request: Request):
        offered = [t["function"]["name"] for t in request.body["tools"]]
        assert all(t["type"] == "function" for t in request.body["tools"])
        assert {"screenshot", "press_keys", "snapshot"} <= set(offered) and offered[-1] == "declare_infeasible"
        system, user = request.body["messages"]
        assert system["role"] == "system" and user == {"role": "user", "content": instruction}
        assert request.body["model"] == "local-model" and request.body["temperature"] == 0
        assert request.body["max_tokens"] == 300
        return chat_completion(calls=[("screenshot", "{}")])

    def second(request: Request):
        [answer] = tool_messages(request)
        assert "agent space" in answer["content"] and "image 1 follows" in answer["content"]
        images = request.body["messages"][-1]
        assert images["role"] == "user"
        [url] = image_urls(images)
        assert png_size(url) == (1280, 800)
        return chat_completion(
            "Selecting and copying.", calls=[("press_keys", '{"keys": "ctrl+a"}'), ("press_keys", '{"keys": "ctrl+c"}')]
        )

    def third(request: Request):
        selected, copied = tool_messages(request)
        assert "pressed ctrl+a" in selected["content"].lower() and "pressed ctrl+c" in copied["content"].lower()
        return chat_completion("Done: copied.", usage=(400, 7))

    provider = FakeProvider("chat", [first, second, third], KEY)
    result = solve(provider, tmp_path, model="local-model", temperature="0", max_tokens="300")
    assert result.status == "passed", result.detail
    assert (result.agent_status, result.agent_message) == ("done", "Done: copied.")
    assert result.usage == {"input_tokens": 600, "output_tokens": 47, "images": 1, "requests": 3}
    saved = (tmp_path / result.folder / "conversation.json").read_text()
    assert "base64,<" in saved and "iVBOR" not in saved


def test_chat_rate_limit_then_success(client, tmp_path):
    served = client.list_tools()

    def answer(request: Request):
        functions = [t["function"] for t in request.body["tools"]]
        assert_tools_as_served({f["name"]: (f["description"], f["parameters"]) for f in functions}, served)
        return chat_completion("nothing to do")

    provider = FakeProvider(
        "chat",
        [
            lambda r: error_reply("chat", 429, "rate_limit_exceeded", "slow down", {"retry-after-ms": "20"}),
            lambda r: error_reply("chat", 503, "server_error", "try later", {"retry-after-ms": "20"}),
            answer,
        ],
        KEY,
    )
    outcome = run(provider, client, tmp_path, model="m")
    assert outcome.result.status == "done" and len(provider.requests) == 3


def test_chat_malformed_calls_get_error_results(client, tmp_path):
    def first(request: Request):
        return chat_completion(
            calls=[("screenshot", '{"format": "png",'), ("open_the_pod_bay_doors", "{}"), ("screen_info", "[1]")]
        )

    def second(request: Request):
        bad_json, unknown, not_object = (m["content"] for m in tool_messages(request))
        assert bad_json.startswith("Error: the arguments are not valid JSON")
        assert "no tool named 'open_the_pod_bay_doors'" in unknown and "screenshot" in unknown
        assert "must be a JSON object" in not_object
        # Now a well-formed call: the agent kept serving.
        return chat_completion(calls=[("screen_info", "{}")])

    def third(request: Request):
        [answer] = tool_messages(request)
        assert "1280" in answer["content"] or "space" in answer["content"]
        return chat_completion(calls=[("declare_infeasible", '{"reason": "no pod bay"}')])

    provider = FakeProvider("chat", [first, second, third], KEY)
    outcome = run(provider, client, tmp_path, model="m")
    assert outcome.result.status == "infeasible" and outcome.result.message == "no pod bay"
    assert outcome.tools_called() == ["screen_info"]


def test_chat_keeps_only_the_last_k_screenshots(client, tmp_path):
    def shoot(request: Request):
        return chat_completion(calls=[("screenshot", "{}")])

    def last(request: Request):
        images = [url for m in request.body["messages"] if isinstance(m["content"], list) for url in image_urls(m)]
        dropped = [p for m in request.body["messages"] if isinstance(m["content"], list) for p in m["content"]]
        assert len(images) == 2
        assert sum("older screenshot, dropped" in p.get("text", "") for p in dropped) == 2
        return chat_completion("seen enough")

    provider = FakeProvider("chat", [shoot, shoot, shoot, shoot, last], KEY)
    outcome = run(provider, client, tmp_path, model="m", keep_images="2")
    assert outcome.result.status == "done" and outcome.result.usage["images"] == 4


# ----- Responses API computer use ------------------------------------------------------------------------------


def outputs(request: Request) -> list[dict]:
    return [item for item in request.body["input"] if item.get("type") == "computer_call_output"]


def test_responses_computer_use_solves_a_task(tmp_path):
    mid = {"x": 640, "y": 400}  # the middle of the 1280x800 screen, inside the task's mousepad window

    def first(request: Request):
        computer, infeasible = request.body["tools"]
        assert computer == {
            "type": "computer_use_preview",
            "display_width": 1280,
            "display_height": 800,
            "environment": "linux",
        }
        assert infeasible["type"] == "function" and infeasible["name"] == "declare_infeasible"
        assert request.body["truncation"] == "auto" and request.body["max_output_tokens"] == 4096
        return response([{"type": "reasoning", "summary": []}, computer_call({"type": "screenshot"})])

    def second(request: Request):
        [shot] = outputs(request)
        assert png_size(shot["output"]["image_url"]) == (1280, 800)
        actions = [
            {"type": "move", **mid},
            {"type": "click", "button": "left", **mid},
            {"type": "type", "text": "hello"},
            {"type": "keypress", "keys": ["SHIFT", "HOME"]},
            {"type": "scroll", **mid, "scroll_x": 0, "scroll_y": 300},
            {"type": "double_click", **mid},
            {"type": "drag", "path": [mid, {"x": mid["x"] + 30, "y": mid["y"]}]},
            {"type": "wait"},
            {"type": "keypress", "keys": ["CTRL", "A"]},
            {"type": "keypress", "keys": ["DELETE"]},
            {"type": "type", "text": "XJ-55-PLUM"},
        ]
        return response([computer_call(a) for a in actions])

    def third(request: Request):
        answers = outputs(request)
        assert len(answers) == 2  # keep_images=2: the first call and its screenshot were dropped
        assert not any(item.get("role") == "user" and "failed" in json.dumps(item) for item in request.body["input"])
        return response([computer_call({"type": "click", "button": "back", "x": 1, "y": 1})])

    def fourth(request: Request):
        note = request.body["input"][-1]
        assert note["role"] == "user" and "the back button is not available" in note["content"][0]["text"]
        return response([computer_call({"type": "keypress", "keys": ["CTRL", "A"]})])

    def fifth(request: Request):
        return response([computer_call({"type": "keypress", "keys": ["CTRL", "C"]})])

    def last(request: Request):
        return response([output_message("Copied the text.")])

    provider = FakeProvider("responses", [first, second, third, fourth, fifth, last], KEY)
    result = solve(provider, tmp_path, mode="computer", keep_images="2", max_steps=40)
    assert result.status == "passed", result.detail
    assert (result.agent_status, result.agent_message) == ("done", "Copied the text.")
    tools = {s.tool for s in result.steps}
    assert {"move_mouse", "click", "type_text", "press_keys", "scroll", "drag", "wait"} <= tools


def test_responses_unknown_function_and_infeasible(client, tmp_path):
    def first(request: Request):
        return response(
            [{"type": "function_call", "name": "teleport", "arguments": "{}"}, computer_call({"type": "fly"})]
        )

    def second(request: Request):
        [function_output] = [i for i in request.body["input"] if i.get("type") == "function_call_output"]
        assert "no function named 'teleport'" in function_output["output"]
        assert "unknown action 'fly'" in request.body["input"][-1]["content"][0]["text"]
        return response([{"type": "function_call", "name": "declare_infeasible", "arguments": '{"reason": "no"}'}])

    provider = FakeProvider("responses", [first, second], KEY)
    outcome = run(provider, client, tmp_path, mode="computer")
    assert outcome.result.status == "infeasible" and outcome.result.message == "no"
