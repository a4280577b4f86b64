"""What the model-backed agents (anthropic, openai) share: their options, the per-task budget, the saved
conversation, the prompt, and a tool result taken apart into text and images.

The providers' SDKs do the HTTP, the retries with backoff on 429/5xx (honouring retry-after) and the
timeouts; this module holds only what is ours.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mcp.types import CallToolResult

from cua_mcp.bench.agents.base import AgentContext, AgentResult, AgentStatus, StepLimitReached

# The one tool an agent is offered beyond the server's: saying the task cannot be done, which OSWorld
# scores as a success on infeasible tasks (its agents answer "FAIL").
INFEASIBLE_TOOL = "declare_infeasible"
INFEASIBLE_DESCRIPTION = (
    "Call this, instead of acting, when the task cannot be done on this computer (the app, file or feature "
    "it asks for does not exist, or it contradicts itself). Say why in `reason`."
)
INFEASIBLE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"reason": {"type": "string", "description": "Why the task cannot be done."}},
    "required": ["reason"],
}
SYSTEM_PROMPT = (
    "You operate a Linux desktop through the tools you are given, to do the user's task. Look at the screen "
    "before acting and check the effect of what you did. When the task is done, answer with a one-line "
    f"summary and no tool call. If it cannot be done, call {INFEASIBLE_TOOL} with the reason."
)
DROPPED_IMAGE = "[an older screenshot, dropped to keep the context small]"
# Options the command line gives every agent that are not model options (the command agent's program).
_OTHER_AGENTS = frozenset({"command"})


class AgentOptionError(ValueError):
    """An agent option (from `--agent-option`, `--temperature`, ...) that is unknown or of the wrong type."""


class ModelCallRejected(Exception):
    """A tool call the model got wrong (bad arguments, unknown tool or action): answered with an error result."""


@dataclass
class ModelOptions:
    """The options a model agent reads from `AgentContext.options` (strings from a command line are converted)."""

    mode: str
    model: str
    temperature: float | None = None
    max_tokens: int = 4096
    keep_images: int = 3  # screenshots older than the last K are replaced by a line of text
    token_budget: int = 1_000_000  # input plus output tokens over the whole task
    image_budget: int = 200  # images sent to the model over the whole task
    max_retries: int = 4  # the SDK's retries with exponential backoff on 429, 5xx and connection errors
    timeout: float = 120.0  # seconds for one request (capped by the task's deadline)
    base_url: str | None = None  # another endpoint speaking the provider's API (a proxy, vLLM, Ollama, ...)
    screenshot_after_action: bool = (
        True  # computer modes: answer each action with a screenshot, as the reference tools do
    )

    @classmethod
    def parse(cls, options: dict[str, Any], modes: dict[str, str]) -> ModelOptions:
        """Options for one run; `modes` maps each mode this agent has to its default model (the first is the default)."""
        options = {k: v for k, v in options.items() if k not in _OTHER_AGENTS}
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(options) - set(known))
        if unknown:
            raise AgentOptionError(f"unknown agent option(s) {', '.join(unknown)}: use {', '.join(sorted(known))}.")
        mode = str(options.get("mode", next(iter(modes))))
        if mode not in modes:
            raise AgentOptionError(f"mode {mode!r} is not one of {', '.join(modes)}.")
        values: dict[str, Any] = {"mode": mode, "model": str(options.get("model") or modes[mode])}
        for name, value in options.items():
            if name not in values and value is not None:
                values[name] = _convert(name, value, cls.__dataclass_fields__[name].default)
        return cls(**values)


def _convert(name: str, value: Any, default: Any) -> Any:
    try:
        if isinstance(default, bool):
            return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes", "on")
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float) or name == "temperature":
            return float(value)
    except ValueError:
        raise AgentOptionError(f"agent option {name}={value!r} is not a number.") from None
    return str(value)


@dataclass
class Usage:
    """What a task cost: tokens as the provider reported them, images sent, requests made."""

    input_tokens: int = 0
    output_tokens: int = 0
    images: int = 0
    requests: int = 0

    def add(self, input_tokens: int | None, output_tokens: int | None) -> None:
        self.requests += 1
        self.input_tokens += input_tokens or 0
        self.output_tokens += output_tokens or 0

    def over_budget(self, options: ModelOptions) -> str | None:
        """Why the task must stop, or None."""
        if self.input_tokens + self.output_tokens >= options.token_budget:
            return f"token budget used up ({self.input_tokens + self.output_tokens} of {options.token_budget})"
        if self.images > options.image_budget:
            return f"image budget used up ({self.images} of {options.image_budget})"
        return None

    def as_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class Turns:
    """The loop's bookkeeping shared by both agents: the usage, the deadline and the turn count.

    A model can keep answering with calls that never reach the server (malformed ones), which the runner's
    step limit does not see; turns are bounded by the step limit too."""

    ctx: AgentContext
    options: ModelOptions
    usage: Usage = field(default_factory=Usage)
    count: int = 0

    async def loop(
        self,
        turn: Callable[[], Awaitable[AgentResult | None]],
        api_errors: type[Exception],
        api: str,
    ) -> AgentResult:
        """Run `turn` (one request and the answers to its calls; a result once the model ends the task) until
        the task ends or must stop. A provider's error, once the SDK's retries are spent, ends it as an error."""
        try:
            while (stop := self.stop()) is None:
                if (end := await turn()) is not None:
                    return end
            return stop
        except StepLimitReached:
            return self.result("step_limit", "the runner's step limit was reached")
        except api_errors as exc:
            return self.result("error", f"the {api} failed: {exc}")

    def stop(self) -> AgentResult | None:
        """The result to end with before the next request, or None to go on."""
        if time.monotonic() >= self.ctx.deadline:
            return self.result("time_limit", "the task's time ran out")
        if self.count >= self.ctx.max_steps:
            return self.result("step_limit", f"{self.count} model turns, the step limit")
        if reason := self.usage.over_budget(self.options):
            return self.result("fail", reason)
        self.count += 1
        return None

    def timeout(self) -> float:
        """Seconds the next request may take: the request timeout, within the task's deadline."""
        return max(1.0, min(self.options.timeout, self.ctx.deadline - time.monotonic()))

    def result(self, status: AgentStatus, message: str) -> AgentResult:
        return AgentResult(status=status, message=message, usage=self.usage.as_dict())


def result_parts(result: CallToolResult) -> Iterator[tuple[str, str, str]]:
    """A tool result's blocks as ("text", text, "") or ("image", mime type, base64 data), in order."""
    for block in result.content:
        if block.type == "text":
            yield "text", block.text, ""
        elif block.type == "image":
            yield "image", block.mime_type, block.data
    if not result.content:
        yield "text", "(no output)", ""


def drop_old_images(messages: list[Any], keep: int, is_image: Callable[[Any], bool], placeholder: Any) -> None:
    """Replace all but the last `keep` image blocks found anywhere in `messages` by `placeholder`, in place."""
    found: list[tuple[list[Any], int]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for i, item in enumerate(node):
                if is_image(item):
                    found.append((node, i))
                else:
                    walk(item)
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)

    walk(messages)
    for parent, i in found[: max(0, len(found) - keep)]:
        parent[i] = placeholder


def save_conversation(turns: Turns, provider: str, tools: list[Any], messages: list[Any], **extra: Any) -> Path:
    """Write the conversation beside the trajectory, images elided (the trajectory keeps the screenshots)."""
    record = {
        "provider": provider,
        "mode": turns.options.mode,
        "model": turns.options.model,
        **extra,
        "tools": tools,
        "messages": messages,
        "usage": turns.usage.as_dict(),
    }
    path = turns.ctx.out_dir / "conversation.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_elide(record), indent=1, ensure_ascii=False, default=str))
    return path


def _elide(node: Any) -> Any:
    if isinstance(node, dict):
        if node.get("type") == "base64" and isinstance(node.get("data"), str):
            return {**node, "data": f"<{len(node['data'])} base64 characters>"}
        return {key: _elide(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_elide(item) for item in node]
    if isinstance(node, str) and node.startswith("data:image/"):
        head, _, data = node.partition(",")
        return f"{head},<{len(data)} base64 characters>"
    return node


def data_url(mime: str, data: str) -> str:
    return f"data:{mime};base64,{data}"
