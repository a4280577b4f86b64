"""A command line: `run_command` (group shell, off unless the user enables it)."""

from typing import Annotated

from pydantic import BaseModel, Field

from cua_mcp.errors import InvalidArgumentError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.shell import MAX_OUTPUT_BYTES
from cua_mcp.sandbox.shell import run_command as run
from cua_mcp.tools._registry import ToolRegistrar

MAX_TIMEOUT_S = 120


class CommandOutput(BaseModel):
    exit_code: int | None = Field(description="The command's exit status; null when it was killed at the timeout.")
    stdout: str
    stderr: str
    timed_out: bool
    confined: bool = Field(description="Ran under bubblewrap: read-only system, only the workspace writable.")
    truncated: bool = Field(description=f"Output beyond {MAX_OUTPUT_BYTES // 1024} KiB a stream was cut in the middle.")


def register(tools: ToolRegistrar, desktop: Desktop) -> None:
    @tools.tool(
        group="shell",
        title="Run a shell command",
        read_only=False,
        destructive=True,
        open_world=True,
        untrusted_text=True,
        deadline_s=MAX_TIMEOUT_S + 15,  # the command's own timeout, then killing and draining it
    )
    async def run_command(
        command: Annotated[str, Field(min_length=1, max_length=10_000, description="A bash command line.")],
        timeout: Annotated[
            int, Field(ge=1, le=MAX_TIMEOUT_S, description="Seconds before the command and all it started are killed.")
        ] = 30,
        cwd: Annotated[
            str, Field(max_length=1024, description="Folder to run in, relative to the workspace folder.")
        ] = ".",
    ) -> CommandOutput:
        """Run a bash command line on the desktop's machine and return its exit code, stdout and stderr
        (each capped). Runs in the workspace folder, with the desktop's DISPLAY; under bubblewrap where
        available (system read-only, only the workspace and a private HOME writable). Background jobs
        are killed when the command ends. No input can be sent: use non-interactive commands."""
        launcher = desktop.launcher
        folder = launcher.workspace.resolve(cwd)
        if not folder.is_dir():
            raise InvalidArgumentError(f"cwd {cwd!r} is not a folder in the workspace: create it or use '.'.")
        argv, env = launcher.command(command, folder)
        result = await run(argv, env, folder, timeout)
        return CommandOutput(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            timed_out=result.timed_out,
            confined=launcher.confined,
            truncated=max(result.stdout_bytes, result.stderr_bytes) > MAX_OUTPUT_BYTES,
        )
