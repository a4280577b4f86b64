"""Read the screen as named elements and act on them: snapshot, find, read_text, set_value,
element_action, focus, wait_for."""

import asyncio
import time
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from cua_mcp.accessibility import osworld, text_format
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import AccessibilityError, InvalidArgumentError, StaleRefError
from cua_mcp.tools._registry import ToolRegistrar

Ref = Annotated[
    str,
    Field(
        min_length=2,
        max_length=12,
        pattern=r"^\s*e[0-9]+\s*$",
        description="An element ref like 'e12' from snapshot or find.",
    ),
]
Scope = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        description="focused_window (default), focused_app, desktop, window:<id from list_windows>, or an app name.",
    ),
]


_TEXT_IN_RESULTS = 2000  # characters of an element's text in find results; read_text gives all


class Element(BaseModel):
    ref: str
    role: str
    name: str
    box: list[int] | None = Field(description="[x, y, width, height] in agent coordinates, if it shows.")
    states: list[str]
    text: str | None = None
    value: float | None = None


class SnapshotResult(BaseModel):
    scope: str
    text: str = Field(description="The tree, one line a node (or OSWorld XML).")
    nodes: int = Field(description="Nodes listed.")
    left_out: int = Field(description="Nodes not listed because of max_nodes/max_depth.")
    notes: list[str] = Field(description="Apps that did not answer, and other gaps.")


class FindResult(BaseModel):
    elements: list[Element]
    more: int = Field(description="Matches beyond the limit.")
    notes: list[str]


class TextResult(BaseModel):
    ref: str
    text: str
    offset: int
    total: int = Field(description="Characters in the element's whole text.")


class ElementResult(BaseModel):
    ref: str
    done: str
    element: Element


class WaitResult(BaseModel):
    met: bool
    waited: float
    detail: str
    element: Element | None = None


def element_model(node: Node, a11y: Accessibility) -> Element:
    box = text_format.box_in_space(node, a11y.desktop.space)
    return Element(
        ref=node.ref,
        role=node.role,
        name=node.name,
        box=list(box) if box else None,
        states=sorted(node.states),
        text=node.text
        if node.text is None or len(node.text) <= _TEXT_IN_RESULTS
        else node.text[:_TEXT_IN_RESULTS] + "…",
        value=node.value,
    )


def register(tools: ToolRegistrar, a11y: Accessibility) -> None:
    @tools.tool(group="observe", title="Accessibility snapshot", read_only=True, idempotent=True, untrusted_text=True)
    async def snapshot(
        scope: Scope = "focused_window",
        mode: Annotated[
            Literal["interactive", "all"],
            Field(description="interactive: controls, text, headings, cells that show; all: every showing node."),
        ] = "interactive",
        max_nodes: Annotated[int, Field(ge=1, le=5000, description="Most lines to list.")] = 400,
        max_depth: Annotated[int, Field(ge=1, le=100, description="Deepest indentation level listed.")] = 40,
        query: Annotated[
            str | None, Field(max_length=200, description="Keep only nodes whose role, name or text contains this.")
        ] = None,
        format: Annotated[
            Literal["text", "osworld_xml"],
            Field(
                description="text (compact, with refs) or OSWorld's XML schema (no refs; boxes in agent coordinates)."
            ),
        ] = "text",
    ) -> SnapshotResult:
        """The screen as a tree of named elements (role "name" [ref=eN] (x,y wxh) states = text), boxes in
        the screenshot's coordinates. Prefer it to a screenshot to find controls and read values; act on
        a line with its ref (click, type_text, set_value, element_action). Refs stay valid while the
        element exists. Only what is showing is listed."""
        snap = await a11y.snapshot(scope)
        if format == "osworld_xml":
            xml = osworld.to_xml(snap.roots, a11y.desktop.space)
            return SnapshotResult(
                scope=snap.scope, text=xml, nodes=sum(1 for _ in snap.nodes()), left_out=0, notes=snap.notes
            )
        keep = None
        if query:
            q = query.lower()
            keep = lambda n: q in n.role or q in n.name.lower() or q in (n.text or "").lower()  # noqa: E731
        lines = list(text_format.select(snap.roots, mode, keep))
        text, left_out = text_format.render(lines, a11y.desktop.space, max_nodes, max_depth)
        if snap.notes:
            text += "\n" + "\n".join(f"[note: {n}]" for n in snap.notes)
        return SnapshotResult(
            scope=snap.scope, text=text, nodes=len(lines) - left_out, left_out=left_out, notes=snap.notes
        )

    @tools.tool(group="observe", title="Find elements", read_only=True, idempotent=True, untrusted_text=True)
    async def find(
        role: Annotated[
            str | None, Field(max_length=60, description="Exact role, e.g. 'push button', 'entry'.")
        ] = None,
        name: Annotated[str | None, Field(max_length=200, description="Substring of the name (any case).")] = None,
        text: Annotated[str | None, Field(max_length=200, description="Substring of the text content.")] = None,
        states: Annotated[list[str], Field(max_length=8, description="States all required, e.g. ['focused'].")] = [],  # noqa: B006
        scope: Scope = "focused_window",
        limit: Annotated[int, Field(ge=1, le=200, description="Most elements returned.")] = 20,
    ) -> FindResult:
        """Elements matching all the given filters, with refs and boxes (agent coordinates)."""
        if not (role or name or text or states):
            raise InvalidArgumentError("give at least one of role, name, text or states (or use snapshot).")
        found, snap = await a11y.find(scope, role, name, text, states)
        return FindResult(
            elements=[element_model(n, a11y) for n in found[:limit]], more=max(0, len(found) - limit), notes=snap.notes
        )

    @tools.tool(group="observe", title="Read an element's text", read_only=True, idempotent=True, untrusted_text=True)
    async def read_text(
        ref: Ref,
        offset: Annotated[int, Field(ge=0, le=100_000_000, description="First character.")] = 0,
        length: Annotated[int | None, Field(ge=1, le=200_000, description="Characters to read (default all).")] = None,
    ) -> TextResult:
        """The text content of an element (a document, text field, terminal, label or cell)."""
        _node, text_, total = await a11y.read_text(ref, offset, length)
        return TextResult(ref=ref, text=text_, offset=offset, total=total)

    @tools.tool(group="input", title="Set an element's value", read_only=False, destructive=True, idempotent=True)
    async def set_value(
        ref: Ref,
        value: Annotated[
            str,
            Field(max_length=100_000, description="Text, a number, true/false for a check box, or a choice's name."),
        ],
    ) -> ElementResult:
        """Set a text field's contents, a slider or spin value, a check box state, or a combo box / list choice,
        directly through accessibility (no typing)."""
        _node, done = await a11y.set_value(ref, value)
        return ElementResult(ref=ref, done=done, element=element_model(await a11y.element(ref), a11y))

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
    ) -> ElementResult:
        """Run one of an element's own actions by name; an unknown name gets the list of its actions."""
        if action == "scroll_into_view":
            node, ok = await a11y.scroll_into_view(ref)
            done = "scrolled into view" if ok else "the toolkit did not scroll it"
        else:
            node, ran = await a11y.do_action(ref, None if action == "default" else action)
            if ran is None:
                raise InvalidArgumentError(f"{ref} ({node.role}) has no actions: use click with its ref instead.")
            done = f"ran {ran!r}"
        return ElementResult(ref=ref, done=done, element=element_model(await a11y.element(ref), a11y))

    @tools.tool(group="input", title="Focus an element", read_only=False)
    async def focus(ref: Ref) -> ElementResult:
        """Give an element keyboard focus (then press_keys / type_text go to it)."""
        node, ok = await a11y.focus(ref)
        if not ok:
            raise InvalidArgumentError(f"{ref} ({node.role}) cannot take focus: click it instead.")
        return ElementResult(ref=ref, done="focused", element=element_model(await a11y.element(ref), a11y))

    @tools.tool(group="observe", title="Wait for an element", read_only=True)
    async def wait_for(
        ref: Annotated[str | None, Field(max_length=12, description="Wait on this element.")] = None,
        role: Annotated[str | None, Field(max_length=60)] = None,
        name: Annotated[str | None, Field(max_length=200)] = None,
        text: Annotated[str | None, Field(max_length=200)] = None,
        until: Annotated[Literal["appears", "disappears", "enabled", "text_contains"], Field()] = "appears",
        value: Annotated[str | None, Field(max_length=200, description="For text_contains.")] = None,
        scope: Scope = "focused_window",
        timeout: Annotated[float, Field(gt=0, le=60, description="Seconds, at most 60.")] = 10,
    ) -> WaitResult:
        """Poll the accessibility tree until an element appears, disappears, becomes enabled, or its
        text contains a value; says whether the condition held before the timeout."""
        if ref is None and not (role or name or text):
            raise InvalidArgumentError("give a ref, or role/name/text to match.")
        if until == "text_contains" and value is None:
            raise InvalidArgumentError("until=text_contains needs value=.")

        async def probe() -> Node | None:
            """The element now, or None when it is gone (or nothing matches)."""
            if ref is None:
                found, _ = await a11y.find(scope, role, name, text, [])
                return found[0] if found else None
            try:
                node = await a11y.element(ref)
                if until == "text_contains":
                    _, node.text, _ = await a11y.read_text(ref, 0, None)
                return node
            except StaleRefError:
                return None

        start = time.monotonic()
        deadline = start + timeout
        last: Node | None = None
        while True:
            # Each poll gets only the time left, so an app that does not answer cannot carry the
            # call past its timeout; such a poll says neither "there" nor "gone".
            try:
                present = await asyncio.wait_for(probe(), max(deadline - time.monotonic(), 0.05))
                answered = True
            except (TimeoutError, AccessibilityError):
                present, answered = None, False
            last = present or last
            met = (
                answered
                and {
                    "appears": present is not None,
                    "disappears": present is None,
                    "enabled": present is not None and "enabled" in present.states,
                    "text_contains": present is not None
                    and (value or "").lower() in (present.text or present.name).lower(),
                }[until]
            )
            waited = round(time.monotonic() - start, 2)
            if met or time.monotonic() >= deadline:
                detail = f"{until} {'held' if met else 'did not hold'} after {waited:g} s"
                if not answered:
                    detail += " (the app did not answer the last poll in time)"
                return WaitResult(
                    met=met, waited=waited, detail=detail, element=element_model(last, a11y) if last else None
                )
            await asyncio.sleep(min(0.25, max(deadline - time.monotonic(), 0)))
