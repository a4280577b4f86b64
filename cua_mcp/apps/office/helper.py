"""The server's end of the UNO helper process (uno_helper.py): finding an interpreter with `uno`,
starting the helper, and its protocol (JSON lines with request ids, typed errors, timeouts)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from typing import Any

from cua_mcp.errors import InvalidArgumentError, OfficeError, OfficeNotRunningError

HELPER = Path(__file__).with_name("uno_helper.py")
_LINE_LIMIT = 64 * 1024 * 1024  # one answer line (a sheet's visible cells fit in far less)
_PROBE_TIMEOUT_S = 15.0


class HelperGone(OfficeNotRunningError):
    """The helper or the soffice behind it is gone: the connection must be made again."""


class HelperTimeout(OfficeNotRunningError):
    """The helper did not answer in time: soffice is busy or hung."""


@functools.cache
def uno_python() -> str:
    """An interpreter that can `import uno`: Debian's /usr/bin/python3 first, then the python3s on PATH."""
    candidates = ["/usr/bin/python3"]
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for name in ("python3", *(f"python3.{minor}" for minor in range(20, 7, -1))):
            found = shutil.which(name, path=folder)
            if found and found not in candidates:
                candidates.append(found)
    for python in candidates:
        if not os.access(python, os.X_OK):
            continue
        try:
            probe = subprocess.run(
                [python, "-c", "import uno"], capture_output=True, timeout=_PROBE_TIMEOUT_S, stdin=subprocess.DEVNULL
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return python
    raise OfficeError(
        "the office tools need LibreOffice's Python bridge (the module uno), which no Python here has: install "
        "the Debian package python3-uno (apt-get install python3-uno) and restart the server."
    )


class UnoHelper:
    """One helper process connected to one soffice; calls are serialized (the helper answers in order)."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self._process = process
        self._ids = itertools.count(1)
        self._lock = asyncio.Lock()
        self.broken = False

    @classmethod
    async def start(cls, argv: list[str], env: dict[str, str]) -> UnoHelper:
        process = await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
            limit=_LINE_LIMIT,
            start_new_session=True,
        )
        return cls(process)

    @property
    def alive(self) -> bool:
        return not self.broken and self._process.returncode is None

    async def call(self, op: str, args: dict[str, Any], timeout: float) -> Any:
        """The result of `op`; `InvalidArgumentError` or `OfficeError` with the helper's message,
        `HelperGone` when soffice or the helper went away, `HelperTimeout` past `timeout`."""
        async with self._lock:
            if not self.alive:
                raise HelperGone("the connection to LibreOffice is closed")
            request_id = next(self._ids)
            line = json.dumps({"id": request_id, "op": op, "args": args}) + "\n"
            assert self._process.stdin is not None and self._process.stdout is not None
            try:
                self._process.stdin.write(line.encode())
                await self._process.stdin.drain()
                answer = await asyncio.wait_for(self._read(request_id), timeout)
            except TimeoutError:
                # The helper is stuck in a call soffice does not answer: it cannot be reused.
                self.close()
                raise HelperTimeout(f"LibreOffice did not answer within {timeout:g} s") from None
            except (ConnectionError, OSError, ValueError) as exc:
                self.close()
                raise HelperGone(f"the UNO helper process failed ({exc})") from None
        if answer["ok"]:
            return answer["result"]
        error = answer["error"]
        kind, message = error.get("type"), error.get("message", "")
        if kind == "gone":
            self.close()
            raise HelperGone(message)
        if kind == "invalid":
            raise InvalidArgumentError(message)
        if kind == "no_document":
            raise OfficeError(message)
        if kind == "uno":
            raise OfficeError(f"LibreOffice refused: {message}")
        raise OfficeError(f"the UNO helper failed: {message}")

    async def _read(self, request_id: int) -> dict[str, Any]:
        assert self._process.stdout is not None
        while True:
            raw = await self._process.stdout.readline()
            if not raw:
                raise ConnectionError("the helper process ended")
            answer = json.loads(raw)
            if answer.get("id") == request_id:
                return answer

    def close(self) -> None:
        """End the helper (its own process only; the soffice it talked to is not touched)."""
        self.broken = True
        if self._process.returncode is None:
            # Its own session: under bubblewrap the python inside is a grandchild.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
