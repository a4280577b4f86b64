"""`Office`: the one LibreOffice instance the server starts on a desktop, and its UNO connection.

soffice is started through the desktop's launcher (so it is confined like any catalog app) with a
UNO pipe whose name is random and known only to the server: never a TCP port. `launch` of a
LibreOffice catalog entry and `office_open` both go through here, so the tools and the GUI act on
the same instance (a second soffice with the same profile hands its arguments over to the first).
The UNO side runs in a helper process (see helper.py); files are handed over through the workspace.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import secrets
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from cua_mcp.apps.office.helper import HELPER, HelperGone, HelperTimeout, UnoHelper, uno_python
from cua_mcp.errors import CuaError, InvalidArgumentError, OfficeNotRunningError
from cua_mcp.sandbox.apps import AppSpec
from cua_mcp.sandbox.workspace import Workspace

if TYPE_CHECKING:
    from cua_mcp.sandbox.launch import Launcher

CALL_TIMEOUT_S = 30.0
FILE_TIMEOUT_S = 90.0  # opening and saving a big document takes a while on a busy machine
CONNECT_TIMEOUT_S = 90.0
SNAPSHOT_TIMEOUT_S = 10.0
_EXIT_GRACE_S = 5.0
_MODULE_FLAGS = frozenset({"--calc", "--writer", "--impress", "--draw", "--math", "--base", "--web", "--global"})
_NOT_RUNNING = (
    "LibreOffice is not running: office_open starts it (a file in the workspace, or new='calc', 'writer' or "
    "'impress'), or launch libreoffice-calc, libreoffice-writer or libreoffice-impress."
)
FORMATS = {
    "calc": ("ods", "xlsx", "csv", "pdf"),
    "writer": ("odt", "docx", "pdf", "txt"),
    "impress": ("odp", "pptx", "pdf"),
}
_SAVE_CAP_BYTES = 200 * 1024 * 1024
_PROFILE_ARG = "-env:UserInstallation=file://"
QUIET_PROFILE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="ShowTipOfTheDay" oor:op="fuse"><value>false</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""


class Office:
    """The server's LibreOffice on one desktop: started on demand, reached over UNO."""

    def __init__(self, launcher: Launcher, call_timeout: float = CALL_TIMEOUT_S) -> None:
        self._launcher = launcher
        self.call_timeout = call_timeout
        self._pipe = "cua" + secrets.token_hex(16)
        self._process: subprocess.Popen | None = None
        self._spec: AppSpec | None = None
        self._helper: UnoHelper | None = None

    # ----- the soffice process -------------------------------------------------------------

    @staticmethod
    def owns(spec: AppSpec) -> bool:
        """Whether a catalog entry starts LibreOffice (soffice or libreoffice)."""
        return bool(spec.command) and PurePosixPath(spec.command[0]).name in ("soffice", "libreoffice")

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def pid(self) -> int | None:
        """The process the server started (soffice's launcher script, or bubblewrap around it)."""
        return self._process.pid if self.running else None  # type: ignore[union-attr]

    def start_app(self, spec: AppSpec, args: list[str]) -> subprocess.Popen:
        """Start a LibreOffice catalog entry: with the UNO pipe when no instance of the server's runs,
        else as is (soffice hands it over to the running instance, which opens the window)."""
        if self.running:
            return self._launcher.start_app(spec, args)
        self.close()
        self._quiet_profile(spec)
        # A new name for each instance: what is left of an ended one (a process not gone yet, its
        # pipe) can then never answer for the new one.
        self._pipe = "cua" + secrets.token_hex(16)
        accept = f"--accept=pipe,name={self._pipe};urp;StarOffice.ComponentContext"
        process = self._launcher.start_app(dataclasses.replace(spec, command=(*spec.command, accept)), args)
        self._process, self._spec = process, spec
        return process

    def _quiet_profile(self, spec: AppSpec) -> None:
        """A fresh profile greets with a tip-of-the-day dialog over the document: turn it off first."""
        for part in spec.command:
            if part.startswith(_PROFILE_ARG):
                folder = Path(part.removeprefix(_PROFILE_ARG).replace("{data}", str(self._launcher.data_dir)))
                settings = folder / "user" / "registrymodifications.xcu"
                home = self._launcher.home
                if not settings.exists() and settings.is_relative_to(home):
                    # Made as the launcher makes app folders: soffice may run as another user than the server.
                    Workspace(home).write_text(settings.relative_to(home).as_posix(), QUIET_PROFILE)

    def _start_bare(self) -> None:
        """soffice with no document (office_open then opens one): the first catalog entry of LibreOffice."""
        spec = next((s for s in self._launcher.catalog.apps.values() if self.owns(s)), None)
        if spec is None:
            raise OfficeNotRunningError(
                "the app catalog has no LibreOffice entry (soffice): the server cannot start it."
            )
        command = (*(part for part in spec.command if part not in _MODULE_FLAGS), "--nodefault")
        self.start_app(dataclasses.replace(spec, command=command), [])

    def stop(self) -> None:
        """End the instance the server started (its whole process group) and the helper."""
        self.close()
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(10)
        self._process = None

    def close(self) -> None:
        """Drop the UNO connection (soffice keeps running)."""
        if self._helper is not None:
            self._helper.close()
            self._helper = None

    # ----- calls -----------------------------------------------------------------------------

    async def call(self, op: str, timeout: float | None = None, **args: Any) -> Any:
        """Run one helper operation on the running instance."""
        helper = await self._connected()
        try:
            return await helper.call(op, args, timeout or self.call_timeout)
        except HelperTimeout as exc:
            raise OfficeNotRunningError(
                f"{exc}: it is busy or hung. Retry in a moment; if it stays hung, office_open with restart=true "
                "ends it and starts a new one (unsaved changes are lost)."
            ) from None
        except HelperGone as exc:
            self.close()
            if not await self._ends_within(_EXIT_GRACE_S):
                raise OfficeNotRunningError(
                    f"the connection to LibreOffice broke ({exc}); it is made again on the next call: retry."
                ) from None
            self._process = None
            raise OfficeNotRunningError(
                f"LibreOffice quit or crashed ({exc}): office_open starts it again (unsaved changes are lost)."
            ) from None

    async def _ends_within(self, seconds: float) -> bool:
        """Whether the process ends within `seconds` (soffice's launcher exits soon after soffice.bin)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while self.running and loop.time() < deadline:
            await asyncio.sleep(0.1)
        return not self.running

    async def _connected(self) -> UnoHelper:
        if not self.running:
            self._process = None
            raise OfficeNotRunningError(_NOT_RUNNING)
        if self._helper is not None and self._helper.alive:
            return self._helper
        self.close()
        helper = await UnoHelper.start(*self._helper_command())
        try:
            await helper.call("connect", {"timeout": CONNECT_TIMEOUT_S - 5}, CONNECT_TIMEOUT_S)
        except (HelperGone, HelperTimeout) as exc:
            helper.close()
            raise OfficeNotRunningError(
                f"cannot connect to LibreOffice ({exc}): it may still be starting (retry), or office_open with "
                "restart=true starts a new one."
            ) from None
        self._helper = helper
        return helper

    def _helper_command(self) -> tuple[list[str], dict[str, str]]:
        """The helper runs as soffice runs (confined: its user and /tmp), since the pipe's socket is in
        that /tmp and named after that user."""
        argv = [uno_python(), str(HELPER), self._pipe]
        helper = AppSpec("uno-helper", tuple(argv), sandboxed=self._spec is not None and self._spec.sandboxed)
        return self._launcher.app_command(helper, [])

    # ----- sheets for snapshots (the SheetSource of accessibility/sheets.py) --------------------

    def holds(self, pid: int | None) -> bool:
        """Whether `pid` is the soffice the server started: its command line carries our pipe's name."""
        if pid is None or not self.running:
            return False
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                return f"name={self._pipe};".encode() in cmdline.read()
        except OSError:
            return False

    async def visible_cells(self, window_title: str) -> tuple[int, int, list[list[str]]] | None:
        """The cells the Calc window titled so shows, in one bulk read over UNO: first row, first
        column, what each cell displays row by row."""
        try:
            got = await self.call("calc_visible", SNAPSHOT_TIMEOUT_S, title=window_title)
        except CuaError:
            return None
        if got is None:
            return None
        return got["first_row"], got["first_column"], got["text"]

    # ----- documents -------------------------------------------------------------------------

    async def open(self, path: str | None, new: str | None, restart: bool = False) -> dict[str, Any]:
        """Open a workspace file (or a new document of a kind), starting soffice when needed."""
        if (path is None) == (new is None):
            raise InvalidArgumentError("give either path (a file in the workspace) or new (calc, writer or impress).")
        real = None
        if path is not None:
            real = self._launcher.workspace.resolve(path)
            if not real.is_file():
                raise InvalidArgumentError(
                    f"{path!r} is not a file in the workspace: list_files shows what is there "
                    "(or use new='calc', 'writer' or 'impress' for a new document)."
                )
        uno_python()  # without python3-uno, say so before starting anything
        if restart:
            self.stop()
        if not self.running:
            self._start_bare()
        return await self.call("open", FILE_TIMEOUT_S, path=str(real) if real else None, new=new)

    async def save(self, doc: str | None, path: str | None, format: str | None) -> dict[str, Any]:
        """Save a document into the workspace. soffice writes a fresh file in a private folder and the
        server copies it in through the workspace (which refuses paths that leave it and symlinks),
        so a link planted at the target is never followed by soffice."""
        docs = (await self.call("info"))["documents"]
        chosen = _pick(docs, doc)
        workspace = self._launcher.workspace
        if path is None:
            if chosen["path"] is None or not Path(chosen["path"]).is_relative_to(workspace.root):
                raise InvalidArgumentError(
                    f"{chosen['title']!r} has no file in the workspace yet: give path (e.g. 'report."
                    f"{FORMATS[chosen['kind']][1]}')."
                )
            path = workspace.relative(Path(chosen["path"]))
        target = workspace.resolve(path)  # first: a path that leaves the workspace is refused whatever else is wrong
        fmt = (format or PurePosixPath(path).suffix.lstrip(".")).lower()
        if fmt not in FORMATS[chosen["kind"]]:
            raise InvalidArgumentError(
                f"a {chosen['kind']} document saves as {', '.join(FORMATS[chosen['kind']])}; "
                f"{fmt or 'no format'!r} is not one: give format or a path ending in one of them."
            )
        own = chosen["path"] is not None and Path(chosen["path"]) == target
        root = self._scratch_root()
        scratch = Path(tempfile.mkdtemp(prefix="save-", dir=root))
        owner = root.parent.stat()  # soffice's user owns its data folder: it must write here
        os.chown(scratch, owner.st_uid, owner.st_gid)
        try:
            written = scratch / f"document.{fmt}"
            result = await self.call(
                "save_as", FILE_TIMEOUT_S, doc=chosen["id"], target=str(written), format=fmt, mark_saved=own
            )
            data = written.read_bytes()
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        if len(data) > _SAVE_CAP_BYTES:
            raise InvalidArgumentError(f"the saved file is {len(data)} bytes, past the workspace's cap.")
        size = workspace.write_bytes(path, data, limit=_SAVE_CAP_BYTES)
        return {**result, "path": workspace.relative(target), "absolute_path": str(target), "size": size}

    def _scratch_root(self) -> Path:
        # Under the launcher's data folder: writable by a confined soffice, outside the workspace.
        root = self._launcher.data_dir / "office-scratch"
        root.mkdir(parents=True, exist_ok=True)
        return root


def _pick(docs: list[dict[str, Any]], wanted: str | None) -> dict[str, Any]:
    if not docs:
        raise InvalidArgumentError("no document is open: office_open opens one.")
    if wanted is None:
        return next((d for d in docs if d["active"]), docs[0])
    low = wanted.lower()
    for d in docs:
        if d["id"] == wanted or low in d["title"].lower():
            return d
    listed = "; ".join(f"{d['id']} {d['title']!r}" for d in docs)
    raise InvalidArgumentError(f"no open document {wanted!r}; open are: {listed}.")
