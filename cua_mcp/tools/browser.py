"""The browser pack: Chromium through its DevTools protocol (group `browser`; apps/browser does the work).

Every tool's answer carries something the page wrote (a title, a URL, text, a snapshot, a script's
result), so every one is declared `untrusted_text`: the registrar fences its text block as content
the model reads as data, never as instructions.
"""

import json
from typing import Annotated, Any

from mcp.types import CallToolResult
from pydantic import BaseModel, ConfigDict, Field

from cua_mcp.apps.browser import Acted, Browser, FormField, Tab
from cua_mcp.errors import InvalidArgumentError
from cua_mcp.tools._registry import ToolRegistrar
from cua_mcp.tools._text import reply

Ref = Annotated[
    str | None,
    Field(
        pattern=r"^(f\d+)?e\d+$",
        max_length=24,
        description="An element ref from the latest browser_snapshot of this tab, e.g. e12.",
    ),
]
Selector = Annotated[
    str | None,
    Field(
        min_length=1,
        max_length=1000,
        description="Instead of ref: a CSS selector (#email, form button[type=submit]) or a Playwright "
        "selector (text=Send, role=button[name=Send]); it must match exactly one element.",
    ),
]
_EVAL_CHARS = 20_000
Offset = Annotated[int, Field(ge=0, le=10_000_000, description="Start at this character.")]


class FieldValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ref: Ref = None
    selector: Selector = None
    value: str = Field(
        max_length=100_000, description="Text; true/false for a checkbox, radio or switch; an option for a drop-down."
    )


class TabInfo(BaseModel):
    index: int = Field(description="Position among the tabs, from 0.")
    title: str
    url: str
    active: bool = Field(description="The tab the browser tools act on.")


class OpenResult(BaseModel):
    tab: TabInfo
    status: int | None = Field(description="HTTP status of the page (null for data: and about:blank).")
    started: bool = Field(description="Chromium was started by this call.")


class TabsResult(BaseModel):
    tabs: list[TabInfo]


class CloseTabResult(BaseModel):
    closed: TabInfo
    tabs: list[TabInfo] = Field(description="The tabs left; empty when the last one closed (and Chromium with it).")


class PagePart(BaseModel):
    tab: TabInfo
    text: str = Field(
        description='The page\'s text, or its ARIA snapshot (one element a line: - button "Send" [ref=e7]).'
    )
    offset: int
    total_chars: int = Field(description="Length of the whole text.")
    cut: bool = Field(description="More follows: call again with offset = offset + len(text).")


class ActionResult(BaseModel):
    done: str
    tab: TabInfo = Field(description="The active tab after the action.")
    new_tabs: int = Field(description="Tabs the action opened (the newest is now active).")


class HistoryResult(ActionResult):
    moved: bool = Field(description="False when the tab's history had no page in that direction.")


class EvalResult(BaseModel):
    tab: TabInfo
    value: Any = Field(description="The script's result, as JSON.")


def _tab(tab: Tab) -> TabInfo:
    return TabInfo(index=tab.index, title=tab.title, url=tab.url, active=tab.active)


def _tab_line(tab: Tab) -> str:
    return f"{'*' if tab.active else ' '} tab {tab.index}: {tab.title or '(no title)'} | {tab.url}"


def _acted(done: str, acted: Acted) -> CallToolResult:
    result = ActionResult(done=done, tab=_tab(acted.tab), new_tabs=acted.new_tabs)
    opened = f" It opened {acted.new_tabs} new tab(s); the newest is now active." if acted.new_tabs else ""
    return reply(result, f"{done}.{opened} Active tab now:\n{_tab_line(acted.tab)}")


def register(tools: ToolRegistrar, browser: Browser) -> None:
    group = "browser"

    # Starting Chromium (up to 60 s on a loaded machine) and then loading the page (up to 30 s).
    @tools.tool(
        group=group, title="Open a web page", read_only=False, open_world=True, untrusted_text=True, deadline_s=120
    )
    async def browser_open(
        url: Annotated[
            str,
            Field(
                min_length=1,
                max_length=8192,
                description="http(s) address (a bare host like example.org gets https), data: or about:blank. "
                "file: URLs are refused.",
            ),
        ],
        new_tab: Annotated[bool, Field(description="Open in a new tab instead of the active one.")] = False,
    ) -> Annotated[CallToolResult, OpenResult]:
        """Open a web page in Chromium and wait until it has loaded; starts Chromium first if the server
        is not running it (its window shows on the desktop, so screenshots and GUI tools see the same page).
        Prefer this to typing into the address bar. Then read the page with browser_snapshot (elements
        with refs to act on) or browser_page_text (its text)."""
        opened = await browser.open(url, new_tab)
        result = OpenResult(tab=_tab(opened.tab), status=opened.status, started=opened.started)
        status = f" (HTTP {opened.status})" if opened.status is not None else ""
        started = " Chromium was started for it." if opened.started else ""
        return reply(result, f"Opened tab {opened.tab.index}{status}.{started}\n{_tab_line(opened.tab)}")

    @tools.tool(group=group, title="List browser tabs", read_only=True, idempotent=True, untrusted_text=True)
    async def browser_tabs() -> Annotated[CallToolResult, TabsResult]:
        """The open tabs of the server's Chromium with index, title and URL; * marks the active tab,
        the one every browser tool acts on."""
        tabs = await browser.tabs()
        body = "\n".join(_tab_line(t) for t in tabs)
        return reply(TabsResult(tabs=[_tab(t) for t in tabs]), f"{len(tabs)} tab(s):\n{body}")

    @tools.tool(group=group, title="Switch browser tab", read_only=False, idempotent=True, untrusted_text=True)
    async def browser_switch_tab(
        index: Annotated[int, Field(ge=0, le=999, description="The tab's index from browser_tabs.")],
    ) -> Annotated[CallToolResult, TabInfo]:
        """Make a tab the active one (brought to the front; the browser tools act on it)."""
        tab = await browser.switch_tab(index)
        return reply(_tab(tab), f"Switched to tab {tab.index}:\n{_tab_line(tab)}")

    @tools.tool(group=group, title="Close a browser tab", read_only=False, destructive=True, untrusted_text=True)
    async def browser_close_tab(
        index: Annotated[
            int | None, Field(ge=0, le=999, description="The tab's index from browser_tabs; default the active tab.")
        ] = None,
    ) -> Annotated[CallToolResult, CloseTabResult]:
        """Close a tab. Closing the last tab closes Chromium (browser_open starts it again)."""
        closed, tabs = await browser.close_tab(index)
        result = CloseTabResult(closed=_tab(closed), tabs=[_tab(t) for t in tabs])
        if not tabs:
            return reply(result, f"Closed tab {closed.index}, the last one: Chromium closed.")
        listing = "\n".join(_tab_line(t) for t in tabs)
        return reply(result, f"Closed tab {closed.index}. Tabs left:\n{listing}")

    def _part(tool: str, what: str, tab: Tab, whole: str, offset: int, max_chars: int) -> CallToolResult:
        shown = whole[offset : offset + max_chars]
        end = offset + len(shown)
        result = PagePart(tab=_tab(tab), text=shown, offset=offset, total_chars=len(whole), cut=end < len(whole))
        note = f"\n[cut: showed characters {offset}..{end} of {len(whole)}; call {tool} with offset={end} for more]"
        return reply(result, f"{what} of tab {tab.index}:\n{_tab_line(tab)}\n\n{shown}{note if result.cut else ''}")

    @tools.tool(group=group, title="Read the page's text", read_only=True, idempotent=True, untrusted_text=True)
    async def browser_page_text(
        offset: Offset = 0,
        max_chars: Annotated[
            int, Field(ge=100, le=100_000, description="Return at most this many characters.")
        ] = 20_000,
    ) -> Annotated[CallToolResult, PagePart]:
        """The readable text of the active tab as a person sees it (hidden elements left out), bounded;
        says when it was cut and how to read on. Cheaper than screenshots for reading articles, results
        and messages; to act on elements use browser_snapshot."""
        tab, text = await browser.page_text()
        return _part("browser_page_text", "Text", tab, text, offset, max_chars)

    @tools.tool(group=group, title="Snapshot the page's elements", read_only=True, idempotent=True, untrusted_text=True)
    async def browser_snapshot(
        offset: Offset = 0,
        max_chars: Annotated[
            int, Field(ge=500, le=200_000, description="Return at most this many characters.")
        ] = 40_000,
    ) -> Annotated[CallToolResult, PagePart]:
        """The active tab's accessibility (ARIA) snapshot, in Playwright MCP's format: one element a line,
        indented, with role, name, states and a ref (`- textbox "Email" [ref=e5]`). Pass a ref to
        browser_click, browser_fill, browser_fill_form, browser_select or browser_press. Refs hold until the
        next snapshot of the tab. Faster and more exact than a desktop snapshot or a screenshot for web pages."""
        tab, snapshot = await browser.snapshot()
        return _part("browser_snapshot", "Snapshot", tab, snapshot, offset, max_chars)

    @tools.tool(group=group, title="Click a page element", read_only=False, open_world=True, untrusted_text=True)
    async def browser_click(ref: Ref = None, selector: Selector = None) -> Annotated[CallToolResult, ActionResult]:
        """Click an element of the active tab by ref (from browser_snapshot) or selector; waits up to
        10 s for it to be visible and enabled. Follows links and submits forms like a real click."""
        acted = await browser.click(ref, selector)
        return _acted(f"Clicked {ref or selector}", acted)

    @tools.tool(group=group, title="Fill a form field", read_only=False, untrusted_text=True)
    async def browser_fill(
        text: Annotated[
            str,
            Field(
                max_length=100_000, description="The field's new text; for a checkbox, radio or switch: true or false."
            ),
        ],
        ref: Ref = None,
        selector: Selector = None,
    ) -> Annotated[CallToolResult, ActionResult]:
        """Set a text field's (input, textarea, contenteditable) whole text at once, check or uncheck a
        checkbox, radio button or switch (text true/false), or choose a drop-down's option (its label).
        Much faster and surer than clicking and typing. Several fields at once: browser_fill_form."""
        acted = await browser.fill([FormField(text, ref, selector)])
        return _acted(f"Filled {ref or selector}", acted)

    @tools.tool(group=group, title="Fill several form fields", read_only=False, untrusted_text=True)
    async def browser_fill_form(
        fields: Annotated[
            list[FieldValue], Field(min_length=1, max_length=100, description="The fields to set, in order.")
        ],
    ) -> Annotated[CallToolResult, ActionResult]:
        """Fill a whole form in one call: for each field (by ref from browser_snapshot, or selector) set a
        text field's text, a checkbox/radio/switch to true or false, or a drop-down to an option's label or
        value. Stops at the first field that fails and says which. Then submit with browser_click (the
        submit button) or browser_press Enter."""
        acted = await browser.fill([FormField(f.value, f.ref, f.selector) for f in fields])
        return _acted(f"Filled {len(fields)} field(s)", acted)

    @tools.tool(group=group, title="Choose a drop-down option", read_only=False, untrusted_text=True)
    async def browser_select(
        option: Annotated[
            str, Field(min_length=1, max_length=1000, description="The option's visible label or its value.")
        ],
        ref: Ref = None,
        selector: Selector = None,
    ) -> Annotated[CallToolResult, ActionResult]:
        """Choose an option of a drop-down (<select>) by its label or value, by ref or selector."""
        acted = await browser.select(ref, selector, option)
        return _acted(f"Selected {option!r} in {ref or selector}", acted)

    @tools.tool(group=group, title="Press a key in the page", read_only=False, untrusted_text=True)
    async def browser_press(
        key: Annotated[
            str,
            Field(
                min_length=1,
                max_length=64,
                description="A key or chord in Playwright's names: Enter, Tab, Escape, ArrowDown, Backspace, "
                "Control+a, Shift+Tab, or one character.",
            ),
        ],
        ref: Ref = None,
        selector: Selector = None,
    ) -> Annotated[CallToolResult, ActionResult]:
        """Press a key in the active tab: into the element given by ref or selector (focusing it first),
        else wherever the page's focus is. Enter in a form field submits the form."""
        acted = await browser.press(key, ref, selector)
        return _acted(f"Pressed {key}", acted)

    @tools.tool(group=group, title="Wait for the page", read_only=True, untrusted_text=True)
    async def browser_wait_for(
        selector: Selector = None,
        text: Annotated[
            str | None, Field(min_length=1, max_length=1000, description="Instead of selector: text on the page.")
        ] = None,
        gone: Annotated[bool, Field(description="Wait for it to disappear instead of to appear.")] = False,
        timeout: Annotated[float, Field(ge=0.1, le=60, description="Seconds to wait at most.")] = 10,
    ) -> Annotated[CallToolResult, TabInfo]:
        """Wait until an element (selector) or a text shows on the active tab, or with gone=true until it
        has disappeared; fails with a clear message when the timeout passes. Use it after an action whose
        result loads slowly."""
        if (selector is None) == (text is None):
            raise InvalidArgumentError("give exactly one of selector or text to wait for.")
        tab = await browser.wait_for(selector, text, gone, timeout)
        what = f"selector {selector!r}" if selector is not None else f"text {text!r}"
        return reply(_tab(tab), f"{what} {'is gone' if gone else 'is showing'}.\n{_tab_line(tab)}")

    def _history(forward: bool, acted: Acted, moved: bool) -> CallToolResult:
        direction = "forward" if forward else "back"
        done = f"Went {direction}" if moved else f"No page to go {direction} to in this tab's history; stayed"
        result = HistoryResult(done=done, tab=_tab(acted.tab), new_tabs=acted.new_tabs, moved=moved)
        return reply(result, f"{done}. Active tab now:\n{_tab_line(acted.tab)}")

    @tools.tool(group=group, title="Go back", read_only=False, untrusted_text=True)
    async def browser_back() -> Annotated[CallToolResult, HistoryResult]:
        """Go back one page in the active tab's history (the browser's Back button)."""
        return _history(False, *await browser.history(forward=False))

    @tools.tool(group=group, title="Go forward", read_only=False, untrusted_text=True)
    async def browser_forward() -> Annotated[CallToolResult, HistoryResult]:
        """Go forward one page in the active tab's history (the browser's Forward button)."""
        return _history(True, *await browser.history(forward=True))

    @tools.tool(group=group, title="Current page address", read_only=True, idempotent=True, untrusted_text=True)
    async def browser_get_url() -> Annotated[CallToolResult, TabInfo]:
        """The active tab's URL and title: check where a click or a form submission led."""
        tab = await browser.url()
        return reply(_tab(tab), f"Active tab:\n{_tab_line(tab)}")

    @tools.tool(
        group=group,
        title="Run JavaScript in the page",
        read_only=False,
        open_world=True,
        opt_in=True,
        untrusted_text=True,
    )
    async def browser_eval(
        js: Annotated[
            str,
            Field(
                min_length=1,
                max_length=100_000,
                description="A JavaScript expression, or a function like () => document.title; its result must "
                "be JSON-serializable.",
            ),
        ],
    ) -> Annotated[CallToolResult, EvalResult]:
        """Run JavaScript in the active tab and return its result (awaited if it is a promise). For what
        the other browser tools cannot do; they are safer and say more about what happened."""
        tab, value = await browser.evaluate(js)
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        note = ""
        if len(shown) > _EVAL_CHARS:
            note = f"\n[cut: the result has {len(shown)} characters; showed {_EVAL_CHARS}]"
            shown = value = shown[:_EVAL_CHARS]
        return reply(EvalResult(tab=_tab(tab), value=value), f"Result:\n{shown}{note}")
