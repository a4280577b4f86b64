"""What setup steps and evaluators act on: one task's sandbox desktop, its workspace and its files.

Paths in tasks are relative to the workspace; OSWorld's VM paths (`/home/user/...`, `~/...`) name the
same places (the VM user's home becomes the workspace), so tasks written for OSWorld run unchanged.
Nothing a task names may lead out of the workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath

from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import CuaError
from cua_mcp.sandbox.apps import AppSpec
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.shell import CommandResult, run_command
from cua_mcp.sandbox.window_match import select_window
from cua_mcp.sandbox.x11.windows import WindowInfo

VM_HOME = "/home/user"
_DOWNLOAD_LIMIT = 200 * 1024 * 1024
_DOWNLOAD_TIMEOUT_S = 60.0


class EnvironmentFailure(CuaError):
    """A setup step (or an evaluator's own preparation) could not be carried out."""


@dataclass
class TaskEnv:
    """One task's desktop and folders, for setup steps, getters and evaluators."""

    desktop: Desktop
    task_id: str
    task_dir: Path  # the folder of the task file: a task's own files are named relative to it
    cache_dir: Path | None  # downloads are looked up here first, and kept here
    offline: bool = False  # never fetch a URL; the cache must have it
    devtools_port: int | None = None  # Chromium's DevTools port, once a setup step started it
    _a11y: Accessibility | None = field(default=None, repr=False)

    @property
    def workspace(self) -> Path:
        return self.desktop.launcher.workspace.root

    @property
    def a11y(self) -> Accessibility:
        if self._a11y is None:
            self._a11y = Accessibility(self.desktop)
        return self._a11y

    def close(self) -> None:
        if self._a11y is not None:
            self._a11y.close()
            self._a11y = None

    # ----- paths -----------------------------------------------------------------------------

    def path(self, name: str) -> Path:
        """The workspace path a task names (relative, or an OSWorld VM path); refuses escapes."""
        text = name.strip()
        pure = PurePosixPath(text)
        if text.startswith("~"):
            text = text[1:].lstrip("/")
        elif pure.is_absolute() and pure.is_relative_to(VM_HOME):
            text = str(pure.relative_to(VM_HOME))
        return self.desktop.launcher.workspace.resolve(text)

    def map_text(self, text: str) -> str:
        """`text` (a command line, a URL) with OSWorld's VM home replaced by the workspace."""
        return text.replace(VM_HOME, str(self.workspace))

    def task_file(self, name: str) -> Path:
        """A file shipped beside the task, by a relative name that stays in the task's folder."""
        root = self.task_dir.resolve()
        target = (root / name).resolve()
        if PurePosixPath(name).is_absolute() or not target.is_relative_to(root):
            raise EnvironmentFailure(f"{name!r}: a task's own files are named relative to its folder, inside it")
        if not target.is_file():
            raise EnvironmentFailure(f"{name!r} is not a file in the task's folder {root}")
        return target

    # ----- downloads -------------------------------------------------------------------------

    async def fetch(self, url: str, name: str) -> Path:
        """A local copy of `url`: from the cache folder (`<cache>/<task id>/<name>` or `<cache>/<name>`),
        else downloaded (unless offline) and kept in the cache."""
        base = PurePosixPath(name).name or PurePosixPath(url).name
        if self.cache_dir is not None:
            for candidate in (self.cache_dir / self.task_id / base, self.cache_dir / base):
                if candidate.is_file():
                    return candidate
        if url.startswith("file://"):
            local = Path(url.removeprefix("file://"))
            if local.is_file():
                return local
        if self.offline or not url.startswith(("http://", "https://")):
            raise EnvironmentFailure(f"{url} is not in the cache folder ({self.cache_dir}) and cannot be downloaded")
        folder = (self.cache_dir or self.workspace.parent / "cache") / self.task_id
        folder.mkdir(parents=True, exist_ok=True)
        target = folder / base
        try:
            await asyncio.to_thread(_download, url, target)
        except OSError as exc:
            raise EnvironmentFailure(f"cannot download {url}: {exc}") from exc
        return target

    # ----- apps, commands and windows ----------------------------------------------------------

    async def launch(self, app: str, args: list[str], devtools: bool = False) -> WindowInfo:
        """Start a catalog app and wait for its window (Chromium with a DevTools port when asked)."""
        launcher = self.desktop.launcher
        spec = launcher.catalog.get(app)
        if devtools:
            self.devtools_port = free_port()
            spec = _with_options(spec, f"--remote-debugging-port={self.devtools_port}")
        before = {w.id for w in await self.desktop.list_windows()}
        popen = await asyncio.to_thread(launcher.start_app, spec, args)
        return await launcher.wait_for_window(spec, popen, before)

    async def command(self, command: str, timeout: float = 60.0) -> CommandResult:
        """Run a shell command line in the sandbox (confined like the agent's), in the workspace."""
        argv, env = self.desktop.launcher.command(command, self.workspace)
        return await run_command(argv, env, self.workspace, timeout)

    async def wait_for_title(self, text: str, timeout: float = 60.0, active: bool = False) -> WindowInfo:
        """The window whose title contains `text` (and that is active, if asked), once there: an app
        shows its window before the document is loaded, and titles it with the file's name when it is."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            titled = [w for w in await self.desktop.list_windows() if text in w.title and (w.active or not active)]
            if titled:
                return titled[-1]
            await asyncio.sleep(0.2)
        raise EnvironmentFailure(f"no window titled with {text!r} appeared within {timeout:g} s")

    async def wait_for_element(self, role: str, timeout: float = 60.0) -> None:
        """Until an element of `role` shows in the accessibility tree (a document, once loaded)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            with contextlib.suppress(CuaError):
                found, _ = await self.a11y.find("desktop", role, None, None, ["showing"])
                if found:
                    return
            await asyncio.sleep(0.3)
        raise EnvironmentFailure(f"no {role} showed in the accessibility tree within {timeout:g} s")

    async def window(self, selector: str) -> WindowInfo:
        return select_window(await self.desktop.list_windows(), selector)

    async def devtools(self, path: str, method: str = "GET") -> object:
        """A DevTools HTTP endpoint of the Chromium a setup step started (`/json/list`, `/json/new?...`)."""
        if self.devtools_port is None:
            raise EnvironmentFailure("no Chromium with a DevTools port was started by this task's setup")
        url = f"http://127.0.0.1:{self.devtools_port}{path}"

        def get() -> object:
            request = urllib.request.Request(url, method=method)
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.loads(response.read())

        for _ in range(50):  # Chromium opens the port a moment after its window shows
            with contextlib.suppress(OSError):
                return await asyncio.to_thread(get)
            await asyncio.sleep(0.2)
        raise EnvironmentFailure(f"Chromium's DevTools port {self.devtools_port} does not answer")


def _with_options(spec: AppSpec, *options: str) -> AppSpec:
    return replace(spec, command=(*spec.command, *options))


def free_port() -> int:
    """A loopback TCP port nobody listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _download(url: str, target: Path) -> None:
    partial = target.with_suffix(target.suffix + ".part")
    with urllib.request.urlopen(url, timeout=_DOWNLOAD_TIMEOUT_S) as response, open(partial, "wb") as out:
        copied = 0
        while chunk := response.read(1 << 16):
            copied += len(chunk)
            if copied > _DOWNLOAD_LIMIT:
                raise OSError(f"larger than {_DOWNLOAD_LIMIT // (1024 * 1024)} MB")
            out.write(chunk)
    partial.replace(target)


def copy_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
