"""Local HTTP servers that speak a model provider's wire format, for testing the model agents offline.

`FakeProvider` answers each request with the next reply of a script. A reply is a function of the
request: it checks what the agent sent (the tools offered, the images, the tool results) with plain
asserts and returns the provider's response. Every request is first checked against the protocol's
own rules (the endpoint, the auth header, each tool call answered by its result, in order); a request
that breaks them, or a failed assert, is answered with the provider's 400 error and kept in
`failures`, which `check()` raises in the test.

The responses are the providers' documented JSON: Anthropic's Messages API (`/v1/messages`), OpenAI's
chat completions (`/v1/chat/completions`) and Responses (`/v1/responses`).
"""

from __future__ import annotations

import itertools
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class Reply:
    body: dict[str, Any]
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Script = Callable[[Request], Reply]


class FakeProvider:
    """A provider on 127.0.0.1:<free port>; `kind` is "anthropic", "chat" or "responses"."""

    def __init__(self, kind: str, script: list[Script], api_key: str = "test-key") -> None:
        self.kind = kind
        self.script = list(script)
        self.api_key = api_key
        self.requests: list[Request] = []
        self.failures: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The base URL as each SDK takes it (OpenAI's includes /v1, Anthropic's does not)."""
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}" + ("" if self.kind == "anthropic" else "/v1")

    def __enter__(self) -> FakeProvider:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def check(self) -> None:
        """Fail the test with what the fake found wrong in the requests, and if the script was not used up."""
        assert not self.failures, "the fake provider refused requests:\n" + "\n".join(self.failures)
        assert not self.script, f"{len(self.script)} scripted replies were never asked for"

    def _answer(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            try:
                _PROTOCOL[self.kind](request, self.api_key)
                if not self.script:
                    raise AssertionError("a request came after the script's last reply")
                return self.script.pop(0)(request)
            except AssertionError as exc:
                self.failures.append(f"request {len(self.requests)}: {exc}")
                return error_reply(self.kind, 400, "invalid_request_error", str(exc))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = {"<not json>": raw.decode(errors="replace")}
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = fake._answer(Request(self.path, headers, body))
                data = json.dumps(reply.body).encode()
                self.send_response(reply.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


# ----- the protocols' rules, checked on every request --------------------------------------------------------


def _check_anthropic(request: Request, api_key: str) -> None:
    assert request.path == "/v1/messages", f"POST to {request.path}, not /v1/messages"
    # The API takes the key as x-api-key or (as this SDK sends it) a bearer token.
    sent = request.headers.get("x-api-key") or request.headers.get("authorization", "").removeprefix("Bearer ")
    assert sent == api_key, "neither an x-api-key header nor a bearer token with the key"
    assert request.headers.get("anthropic-version"), "no anthropic-version header"
    body = request.body
    for name in ("model", "max_tokens", "messages"):
        assert name in body, f"no {name!r} in the body"
    messages = body["messages"]
    assert messages and messages[0]["role"] == "user", "the first message is not the user's"
    for before, after in itertools.pairwise(messages):
        assert before["role"] != after["role"], "two messages in a row with the same role"
    for i, message in enumerate(messages):
        if message["role"] != "assistant" or not isinstance(message["content"], list):
            continue
        asked = [b["id"] for b in message["content"] if b["type"] == "tool_use"]
        if asked and i + 1 < len(messages):
            answered = [b.get("tool_use_id") for b in messages[i + 1]["content"] if b["type"] == "tool_result"]
            assert answered == asked, f"tool_use ids {asked} answered by tool_result ids {answered}"
    names = [tool["name"] for tool in body.get("tools", [])]
    assert len(names) == len(set(names)), f"duplicate tool names in {names}"


def _check_chat(request: Request, api_key: str) -> None:
    assert request.path == "/v1/chat/completions", f"POST to {request.path}, not /v1/chat/completions"
    assert request.headers.get("authorization") == f"Bearer {api_key}", "no bearer token with the key"
    messages = request.body.get("messages", [])
    assert "model" in request.body and messages, "no model or messages"
    for i, message in enumerate(messages):
        calls = [call["id"] for call in message.get("tool_calls") or []]
        if calls:
            following = list(itertools.takewhile(lambda m: m["role"] == "tool", messages[i + 1 :]))
            answered = [m["tool_call_id"] for m in following]
            assert answered == calls or i + 1 == len(messages), f"tool calls {calls} answered by {answered}"
            for m in following:
                assert isinstance(m["content"], str), "a tool message's content is not a string"


def _check_responses(request: Request, api_key: str) -> None:
    assert request.path == "/v1/responses", f"POST to {request.path}, not /v1/responses"
    assert request.headers.get("authorization") == f"Bearer {api_key}", "no bearer token with the key"
    items = request.body.get("input")
    assert "model" in request.body and isinstance(items, list) and items, "no model or input items"
    outputs = {item["call_id"] for item in items if item.get("type", "").endswith("_call_output")}
    for item in items:
        if item.get("type") in ("computer_call", "function_call"):
            assert item["call_id"] in outputs, f"{item['type']} {item['call_id']} has no output item"


_PROTOCOL = {"anthropic": _check_anthropic, "chat": _check_chat, "responses": _check_responses}


def assert_tools_as_served(offered: dict[str, tuple[str, dict[str, Any]]], served: list[Any]) -> None:
    """The tools an agent offered (name -> description, schema) are the server's own, unchanged, plus
    declare_infeasible."""
    assert set(offered) == {tool.name for tool in served} | {"declare_infeasible"}
    for tool in served:
        assert offered[tool.name] == (tool.description, tool.input_schema), f"{tool.name} was changed"


# ----- responses, as each provider sends them -----------------------------------------------------------------

_ids = itertools.count(1)


def error_reply(kind: str, status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    if kind == "anthropic":
        body: dict[str, Any] = {"type": "error", "error": {"type": error_type, "message": message}}
    else:
        body = {"error": {"message": message, "type": error_type, "param": None, "code": None}}
    return Reply(body, status, headers or {})


def anthropic_message(content: list[dict[str, Any]], usage: tuple[int, int] = (100, 20)) -> Reply:
    """A Messages API response; tool_use blocks get ids here."""
    for block in content:
        if block["type"] == "tool_use":
            block.setdefault("id", f"toolu_{next(_ids):04d}")
    stop = "tool_use" if any(b["type"] == "tool_use" for b in content) else "end_turn"
    return Reply(
        {
            "id": f"msg_{next(_ids):04d}",
            "type": "message",
            "role": "assistant",
            "model": "claude-fake",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": usage[0], "output_tokens": usage[1]},
        }
    )


def tool_use(name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "name": name, "input": arguments}


def chat_completion(
    content: str | None = None, calls: list[tuple[str, str]] = (), usage: tuple[int, int] = (100, 20)
) -> Reply:
    """A chat completion; `calls` are (function name, arguments as the raw JSON string the model wrote)."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if calls:
        message["tool_calls"] = [
            {"id": f"call_{next(_ids):04d}", "type": "function", "function": {"name": name, "arguments": args}}
            for name, args in calls
        ]
    return Reply(
        {
            "id": f"chatcmpl-{next(_ids)}",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": "fake-model",
            "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
            "usage": {"prompt_tokens": usage[0], "completion_tokens": usage[1], "total_tokens": sum(usage)},
        }
    )


def response(output: list[dict[str, Any]], usage: tuple[int, int] = (100, 20)) -> Reply:
    """A Responses API response; computer_call and function_call items get ids here."""
    for item in output:
        item.setdefault("id", f"item_{next(_ids):04d}")
        if item["type"] in ("computer_call", "function_call"):
            item.setdefault("call_id", f"call_{next(_ids):04d}")
            item.setdefault("status", "completed")
        if item["type"] == "computer_call":
            item.setdefault("pending_safety_checks", [])
    return Reply(
        {
            "id": f"resp_{next(_ids):04d}",
            "object": "response",
            "created_at": 1_700_000_000,
            "status": "completed",
            "model": "computer-use-fake",
            "output": output,
            "parallel_tool_calls": True,
            "tool_choice": "auto",
            "tools": [],
            "usage": {
                "input_tokens": usage[0],
                "output_tokens": usage[1],
                "total_tokens": sum(usage),
                "input_tokens_details": {"cached_tokens": 0},
                "output_tokens_details": {"reasoning_tokens": 0},
            },
        }
    )


def computer_call(action: dict[str, Any]) -> dict[str, Any]:
    return {"type": "computer_call", "action": action}


def output_message(text: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": text, "annotations": []}],
    }
