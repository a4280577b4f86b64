"""Real desktop tasks, each solved twice by a scripted agent through a real MCP client: GUI-only (it looks
with screenshots and acts with coordinates and keys, as a vision model does) and element-first (it reads
with snapshot/find and acts on refs, reading what each action answers). Every outcome is checked outside
the server: on disk, through pyatspi, or through X.

A scripted GUI-only agent cannot see: where a vision model would find a control in the screenshot, it asks
an oracle (the same server, through calls that are not counted). Its screenshots are still taken and
counted, since a model needs them to find the control and to check the effect.
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import functools
import json
import re
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docx
import openpyxl

from cua_mcp.apps.office.instance import QUIET_PROFILE
from cua_mcp.sandbox.session import SandboxSession
from tests.support.apps import home_file
from tests.support.desktop import atspi, wait_for_app, wait_until
from tests.support.mcp_client import BlockingClient, error_text, model_text
from tests.support.web_form import WebForm, web_form
from tests.support.x11 import active_window, wm_state

UNICODE = "Grüße, 日本語 and € 5 🙂"
FACTORY = "gtk3-widget-factory"


@dataclass
class Tally:
    """What the model received: calls, characters of text, images, and bytes of both."""

    calls: int = 0
    chars: int = 0
    images: int = 0
    bytes: int = 0
    log: list[str] = field(default_factory=list)


class Agent:
    """A client whose every call is counted as a model would receive it."""

    def __init__(self, client: BlockingClient) -> None:
        self.client = client
        self.tally = Tally()

    def __call__(self, tool: str, arguments: dict[str, Any] | None = None) -> str:
        result = self.client.call_raw(tool, arguments or {}, timeout=120)
        self.tally.calls += 1
        text = model_text(result)
        self.tally.chars += len(text)
        self.tally.bytes += len(text.encode())
        for image in (c for c in result.content if c.type == "image"):
            self.tally.images += 1
            self.tally.bytes += len(base64.b64decode(image.data))
        self.tally.log.append(f"{tool}({json.dumps(arguments, ensure_ascii=False)[:80]})")
        if result.is_error:
            raise AssertionError(f"{tool}({arguments}) failed: {error_text(result)}")
        return text

    def oracle(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """What a vision model would read off the screenshot it just took: not counted."""
        return self.client.call(tool, arguments)


def _centre(element: dict[str, Any]) -> dict[str, int]:
    x, y, w, h = element["box"]
    return {"x": x + w // 2, "y": y + h // 2}


def _find(agent: Agent, **filters: Any) -> dict[str, Any]:
    return wait_until(lambda: agent.oracle("find", filters)["elements"], what=f"an element {filters}")[0]


def _ref(text: str, line: str) -> str:
    """The ref a model reads off an answer: that of the first line matching `line` (a regex)."""
    found = re.search(line + r" \[ref=(e\d+)\]", text)
    if found is None:
        raise AssertionError(f"no line {line!r} in:\n{text}")
    return found[1]


@dataclass
class Task:
    name: str
    setup: Callable[[SandboxSession], None]
    gui: Callable[[Agent, SandboxSession], None]
    refs: Callable[[Agent, SandboxSession], None]
    check: Callable[[SandboxSession], bool]


# ----- gnome-calculator: 1234 x 5678 ---------------------------------------------------------------


def _calculator(session: SandboxSession) -> None:
    session.launch("gnome-calculator")
    wait_for_app(session, "gnome-calculator")


def _calculate_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")
    agent("click", _centre(_find(agent, role="text", states=["editable"])))
    agent("type_text", {"text": "1234*5678", "submit": True})
    agent("screenshot")


def _calculate_refs(agent: Agent, session: SandboxSession) -> None:
    display = _read_ref(agent, role="text", states=["editable"])
    agent("type_text", {"ref": display, "text": "1234*5678", "submit": True})


def _calculated(session: SandboxSession) -> bool:
    shown = str(atspi(session, "text", "gnome-calculator"))
    return "7006652" in shown.replace(",", "").replace("\u2009", "").replace(" ", "")


# ----- mousepad: type Unicode, save through the Save dialog ---------------------------------------


def _mousepad(session: SandboxSession) -> None:
    session.launch("mousepad")
    wait_for_app(session, "mousepad")


def _saved(session: SandboxSession) -> Path:
    return Path(session.env["HOME"]) / "notes" / "greeting.txt"


def _save_setup(session: SandboxSession) -> None:
    home_file(session, "notes/.keep", "")  # the folder, writable by the desktop's apps
    _mousepad(session)


def _save_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")
    agent("click", _centre(_find(agent, role="text", states=["editable"])))
    agent("type_text", {"text": UNICODE})
    agent("press_keys", {"keys": "ctrl+s"})
    agent("screenshot")
    _type_path(agent, _saved(session), "Save As")


def _type_path(agent: Agent, path: Path, dialog: str) -> None:
    """Type a path into a file dialog and press Return, as a person does; look, and again if need be."""
    agent("type_text", {"text": str(path)})
    agent("press_keys", {"keys": "Return"})
    agent("screenshot")
    # Typing a path plus Return can leave the dialog open (its completion popup takes the Return).
    try:
        wait_until(lambda: not _showing(agent, dialog), timeout=3, what=f"{dialog!r} to close")
    except AssertionError:
        agent("press_keys", {"keys": "Return"})
        agent("screenshot")


def _showing(agent: Agent, title: str) -> bool:
    """Whether a window of this title is on screen: what the model reads off its screenshot."""
    return any(w["title"] == title for w in agent.oracle("list_windows", {})["windows"])


def _read_ref(agent: Agent, **filters: Any) -> str:
    """A counted find, whose text the model reads the ref from (the oracle reads the same ref)."""
    agent("find", filters)
    return _find(agent, **filters)["ref"]


def _save_refs(agent: Agent, session: SandboxSession) -> None:
    ref = _read_ref(agent, role="text", states=["editable"])
    agent("type_text", {"ref": ref, "text": UNICODE})
    agent("menu_select", {"path": "File > Save As..."})
    agent("file_dialog", {"path": str(_saved(session))})


def _save_check(session: SandboxSession) -> bool:
    return _saved(session).exists() and _saved(session).read_text() == UNICODE


# ----- mousepad: open a nested file through the Open dialog ----------------------------------------


def _nested(session: SandboxSession) -> Path:
    return Path(session.env["HOME"]) / "projects" / "2026" / "q4" / "plan.txt"


def _open_setup(session: SandboxSession) -> None:
    home_file(session, str(_nested(session).relative_to(session.env["HOME"])), "the plan\n")
    _mousepad(session)


def _open_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")
    agent("press_keys", {"keys": "ctrl+o"})
    agent("screenshot")
    agent("press_keys", {"keys": "ctrl+l"})
    _type_path(agent, _nested(session), "Open File")


def _open_refs(agent: Agent, session: SandboxSession) -> None:
    agent("menu_select", {"path": "File > Open..."})
    agent("file_dialog", {"path": str(_nested(session))})


def _open_check(session: SandboxSession) -> bool:
    return "plan.txt" in _active(session, "_NET_WM_NAME")


# ----- gtk3-widget-factory: a slider, a spin button and a check button ------------------------------


def _factory_setup(session: SandboxSession) -> None:
    session.launch(FACTORY)
    wait_for_app(session, FACTORY)


def _enabled(agent: Agent, role: str) -> dict[str, Any]:
    return wait_until(
        lambda: [e for e in agent.oracle("find", {"role": role})["elements"] if "enabled" in e["states"]],
        what=f"an enabled {role}",
    )[0]


def _factory_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")
    spin = _enabled(agent, "spin button")
    agent("click", {**_centre(spin), "count": 3})
    agent("type_text", {"text": "42", "submit": True})
    slider = _enabled(agent, "slider")
    agent("click", _centre(slider))
    agent("press_keys", {"keys": "Home"})
    agent("press_keys", {"keys": "Right", "repeat": 30})
    box = next(e for e in agent.oracle("find", {"role": "check box"})["elements"] if _unchecked(e))
    agent("click", _centre(box))
    agent("screenshot")


def _unchecked(element: dict[str, Any]) -> bool:
    return "enabled" in element["states"] and not {"checked", "indeterminate"} & set(element["states"])


def _factory_refs(agent: Agent, session: SandboxSession) -> None:
    agent("snapshot")  # the model reads the three refs off it; the oracle picks the same ones
    agent("set_value", {"ref": _enabled(agent, "spin button")["ref"], "value": "42"})
    agent("set_value", {"ref": _enabled(agent, "slider")["ref"], "value": "30"})
    box = next(e for e in agent.oracle("find", {"role": "check box"})["elements"] if _unchecked(e))
    agent("set_value", {"ref": box["ref"], "value": "true"})


def _factory_check(session: SandboxSession) -> bool:
    spins = atspi(session, "values", FACTORY, "spin button")
    sliders = atspi(session, "values", FACTORY, "slider")
    boxes = atspi(session, "values", FACTORY, "check box")
    return (
        any(v == 42 for _, _, v in spins)
        and any(v == 30 for _, _, v in sliders)
        and sum("checked" in s for _, s, _ in boxes) >= 2  # one more than the factory starts with
    )


# ----- two windows: raise and maximize the one behind ----------------------------------------------


def _two_windows(session: SandboxSession) -> None:
    _mousepad(session)
    _factory_setup(session)
    wait_until(lambda: len(atspi(session, "apps")) >= 2, what="two apps")


def _behind(agent: Agent) -> dict[str, Any]:
    windows = wait_until(lambda: agent.oracle("list_windows", {})["windows"], what="windows")
    return next(w for w in windows if "Mousepad" in w["app"] and not w["active"]) if len(windows) > 1 else windows[0]


def _windows_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")
    target = _behind(agent)
    agent("click", {"x": target["x"] + target["width"] // 2, "y": max(0, target["y"] - 10)})  # its title bar
    agent("screenshot")
    agent("click", {"x": target["x"] + target["width"] // 2, "y": max(0, target["y"] - 10), "count": 2})
    agent("screenshot")


def _windows_refs(agent: Agent, session: SandboxSession) -> None:
    agent("list_windows")
    target = _behind(agent)
    agent("activate_window", {"window": target["id"]})
    agent("window_op", {"window": target["id"], "op": "maximize"})


def _windows_check(session: SandboxSession) -> bool:
    window = active_window(session)
    maximized = {"_NET_WM_STATE_MAXIMIZED_VERT", "_NET_WM_STATE_MAXIMIZED_HORZ"}
    return window is not None and "Mousepad" in _active(session, "WM_CLASS") and maximized <= wm_state(session, window)


def _active(session: SandboxSession, prop: str) -> str:
    """A property of the active window, as xprop prints it."""
    window = active_window(session)
    if window is None:
        return ""
    argv = ["xprop", "-id", hex(window), prop]
    return subprocess.run(argv, env=session.env, capture_output=True, text=True, timeout=10).stdout


# ----- LibreOffice: a Calc table with a SUM saved as xlsx, Writer with a bold paragraph as docx ------

FIGURES = ("120", "80", "45")


def _office(session: SandboxSession, app: str) -> None:
    home_file(session, ".config/libreoffice/4/user/registrymodifications.xcu", QUIET_PROFILE)  # no tips dialog
    session.launch([app, "--norestore", "--nologo"])
    wait_for_app(session, "soffice", timeout=90)


def _sheet(session: SandboxSession) -> Path:
    return Path(session.env["HOME"]) / "totals.xlsx"


def _calc_setup(session: SandboxSession) -> None:
    _office(session, "localc")


def _calc_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")
    agent("click", _centre(_find(agent, role="table cell", name="A1")))
    agent("type_text", {"text": "\n".join(FIGURES) + "\n=SUM(A1:A3)\n"})
    _save_as_gui(agent, _sheet(session))


def _save_as_gui(agent: Agent, path: Path) -> None:
    """LibreOffice's Save As by keys, then "keep the format?" answered with its default button (Use Excel
    / Word 2007-365), each step looked at first."""
    agent("press_keys", {"keys": "ctrl+shift+s"})
    agent("screenshot")
    _type_path(agent, path, "Save")
    wait_until(lambda: _showing(agent, "Confirm File Format"), timeout=20, what="the format question")
    agent("press_keys", {"keys": "Return"})
    agent("screenshot")


def _keep_format(agent: Agent, answer: str, button: str) -> None:
    """Answer LibreOffice's "keep the format?" question, reading its button's ref off the dialog."""
    if "Confirm File Format" not in answer:
        raise AssertionError(f"no format question after saving:\n{answer}")
    agent("click", {"ref": _ref(agent("find", {"role": "button", "name": button}), 'button "[^"]*"')})


def _calc_refs(agent: Agent, session: SandboxSession) -> None:
    table = _ref(agent("find", {"role": "table"}), 'table "[^"]*"')
    typed = agent("type_text", {"ref": f"{table}:A1", "text": "\n".join(FIGURES) + "\n=SUM(A1:A3)\n"})
    if "Typed" not in typed:
        raise AssertionError(f"typing into the sheet failed:\n{typed}")
    agent("menu_select", {"path": "File > Save As..."})
    _keep_format(agent, agent("file_dialog", {"path": str(_sheet(session))}), "Use Excel 2007-365")


def _calc_check(session: SandboxSession) -> bool:
    if not _sheet(session).exists():
        return False
    formulas = openpyxl.load_workbook(_sheet(session)).active
    values = openpyxl.load_workbook(_sheet(session), data_only=True).active
    figures = [values[f"A{row}"].value for row in (1, 2, 3)]
    return figures == [int(f) for f in FIGURES] and formulas["A4"].value == "=SUM(A1:A3)" and values["A4"].value == 245


HEADLINE = "Quarterly results"


def _document(session: SandboxSession) -> Path:
    return Path(session.env["HOME"]) / "report.docx"


def _writer_setup(session: SandboxSession) -> None:
    _office(session, "lowriter")


def _writer_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")  # the caret is in the empty page
    agent("type_text", {"text": HEADLINE})
    agent("press_keys", {"keys": "ctrl+a"})
    agent("press_keys", {"keys": "ctrl+b"})
    _save_as_gui(agent, _document(session))


def _writer_refs(agent: Agent, session: SandboxSession) -> None:
    page = _ref(agent("find", {"role": "document", "states": ["editable"]}), 'document "[^"]*"')
    agent("type_text", {"ref": page, "text": HEADLINE})
    agent("press_keys", {"keys": "ctrl+a"})
    agent(
        "click", {"ref": _ref(agent("find", {"role": "button", "name": "Bold", "name_exact": True}), 'button "Bold"')}
    )
    agent("menu_select", {"path": "File > Save As..."})
    _keep_format(agent, agent("file_dialog", {"path": str(_document(session))}), "Use Word 2007-365")


def _writer_check(session: SandboxSession) -> bool:
    if not _document(session).exists():
        return False
    paragraphs = [p for p in docx.Document(str(_document(session))).paragraphs if p.text.strip()]
    return [p.text for p in paragraphs] == [HEADLINE] and all(
        run.bold or (run.font.bold) for run in paragraphs[0].runs if run.text.strip()
    )


# ----- Chromium: fill an order form; a local HTTP server receives the values ----------------------

ORDER = {"name": "Ada Lovelace", "email": "ada@example.org", "size": "l", "gift": "on"}
_SITES = contextlib.ExitStack()  # the form's web site, started once and kept for the process's life
atexit.register(_SITES.close)


@functools.cache
def _site() -> WebForm:
    return _SITES.enter_context(web_form())


def _form_setup(session: SandboxSession) -> None:
    _site().submissions.clear()
    session.launch(
        ["chromium", "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--password-store=basic",
         f"--user-data-dir={session.env['HOME']}/chromium", _site().url]
    )  # fmt: skip
    wait_for_app(session, "chromium", timeout=60)


def _form_gui(agent: Agent, session: SandboxSession) -> None:
    agent("screenshot")
    wait_until(lambda: agent.oracle("find", {"role": "button", "name": "Send order"})["elements"], what="the form")
    for label in ("Name", "Email"):
        agent("click", _centre(_find(agent, role="textbox", name=label)))
        agent("type_text", {"text": ORDER[label.lower()]})
    agent("click", _centre(_find(agent, role="combobox", name="Size")))  # its list opens on Small
    agent("screenshot")
    agent("press_keys", {"keys": "Down", "repeat": 2})
    agent("press_keys", {"keys": "Return"})
    agent("click", _centre(_find(agent, role="checkbox", name="Gift wrap")))
    agent("screenshot")
    agent("click", _centre(_find(agent, role="button", name="Send order")))
    agent("screenshot")


def _form_refs(agent: Agent, session: SandboxSession) -> None:
    form = wait_until(lambda: "Send order" in (text := agent("snapshot")) and text, what="the form")
    agent("type_text", {"ref": _ref(form, 'textbox "Name"'), "text": ORDER["name"]})
    agent("type_text", {"ref": _ref(form, 'textbox "Email"'), "text": ORDER["email"]})
    chosen = agent("set_value", {"ref": _ref(form, 'combobox "Size"'), "value": "Large"})
    if 'combobox "Size"' not in chosen or '= "Large"' not in chosen:  # the answer says what the select holds
        raise AssertionError(f"the select's answer does not show the choice:\n{chosen}")
    agent("set_value", {"ref": _ref(form, 'checkbox "Gift wrap"'), "value": "true"})
    agent("click", {"ref": _ref(form, 'button "Send order"')})


def _form_check(session: SandboxSession) -> bool:
    sent = _site().submissions
    return bool(sent) and {key: sent[-1].get(key) for key in ORDER} == ORDER


TASKS = [
    Task("gnome-calculator: 1234 x 5678", _calculator, _calculate_gui, _calculate_refs, _calculated),
    Task("mousepad: Unicode text saved through the Save dialog", _save_setup, _save_gui, _save_refs, _save_check),
    Task("mousepad: a nested file opened through the Open dialog", _open_setup, _open_gui, _open_refs, _open_check),
    Task(
        "gtk3-widget-factory: slider, spin button, check button",
        _factory_setup,
        _factory_gui,
        _factory_refs,
        _factory_check,
    ),
    Task("two windows: raise and maximize the one behind", _two_windows, _windows_gui, _windows_refs, _windows_check),
    Task("LibreOffice Calc: a SUM saved as xlsx through Save As", _calc_setup, _calc_gui, _calc_refs, _calc_check),
    Task("LibreOffice Writer: a bold paragraph saved as docx", _writer_setup, _writer_gui, _writer_refs, _writer_check),
    Task("Chromium: an order form sent to a local server", _form_setup, _form_gui, _form_refs, _form_check),
]
