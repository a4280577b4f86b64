"""Pure logic: the app catalog's parsing and merging, and which window a selector names."""

from __future__ import annotations

import pytest

from cua_mcp.errors import InvalidArgumentError, UnknownAppError, WindowNotFoundError
from cua_mcp.sandbox.apps import AppCatalog, CatalogError, parse_catalog
from cua_mcp.sandbox.window_match import select_window
from cua_mcp.sandbox.x11.windows import WindowInfo


def test_shipped_catalog_has_what_setup_installs():
    catalog = AppCatalog.load()
    for name in ("mousepad", "gnome-calculator", "xterm", "libreoffice-calc", "libreoffice-writer",
                 "libreoffice-impress", "chromium"):  # fmt: skip
        assert name in catalog.names
    chromium = catalog.get("chromium")
    argv = chromium.argv(["https://example.org"], {"data": "/private", "workspace": "/ws"})
    assert "--force-renderer-accessibility" in argv and "--user-data-dir=/private/chromium" in argv
    assert argv[-1] == "https://example.org"


def test_entries_parse_with_defaults_and_placeholders():
    apps = parse_catalog(
        """
        [apps.editor]
        command = "gedit --new-window"
        env = { GEDIT_DIR = "{workspace}/gedit" }
        [apps.tool]
        command = ["tool", "--data={data}"]
        sandboxed = false
        wm_class = "Tool"
        wait_seconds = 5
        """,
        "test",
    )
    editor, tool = apps["editor"], apps["tool"]
    assert editor.command == ("gedit", "--new-window") and editor.sandboxed and editor.wait_seconds == 30
    assert editor.environment({"workspace": "/ws"}) == {"GEDIT_DIR": "/ws/gedit"}
    assert tool.argv([], {"data": "/d"}) == ["tool", "--data=/d"] and not tool.sandboxed and tool.wm_class == "Tool"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[apps.x]\ncommand = []", "'command' must be"),
        ("[apps.x]\ncommand = ['a']\nsandbox = true", "unknown keys ['sandbox']"),
        ("[apps.x]\ncommand = ['a']\nsandboxed = 'yes'", "'sandboxed' must be"),
        ("[apps.x]\ncommand = ['a']\nenv = { A = 1 }", "'env' must be"),
        ("[apps.x]\ncommand = ['a']\nwait_seconds = 0", "'wait_seconds'"),
        ("[apps.'bad name']\ncommand = ['a']", "names are"),
        ("[mousepad]\ncommand = ['a']", "unknown top-level keys"),
        ("[apps.x\n", "not valid TOML"),
    ],
)
def test_bad_entries_say_what_is_wrong(text, message):
    with pytest.raises(CatalogError, match=message.replace("[", r"\[").replace("]", r"\]")) as info:
        parse_catalog(text, "my.toml")
    assert "my.toml" in str(info.value)


def test_args_are_operands_unless_the_entry_allows_options():
    catalog = AppCatalog.load()
    with pytest.raises(InvalidArgumentError, match="not options"):
        catalog.get("xterm").argv(["-e", "rm -rf ~"], {})
    with pytest.raises(InvalidArgumentError, match="--renderer-cmd-prefix"):
        catalog.get("chromium").argv(["--renderer-cmd-prefix=sh", "https://example.org"], {"data": "/d"})
    permissive = parse_catalog("[apps.t]\ncommand = ['t']\nallow_options = true", "test")["t"]
    assert permissive.argv(["-v", "file"], {}) == ["t", "-v", "file"]


def test_user_file_adds_and_replaces(tmp_path):
    extra = tmp_path / "apps.toml"
    extra.write_text('[apps.mousepad]\ncommand = ["mousepad", "--disable-server"]\n[apps.gedit]\ncommand = ["gedit"]\n')
    catalog = AppCatalog.load(extra)
    assert catalog.get("mousepad").command == ("mousepad", "--disable-server")
    assert catalog.get("gedit").command == ("gedit",) and "chromium" in catalog.names


def test_unknown_app_lists_the_catalog():
    with pytest.raises(UnknownAppError, match=r"Choose one of: mousepad .*chromium"):
        AppCatalog.load().get("photoshop")


def _window(id: int, title: str, wm_class: str) -> WindowInfo:
    return WindowInfo(id, title, wm_class, 1, 0, 0, 10, 10, False, True)


WINDOWS = [
    _window(0x100, "notes.txt - Mousepad", "Mousepad"),
    _window(0x200, "Untitled 1 - Mousepad", "Mousepad"),
    _window(0x300, "Calculator", "gnome-calculator"),
]


def test_select_by_id_exact_name_and_unique_substring():
    assert select_window(WINDOWS, "0x200").id == 0x200
    assert select_window(WINDOWS, str(0x300)).id == 0x300
    assert select_window(WINDOWS, "calculator").id == 0x300  # exact title wins over substring of class
    assert select_window(WINDOWS, "notes").id == 0x100


def test_ambiguous_and_missing_list_candidates():
    with pytest.raises(WindowNotFoundError, match=r"2 windows match 'mousepad'.*0x00000100.*0x00000200"):
        select_window(WINDOWS, "mousepad")
    with pytest.raises(WindowNotFoundError, match=r"no window matches 'gimp'.*Calculator"):
        select_window(WINDOWS, "gimp")
