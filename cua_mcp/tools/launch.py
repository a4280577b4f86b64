"""Start apps: `launch`, from the app catalog (apps.toml plus --apps-config).

(Named launch.py: `tools/apps/` is the package of per-app tool packs.)
"""

import inspect
from typing import Annotated

from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from cua_mcp.errors import PolicyDenied
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply
from cua_mcp.tools.windows import Window, to_model, window_line


class LaunchResult(BaseModel):
    app: str
    pid: int = Field(description="Process id of the started command.")
    confined: bool = Field(description="Runs under bubblewrap: read-only system, writable workspace only.")
    window: Window | None = Field(description="Its window, once it appeared (null with wait=false).")
    done: str


def register(tools: ToolRegistrar, desktop: Desktop) -> None:
    launcher = desktop.launcher
    offered = [spec for spec in launcher.catalog.apps.values() if spec.group in tools.groups]
    catalog = "; ".join(f"{spec.name}: {spec.description}" if spec.description else spec.name for spec in offered)

    async def launch(
        app: Annotated[str, Field(min_length=1, max_length=64, description="An app name from the catalog.")],
        args: Annotated[
            list[Annotated[str, Field(max_length=4096)]],
            Field(max_length=32, description="Extra command-line arguments, e.g. a file in the workspace or a URL."),
        ] = [],  # noqa: B006 - pydantic copies defaults
        wait: Annotated[bool, Field(description="Wait until the app's window is open and return it.")] = True,
    ) -> Annotated[CallToolResult, LaunchResult]:
        """Start an app by its catalog name and (with wait=true) wait until its window is open; returns the
        window (id, title, geometry) ready for activate_window and window_op. Files it opens or saves are
        best kept in the workspace folder."""
        spec = launcher.catalog.get(app)
        if spec.group not in tools.groups:
            raise PolicyDenied(
                f"{spec.name} runs any command typed into it, so it belongs to the {spec.group} group, which is off: "
                f"the person running the server can enable it with --allow {spec.group}."
            )
        before = {w.id for w in await desktop.list_windows()}
        confined = spec.sandboxed and launcher.confined
        # On the event loop's thread on purpose: bubblewrap's --die-with-parent follows the forking thread.
        popen = launcher.start_app(spec, args)
        how = f"pid {popen.pid}{', confined' if confined else ''}"
        if not wait:
            done = f"started {spec.name}"
            result = LaunchResult(app=spec.name, pid=popen.pid, confined=confined, window=None, done=done)
            return reply(result, f"Started {spec.name} ({how}); not waiting for its window.")
        window = await launcher.wait_for_window(spec, popen, before)
        model = to_model(window, desktop)
        done = f"{spec.name} is open: window {model.id} {model.title!r}"
        result = LaunchResult(app=spec.name, pid=popen.pid, confined=confined, window=model, done=done)
        return reply(result, f"{spec.name} is open ({how}):\n{window_line(model)}")

    # The description lists the catalog, so the model knows the names without a failed call.
    launch.__doc__ = f"{inspect.cleandoc(launch.__doc__ or '')}\n\nThe catalog: {catalog}."
    tools.tool(group="apps", title="Launch an app", read_only=False, open_world=True)(launch)
