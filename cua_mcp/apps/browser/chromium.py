"""Chromium driven through the DevTools protocol, with Playwright as the client.

The server starts Chromium itself (the catalog's `chromium` entry: its flags, its profile under the
server's data folder, bubblewrap when the launcher confines apps) through Playwright's
`launch_persistent_context`, which talks DevTools over `--remote-debugging-pipe`: two file
descriptors only the server's Playwright driver holds. No port is opened, so no other local
process can drive the browser. Playwright's executable is a two-line script in a folder of the
server's own that runs the catalog's (confined) command with Playwright's arguments appended.

Playwright's async API runs on an event loop of its own, in one thread: the server's loop only
awaits futures with timeouts, so a hung or dead Chromium never blocks it, and the X worker is not
involved at all. The browser is a normal window on the desktop: GUI tools see and drive the same
page.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shlex
import shutil
import tempfile
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from playwright.async_api import BrowserContext, Locator, Page, Playwright, async_playwright
from playwright.async_api import Error as PlaywrightError
from playwright.async_api import TimeoutError as PlaywrightTimeout

from cua_mcp.apps.browser.urls import check_url
from cua_mcp.errors import BrowserError, BrowserNotRunningError, InvalidArgumentError
from cua_mcp.sandbox.workspace import Workspace
from cua_mcp.sandbox.x11.windows import WindowInfo

if TYPE_CHECKING:
    from cua_mcp.sandbox.desktop import Desktop

log = logging.getLogger(__name__)
T = TypeVar("T")

APP = "chromium"  # the catalog entry whose command and flags start the browser
ACTION_TIMEOUT_S = 10.0  # Playwright's own wait for an element to be actionable, a navigation, ...
START_TIMEOUT_S = 60.0
_MARGIN_S = 5.0  # the server's bound on a call: the action's timeout plus this
_PROFILE_FLAG = "--user-data-dir="
_GONE = ("has been closed", "Target closed", "Browser closed", "Connection closed", "browser has disconnected")


@dataclass(frozen=True)
class Tab:
    index: int
    title: str
    url: str
    active: bool


@dataclass(frozen=True)
class Opened:
    tab: Tab
    status: int | None  # the HTTP status of the main document; None for about:, data: or a cached page
    started: bool  # Chromium was started by this call


@dataclass(frozen=True)
class FormField:
    """One form field to set, named by a snapshot ref or a selector."""

    value: str
    ref: str | None = None
    selector: str | None = None

    @property
    def target(self) -> str:
        return self.ref or self.selector or ""


@dataclass(frozen=True)
class Acted:
    """What an action did: the tab it ended on, and tabs it opened."""

    tab: Tab
    new_tabs: int


class Browser:
    """The Chromium instance the server holds a DevTools connection to (at most one per desktop)."""

    def __init__(self, desktop: Desktop, app: str = APP) -> None:
        self._desktop = desktop
        self.app = app
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._playwright: Playwright | None = None
        self._context: BrowserContext | None = None
        self._profile: Path | None = None
        self._active: Page | None = None
        self._start_lock: asyncio.Lock | None = None  # on the browser's loop
        self._private: Path | None = None  # the launch script's folder
        desktop.launcher.on_close(self.close)

    # ----- the browser's own loop ----------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._context is not None

    def _browser_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            self._thread = threading.Thread(target=self._loop.run_forever, name="cua-browser", daemon=True)
            self._thread.start()
        return self._loop

    async def _call(self, job: Callable[[], Awaitable[T]], timeout: float, doing: str) -> T:
        """Run `job` on the browser's loop; give up after `timeout` seconds (cancelling it there)."""
        future = asyncio.run_coroutine_threadsafe(job(), self._browser_loop())
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), timeout)
        except TimeoutError:
            future.cancel()
            raise BrowserError(
                f"Chromium did not finish {doing} within {timeout:g} s. If the page is busy, try again; "
                "if Chromium hangs, close it with window_op and call browser_open to start it again."
            ) from None
        except PlaywrightError as exc:
            raise self._translate(exc, doing) from None

    def _translate(self, exc: PlaywrightError, doing: str) -> BrowserError:
        message = str(exc.message if hasattr(exc, "message") else exc).strip()
        first = message.splitlines()[0] if message else type(exc).__name__
        if any(mark in message for mark in _GONE):
            self._forget()
            return BrowserError(
                f"Chromium closed or crashed while {doing}. Call browser_open to start it again "
                "(tabs and page state are lost)."
            )
        first = first.rstrip(".:")
        if "strict mode violation" in message:
            return BrowserError(
                f"{doing} failed: the selector matches more than one element ({first.split(': ')[-1]}). Make it "
                "match exactly one, or use a ref from browser_snapshot."
            )
        if "Unknown key" in message:
            return BrowserError(
                f"{doing} failed: {first.split(': ', 1)[-1]}. Use Playwright's key names: Enter, Tab, Escape, "
                "Backspace, Delete, ArrowUp, ArrowDown, PageDown, Home, F5, or a character; chords like Control+a."
            )
        if isinstance(exc, PlaywrightTimeout):
            return BrowserError(
                f"timed out {doing}: {first}. Check the target with browser_snapshot (the element may be "
                "hidden, disabled or covered) or wait for the page with browser_wait_for."
            )
        return BrowserError(f"{doing} failed: {first}")

    def _forget(self) -> None:
        self._context = None
        self._active = None

    # ----- starting and stopping -----------------------------------------------------------

    async def start(self) -> bool:
        """Start Chromium unless it runs; True when this call started it."""
        if self.running:
            return False
        launcher = self._desktop.launcher
        argv, env = launcher.app_command(launcher.catalog.get(self.app), [])
        profile = next((Path(a.removeprefix(_PROFILE_FLAG)) for a in argv if a.startswith(_PROFILE_FLAG)), None)
        profile = profile or launcher.data_dir / self.app
        if profile.is_relative_to(launcher.home):
            # Made by the server and given to the desktop's user, whom a confined Chromium runs as;
            # Playwright would make it as the server's user, and Chromium could not lock it.
            Workspace(launcher.home).make_folder(profile.relative_to(launcher.home).as_posix())
        return await self._call(lambda: self._start(argv, env, profile), START_TIMEOUT_S + _MARGIN_S, "starting")

    async def _start(self, argv: list[str], env: dict[str, str], profile: Path) -> bool:
        if self._start_lock is None:
            self._start_lock = asyncio.Lock()
        async with self._start_lock:
            if self._context is not None:
                return False
            if self._playwright is None:
                self._playwright = await async_playwright().start()
            context = await self._playwright.chromium.launch_persistent_context(
                profile,
                executable_path=self._script([a for a in argv if not a.startswith(_PROFILE_FLAG)]),
                env=env,
                headless=False,
                no_viewport=True,  # the window's own size: what a person and the GUI tools see
                timeout=START_TIMEOUT_S * 1000,
            )
            context.set_default_timeout(ACTION_TIMEOUT_S * 1000)
            context.on("page", self._on_page)
            context.on("close", lambda _context: self._forget())
            self._context, self._profile = context, profile
            for page in context.pages:
                page.on("close", self._on_close_page)
            self._active = context.pages[-1] if context.pages else await context.new_page()
            return True

    def _script(self, argv: list[str]) -> str:
        """An executable that runs `argv` plus the arguments it is given, in a folder only the server
        writes to (the sandbox's HOME would let a confined app swap it for its own program)."""
        if self._private is None:
            self._private = Path(tempfile.mkdtemp(prefix="cua-mcp-browser-"))
        script = self._private / self.app
        script.write_text(f'#!/bin/sh\nexec {shlex.join(argv)} "$@"\n')
        script.chmod(0o700)
        return str(script)

    def _on_page(self, page: Page) -> None:
        # A tab the page opened (target=_blank, window.open) or the user did is the one to look at next.
        self._active = page
        page.on("close", self._on_close_page)

    def _on_close_page(self, page: Page) -> None:
        if page is self._active and self._context is not None:
            pages = [p for p in self._context.pages if p is not page]
            self._active = pages[-1] if pages else None

    def close(self) -> None:
        """Close Chromium and the Playwright driver, and stop the browser's loop (blocking, bounded)."""
        loop = self._loop
        if loop is None:
            return

        async def stop() -> None:
            if self._context is not None:
                with contextlib.suppress(PlaywrightError):
                    await self._context.close()
            if self._playwright is not None:
                await self._playwright.stop()

        try:
            asyncio.run_coroutine_threadsafe(stop(), loop).result(timeout=15)
        except Exception:
            log.warning("closing Chromium failed", exc_info=True)
        loop.call_soon_threadsafe(loop.stop)
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._loop = self._thread = None
        self._playwright = None
        self._forget()
        if self._private is not None:
            shutil.rmtree(self._private, ignore_errors=True)
            self._private = None

    # ----- launch (the catalog's chromium, with the pack's connection) -----------------------

    async def launch(self, args: list[str]) -> tuple[int | None, WindowInfo | None]:
        """`launch chromium [URL...]`: start (or reuse) this instance, open each URL in a new tab,
        and return the browser's pid and window."""
        urls = [check_url(a) for a in args]
        before = {w.id for w in await self._desktop.list_windows()}
        started = await self.start()
        for index, url in enumerate(urls):
            # A browser started now shows one blank tab: the first URL goes there.
            await self.open(url, new_tab=not (started and index == 0))
        spec = self._desktop.launcher.catalog.get(self.app)
        deadline = asyncio.get_running_loop().time() + spec.wait_seconds
        while True:
            windows = [w for w in await self._desktop.list_windows() if await asyncio.to_thread(self._ours, w.pid)]
            fresh = [w for w in windows if w.id not in before]
            chosen = (fresh if started else []) or windows
            if chosen:
                return chosen[-1].pid, chosen[-1]
            if asyncio.get_running_loop().time() > deadline:
                return None, None
            await asyncio.sleep(0.2)

    def _ours(self, pid: int | None) -> bool:
        """Whether process `pid` is this instance's browser (its command line names our profile)."""
        if pid is None or self._profile is None:
            return False
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return False
        # Chromium rewrites its command line into one space-separated string once it runs.
        flag = f"{_PROFILE_FLAG}{self._profile}".encode()
        return any(flag + end in cmdline + b"\0" for end in (b"\0", b" "))

    # ----- tabs ----------------------------------------------------------------------------

    def _page(self) -> Page:
        if self._context is None or self._active is None:
            raise BrowserNotRunningError(
                "Chromium is not running under the server's control: call browser_open with a URL (it starts "
                "Chromium) or launch chromium. A Chromium started some other way cannot be driven by the "
                "browser tools; use the GUI tools for it."
            )
        return self._active

    async def _tab(self, page: Page) -> Tab:
        assert self._context is not None
        pages = self._context.pages
        title = await page.title() if not page.is_closed() else ""
        return Tab(pages.index(page) if page in pages else -1, title, page.url, page is self._active)

    async def open(self, url: str, new_tab: bool = False) -> Opened:
        url = check_url(url)
        started = await self.start()

        async def job() -> Opened:
            page = self._page()
            if new_tab and not started:
                assert self._context is not None
                page = await self._context.new_page()
            self._active = page
            response = await page.goto(url, wait_until="load", timeout=START_TIMEOUT_S * 1000 / 2)
            await page.bring_to_front()
            return Opened(await self._tab(page), response.status if response else None, started)

        return await self._call(job, START_TIMEOUT_S / 2 + _MARGIN_S, f"opening {url}")

    async def tabs(self) -> list[Tab]:
        async def job() -> list[Tab]:
            self._page()
            assert self._context is not None
            return [await self._tab(page) for page in self._context.pages]

        return await self._call(job, ACTION_TIMEOUT_S, "listing tabs")

    def _page_at(self, index: int) -> Page:
        self._page()
        assert self._context is not None
        pages = self._context.pages
        if not 0 <= index < len(pages):
            raise InvalidArgumentError(
                f"there is no tab {index}: the tabs are 0..{len(pages) - 1}; browser_tabs lists them."
            )
        return pages[index]

    async def switch_tab(self, index: int) -> Tab:
        async def job() -> Tab:
            page = self._page_at(index)
            self._active = page
            await page.bring_to_front()
            return await self._tab(page)

        return await self._call(job, ACTION_TIMEOUT_S, f"switching to tab {index}")

    async def close_tab(self, index: int | None) -> tuple[Tab, list[Tab]]:
        """Close a tab (the active one by default); the closed tab and the tabs left (empty when it was
        the last one: then Chromium closes)."""

        async def job() -> tuple[Tab, list[Tab]]:
            page = self._page() if index is None else self._page_at(index)
            closed = await self._tab(page)
            assert self._context is not None
            if len(self._context.pages) == 1:
                await self._context.close()
                self._forget()
                return closed, []
            await page.close()
            if self._active is not None:
                await self._active.bring_to_front()
            return closed, [await self._tab(p) for p in self._context.pages]

        return await self._call(job, ACTION_TIMEOUT_S, "closing the tab")

    # ----- reading -------------------------------------------------------------------------

    async def page_text(self) -> tuple[Tab, str]:
        """The active tab's readable text (hidden elements left out), whole."""

        async def job() -> tuple[Tab, str]:
            page = self._page()
            body = page.locator("body")
            return await self._tab(page), await body.inner_text() if await body.count() else ""

        return await self._call(job, ACTION_TIMEOUT_S + _MARGIN_S, "reading the page's text")

    async def snapshot(self) -> tuple[Tab, str]:
        """The active tab's ARIA snapshot with refs (Playwright MCP's format: `- button "Send" [ref=e7]`)."""

        async def job() -> tuple[Tab, str]:
            page = self._page()
            return await self._tab(page), await page.aria_snapshot(mode="ai")

        return await self._call(job, ACTION_TIMEOUT_S + _MARGIN_S, "taking the page's snapshot")

    async def url(self) -> Tab:
        async def job() -> Tab:
            return await self._tab(self._page())

        return await self._call(job, ACTION_TIMEOUT_S, "reading the URL")

    # ----- acting --------------------------------------------------------------------------

    async def _act(self, doing: str, action: Callable[[Page], Awaitable[object]]) -> Acted:
        async def job() -> Acted:
            page = self._page()
            assert self._context is not None
            before = len(self._context.pages)
            await action(page)
            active = self._active or page
            # Let a navigation the action started show its title (bounded; the action already succeeded).
            with contextlib.suppress(PlaywrightError):
                await active.wait_for_load_state("domcontentloaded", timeout=3000)
            return Acted(await self._tab(active), max(0, len(self._context.pages) - before))

        return await self._call(job, ACTION_TIMEOUT_S + _MARGIN_S, doing)

    async def click(self, ref: str | None, selector: str | None) -> Acted:
        _check_target(ref, selector)
        return await self._act(f"clicking {ref or selector}", lambda page: _click(page, ref, selector))

    async def fill(self, fields: list[FormField]) -> Acted:
        """Set form fields in order: a text field's whole text, a checkbox, radio or switch (value
        true/false), a drop-down's option (label or value)."""
        for field in fields:
            _check_target(field.ref, field.selector)

        async def fill(page: Page) -> None:
            for done, field in enumerate(fields):
                try:
                    await _set_field(await _locate(page, field.ref, field.selector), field.value, field.target)
                except PlaywrightError as exc:
                    raise self._translate(
                        exc, f"filling {field.target} (field {done + 1}; those before it are set)"
                    ) from None

        what = fields[0].target if len(fields) == 1 else f"{len(fields)} fields"
        return await self._act(f"filling {what}", fill)

    async def select(self, ref: str | None, selector: str | None, option: str) -> Acted:
        _check_target(ref, selector)
        what = ref or selector or ""

        async def select(page: Page) -> None:
            await _set_field(await _locate(page, ref, selector), option, what, select_only=True)

        return await self._act(f"selecting {option!r} in {what}", select)

    async def press(self, key: str, ref: str | None, selector: str | None) -> Acted:
        if ref is None and selector is None:
            return await self._act(f"pressing {key}", lambda page: page.keyboard.press(key))
        _check_target(ref, selector)
        return await self._act(f"pressing {key}", lambda page: _press(page, ref, selector, key))

    async def history(self, forward: bool) -> tuple[Acted, bool]:
        """Go back (or forward) one page; False when the tab's history has no page there."""
        moved = False

        async def go(page: Page) -> None:
            nonlocal moved
            before = page.url
            step = page.go_forward if forward else page.go_back
            # No response for about:blank, data: or a same-page step: a changed URL says it moved too.
            moved = await step(wait_until="load") is not None or page.url != before

        acted = await self._act("going forward" if forward else "going back", go)
        return acted, moved

    async def wait_for(self, selector: str | None, text: str | None, gone: bool, timeout: float) -> Tab:
        async def job() -> Tab:
            page = self._page()
            target = page.locator(selector) if selector is not None else page.get_by_text(text or "")
            await target.first.wait_for(state="hidden" if gone else "visible", timeout=timeout * 1000)
            return await self._tab(page)

        what = f"selector {selector!r}" if selector is not None else f"text {text!r}"
        try:
            return await self._call(job, timeout + _MARGIN_S, f"waiting for {what}")
        except BrowserError as exc:
            if "timed out" not in str(exc) or not self.running:
                raise
            verb = "to go" if gone else "to appear"
            raise BrowserError(
                f"waited {timeout:g} s for {what} {verb}; it did not. Look at the page with browser_snapshot "
                "or browser_page_text, or wait longer."
            ) from None

    async def evaluate(self, js: str) -> tuple[Tab, object]:
        async def job() -> tuple[Tab, object]:
            page = self._page()
            return await self._tab(page), await page.evaluate(js)

        return await self._call(job, ACTION_TIMEOUT_S + _MARGIN_S, "running the script")


def _check_target(ref: str | None, selector: str | None) -> None:
    if (ref is None) == (selector is None):
        raise InvalidArgumentError(
            "give exactly one of ref (from browser_snapshot, e.g. e12) or selector (CSS or Playwright)."
        )


# Playwright's own actions, tried in the order that costs a text field one call: they run in its
# utility context, while any `evaluate` in the page's context first injects Playwright's script
# there (200-500 ms a page on a loaded machine, measured). Each refusal comes back at once.
_OPTION_WAIT_MS = 2000  # an option that exists is chosen at once; a missing one is listed after this


async def _set_field(target: Locator, value: str, what: str, select_only: bool = False) -> None:
    """Set a text field's text, a checkbox/radio/switch (value true/false) or a drop-down's option."""
    truth = _TRUTHS.get(value.strip().lower())
    if await target.is_disabled():
        raise InvalidArgumentError(f"{what} is disabled: fill the fields it depends on first, or wait for it.")
    if not select_only:
        try:
            await target.fill(value)
            return
        except PlaywrightError as exc:
            message = str(exc)
            kind = next((k for k in ("checkbox", "radio") if f'type "{k}" cannot be filled' in message), None)
            if kind is not None:
                if truth is None:
                    raise InvalidArgumentError(f"{what} is a {kind}: set it to true or false.") from None
                await target.set_checked(truth)
                return
            if "Element is not an <input>" not in message:
                raise
    try:
        await target.select_option(value, timeout=_OPTION_WAIT_MS)
    except PlaywrightTimeout:
        labels = ", ".join(repr(label.strip()) for label in await target.locator("option").all_text_contents())
        raise InvalidArgumentError(f"{what} has no option {value!r}; its options: {labels or 'none'}.") from None
    except PlaywrightError as exc:
        if "not a <select>" not in str(exc):
            raise
        if select_only or truth is None:
            kind = "a drop-down (<select>)" if select_only else "a field that takes text or a choice"
            raise InvalidArgumentError(f"{what} is not {kind}: use browser_click on it.") from None
        await target.set_checked(truth)  # an ARIA checkbox or switch


async def _click(page: Page, ref: str | None, selector: str | None) -> None:
    await (await _locate(page, ref, selector)).click()


async def _press(page: Page, ref: str | None, selector: str | None, key: str) -> None:
    await (await _locate(page, ref, selector)).press(key)


async def _locate(page: Page, ref: str | None, selector: str | None) -> Locator:
    """The element a ref or selector names. A selector may match an element still to come (actions
    wait for it); a ref names one of the latest snapshot's, so a missing ref fails at once."""
    if ref is None:
        return page.locator(selector or "")
    target = page.locator(f"aria-ref={ref}")
    try:
        found = await target.count()
    except PlaywrightError:  # "Invalid frame in aria-ref selector": its frame has gone since the snapshot
        found = 0
    if not found:
        raise BrowserError(
            f"ref {ref} is not in the latest browser_snapshot of this tab (the page changed, or the ref came "
            "from another tab): take a new browser_snapshot and use its refs."
        )
    return target


_TRUTHS = {"true": True, "checked": True, "on": True, "yes": True, "1": True, "false": False, "unchecked": False}
_TRUTHS |= {"off": False, "no": False, "0": False}
