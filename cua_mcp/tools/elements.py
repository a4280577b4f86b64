"""Act on named elements through accessibility: set_value, element_action, focus."""

from typing import Annotated

from mcp.types import CallToolResult
from pydantic import Field

from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import InvalidArgumentError
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._report import ActionReporter, ActionResult, Done, Observe, Settle
from cua_mcp.tools.accessibility import Ref


def register(tools: ToolRegistrar, a11y: Accessibility, report: ActionReporter) -> None:
    @tools.tool(group="input", title="Set an element's value", read_only=False, destructive=True, idempotent=True)
    async def set_value(
        ref: Ref,
        value: Annotated[
            str,
            Field(
                max_length=100_000,
                description="Text (a formula in a sheet cell), a number, true/false for a check box, or a choice's "
                "name.",
            ),
        ],
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Set a text field's contents, a sheet cell's text or formula, a slider or spin button's value
        (committed, as if typed and confirmed), a check box state, or a combo box / list choice (matched by
        name, any case), directly through accessibility. Answers with the element's line as it reads after."""

        async def act() -> Done:
            _node, done = await a11y.set_value(ref, value)
            return Done(done, ref)

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Run an element's action", read_only=False, destructive=True)
    async def element_action(
        ref: Ref,
        action: Annotated[
            str,
            Field(
                min_length=1,
                max_length=60,
                description="An action name ('click', 'press', 'activate', 'toggle', "
                "'expand or contract'), 'default', or 'scroll_into_view'.",
            ),
        ] = "default",
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Run one of an element's own actions by name; an unknown name gets the list of its actions."""

        async def act() -> Done:
            if action == "scroll_into_view":
                _node, ok = await a11y.scroll_into_view(ref)
                return Done("scrolled into view" if ok else "the toolkit did not scroll it", ref)
            node, ran = await a11y.do_action(ref, None if action == "default" else action)
            if ran is None:
                raise InvalidArgumentError(f"{ref} ({node.role}) has no actions: use click with its ref instead.")
            return Done(f"ran {ran!r} on {ref}", ref)

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Focus an element", read_only=False)
    async def focus(
        ref: Ref, settle: Settle = None, observe: Observe = "none"
    ) -> Annotated[CallToolResult, ActionResult]:
        """Give an element keyboard focus (then press_keys / type_text go to it)."""

        async def act() -> Done:
            node, ok = await a11y.focus(ref)
            if not ok:
                raise InvalidArgumentError(f"{ref} ({node.role}) cannot take focus: click it instead.")
            return Done(f"focused {ref}", ref)

        return await report.run(act, settle, observe)
