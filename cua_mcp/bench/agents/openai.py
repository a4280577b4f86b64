"""`--agent openai`: a model behind an OpenAI-compatible API.

Two modes (`--agent-option mode=...`):
- `chat` (default): chat completions with tool calls, the server's MCP tools offered as functions. Any
  endpoint that speaks it works: OpenAI, or a local model served by vLLM, llama.cpp's server or Ollama
  (`base_url=http://127.0.0.1:8000/v1 model=NAME`). Images that tools return go to the model as data URLs in
  a user message after the tool messages, since tool messages carry text only.
- `computer`: the Responses API's computer-use tool (`computer_use_preview`, declared with the server's agent
  coordinate space as its display); each action is carried out with the server's tools and answered with a
  screenshot. The endpoint must offer that tool (OpenAI does).

The key comes from OPENAI_API_KEY (and the endpoint from OPENAI_BASE_URL or `base_url`); a local server
given by `base_url` needs no key.
"""

from __future__ import annotations

import json
import os
from typing import Any

import openai
from mcp.types import CallToolResult

from cua_mcp.bench.agents._model import (
    DROPPED_IMAGE,
    INFEASIBLE_DESCRIPTION,
    INFEASIBLE_SCHEMA,
    INFEASIBLE_TOOL,
    SYSTEM_PROMPT,
    ModelCallRejected,
    ModelOptions,
    Turns,
    data_url,
    drop_old_images,
    result_parts,
    save_conversation,
)
from cua_mcp.bench.agents.base import AgentContext, AgentResult

MODES = {"chat": "gpt-4.1", "computer": "computer-use-preview"}
# The Responses API's key names (in any case) -> ours; single characters pass through lowercased.
_KEYS = {
    "ctrl": "ctrl", "control": "ctrl", "alt": "alt", "option": "alt", "shift": "shift",
    "meta": "super", "super": "super", "cmd": "super", "win": "super",
    "enter": "Return", "return": "Return", "esc": "Escape", "escape": "Escape", "tab": "Tab", "space": "space",
    "backspace": "BackSpace", "delete": "Delete", "del": "Delete", "insert": "Insert", "home": "Home", "end": "End",
    "pageup": "Page_Up", "pagedown": "Page_Down", "up": "Up", "down": "Down", "left": "Left", "right": "Right",
    "arrowup": "Up", "arrowdown": "Down", "arrowleft": "Left", "arrowright": "Right",
}  # fmt: skip
_BUTTONS = {"left": "left", "right": "right", "wheel": "middle"}
SCROLL_PIXELS_PER_CLICK = 100  # the Responses API scrolls by pixels; our scroll tool by wheel clicks


class OpenAIAgent:
    name = "openai"

    async def run(self, ctx: AgentContext) -> AgentResult:
        options = ModelOptions.parse(ctx.options, MODES)
        turns = Turns(ctx, options)
        # Local servers ignore the key, but the SDK insists on one.
        key = os.environ.get("OPENAI_API_KEY") or ("unused" if options.base_url else None)
        client = openai.AsyncOpenAI(api_key=key, base_url=options.base_url, max_retries=options.max_retries)
        conversation = _Chat if options.mode == "chat" else _Responses
        async with client:
            return await conversation(ctx, options, turns, client).run()


class _Conversation:
    """The loop both modes share; a mode says how to ask, and how to answer the calls in a reply."""

    provider = ""

    def __init__(self, ctx: AgentContext, options: ModelOptions, turns: Turns, client: openai.AsyncOpenAI) -> None:
        self.ctx, self.options, self.turns, self.client = ctx, options, turns, client
        self.messages: list[dict[str, Any]] = []
        self.tools: list[dict[str, Any]] = []

    async def run(self) -> AgentResult:
        try:
            await self.start()
            return await self.turns.loop(self.turn, openai.OpenAIError, f"{self.provider} API")
        finally:
            save_conversation(self.turns, f"openai {self.provider}", self.tools, self.messages)

    async def start(self) -> None:
        raise NotImplementedError

    async def turn(self) -> AgentResult | None:
        """One request and the answers to its calls; a result when the model ended the task."""
        raise NotImplementedError

    def sampling(self) -> dict[str, Any]:
        params: dict[str, Any] = {"model": self.options.model, "timeout": self.turns.timeout()}
        if self.options.temperature is not None:
            params["temperature"] = self.options.temperature
        return params

    def count_images(self, result: CallToolResult) -> None:
        self.turns.usage.images += sum(1 for kind, _, _ in result_parts(result) if kind == "image")


class _Chat(_Conversation):
    provider = "chat completions"

    async def start(self) -> None:
        functions = [(t.name, t.description or "", t.input_schema) for t in self.ctx.tools]
        functions.append((INFEASIBLE_TOOL, INFEASIBLE_DESCRIPTION, INFEASIBLE_SCHEMA))
        self.tools = [
            {"type": "function", "function": {"name": name, "description": description, "parameters": schema}}
            for name, description, schema in functions
        ]
        self.messages = [
            {"role": "system", "content": SYSTEM_PROMPT},
            {"role": "user", "content": self.ctx.instruction},
        ]

    async def turn(self) -> AgentResult | None:
        # max_tokens, not max_completion_tokens: the name local servers (llama.cpp, Ollama) understand.
        completion = await self.client.chat.completions.create(
            messages=self.messages, tools=self.tools, max_tokens=self.options.max_tokens, **self.sampling()
        )
        usage = completion.usage
        self.turns.usage.add(usage and usage.prompt_tokens, usage and usage.completion_tokens)
        if not completion.choices:
            return self.turns.result("error", "the endpoint answered with no choices")
        message = completion.choices[0].message
        calls = message.tool_calls or []
        self.messages.append(
            {
                "role": "assistant",
                "content": message.content,
                **({"tool_calls": [call.model_dump(exclude_none=True) for call in calls]} if calls else {}),
            }
        )
        if not calls:
            return self.turns.result("done", message.content or "")
        images: list[dict[str, Any]] = []
        for call in calls:
            if call.type == "function" and call.function.name == INFEASIBLE_TOOL:
                return self.turns.result("infeasible", _reason(call.function.arguments))
            text = await self._answer(call, images)
            self.messages.append({"role": "tool", "tool_call_id": call.id, "content": text})
        if images:
            note = {"type": "text", "text": "The images the tool calls above returned, in order."}
            self.messages.append({"role": "user", "content": [note, *images]})
        drop_old_images(self.messages, self.options.keep_images, _is_chat_image, _DROPPED_CHAT)
        return None

    async def _answer(self, call: Any, images: list[dict[str, Any]]) -> str:
        """The tool message's text for one call (its images go to `images`), or an error the model can act on."""
        try:
            if call.type != "function":
                raise ModelCallRejected(f"tool calls of type {call.type!r} are not offered; call a function.")
            if not any(t.name == call.function.name for t in self.ctx.tools):
                offered = ", ".join(t["function"]["name"] for t in self.tools)
                raise ModelCallRejected(f"there is no tool named {call.function.name!r}; use one of: {offered}.")
            result = await self.ctx.call_tool(call.function.name, _arguments(call.function.arguments))
        except ModelCallRejected as exc:
            return f"Error: {exc}"
        self.count_images(result)
        texts = []
        for kind, value, data in result_parts(result):
            if kind == "image":
                images.append({"type": "image_url", "image_url": {"url": data_url(value, data)}})
                texts.append(f"(image {len(images)} follows in the next message)")
            else:
                texts.append(value)
        return ("Error: " if result.is_error else "") + "\n".join(texts)


class _Responses(_Conversation):
    provider = "Responses"

    async def start(self) -> None:
        self.computer = await _Computer.start(self.ctx)
        self.tools = [
            {
                "type": "computer_use_preview",
                "display_width": self.computer.width,
                "display_height": self.computer.height,
                "environment": "linux",
            },
            {
                "type": "function",
                "name": INFEASIBLE_TOOL,
                "description": INFEASIBLE_DESCRIPTION,
                "parameters": INFEASIBLE_SCHEMA,
            },
        ]
        self.messages = [{"role": "user", "content": self.ctx.instruction}]

    async def turn(self) -> AgentResult | None:
        # The whole conversation is sent each time (no previous_response_id): endpoints need not store it,
        # and old screenshots can be dropped from it.
        response = await self.client.responses.create(
            input=self.messages,
            tools=self.tools,
            instructions=SYSTEM_PROMPT,
            truncation="auto",
            max_output_tokens=self.options.max_tokens,
            **self.sampling(),
        )
        usage = response.usage
        self.turns.usage.add(usage and usage.input_tokens, usage and usage.output_tokens)
        self.messages.extend(item.model_dump(exclude_none=True, warnings=False) for item in response.output)
        calls = [item for item in response.output if item.type in ("computer_call", "function_call")]
        if not calls:
            return self.turns.result("done", response.output_text)
        for call in calls:
            if call.type == "function_call" and call.name == INFEASIBLE_TOOL:
                return self.turns.result("infeasible", _reason(call.arguments))
            self.messages.extend(await self._answer(call))
        _drop_old_screenshots(self.messages, self.options.keep_images)
        return None

    async def _answer(self, call: Any) -> list[dict[str, Any]]:
        """The input items answering one call: its output, and a note when the action could not be done."""
        if call.type == "function_call":
            error = f"Error: there is no function named {call.name!r}; use the computer tool or {INFEASIBLE_TOOL}."
            return [{"type": "function_call_output", "call_id": call.call_id, "output": error}]
        actions = call.actions if call.actions else [call.action]
        failures = []
        for action in actions:
            try:
                result = await self.computer.act(action.model_dump(exclude_none=True, warnings=False))
            except ModelCallRejected as exc:
                failures.append(str(exc))
                continue
            if result.is_error:
                failures.append(" ".join(v for kind, v, _ in result_parts(result) if kind == "text"))
        shot = await self.ctx.call_tool("screenshot", {})
        self.count_images(shot)
        image = next((data_url(mime, data) for kind, mime, data in result_parts(shot) if kind == "image"), "")
        items: list[dict[str, Any]] = [
            {
                "type": "computer_call_output",
                "call_id": call.call_id,
                # A benchmark has no person to ask: the checks are acknowledged and stay in the conversation.
                "acknowledged_safety_checks": [c.model_dump(exclude_none=True) for c in call.pending_safety_checks],
                "output": {"type": "computer_screenshot", "image_url": image},
            }
        ]
        if failures:
            text = "The last action failed: " + " ".join(failures)
            items.append({"role": "user", "content": [{"type": "input_text", "text": text}]})
        return items


class _Computer:
    """The Responses API's computer actions carried out with the server's tools."""

    def __init__(self, ctx: AgentContext, width: int, height: int) -> None:
        self.ctx, self.width, self.height = ctx, width, height

    @classmethod
    async def start(cls, ctx: AgentContext) -> _Computer:
        info = (await ctx.call_tool("screen_info", {})).structured_content or {}
        return cls(ctx, info["space"]["width"], info["space"]["height"])

    async def act(self, action: dict[str, Any]) -> CallToolResult:
        kind = action.get("type")
        if kind == "screenshot":
            return CallToolResult(content=[])  # the answer is a screenshot anyway
        name, args = _tool_call(str(kind), action)
        return await self.ctx.call_tool(name, args)


def _tool_call(kind: str, action: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    held = [_key(k) for k in action.get("keys") or []]
    if kind in ("click", "double_click"):
        button = _BUTTONS.get(action.get("button", "left"))
        if button is None:
            raise ModelCallRejected(f"the {action.get('button')} button is not available: use left, right or wheel.")
        return "click", {
            **_point(action, kind), "button": button, "count": 2 if kind == "double_click" else 1, "modifiers": held,
        }  # fmt: skip
    if kind == "move":
        return "move_mouse", _point(action, kind)
    if kind == "drag":
        path = action.get("path") or []
        if len(path) < 2:
            raise ModelCallRejected("drag needs a path of at least two points.")
        start, end = _point(path[0], kind), _point(path[-1], kind)
        args = {"from_x": start["x"], "from_y": start["y"], "to_x": end["x"], "to_y": end["y"], "modifiers": held}
        return "drag", args
    if kind == "scroll":
        dx, dy = int(action.get("scroll_x") or 0), int(action.get("scroll_y") or 0)
        if dy or not dx:
            direction, pixels = ("down" if dy >= 0 else "up"), abs(dy)
        else:
            direction, pixels = ("right" if dx > 0 else "left"), abs(dx)
        amount = min(50, max(1, round(pixels / SCROLL_PIXELS_PER_CLICK)))
        return "scroll", {**_point(action, kind), "direction": direction, "amount": amount, "modifiers": held}
    if kind == "keypress":
        if not action.get("keys"):
            raise ModelCallRejected("keypress needs keys, e.g. ['CTRL', 'S'].")
        return "press_keys", {"keys": "+".join(held)}
    if kind == "type":
        if not action.get("text"):
            raise ModelCallRejected("type needs text.")
        return "type_text", {"text": action["text"]}
    if kind == "wait":
        return "wait", {"seconds": 1}
    raise ModelCallRejected(
        f"unknown action {kind!r}: use click, double_click, drag, keypress, move, screenshot, scroll, type or wait."
    )


def _point(given: dict[str, Any], kind: str) -> dict[str, int]:
    x, y = given.get("x"), given.get("y")
    if not isinstance(x, int) or not isinstance(y, int):
        raise ModelCallRejected(f"{kind} needs integer x and y.")
    return {"x": x, "y": y}


def _key(name: str) -> str:
    return _KEYS.get(name.lower(), name.lower() if len(name) == 1 else name)


def _arguments(raw: str | None) -> dict[str, Any]:
    """A call's arguments: a JSON object, or the error the model gets instead."""
    try:
        value = json.loads(raw or "{}")
    except ValueError as exc:
        raise ModelCallRejected(f"the arguments are not valid JSON ({exc}): send one JSON object.") from None
    if not isinstance(value, dict):
        raise ModelCallRejected("the arguments must be a JSON object of named parameters.")
    return value


def _reason(raw: str | None) -> str:
    """The reason given with declare_infeasible (its raw arguments when they are not the JSON asked for)."""
    try:
        return str(_arguments(raw).get("reason", ""))
    except ModelCallRejected:
        return raw or ""


_DROPPED_CHAT = {"type": "text", "text": DROPPED_IMAGE}


def _is_chat_image(part: Any) -> bool:
    return isinstance(part, dict) and part.get("type") == "image_url"


def _drop_old_screenshots(items: list[dict[str, Any]], keep: int) -> None:
    """Drop all but the last `keep` computer calls with their screenshots from the conversation, in place.

    A computer_call_output can hold only an image, so an old one cannot be blanked like a chat image: the
    call, its output and the reasoning item the call came with go together, as the API requires."""
    outputs = [item["call_id"] for item in items if item.get("type") == "computer_call_output"]
    old = set(outputs[: max(0, len(outputs) - keep)])
    if not old:
        return
    kept: list[dict[str, Any]] = []
    for item in items:
        if item.get("call_id") in old:
            if item.get("type") == "computer_call" and kept and kept[-1].get("type") == "reasoning":
                kept.pop()
            continue
        kept.append(item)
    items[:] = kept
