"""A record of every tool call: a bounded in-memory ring (the live view reads it), an optional
JSONL audit log, and an optional recording folder (`--record DIR`, always on in a benchmark run).

The registrar's wrapper reports each call here (see `tools._registry.CallObserver`), so every
tool, present and future, is covered without the tool knowing. A recording holds `calls.jsonl`
(one line a call: the audit fields plus the whole result text, its size in characters and the
image bytes returned) and `step_NNNN.jpg`, the screen right after each call that acted.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mcp.types import CallToolResult, ImageContent, TextContent

if TYPE_CHECKING:
    from cua_mcp.sandbox.desktop import Desktop

log = logging.getLogger(__name__)

# Arguments that carry text a person may have typed (passwords, messages, file contents).
# Matching by name covers tools other modules add later without them opting in.
TEXT_ARGUMENTS = frozenset({"text", "value", "content", "command"})
_MAX_ARG_CHARS = 2_000  # a 10k-character type_text should not bloat the log or the live view
_MAX_RECORDED_TEXT = 50_000  # a recording keeps a result's text whole up to this
RECORDING_LOG = "calls.jsonl"


async def recording_frame(desktop: Desktop) -> bytes:
    """The screen as a recording keeps it after an action: JPEG, in the agent's coordinate space."""
    return (await desktop.screenshot("jpeg", 70)).frame.data


def screenshot_name(step: int) -> str:
    """The file a recording keeps the screen in after step `step` acted."""
    return f"step_{step:04d}.jpg"


@dataclass(frozen=True)
class CallRecord:
    """One finished tool call."""

    seq: int
    time: str  # ISO 8601, UTC, when the call started
    client: dict[str, Any]
    tool: str
    arguments: dict[str, Any]
    duration_ms: float
    outcome: str  # "ok" | "error"
    error: str | None = None
    result: str | None = None  # a short summary of what the tool returned (images by size only)
    result_chars: int | None = None  # characters of text the caller got back
    image_bytes: int | None = None  # bytes of images the caller got back


class CallRecorder:
    """Keeps the last `capacity` calls and appends each to the audit log if one is open.

    Thread-safe: calls finish on the event loop, but the log file is also closed from the
    main thread at shutdown.
    """

    def __init__(
        self,
        capacity: int = 200,
        audit_log: Path | None = None,
        redact_text: bool = False,
        record_dir: Path | None = None,
        capture: Callable[[], Awaitable[bytes]] | None = None,
    ) -> None:
        """`record_dir`: keep a recording there; `capture` returns the screen as JPEG for it."""
        self.redact_text = redact_text
        self._ring: deque[CallRecord] = deque(maxlen=capacity)
        self._lock = threading.Lock()
        self._seq = 0
        self._audit: TextIO | None = None
        self._recording: TextIO | None = None
        self._record_dir = record_dir
        self._capture = capture
        if audit_log is not None:
            # Line-buffered append: each call is on disk as soon as it finishes, and a crash
            # loses at most the line being written.
            self._audit = open(audit_log, "a", buffering=1, encoding="utf-8")  # noqa: SIM115
        if record_dir is not None:
            record_dir.mkdir(parents=True, exist_ok=True)
            self._recording = open(record_dir / RECORDING_LOG, "a", buffering=1, encoding="utf-8")  # noqa: SIM115

    def on_call(
        self,
        *,
        tool: str,
        arguments: dict[str, Any],
        client: dict[str, Any],
        started: float,
        duration_s: float,
        error: str | None,
        result: str | None = None,
        returned: Any = None,
    ) -> None:
        """Record one finished call (the `CallObserver` protocol of the tool registrar)."""
        text, images = _returned_content(returned)
        with self._lock:
            self._seq += 1
            record = CallRecord(
                seq=self._seq,
                time=datetime.fromtimestamp(started, UTC).isoformat(timespec="milliseconds"),
                client=client,
                tool=tool,
                arguments=self._clean(arguments),
                duration_ms=round(duration_s * 1000, 2),
                outcome="ok" if error is None else "error",
                error=error,
                result=self._clean_result(result),
                result_chars=None if error is not None else len(text),
                image_bytes=None if error is not None else images,
            )
            self._ring.append(record)
            line = asdict(record)
            self._write(self._audit, line, "audit log")
            if self._recording is not None:
                line["step"] = line.pop("seq")
                line["text"] = self._clean_result(text[:_MAX_RECORDED_TEXT]) if error is None else None
                self._write(self._recording, line, "recording")

    async def after_action(self, tool: str) -> None:
        """Keep the screen as it is after a call that acted (recordings only)."""
        if self._record_dir is None or self._capture is None:
            return
        step = self._seq  # no await since this call's on_call: still its number
        image = await self._capture()
        (self._record_dir / screenshot_name(step)).write_bytes(image)

    def _write(self, stream: TextIO | None, line: dict[str, Any], what: str) -> None:
        if stream is None:
            return
        try:
            stream.write(json.dumps(line, ensure_ascii=False, default=str) + "\n")
        except (OSError, ValueError):
            # A full disk must not turn every tool call into a failure; say so once a call.
            log.exception("cannot write the %s", what)

    def recent(self, after: int = 0, limit: int = 100) -> list[CallRecord]:
        """Calls with `seq > after`, oldest first, at most the newest `limit`."""
        with self._lock:
            newer = [r for r in self._ring if r.seq > after]
        return newer[-limit:]

    @property
    def last_seq(self) -> int:
        return self._seq

    def close(self) -> None:
        with self._lock:
            for stream in (self._audit, self._recording):
                if stream is not None:
                    stream.close()
            self._audit = self._recording = None

    def _clean_result(self, result: str | None) -> str | None:
        # Results can echo text (a clipboard read, a file, a text field's value): with redaction on
        # they are kept as a length only, like text arguments.
        if result is not None and self.redact_text:
            return f"[redacted: {len(result)} characters]"
        return result

    def _clean(self, arguments: dict[str, Any]) -> dict[str, Any]:
        return {name: self._clean_value(name, value) for name, value in arguments.items()}

    def _clean_value(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            if self.redact_text and name in TEXT_ARGUMENTS:
                return f"[redacted: {len(value)} characters]"
            if len(value) > _MAX_ARG_CHARS:
                return value[:_MAX_ARG_CHARS] + f"... [{len(value) - _MAX_ARG_CHARS} more characters]"
            return value
        if isinstance(value, bytes):
            return f"[{len(value)} bytes]"
        if isinstance(value, int | float | bool) or value is None:
            return value
        if isinstance(value, list | tuple):
            return [self._clean_value(name, v) for v in value]
        if isinstance(value, dict):
            return {str(k): self._clean_value(str(k), v) for k, v in value.items()}
        if hasattr(value, "model_dump"):
            return self._clean_value(name, value.model_dump(mode="json"))
        return str(value)


def _returned_content(returned: Any) -> tuple[str, int]:
    """The text a tool's return value becomes for the caller, and the bytes of its images."""
    if isinstance(returned, CallToolResult):
        text = "\n".join(c.text for c in returned.content if isinstance(c, TextContent))
        images = sum(len(c.data) * 3 // 4 for c in returned.content if isinstance(c, ImageContent))
        return text, images
    if hasattr(returned, "model_dump_json"):
        return returned.model_dump_json(), 0
    return ("" if returned is None else str(returned)), 0
