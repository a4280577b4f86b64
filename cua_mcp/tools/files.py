"""Files in the workspace folder: `read_file`, `write_file`, `list_files`.

Only inside the workspace (see sandbox/workspace.py for what is refused). File work is blocking
I/O: it runs with a deadline on threads of its own, so that a slow disk or a hostile file can
never take the threads the desktop's tools (screenshot, clipboard) need.
"""

import asyncio
import datetime
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Annotated, Literal, TypeVar

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from cua_mcp.errors import CuaError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.workspace import MAX_LIST, MAX_WRITE_BYTES
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply

T = TypeVar("T")
_FILE_TIMEOUT_S = 20.0
_FILE_THREADS = 4

PathParam = Annotated[
    str,
    Field(max_length=1024, description="A path relative to the workspace folder, e.g. 'notes/todo.txt'."),
]


class FileText(BaseModel):
    path: str = Field(description="The path, relative to the workspace.")
    content: str
    offset: int = Field(description="Index (0-based) of the first line returned.")
    lines: int = Field(description="How many lines `content` holds.")
    total_lines: int | None = Field(description="Lines in the file, when it was read to its end.")
    next_offset: int | None = Field(description="Pass as offset to read on; null at the end of the file.")
    size: int = Field(description="File size in bytes.")


class FileWritten(BaseModel):
    path: str
    size: int = Field(description="The file's size in bytes after writing.")
    absolute_path: str = Field(description="Where apps see it (to open it in an app).")


class FileEntry(BaseModel):
    path: str = Field(description="Relative to the workspace.")
    type: Literal["file", "dir", "symlink", "other"]
    size: int
    modified: str = Field(description="ISO 8601, UTC.")


class FileListing(BaseModel):
    workspace: str = Field(description="The workspace folder's absolute path (as apps see it).")
    entries: list[FileEntry]
    truncated: bool = Field(description=f"More than {MAX_LIST} matches: narrow the pattern or the path.")


def _read_text(result: FileText) -> str:
    if not result.lines:
        return f"{result.path} ({result.size} bytes): no lines from offset {result.offset}."
    last = result.offset + result.lines - 1
    of = f" of {result.total_lines}" if result.total_lines is not None else ""
    head = f"{result.path} ({result.size} bytes), lines {result.offset}-{last}{of} (0-based):"
    text = f"{head}\n{result.content}"
    if result.next_offset is not None:
        text += ("" if text.endswith("\n") else "\n") + f"[more: read on with offset={result.next_offset}]"
    return text


def _listing_text(listing: FileListing, path: str) -> str:
    folder = "the workspace" if path.strip() in ("", ".") else path
    count = len(listing.entries)
    lines = [f"{count} {'entry' if count == 1 else 'entries'} in {folder} ({listing.workspace}):"]
    for e in listing.entries:
        if e.type == "dir":
            lines.append(f"{e.path}/")
        elif e.type == "file":
            lines.append(f"{e.path}  {e.size} bytes  {e.modified}")
        else:
            lines.append(f"{e.path}  ({e.type})")
    if listing.truncated:
        lines.append(f"[cut at {MAX_LIST}: narrow the pattern or the path]")
    return "\n".join(lines)


def register(tools: ToolRegistrar, desktop: Desktop) -> None:
    pool = ThreadPoolExecutor(_FILE_THREADS, thread_name_prefix="cua-files")

    async def off_loop(job: Callable[[], T]) -> T:
        try:
            return await asyncio.wait_for(asyncio.get_running_loop().run_in_executor(pool, job), _FILE_TIMEOUT_S)
        except TimeoutError:
            raise CuaError(f"the file operation took longer than {_FILE_TIMEOUT_S:g} s; try a smaller one.") from None

    @tools.tool(group="files", title="Read a file", read_only=True, idempotent=True, untrusted_text=True)
    async def read_file(
        path: PathParam,
        offset: Annotated[int, Field(ge=0, le=100_000_000, description="First line to return, 0-based.")] = 0,
        limit: Annotated[int, Field(ge=1, le=20_000, description="Lines to return at most.")] = 2000,
    ) -> Annotated[CallToolResult, FileText]:
        """Read a UTF-8 text file in the workspace folder, by lines (at most 256 KiB a call; use offset
        to read on). Paths are relative to the workspace; nothing outside it can be read."""
        workspace = desktop.launcher.workspace
        chunk = await off_loop(lambda: workspace.read_text(path, offset, limit))
        end = chunk.total_lines is not None and not chunk.truncated
        result = FileText(
            path=path,
            content=chunk.text,
            offset=offset,
            lines=chunk.lines,
            total_lines=chunk.total_lines,
            next_offset=None if end else offset + max(chunk.lines, 1),
            size=chunk.size,
        )
        return reply(result, _read_text(result))

    @tools.tool(group="files", title="Write a file", read_only=False, destructive=True)
    async def write_file(
        path: PathParam,
        content: Annotated[str, Field(max_length=MAX_WRITE_BYTES, description="UTF-8 text to write.")],
        append: Annotated[bool, Field(description="Add to the end instead of replacing the file.")] = False,
    ) -> Annotated[CallToolResult, FileWritten]:
        """Write (or with append=true, add to) a UTF-8 text file in the workspace folder, creating folders
        as needed. Replaces an existing file unless append is true. Only inside the workspace."""
        workspace = desktop.launcher.workspace
        size = await off_loop(lambda: workspace.write_text(path, content, append))
        written = FileWritten(path=path, size=size, absolute_path=str(workspace.resolve(path)))
        verb = "Appended to" if append else "Wrote"
        return reply(written, f"{verb} {path}: {size} bytes now (apps see it as {written.absolute_path}).")

    @tools.tool(group="files", title="List files", read_only=True, idempotent=True, untrusted_text=True)
    async def list_files(
        path: Annotated[str, Field(max_length=1024, description="A folder relative to the workspace.")] = ".",
        pattern: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="Glob on names ('*.txt'); with '/' or '**' it matches paths below the folder "
                "recursively ('**/*.csv').",
            ),
        ] = "*",
    ) -> Annotated[CallToolResult, FileListing]:
        """List files and folders in the workspace folder (the one place file tools and confined apps may
        write). Returns paths relative to it, with type, size and modification time."""
        workspace = desktop.launcher.workspace
        entries, truncated = await off_loop(lambda: workspace.list(path, pattern))
        listing = FileListing(
            workspace=str(workspace.root),
            entries=[
                FileEntry(
                    path=e.path,
                    type=e.kind,  # type: ignore[arg-type]
                    size=e.size,
                    modified=datetime.datetime.fromtimestamp(e.modified, datetime.UTC).isoformat(timespec="seconds"),
                )
                for e in entries
            ],
            truncated=truncated,
        )
        return reply(listing, _listing_text(listing, path))
