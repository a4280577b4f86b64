"""Running one shell command with a deadline, capped output, and nothing left behind.

The command runs in its own process group (and, under bubblewrap, its own pid namespace). When it
ends, or its time is up, or the caller is cancelled, the whole group is killed: background jobs it
started do not outlive it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

MAX_OUTPUT_BYTES = 32 * 1024  # kept of each of stdout and stderr: the head and the tail
_CHUNK = 65536
_DRAIN_S = 5.0
_POLL_S = 0.02


@dataclass(frozen=True)
class CommandResult:
    exit_code: int | None  # None when it was killed at the deadline
    stdout: str
    stderr: str
    stdout_bytes: int  # how much it wrote, before capping
    stderr_bytes: int
    timed_out: bool


class _CappedBuffer:
    """Keeps the first and the last MAX_OUTPUT_BYTES/2 bytes of a stream, and its length."""

    def __init__(self, cap: int = MAX_OUTPUT_BYTES) -> None:
        self._half = cap // 2
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def add(self, data: bytes) -> None:
        self.total += len(data)
        room = self._half - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        if data:
            self.tail += data
            del self.tail[: max(0, len(self.tail) - self._half)]

    def text(self) -> str:
        head = self.head.decode("utf-8", "replace")
        if self.total <= len(self.head) + len(self.tail):
            return head + self.tail.decode("utf-8", "replace")
        dropped = self.total - len(self.head) - len(self.tail)
        return f"{head}\n[... {dropped} bytes left out ...]\n{self.tail.decode('utf-8', 'replace')}"


async def run_command(argv: list[str], env: dict[str, str], cwd: Path, timeout: float) -> CommandResult:
    """Run `argv` to completion or `timeout` seconds, whichever is first."""
    # Spawned from the event loop's thread: bubblewrap's --die-with-parent follows the thread that
    # forked it, and worker threads come and go.
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=str(cwd),
        env=env,
        start_new_session=True,
    )
    out, err = _CappedBuffer(), _CappedBuffer()
    readers = asyncio.gather(_pump(process.stdout, out), _pump(process.stderr, err))
    try:
        timed_out = not await _exited(process, timeout)
    finally:
        # Always: background jobs of a finished command, everything of a timed-out or cancelled one.
        _kill_group(process.pid)
    await _exited(process, _DRAIN_S)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(readers, _DRAIN_S)  # pipes close once the group is gone
    return CommandResult(
        exit_code=None if timed_out else process.returncode,
        stdout=out.text(),
        stderr=err.text(),
        stdout_bytes=out.total,
        stderr_bytes=err.total,
        timed_out=timed_out,
    )


async def _exited(process: asyncio.subprocess.Process, timeout: float) -> bool:
    """Whether the process exited within `timeout`. Not `process.wait()`: that also waits for its
    pipes to close, which a background job holding them open would delay until the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while process.returncode is None:
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(_POLL_S)
    return True


async def _pump(stream: asyncio.StreamReader | None, buffer: _CappedBuffer) -> None:
    if stream is None:
        return
    while chunk := await stream.read(_CHUNK):
        buffer.add(chunk)


def _kill_group(pgid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signal.SIGKILL)
