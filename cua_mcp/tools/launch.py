"""Start apps: `launch`, from the app catalog (apps.toml plus --apps-config).

(Named launch.py: `tools/apps/` is the package of per-app tool packs.)
"""

import inspect
from collections.abc import Mapping
from typing import Annotated, Protocol

from pydantic import BaseModel, Field

from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.sandbox.x11.windows import WindowInfo
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools.windows import Window, to_model


class ServerDrivenApp(Protocol):
    """An app the server starts and drives through its own API (Chromium over DevTools): `launch`
    hands it the start, so the GUI and the app's tool pack act on one instance."""

    async def launch(self, args: list[str]) -> tuple[int | None, WindowInfo | None]: ...


class LaunchResult(BaseModel):
    app: str
    pid: int = Field(description="Process id of the started command.")
    confined: bool = Field(description="Runs under bubblewrap: read-only system, writable workspace only.")
    window: Window | None = Field(description="Its window, once it appeared (null with wait=false).")
    done: str


def register(tools: ToolRegistrar, desktop: Desktop, driven: Mapping[str, ServerDrivenApp] | None = None) -> None:
    launcher = desktop.launcher
    driven = driven or {}
    catalog = "; ".join(
        f"{spec.name}: {spec.description}" if spec.description else spec.name for spec in launcher.catalog.apps.values()
    )

    async def launch(
        app: Annotated[str, Field(min_length=1, max_length=64, description="An app name from the catalog.")],
        args: Annotated[
            list[Annotated[str, Field(max_length=4096)]],
            Field(max_length=32, description="Extra command-line arguments, e.g. a file in the workspace or a URL."),
        ] = [],  # noqa: B006 - pydantic copies defaults
        wait: Annotated[bool, Field(description="Wait until the app's window is open and return it.")] = True,
    ) -> LaunchResult:
        """Start an app by its catalog name and (with wait=true) wait until its window is open; returns the
        window (id, title, geometry) ready for activate_window and window_op. Files it opens or saves are
        best kept in the workspace folder."""
        spec = launcher.catalog.get(app)
        confined = spec.sandboxed and launcher.confined
        if spec.name in driven:
            pid, window = await driven[spec.name].launch(list(args))
            shown = to_model(window, desktop) if window is not None else None
            done = f"{spec.name} is open: window {shown.id} {shown.title!r}" if shown else f"started {spec.name}"
            return LaunchResult(app=spec.name, pid=pid or 0, confined=confined, window=shown, done=done)
        before = {w.id for w in await desktop.list_windows()}
        # On the event loop's thread on purpose: bubblewrap's --die-with-parent follows the forking thread.
        popen = launcher.start_app(spec, args)
        if not wait:
            return LaunchResult(
                app=spec.name, pid=popen.pid, confined=confined, window=None, done=f"started {spec.name}"
            )
        window = await launcher.wait_for_window(spec, popen, before)
        model = to_model(window, desktop)
        return LaunchResult(
            app=spec.name,
            pid=popen.pid,
            confined=confined,
            window=model,
            done=f"{spec.name} is open: window {model.id} {model.title!r}",
        )

    # The description lists the catalog, so the model knows the names without a failed call.
    launch.__doc__ = f"{inspect.cleandoc(launch.__doc__ or '')}\n\nThe catalog: {catalog}."
    tools.tool(group="apps", title="Launch an app", read_only=False, open_world=True)(launch)
