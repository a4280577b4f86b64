"""Act with the pointer and keyboard: click, move_mouse, drag, mouse_down, mouse_up, scroll,
type_text, press_keys, hold_keys, wait."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import Field

from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import AccessibilityError, InvalidArgumentError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.tools._held import hold_for_session, released_by_session
from cua_mcp.tools._params import Modifiers, coordinate
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._report import ActionReporter, ActionResult, Done, Observe, Settle

MAX_TEXT = 10_000

RefArg = Annotated[
    str | None,
    Field(max_length=24, description="An element ref like 'e12' from snapshot/find, instead of x and y."),
]
Button = Annotated[Literal["left", "right", "middle"], Field(description="Mouse button.")]


def register(tools: ToolRegistrar, desktop: Desktop, a11y: Accessibility | None, report: ActionReporter) -> None:
    X = coordinate("x", desktop.space) | None
    Y = coordinate("y", desktop.space) | None

    async def point(x: int | None, y: int | None, ref: str | None) -> tuple[int, int] | None:
        """(x, y), or a ref's centre; None when neither is given (act where the pointer is)."""
        if ref is not None:
            if x is not None or y is not None:
                raise InvalidArgumentError("give either x and y or ref, not both.")
            if a11y is None:
                raise InvalidArgumentError("refs need the accessibility tools; give x and y.")
            _, centre = await a11y.centre(ref)
            return centre
        if (x is None) != (y is None):
            raise InvalidArgumentError(
                "give both x and y (agent coordinates), a ref from snapshot/find, or neither to act where the "
                "pointer is."
            )
        return None if x is None else (x, y)

    def at(where: tuple[int, int] | None) -> str:
        return "at the pointer" if where is None else f"at ({where[0]}, {where[1]})"

    @tools.tool(group="input", title="Click", read_only=False, destructive=True)
    async def click(
        x: X = None,
        y: Y = None,
        ref: RefArg = None,
        button: Button = "left",
        count: Annotated[int, Field(ge=1, le=3, description="1 = click, 2 = double, 3 = triple click.")] = 1,
        modifiers: Modifiers = [],  # noqa: B006 - pydantic copies defaults
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Click at a point of the screenshot (agent coordinates), or where the pointer is when x and y are
        left out. Use count=2 to open or select a word, count=3 to select a line, modifiers for ctrl/shift-click.
        With ref (from snapshot) instead of x/y, a plain left click runs the element's own default action where
        it has one (press, toggle, ...), else (and on text fields) clicks its centre. Answers once the screen
        settles, with the active window, the focused element and windows that opened or closed."""

        async def act() -> Done:
            plain = button == "left" and count == 1 and not modifiers and x is None and y is None
            # A text field's own action is "activate" (Return): clicking one means putting the caret in it.
            if ref is not None and a11y is not None and plain and "editable" not in (await a11y.element(ref)).states:
                node, ran = await a11y.do_action(ref, None)
                if ran is not None:
                    action = repr(ran) if ran else "its default action"
                    return Done(f"ran {action} on {ref} ({node.role} {node.name!r})", ref)
            where = await point(x, y, ref)
            await desktop.click(*(where or (None, None)), button, count, modifiers)
            what = {1: "click", 2: "double click", 3: "triple click"}[count]
            mods = "+".join([*modifiers, ""]) if modifiers else ""
            return Done(f"{mods}{button} {what} {at(where)}", ref)

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Move the mouse", read_only=False, idempotent=True)
    async def move_mouse(
        x: X = None, y: Y = None, ref: RefArg = None, settle: Settle = None, observe: Observe = "none"
    ) -> Annotated[CallToolResult, ActionResult]:
        """Move the pointer to a point (or an element's centre, by ref) without clicking (to hover:
        tooltips, menus that open on hover)."""

        async def act() -> Done:
            where = await point(x, y, ref)
            if where is None:
                raise InvalidArgumentError("give x and y, or ref, for where to move the pointer.")
            await desktop.move_mouse(*where)
            return Done(f"moved to ({where[0]}, {where[1]})")

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Drag", read_only=False, destructive=True)
    async def drag(
        from_x: X = None,
        from_y: Y = None,
        to_x: X = None,
        to_y: Y = None,
        button: Button = "left",
        modifiers: Modifiers = [],  # noqa: B006
        from_ref: RefArg = None,
        to_ref: RefArg = None,
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Press at (from_x, from_y) or the centre of from_ref (or where the pointer is, when neither is
        given), move to (to_x, to_y) or to_ref's centre in small steps, release: move windows, sliders,
        selections, files."""

        async def act() -> Done:
            end = await point(to_x, to_y, to_ref)
            if end is None:
                raise InvalidArgumentError("give to_x and to_y, or to_ref, for where the drag ends.")
            start = await point(from_x, from_y, from_ref) or await desktop.cursor_position()
            await desktop.drag(start, end, button, modifiers)
            return Done(f"dragged ({start[0]}, {start[1]}) -> ({end[0]}, {end[1]})")

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Press a mouse button", read_only=False, destructive=True)
    async def mouse_down(
        ctx: Context, button: Button = "left", settle: Settle = None, observe: Observe = "none"
    ) -> Annotated[CallToolResult, ActionResult]:
        """Press a mouse button where the pointer is and keep it down (until mouse_up), for gestures
        drag cannot express. Move with move_mouse in between."""

        async def act() -> Done:
            await desktop.mouse_down(button)
            hold_for_session(ctx, button, desktop.mouse_up)
            return Done(f"{button} button down")

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Release a mouse button", read_only=False, destructive=True)
    async def mouse_up(
        ctx: Context, button: Button = "left", settle: Settle = None, observe: Observe = "none"
    ) -> Annotated[CallToolResult, ActionResult]:
        """Release a mouse button pressed with mouse_down."""

        async def act() -> Done:
            await desktop.mouse_up(button)
            released_by_session(ctx, button)
            return Done(f"{button} button up")

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Scroll", read_only=False)
    async def scroll(
        direction: Annotated[Literal["up", "down", "left", "right"], Field(description="Wheel direction.")],
        amount: Annotated[int, Field(ge=1, le=50, description="Wheel clicks (about 3 lines each).")] = 3,
        modifiers: Modifiers = [],  # noqa: B006
        x: X = None,
        y: Y = None,
        ref: RefArg = None,
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Turn the mouse wheel over a point or an element (by ref; the element under it scrolls), or
        where the pointer is when neither is given. ctrl+scroll zooms in many apps."""

        async def act() -> Done:
            where = await point(x, y, ref)
            await desktop.scroll(*(where or (None, None)), direction, amount, modifiers)
            return Done(f"scrolled {direction} {amount} {at(where)}")

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Type text", read_only=False, destructive=True)
    async def type_text(
        text: Annotated[
            str,
            Field(
                min_length=1,
                max_length=MAX_TEXT,
                description=f"Any Unicode text, at most {MAX_TEXT} characters.",
            ),
        ],
        submit: Annotated[bool, Field(description="Press Return after the text.")] = False,
        ref: RefArg = None,
        clear: Annotated[bool, Field(description="With ref: replace the element's text instead of inserting.")] = False,
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Type text into the focused element exactly as given (any language, symbols, emoji;
        newlines press Return, so "a\nb" makes two lines or paragraphs). Click or focus the field first, or
        give its ref: then it is focused and the text inserted through its editable-text interface where it has
        one. For shortcuts use press_keys."""

        async def act() -> Done:
            if ref is None or not await _insert(ref):
                await desktop.type_text(text + "\n" if submit else text)
            elif submit:
                await desktop.press_keys("Return")
            return Done(f"typed {len(text)} characters" + (" and pressed Return" if submit else ""), ref)

        async def _insert(ref: str) -> bool:
            """Insert through accessibility where that types the same; else focus (and clear) for typing."""
            if a11y is None:
                raise InvalidArgumentError("refs need the accessibility tools; focus the field and omit ref.")
            # An inserted newline is a line break, not the new paragraph Return makes: such text is typed.
            if "\n" not in text:
                try:
                    if (await a11y.insert_text(ref, text, clear))[1]:
                        return True
                except AccessibilityError:
                    pass  # the toolkit refused the insert: type it instead
            try:
                await a11y.focus(ref)
            except AccessibilityError:  # GTK 4 takes no GrabFocus: put the caret there as a person does
                _, centre = await a11y.centre(ref)
                await desktop.click(*centre)
            if clear:
                await desktop.press_keys("ctrl+a BackSpace")
            return False

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Press keys", read_only=False, destructive=True)
    async def press_keys(
        keys: Annotated[
            str,
            Field(
                min_length=1,
                max_length=200,
                description="A key or chord ('Return', 'ctrl+s', 'alt+F4', 'shift+Tab'); several separated by "
                "spaces are pressed in turn ('ctrl+a Delete').",
            ),
        ],
        repeat: Annotated[int, Field(ge=1, le=100, description="Press the whole sequence this many times.")] = 1,
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Press a key or shortcut: ctrl, alt, shift, super, Return/enter, Escape/esc, Tab, BackSpace,
        Delete, Home, End, Page_Up, Page_Down, arrows (Up, Down, Left, Right), F1-F24, space, or a
        single character. Unknown names get an error listing close matches."""

        async def act() -> Done:
            await desktop.press_keys(keys, repeat)
            return Done(f"pressed {keys}" + (f" x{repeat}" if repeat > 1 else ""))

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Hold keys", read_only=False, destructive=True)
    async def hold_keys(
        keys: Annotated[str, Field(min_length=1, max_length=100, description="One key or chord, e.g. 'shift' or 'w'.")],
        seconds: Annotated[float, Field(gt=0, le=10, description="How long to hold, at most 10 s.")],
        settle: Settle = None,
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Hold a key or chord down for a while, then release it (games, key repeat, long presses)."""

        async def act() -> Done:
            await desktop.hold_keys(keys, seconds)
            return Done(f"held {keys} for {seconds:g} s")

        return await report.run(act, settle, observe)

    @tools.tool(group="input", title="Wait", read_only=True, idempotent=True)
    async def wait(
        seconds: Annotated[float, Field(gt=0, le=30, description="How long to wait, at most 30 s.")],
        observe: Observe = "none",
    ) -> Annotated[CallToolResult, ActionResult]:
        """Wait (an app starting, a page loading), then say what shows: the active window, the focused
        element, windows that opened or closed meanwhile."""

        async def act() -> Done:
            await desktop.wait(seconds)
            return Done(f"waited {seconds:g} s")

        return await report.run(act, 0, observe)
