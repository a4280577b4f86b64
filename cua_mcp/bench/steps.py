"""Setup steps: what a task's desktop and workspace hold before the agent starts.

Each step is a pydantic model with `run(env)`; a task file lists them under `setup` as objects with
a `type`. A step that fails raises `EnvironmentFailure`, which marks the task as an environment
error, not as the agent's failure.
"""

from __future__ import annotations

import asyncio
from pathlib import PurePosixPath
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from cua_mcp.bench.env import EnvironmentFailure, TaskEnv, copy_into
from cua_mcp.errors import CuaError

# Which catalog app opens a file, by extension (as a desktop's default apps would).
OPENERS = {
    ".xlsx": "libreoffice-calc",
    ".xls": "libreoffice-calc",
    ".ods": "libreoffice-calc",
    ".csv": "libreoffice-calc",
    ".docx": "libreoffice-writer",
    ".doc": "libreoffice-writer",
    ".odt": "libreoffice-writer",
    ".pptx": "libreoffice-impress",
    ".ppt": "libreoffice-impress",
    ".odp": "libreoffice-impress",
    ".html": "chromium",
    ".htm": "chromium",
    ".pdf": "chromium",
}
DEFAULT_OPENER = "mousepad"
_FOCUS_SETTLE_S = 1.5
# The accessible element that shows an app's document is ready for input (its window comes earlier).
_DOCUMENT_ROLES = {
    "libreoffice-calc": "document spreadsheet",
    "libreoffice-writer": "document text",
    "libreoffice-impress": "document presentation",
}


class _Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    async def run(self, env: TaskEnv) -> None:
        raise NotImplementedError


class WriteFile(_Step):
    """Write text into a workspace file."""

    type: Literal["write_file"]
    path: str
    content: str

    async def run(self, env: TaskEnv) -> None:
        target = env.path(self.path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(self.content, encoding="utf-8")


class CopyFile(_Step):
    """Copy a file shipped beside the task into the workspace."""

    type: Literal["copy"]
    source: str
    path: str

    async def run(self, env: TaskEnv) -> None:
        copy_into(env.task_file(self.source), env.path(self.path))


class Download(_Step):
    """Put a file from a URL (or the cache folder) into the workspace."""

    type: Literal["download"]
    url: str
    path: str

    async def run(self, env: TaskEnv) -> None:
        copy_into(await env.fetch(self.url, PurePosixPath(self.path).name), env.path(self.path))


class Launch(_Step):
    """Start a catalog app (`mousepad`, `libreoffice-calc`, `chromium`, ...) and wait for its window."""

    type: Literal["launch"]
    app: str
    args: list[str] = []
    devtools: bool = False  # Chromium: open a DevTools port (OSWorld's active_tab getter reads it)

    async def run(self, env: TaskEnv) -> None:
        args = [str(env.path(a)) if _names_a_file(a) else env.map_text(a) for a in self.args]
        try:
            await env.launch(self.app, args, devtools=self.devtools)
        except CuaError as exc:
            raise EnvironmentFailure(f"launch {self.app}: {exc}") from exc


class OpenFile(_Step):
    """Open a workspace file in the app its extension calls for."""

    type: Literal["open"]
    path: str

    async def run(self, env: TaskEnv) -> None:
        target = env.path(self.path)
        if not target.is_file():
            raise EnvironmentFailure(f"open: {self.path} does not exist in the workspace")
        app = OPENERS.get(target.suffix.lower(), DEFAULT_OPENER)
        # A running LibreOffice takes a second start's file into a new window, which launch waits for.
        argument = target.as_uri() if app == "chromium" else str(target)
        try:
            await env.launch(app, [argument], devtools=app == "chromium" and env.devtools_port is None)
            if app != "chromium":  # a page's window is titled by the page, not the file
                await env.wait_for_title(target.name)
            if app in _DOCUMENT_ROLES:
                await env.wait_for_element(_DOCUMENT_ROLES[app])
                await env.wait_for_title(target.name, active=True)
                # LibreOffice moves keyboard focus into the document a moment after it shows; keys
                # typed before that are lost, so the agent starts after it.
                await asyncio.sleep(_FOCUS_SETTLE_S)
        except CuaError as exc:
            raise EnvironmentFailure(f"open {self.path} in {app}: {exc}") from exc


class Command(_Step):
    """Run a shell command line in the sandbox, in the workspace folder."""

    type: Literal["command"]
    command: str
    timeout: float = Field(60.0, gt=0, le=600)
    check: bool = True  # a non-zero exit status fails the setup

    async def run(self, env: TaskEnv) -> None:
        result = await env.command(env.map_text(self.command), self.timeout)
        if self.check and result.exit_code != 0:
            raise EnvironmentFailure(
                f"command {self.command!r} ended with status {result.exit_code}: {result.stderr.strip()[-400:]}"
            )


class Sleep(_Step):
    type: Literal["sleep"]
    seconds: float = Field(ge=0, le=60)

    async def run(self, env: TaskEnv) -> None:
        await asyncio.sleep(self.seconds)


class ActivateWindow(_Step):
    """Bring a window (by title or app substring) to the front."""

    type: Literal["activate_window"]
    window: str

    async def run(self, env: TaskEnv) -> None:
        await _window_op(env, self.window, "activate")


class CloseWindow(_Step):
    type: Literal["close_window"]
    window: str

    async def run(self, env: TaskEnv) -> None:
        await _window_op(env, self.window, "close")


class OpenTabs(_Step):
    """Open URLs as tabs of Chromium (started with a DevTools port if it is not running)."""

    type: Literal["open_tabs"]
    urls: list[str] = Field(min_length=1)

    async def run(self, env: TaskEnv) -> None:
        urls = [env.map_text(u) for u in self.urls]
        if env.devtools_port is None:
            await Launch(type="launch", app="chromium", args=urls[:1], devtools=True).run(env)
            urls = urls[1:]
        for url in urls:
            await env.devtools(f"/json/new?{url}", method="PUT")


Step = Annotated[
    WriteFile | CopyFile | Download | Launch | OpenFile | Command | Sleep | ActivateWindow | CloseWindow | OpenTabs,
    Field(discriminator="type"),
]


async def _window_op(env: TaskEnv, selector: str, op: str) -> None:
    try:
        window = await env.window(selector)
        await env.desktop.window_request(window.id, op)  # type: ignore[arg-type]
    except CuaError as exc:
        raise EnvironmentFailure(f"{op} window {selector!r}: {exc}") from exc


def _names_a_file(arg: str) -> bool:
    return not arg.startswith("-") and "://" not in arg
