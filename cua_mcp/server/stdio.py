"""MCP over stdin and stdout, read and written by the event loop itself.

The SDK's `stdio_server` moves every line through a worker thread (`anyio.wrap_file`): a read, a
write and a flush per call, each a hand-off between threads, which on a 2-core machine is a large part
of a small call's round trip. When stdin and stdout are pipes or sockets (as MCP clients spawn
servers), this module hands them to the event loop's own pipe transports instead and passes them to
the SDK's `stdio_server`, which keeps its parsing and framing. Otherwise (a file, a terminal) the SDK's
threaded reader serves as before.

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
from typing import TYPE_CHECKING

from mcp.server.stdio import stdio_server

if TYPE_CHECKING:
    from collections.abc import Iterator

    from mcp.server.mcpserver import MCPServer

# A line is one JSON-RPC message; a file written through `write_file` can make it large.
_MAX_LINE_BYTES = 256 * 1024 * 1024


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
        await lowlevel.run(read_stream, write_stream, lowlevel.create_initialization_options())


def _is_pipe_or_socket(fd: int) -> bool:
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


class _LineReader:
    """`async for line in reader`: the lines of a pipe, decoded as UTF-8."""

    def __init__(self, reader: asyncio.StreamReader) -> None:
        self._reader = reader

    def __aiter__(self) -> _LineReader:
        return self

    async def __anext__(self) -> str:
        line = await self._reader.readline()
        if not line:
            raise StopAsyncIteration
        return line.decode("utf-8", errors="replace")


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
        reader = asyncio.StreamReader(limit=_MAX_LINE_BYTES)
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(wire_in, "rb", buffering=0, closefd=False)
        )
        write_transport, protocol = await loop.connect_write_pipe(
            asyncio.streams.FlowControlMixin, os.fdopen(wire_out, "wb", buffering=0, closefd=False)
        )
        writer = asyncio.StreamWriter(write_transport, protocol, None, loop)
        try:
            yield _LineReader(reader), _LineWriter(writer)
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
