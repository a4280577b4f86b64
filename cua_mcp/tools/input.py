"""Act with the pointer and keyboard: click, move_mouse, drag, mouse_down, mouse_up, scroll,
type_text, press_keys, hold_keys, wait."""

from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from pydantic import BaseModel, Field

from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import AccessibilityError, InvalidArgumentError
from cua_mcp.sandbox.desktop import Desktop
from cua_mcp.tools._held import hold_for_session, released_by_session
from cua_mcp.tools._params import Modifiers, coordinate
from cua_mcp.tools._registry import ToolRegistrar

MAX_TEXT = 10_000

RefArg = Annotated[
    str | None,
    Field(max_length=12, description="An element ref like 'e12' from snapshot/find, instead of x and y."),
]
Button = Annotated[Literal["left", "right", "middle"], Field(description="Mouse button.")]


class ActionResult(BaseModel):
    """What an action did, and where the pointer is now."""

    done: str = Field(description="What was performed.")
    cursor: list[int] = Field(description="Pointer position [x, y] in agent coordinates after the action.")


def register(tools: ToolRegistrar, desktop: Desktop, a11y: Accessibility | None = None) -> None:
    X = coordinate("x", desktop.space) | None
    Y = coordinate("y", desktop.space) | None

    async def point(x: int | None, y: int | None, ref: str | None) -> tuple[int, int]:
        """Exactly one of (x, y) or ref; a ref gives the element's centre."""
        if ref is not None:
            if x is not None or y is not None:
                raise InvalidArgumentError("give either x and y or ref, not both.")
            if a11y is None:
                raise InvalidArgumentError("refs need the accessibility tools; give x and y.")
            _, centre = await a11y.centre(ref)
            return centre
        if x is None or y is None:
            raise InvalidArgumentError("give x and y (agent coordinates), or ref from snapshot/find.")
        return x, y

    def result(done: str, cursor: tuple[int, int]) -> ActionResult:
        return ActionResult(done=done, cursor=list(cursor))

    @tools.tool(group="input", title="Click", read_only=False, destructive=True)
    async def click(
        x: X = None,
        y: Y = None,
        ref: RefArg = None,
        button: Button = "left",
        count: Annotated[int, Field(ge=1, le=3, description="1 = click, 2 = double, 3 = triple click.")] = 1,
        modifiers: Modifiers = [],  # noqa: B006 - pydantic copies defaults
    ) -> ActionResult:
        """Click at a point of the screenshot (agent coordinates). Use count=2 to open or select a word,
        count=3 to select a line, modifiers for ctrl/shift-click. With ref (from snapshot) instead of x/y, a
        plain left click runs the element's own default action where it has one (press, toggle, ...), else
        (and on text fields) clicks its centre."""
        plain = button == "left" and count == 1 and not modifiers and x is None and y is None
        # A text field's own action is "activate" (Return): clicking one means putting the caret in it.
        if ref is not None and a11y is not None and plain and "editable" not in (await a11y.element(ref)).states:
            node, ran = await a11y.do_action(ref, None)
            if ran is not None:
                return result(f"ran {ran!r} on {ref} ({node.role} {node.name!r})", await desktop.cursor_position())
        x, y = await point(x, y, ref)
        cursor = await desktop.click(x, y, button, count, modifiers)
        what = {1: "click", 2: "double click", 3: "triple click"}[count]
        mods = "+".join([*modifiers, ""]) if modifiers else ""
        return result(f"{mods}{button} {what} at ({x}, {y})", cursor)

    @tools.tool(group="input", title="Move the mouse", read_only=False, idempotent=True)
    async def move_mouse(x: X = None, y: Y = None, ref: RefArg = None) -> ActionResult:
        """Move the pointer to a point (or an element's centre, by ref) without clicking (to hover:
        tooltips, menus that open on hover)."""
        x, y = await point(x, y, ref)
        return result(f"moved to ({x}, {y})", await desktop.move_mouse(x, y))

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
    ) -> ActionResult:
        """Press at (from_x, from_y) or the centre of from_ref, move to (to_x, to_y) or to_ref's centre in
        small steps, release: move windows, sliders, selections, files."""
        start = await point(from_x, from_y, from_ref)
        end = await point(to_x, to_y, to_ref)
        cursor = await desktop.drag(start, end, button, modifiers)
        return result(f"dragged ({start[0]}, {start[1]}) -> ({end[0]}, {end[1]})", cursor)

    @tools.tool(group="input", title="Press a mouse button", read_only=False, destructive=True)
    async def mouse_down(ctx: Context, button: Button = "left") -> ActionResult:
        """Press a mouse button where the pointer is and keep it down (until mouse_up), for gestures
        drag cannot express. Move with move_mouse in between."""
        cursor = await desktop.mouse_down(button)
        hold_for_session(ctx, button, desktop.mouse_up)
        return result(f"{button} button down", cursor)

    @tools.tool(group="input", title="Release a mouse button", read_only=False, destructive=True)
    async def mouse_up(ctx: Context, button: Button = "left") -> ActionResult:
        """Release a mouse button pressed with mouse_down."""
        cursor = await desktop.mouse_up(button)
        released_by_session(ctx, button)
        return result(f"{button} button up", cursor)

    @tools.tool(group="input", title="Scroll", read_only=False)
    async def scroll(
        direction: Annotated[Literal["up", "down", "left", "right"], Field(description="Wheel direction.")],
        amount: Annotated[int, Field(ge=1, le=50, description="Wheel clicks (about 3 lines each).")] = 3,
        modifiers: Modifiers = [],  # noqa: B006
        x: X = None,
        y: Y = None,
        ref: RefArg = None,
    ) -> ActionResult:
        """Turn the mouse wheel over a point or an element (by ref; the element under it scrolls).
        ctrl+scroll zooms in many apps."""
        x, y = await point(x, y, ref)
        cursor = await desktop.scroll(x, y, direction, amount, modifiers)
        return result(f"scrolled {direction} {amount} at ({x}, {y})", cursor)

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
    ) -> ActionResult:
        """Type text into the focused element exactly as given (any language, symbols, emoji;
        newlines press Return). Click or focus the field first, or give its ref: then it is focused and the
        text inserted through its editable-text interface where it has one. For shortcuts use press_keys."""
        inserted = False
        if ref is not None:
            if a11y is None:
                raise InvalidArgumentError("refs need the accessibility tools; focus the field and omit ref.")
            try:
                _, inserted = await a11y.insert_text(ref, text, clear)
            except AccessibilityError:
                inserted = False  # the toolkit refused the insert: type it instead
            if not inserted:
                await a11y.focus(ref)
                if clear:
                    await desktop.press_keys("ctrl+a BackSpace")
        if not inserted:
            cursor = await desktop.type_text(text + "\n" if submit else text)
        elif submit:
            cursor = await desktop.press_keys("Return")
        else:
            cursor = await desktop.cursor_position()
        return result(f"typed {len(text)} characters" + (" and pressed Return" if submit else ""), cursor)

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
    ) -> ActionResult:
        """Press a key or shortcut: ctrl, alt, shift, super, Return/enter, Escape/esc, Tab, BackSpace,
        Delete, Home, End, Page_Up, Page_Down, arrows (Up, Down, Left, Right), F1-F24, space, or a
        single character. Unknown names get an error listing close matches."""
        cursor = await desktop.press_keys(keys, repeat)
        return result(f"pressed {keys}" + (f" x{repeat}" if repeat > 1 else ""), cursor)

    @tools.tool(group="input", title="Hold keys", read_only=False, destructive=True)
    async def hold_keys(
        keys: Annotated[str, Field(min_length=1, max_length=100, description="One key or chord, e.g. 'shift' or 'w'.")],
        seconds: Annotated[float, Field(gt=0, le=10, description="How long to hold, at most 10 s.")],
    ) -> ActionResult:
        """Hold a key or chord down for a while, then release it (games, key repeat, long presses)."""
        return result(f"held {keys} for {seconds:g} s", await desktop.hold_keys(keys, seconds))

    @tools.tool(group="input", title="Wait", read_only=True, idempotent=True)
    async def wait(
        seconds: Annotated[float, Field(gt=0, le=30, description="How long to wait, at most 30 s.")],
    ) -> ActionResult:
        """Wait for the screen to settle (an app starting, a page loading) before the next look."""
        await desktop.wait(seconds)
        return result(f"waited {seconds:g} s", await desktop.cursor_position())
