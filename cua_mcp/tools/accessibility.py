"""Read the screen as named elements: snapshot, find, read_text, wait_for (acting on them is in
tools/elements.py)."""

import asyncio
import time
from typing import Annotated, Literal

from mcp.server.mcpserver import Context
from mcp.types import CallToolResult
from pydantic import BaseModel, Field

from cua_mcp.accessibility import osworld, text_format
from cua_mcp.accessibility.history import SnapshotHistory
from cua_mcp.accessibility.model import Node
from cua_mcp.accessibility.roles import state_test, web_role
from cua_mcp.accessibility.search import Query, no_match
from cua_mcp.accessibility.service import Accessibility
from cua_mcp.errors import AccessibilityError, InvalidArgumentError, StaleRefError
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply

Ref = Annotated[
    str,
    Field(
        min_length=2,
        max_length=24,
        pattern=r"^\s*e[0-9]+(:[A-Za-z]{1,3}[0-9]{1,7})?\s*$",
        description="An element ref like 'e12' from snapshot or find, or a sheet cell as its table's ref and "
        "address, like 'e40:C5'.",
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


class WaitResult(BaseModel):
    met: bool
    waited: float
    detail: str
    element: Element | None = None


def session_key(ctx: Context | None) -> object:
    """Who is calling, for `since="last"`: the HTTP session id, else the connection's handshake (one object per
    connection; the SDK makes a new session object per request)."""
    try:
        context = ctx.request_context if ctx is not None else None
    except ValueError:
        return None
    if context is None:
        return None
    headers = getattr(context.request, "headers", None)
    if headers is not None and headers.get("mcp-session-id"):
        return f"http:{headers['mcp-session-id']}"
    return context.session.client_params


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
    history = SnapshotHistory()

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
        boxes: Annotated[bool, Field(description="Add each element's box (x,y wxh) in agent coordinates.")] = False,
        since: Annotated[
            Literal["last"] | None,
            Field(
                description="'last': only the lines added, removed or changed since your previous snapshot of "
                "this scope."
            ),
        ] = None,
        format: Annotated[
            Literal["text", "osworld_xml"],
            Field(
                description="text (compact, with refs) or OSWorld's XML schema (no refs; boxes in agent coordinates)."
            ),
        ] = "text",
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, SnapshotResult]:
        """The screen as a tree of named elements, one line each: role "name" [ref=eN] states = value
        (roles in web words: button, checkbox, textbox, combobox, link, menuitem, tab, slider, ...). Prefer
        it to a screenshot to find controls and read values; act on a line with its ref (click, type_text,
        set_value, element_action). Refs stay valid while the element exists. A sheet's visible cells print
        as a grid; address a cell as its table's ref plus the cell, e.g. e40:C5. Only what shows is listed."""
        snap = await a11y.snapshot(scope)
        if format == "osworld_xml":
            xml = osworld.to_xml(snap.roots, a11y.desktop.space)
            result = SnapshotResult(
                scope=snap.scope, text=xml, nodes=sum(1 for _ in snap.nodes()), left_out=0, notes=snap.notes
            )
            return reply(result, xml)
        keep = None
        if query:
            q = query.lower()
            keep = lambda n: q in n.role or q in web_role(n) or q in n.name.lower() or q in (n.text or "").lower()  # noqa: E731
        text, listed, left_out = text_format.snapshot_text(
            snap, a11y.desktop.space, mode, max_nodes, max_depth, keep, boxes
        )
        key = (scope.strip(), mode, query, boxes)
        shown = (
            history.changes(session_key(ctx), key, text)
            if since == "last"
            else history.remember(session_key(ctx), key, text)
        )
        result = SnapshotResult(scope=snap.scope, text=text, nodes=listed, left_out=left_out, notes=snap.notes)
        return reply(result, shown)

    @tools.tool(group="observe", title="Find elements", read_only=True, idempotent=True, untrusted_text=True)
    async def find(
        role: Annotated[
            str | None,
            Field(
                max_length=60,
                description="A role in any spelling: button, checkbox, textbox (entry, edit), "
                "combobox, link, menuitem, tab, slider, spinbutton, cell, ... or AT-SPI's ('push button').",
            ),
        ] = None,
        name: Annotated[
            str | None, Field(max_length=200, description="Part of the name: any case, dashes and spaces ignored.")
        ] = None,
        text: Annotated[str | None, Field(max_length=200, description="Substring of the text content.")] = None,
        states: Annotated[
            list[str],
            Field(max_length=8, description="States all required, e.g. ['focused'], ['disabled'], ['unchecked']."),
        ] = [],  # noqa: B006
        name_exact: Annotated[bool, Field(description="Match the whole name (any case), not a substring.")] = False,
        scope: Scope = "focused_window",
        limit: Annotated[int, Field(ge=1, le=200, description="Most elements returned.")] = 20,
    ) -> Annotated[CallToolResult, FindResult]:
        """Elements matching all the given filters, one snapshot line each (with refs). With no match, says
        what is there instead."""
        if not (role or name or text or states):
            raise InvalidArgumentError("give at least one of role, name, text or states (or use snapshot).")
        search = Query(role, name, text, tuple(states), name_exact)
        found, snap = await a11y.find(scope, search)
        result = FindResult(
            elements=[element_model(n, a11y) for n in found[:limit]], more=max(0, len(found) - limit), notes=snap.notes
        )
        if not found:
            lines = [no_match(search, [n for n, _ in snap.nodes()])]
        else:
            lines = [text_format.format_line(n, 0, a11y.desktop.space) for n in found[:limit]]
            if result.more:
                lines.append(f"[{result.more} more: narrow the search or raise limit]")
        return reply(result, "\n".join(lines + [f"[note: {note}]" for note in snap.notes]))

    @tools.tool(group="observe", title="Read an element's text", read_only=True, idempotent=True, untrusted_text=True)
    async def read_text(
        ref: Ref,
        offset: Annotated[int, Field(ge=0, le=100_000_000, description="First character.")] = 0,
        length: Annotated[int | None, Field(ge=1, le=200_000, description="Characters to read (default all).")] = None,
    ) -> Annotated[CallToolResult, TextResult]:
        """The text content of an element (a document, text field, terminal, label or cell)."""
        _node, text_, total = await a11y.read_text(ref, offset, length)
        end = offset + len(text_)
        head = (
            f"{ref}: characters {offset}-{end} of {total}:\n"
            if offset or end < total
            else f"{ref}: {total} character{'' if total == 1 else 's'}:\n"
        )
        return reply(TextResult(ref=ref, text=text_, offset=offset, total=total), head + text_)

    @tools.tool(group="observe", title="Wait for an element", read_only=True)
    async def wait_for(
        ref: Annotated[str | None, Field(max_length=24, description="Wait on this element.")] = None,
        role: Annotated[str | None, Field(max_length=60, description="A role in any spelling, as for find.")] = None,
        name: Annotated[
            str | None, Field(max_length=200, description="Part of the name: any case, dashes and spaces ignored.")
        ] = None,
        text: Annotated[str | None, Field(max_length=200)] = None,
        name_exact: Annotated[bool, Field(description="Match the whole name (any case).")] = False,
        until: Annotated[Literal["appears", "disappears", "enabled", "text_contains"], Field()] = "appears",
        value: Annotated[str | None, Field(max_length=200, description="For text_contains.")] = None,
        scope: Scope = "focused_window",
        timeout: Annotated[float, Field(gt=0, le=60, description="Seconds, at most 60.")] = 10,
    ) -> Annotated[CallToolResult, WaitResult]:
        """Poll the accessibility tree until an element appears, disappears, becomes enabled, or its
        text contains a value; says whether the condition held before the timeout."""
        if ref is None and not (role or name or text):
            raise InvalidArgumentError("give a ref, or role/name/text to match.")
        if until == "text_contains" and value is None:
            raise InvalidArgumentError("until=text_contains needs value=.")
        search = Query(role, name, text, (), name_exact)
        search.test()  # an unknown role fails now, not after the timeout

        async def probe() -> Node | None:
            """The element now, or None when it is gone (or nothing matches)."""
            if ref is None:
                found, _ = await a11y.find(scope, search)
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
                    "enabled": present is not None and state_test("enabled")(present),
                    "text_contains": present is not None
                    and (value or "").lower() in (present.text or present.name).lower(),
                }[until]
            )
            waited = round(time.monotonic() - start, 2)
            if met or time.monotonic() >= deadline:
                what = ref or search.wanted()
                detail = f"{what} {until.replace('_', ' ')}{' ' + repr(value) if value else ''}: " + (
                    f"held after {waited:g} s" if met else f"did not hold within {waited:g} s"
                )
                if not answered:
                    detail += " (the app did not answer the last poll in time)"
                result = WaitResult(
                    met=met, waited=waited, detail=detail, element=element_model(last, a11y) if last else None
                )
                line = text_format.format_line(last, 0, a11y.desktop.space) if last and until != "disappears" else ""
                return reply(result, detail + (f"\n{line}" if line else ""))
            await asyncio.sleep(min(0.25, max(deadline - time.monotonic(), 0)))
