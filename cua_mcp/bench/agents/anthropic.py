"""`--agent anthropic`: a Claude model through Anthropic's Messages API with tool use.

Two modes (`--agent-option mode=...`):
- `mcp` (default): the server's MCP tools are offered as they are (names, descriptions, input schemas).
- `computer`: Anthropic's own computer-use tool (`computer_20250124`), declared with the server's agent
  coordinate space as its display; each action is carried out with the server's tools (`left_click` ->
  `click`, `key` -> `press_keys`, ...) and answered with a screenshot, as the reference implementation does.

The key comes from ANTHROPIC_API_KEY (and the endpoint from ANTHROPIC_BASE_URL or `base_url`).
"""

from __future__ import annotations

from typing import Any

import anthropic
from mcp.types import CallToolResult, TextContent

from cua_mcp.bench.agents._model import (
    DROPPED_IMAGE,
    INFEASIBLE_DESCRIPTION,
    INFEASIBLE_SCHEMA,
    INFEASIBLE_TOOL,
    SYSTEM_PROMPT,
    ModelCallRejected,
    ModelOptions,
    Turns,
    drop_old_images,
    result_parts,
    save_conversation,
)
from cua_mcp.bench.agents.base import AgentContext, AgentResult

MODES = {"mcp": "claude-sonnet-4-6", "computer": "claude-sonnet-4-6"}
COMPUTER_BETA = "computer-use-2025-01-24"
_CLICKS = {
    "left_click": ("left", 1),
    "right_click": ("right", 1),
    "middle_click": ("middle", 1),
    "double_click": ("left", 2),
    "triple_click": ("left", 3),
}


class AnthropicAgent:
    name = "anthropic"

    async def run(self, ctx: AgentContext) -> AgentResult:
        options = ModelOptions.parse(ctx.options, MODES)
        turns = Turns(ctx, options)
        client = anthropic.AsyncAnthropic(base_url=options.base_url, max_retries=options.max_retries)
        async with client:
            return await _Conversation(ctx, options, turns, client).run()


class _Conversation:
    def __init__(self, ctx: AgentContext, options: ModelOptions, turns: Turns, client: anthropic.AsyncAnthropic):
        self.ctx, self.options, self.turns, self.client = ctx, options, turns, client
        self.messages: list[dict[str, Any]] = [{"role": "user", "content": ctx.instruction}]
        self.tools: list[dict[str, Any]] = []
        self.computer: _Computer | None = None

    async def run(self) -> AgentResult:
        try:
            await self._offer_tools()
            return await self.turns.loop(self._turn, anthropic.APIError, "Messages API")
        finally:
            save_conversation(self.turns, "anthropic", self.tools, self.messages, system=SYSTEM_PROMPT)

    async def _turn(self) -> AgentResult | None:
        response = await self._request()
        content = [_block_param(block) for block in response.content]
        self.messages.append({"role": "assistant", "content": [c for c in content if c]})
        calls = [block for block in response.content if block.type == "tool_use"]
        if not calls:
            text = " ".join(block.text for block in response.content if block.type == "text")
            return self.turns.result("fail" if response.stop_reason == "refusal" else "done", text)
        infeasible = next((call for call in calls if call.name == INFEASIBLE_TOOL), None)
        if infeasible is not None:
            return self.turns.result("infeasible", str(infeasible.input.get("reason", "")))
        self.messages.append({"role": "user", "content": [await self._answer(call) for call in calls]})
        drop_old_images(self.messages, self.options.keep_images, _is_image, _DROPPED)
        return None

    async def _offer_tools(self) -> None:
        infeasible = {"name": INFEASIBLE_TOOL, "description": INFEASIBLE_DESCRIPTION, "input_schema": INFEASIBLE_SCHEMA}
        if self.options.mode == "computer":
            self.computer = await _Computer.start(self.ctx, self.options.screenshot_after_action)
            self.tools = [self.computer.tool(), infeasible]
        else:
            self.tools = [
                {"name": t.name, "description": t.description or "", "input_schema": t.input_schema}
                for t in self.ctx.tools
            ] + [infeasible]

    async def _request(self) -> Any:
        params: dict[str, Any] = {
            "model": self.options.model,
            "max_tokens": self.options.max_tokens,
            "system": SYSTEM_PROMPT,
            "tools": self.tools,
            "messages": self.messages,
            "timeout": self.turns.timeout(),
        }
        if self.options.temperature is not None:
            # This SDK has no parameter for it any more; the API still takes it for models that sample.
            params["extra_body"] = {"temperature": self.options.temperature}
        if self.computer is not None:
            response = await self.client.beta.messages.create(betas=[COMPUTER_BETA], **params)
        else:
            response = await self.client.messages.create(**params)
        self.turns.usage.add(response.usage.input_tokens, response.usage.output_tokens)
        return response

    async def _answer(self, call: Any) -> dict[str, Any]:
        """The tool_result block for one tool_use: the server's answer, or an error the model can act on."""
        try:
            if self.computer is not None and call.name == "computer":
                result = await self.computer.act(call.input)
            elif self.computer is None and any(t.name == call.name for t in self.ctx.tools):
                result = await self.ctx.call_tool(call.name, call.input)
            else:
                offered = ", ".join(t["name"] for t in self.tools)
                raise ModelCallRejected(f"there is no tool named {call.name!r}; use one of: {offered}.")
        except ModelCallRejected as exc:
            return {"type": "tool_result", "tool_use_id": call.id, "is_error": True, "content": str(exc)}
        content: list[dict[str, Any]] = []
        for kind, value, data in result_parts(result):
            if kind == "image":
                self.turns.usage.images += 1
                content.append({"type": "image", "source": {"type": "base64", "media_type": value, "data": data}})
            else:
                content.append({"type": "text", "text": value})
        return {"type": "tool_result", "tool_use_id": call.id, "is_error": bool(result.is_error), "content": content}


_DROPPED = {"type": "text", "text": DROPPED_IMAGE}


def _is_image(block: Any) -> bool:
    return isinstance(block, dict) and block.get("type") == "image"


def _block_param(block: Any) -> dict[str, Any] | None:
    """A response content block as the request parameter that sends it back (kinds we do not resend: None)."""
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    if block.type == "thinking":
        return {"type": "thinking", "thinking": block.thinking, "signature": block.signature}
    return None


class _Computer:
    """Anthropic's `computer` tool carried out with the server's tools, in the server's agent coordinate space."""

    def __init__(self, ctx: AgentContext, screenshots: bool, width: int, height: int, cursor: list[int]) -> None:
        self.ctx, self.screenshots = ctx, screenshots
        self.width, self.height, self.cursor = width, height, cursor

    @classmethod
    async def start(cls, ctx: AgentContext, screenshots: bool) -> _Computer:
        """Read the agent coordinate space (the display the tool declares) and the pointer from screen_info."""
        info = (await ctx.call_tool("screen_info", {})).structured_content or {}
        return cls(ctx, screenshots, info["space"]["width"], info["space"]["height"], info["cursor"])

    def tool(self) -> dict[str, Any]:
        return {
            "type": "computer_20250124",
            "name": "computer",
            "display_width_px": self.width,
            "display_height_px": self.height,
        }

    async def act(self, action_input: dict[str, Any]) -> CallToolResult:
        action = action_input.get("action")
        if action == "screenshot":
            return await self.ctx.call_tool("screenshot", {})
        if action == "cursor_position":
            info = await self.ctx.call_tool("screen_info", {})
            self.cursor = (info.structured_content or {}).get("cursor", self.cursor)
            return _text_result(f"X={self.cursor[0]},Y={self.cursor[1]}")
        name, args = self._tool_call(str(action), action_input)
        result = await self.ctx.call_tool(name, args)
        self.cursor = (result.structured_content or {}).get("cursor", self.cursor)
        if result.is_error or not self.screenshots:
            return result
        shot = await self.ctx.call_tool("screenshot", {})
        shot.content = [*result.content, *shot.content]
        return shot

    def _tool_call(self, action: str, given: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """Our tool and its arguments for one computer action."""
        text = given.get("text")
        if action == "key":
            return "press_keys", {"keys": _required(text, "text", action)}
        if action == "type":
            return "type_text", {"text": _required(text, "text", action)}
        if action == "mouse_move":
            x, y = self._point(given, action, required=True)
            return "move_mouse", {"x": x, "y": y}
        if action in _CLICKS:
            button, count = _CLICKS[action]
            x, y = self._point(given, action)
            return "click", {"x": x, "y": y, "button": button, "count": count, "modifiers": _modifiers(text)}
        if action == "left_click_drag":
            start = self._point({"coordinate": given.get("start_coordinate")}, action, required=True)
            end = self._point(given, action, required=True)
            return "drag", {"from_x": start[0], "from_y": start[1], "to_x": end[0], "to_y": end[1]}
        if action in ("left_mouse_down", "left_mouse_up"):
            if given.get("coordinate") is not None:
                raise ModelCallRejected(f"{action} takes no coordinate: move the mouse first with mouse_move.")
            return ("mouse_down" if action == "left_mouse_down" else "mouse_up"), {"button": "left"}
        if action == "scroll":
            x, y = self._point(given, action)
            amount = given.get("scroll_amount", 3)
            direction = given.get("scroll_direction")
            if direction not in ("up", "down", "left", "right") or not isinstance(amount, int) or amount < 1:
                raise ModelCallRejected("scroll needs scroll_direction (up, down, left, right) and scroll_amount >= 1.")
            args = {"x": x, "y": y, "direction": direction, "amount": min(amount, 50), "modifiers": _modifiers(text)}
            return "scroll", args
        if action == "hold_key":
            return "hold_keys", {"keys": _required(text, "text", action), "seconds": _duration(given, action)}
        if action == "wait":
            return "wait", {"seconds": _duration(given, action)}
        raise ModelCallRejected(
            f"unknown action {action!r}: use key, type, mouse_move, left_click, left_click_drag, right_click, "
            "middle_click, double_click, triple_click, left_mouse_down, left_mouse_up, scroll, hold_key, wait, "
            "screenshot or cursor_position."
        )

    def _point(self, given: dict[str, Any], action: str, required: bool = False) -> tuple[int, int]:
        """The action's coordinate, or where the pointer is when the action allows leaving it out."""
        coordinate = given.get("coordinate")
        if coordinate is None and not required:
            return self.cursor[0], self.cursor[1]
        if (
            not isinstance(coordinate, list)
            or len(coordinate) != 2
            or not all(isinstance(v, int) and v >= 0 for v in coordinate)
        ):
            raise ModelCallRejected(
                f"{action} needs coordinate [x, y]: two non-negative integers within the "
                f"{self.width}x{self.height} display."
            )
        return coordinate[0], coordinate[1]


def _required(value: Any, name: str, action: str) -> str:
    if not isinstance(value, str) or not value:
        raise ModelCallRejected(f"{action} needs `{name}`, a non-empty string.")
    return value


def _duration(given: dict[str, Any], action: str) -> float:
    duration = given.get("duration")
    if not isinstance(duration, int | float) or duration <= 0:
        raise ModelCallRejected(f"{action} needs `duration`, a positive number of seconds.")
    return float(duration)


def _modifiers(text: Any) -> list[str]:
    """The keys held during a click or scroll (`text`, e.g. "shift" or "ctrl+shift")."""
    return [key for key in str(text).split("+") if key] if text else []


def _text_result(text: str) -> CallToolResult:
    return CallToolResult(content=[TextContent(type="text", text=text)])
