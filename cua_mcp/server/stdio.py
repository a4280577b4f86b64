"""MCP over stdin and stdout, read and written by the event loop itself.

The SDK's `stdio_server` moves every line through a worker thread (`anyio.wrap_file`): a read, a
write and a flush per call, each a hand-off between threads, which on a 2-core machine is a large part
of a small call's round trip. When stdin and stdout are pipes or sockets (as MCP clients spawn
servers), this module hands them to the event loop's own pipe transports instead and passes them to
the SDK's `stdio_server`, which keeps its parsing and framing. Otherwise (a file, a terminal) the SDK's
threaded reader serves as before.

A line that is not a message gets JSON-RPC's answer (-32700 parse error, or -32600 for JSON that is
not a JSON-RPC message; id null), where the SDK would drop it and leave its client waiting. A line over
`MAX_LINE_BYTES` (64 MiB) is skipped without being held in memory and answered the same way.

As in the SDK, the standard descriptors are diverted while serving (fd 0 from /dev/null, fd 1 to
stderr), so a stray print or an inherited descriptor in a child process cannot corrupt the protocol.
"""

from __future__ import annotations

import asyncio
import fcntl
import os
import stat
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

import anyio
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp.types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError
from pydantic import ValidationError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mcp.server.mcpserver import MCPServer

# A line is one JSON-RPC message. The largest a tool takes is write_file's 5 MiB of content (which
# JSON escaping can make up to six times longer); a line beyond this cap is refused, not buffered.
MAX_LINE_BYTES = 64 * 1024 * 1024


async def serve_stdio(server: MCPServer) -> None:
    """Serve `server` over this process's stdin and stdout until the client closes stdin."""
    async with AsyncExitStack() as stack:
        if _is_pipe_or_socket(0) and _is_pipe_or_socket(1):
            stdin, stdout = await stack.enter_async_context(_loop_pipes())
            streams = stdio_server(stdin, stdout)  # type: ignore[arg-type]  # duck-typed like anyio's AsyncFile
        else:
            streams = stdio_server()
        read_stream, write_stream = await stack.enter_async_context(streams)
        # The SDK's MCPServer runs its low-level server the same way in `run_stdio_async`.
        lowlevel = server._lowlevel_server
        await lowlevel.run(
            _AnsweringBadLines(read_stream, write_stream), write_stream, lowlevel.create_initialization_options()
        )


def _rejection(code: int, message: str) -> SessionMessage:
    return SessionMessage(JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=code, message=message)))


def _rejection_of(exc: Exception) -> SessionMessage:
    """The JSON-RPC error for a line the SDK's reader could not turn into a message."""
    first = exc.errors()[0] if isinstance(exc, ValidationError) and exc.errors() else None
    if first is None or first["type"] == "json_invalid":
        reason = first["msg"] if first else str(exc)
        return _rejection(PARSE_ERROR, f"Parse error: {reason}; send one JSON-RPC message per line, in UTF-8.")
    where = ".".join(str(part) for part in first["loc"])
    detail = f"{where}: {first['msg']}" if where else first["msg"]
    return _rejection(INVALID_REQUEST, f"Invalid Request: not a JSON-RPC 2.0 message ({detail}).")


class _AnsweringBadLines:
    """The SDK's read stream, with each unparsable line answered on the write stream instead of passed on.

    The SDK's stdio reader hands a line it cannot parse to the session as an exception, which the
    session only logs; the client would wait forever for an answer.
    """

    def __init__(self, inner: Any, write_stream: Any) -> None:
        self._inner = inner
        self._write_stream = write_stream

    @property
    def last_context(self) -> Any:
        return getattr(self._inner, "last_context", None)

    async def receive(self) -> SessionMessage:
        while True:
            item = await self._inner.receive()
            if not isinstance(item, Exception):
                return item
            await self._write_stream.send(_rejection_of(item))

    def __aiter__(self) -> _AnsweringBadLines:
        return self

    async def __anext__(self) -> SessionMessage:
        try:
            return await self.receive()
        except anyio.EndOfStream:
            raise StopAsyncIteration from None

    def close(self) -> None:
        self._inner.close()

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def __aenter__(self) -> _AnsweringBadLines:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _LineReader:
    """`async for line in reader`: the lines of a pipe, decoded as UTF-8; over-long ones answered and skipped."""

    def __init__(self, reader: asyncio.StreamReader, writer: _LineWriter) -> None:
        self._reader = reader
        self._writer = writer

    def __aiter__(self) -> _LineReader:
        return self

    async def __anext__(self) -> str:
        while True:
            try:
                line = await self._reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:  # the last line, without its newline
                line = exc.partial
            except asyncio.LimitOverrunError:
                await self._skip_line()
                refusal = _rejection(
                    PARSE_ERROR,
                    f"Parse error: a message over {MAX_LINE_BYTES // 2**20} MiB was refused; send smaller ones "
                    "(write a large file in parts).",
                )
                await self._writer.write(refusal.message.model_dump_json(by_alias=True, exclude_unset=True) + "\n")
                await self._writer.flush()
                continue
            if not line:
                raise StopAsyncIteration
            return line.decode("utf-8", errors="replace")

    async def _skip_line(self) -> None:
        """Drop what is buffered of the current line, chunk by chunk, through its newline (or the end)."""
        while True:
            try:
                await self._reader.readuntil(b"\n")
                return
            except asyncio.LimitOverrunError as exc:
                await self._reader.readexactly(exc.consumed)
            except asyncio.IncompleteReadError:
                return


class _LineWriter:
    """`await write(text)` and `await flush()` on a pipe; a client that went away ends the writes quietly."""

    def __init__(self, writer: asyncio.StreamWriter) -> None:
        self._writer = writer

    async def write(self, text: str) -> None:
        if not self._writer.is_closing():
            self._writer.write(text.encode("utf-8"))

    async def flush(self) -> None:
        try:
            await self._writer.drain()
        except (BrokenPipeError, ConnectionResetError):
            self._writer.close()


@asynccontextmanager
async def _loop_pipes() -> AsyncIterator[tuple[_LineReader, _LineWriter]]:
    loop = asyncio.get_running_loop()
    with _diverted(0, os.O_RDONLY) as wire_in, _diverted(1, os.O_WRONLY) as wire_out:
        reader = asyncio.StreamReader(limit=MAX_LINE_BYTES)
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0, closefd=False)
        )
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0, closefd=False)
        )
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
        try:
            line_writer = _LineWriter(writer)
            yield _LineReader(reader, line_writer), line_writer
        finally:
            read_transport.close()
            write_transport.close()


@contextmanager
def _diverted(fd: int, mode: int) -> Iterator[int]:
    """Move the wire behind `fd` to a private descriptor (yielded) and point `fd` elsewhere meanwhile.

    fd 0 reads /dev/null and fd 1 writes to stderr. The event loop makes the wire non-blocking; its
    flags are put back on exit, since a pipe's flags are shared with whoever else holds it.
    """
    wire = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    flags = fcntl.fcntl(wire, fcntl.F_GETFL)
    stand_in = os.open(os.devnull, os.O_RDONLY) if mode == os.O_RDONLY else os.dup(2)
    try:
        os.dup2(stand_in, fd)
    finally:
        os.close(stand_in)
    try:
        yield wire
    finally:
        fcntl.fcntl(wire, fcntl.F_SETFL, flags)
        os.dup2(wire, fd)
        os.close(wire)
