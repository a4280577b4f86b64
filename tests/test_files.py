"""The workspace jail: normal reads and writes work, escapes are refused with a clear error."""

from __future__ import annotations

import contextlib
import os

import pytest

from cua_mcp.errors import InvalidArgumentError, OutsideWorkspaceError
from cua_mcp.sandbox import _beneath
from cua_mcp.sandbox.workspace import Workspace
from tests.support.attacks import Swapper
from tests.support.mcp_client import McpServerProcess

# ----- the jail itself (no desktop) -----------------------------------------------------------


@pytest.fixture
def jail(tmp_path):
    (tmp_path / "outside.txt").write_text("secret")
    root = tmp_path / "ws"
    root.mkdir()
    (root / "inside.txt").write_text("hello\n")
    os.symlink(tmp_path / "outside.txt", root / "link-out")
    os.symlink(tmp_path, root / "dir-out")
    os.symlink(root / "inside.txt", root / "link-in")
    return Workspace(root)


@pytest.mark.parametrize(
    "path",
    [
        "../outside.txt",
        "a/../../outside.txt",
        "..",
        "sub/..",
        "/etc/passwd",
        "link-out",
        "dir-out/outside.txt",
        "link-in",
    ],
)
def test_escapes_are_refused(jail, path):
    # Even a link that stays inside: file tools follow no links, so none can be swapped to lead out.
    with pytest.raises(OutsideWorkspaceError):
        jail.resolve(path)


def test_paths_inside_resolve(jail):
    root = jail.root
    assert jail.resolve("inside.txt") == root / "inside.txt"
    assert jail.resolve(str(root / "inside.txt")) == root / "inside.txt"  # absolute, but inside
    assert jail.resolve("") == root and jail.resolve(".") == root
    assert jail.resolve("new/deeper/file.txt") == root / "new/deeper/file.txt"


def test_write_through_a_symlink_out_is_refused(jail, tmp_path):
    with pytest.raises(OutsideWorkspaceError):
        jail.write_text("link-out", "overwritten")
    with pytest.raises(OutsideWorkspaceError):
        jail.write_text("dir-out/new.txt", "x")
    assert (tmp_path / "outside.txt").read_text() == "secret"
    assert not (tmp_path / "new.txt").exists()


def test_read_by_lines_with_offsets(jail):
    jail.write_text("lines.txt", "".join(f"line {i}\n" for i in range(10)))
    chunk = jail.read_text("lines.txt", offset=3, limit=4)
    assert chunk.text == "line 3\nline 4\nline 5\nline 6\n" and chunk.total_lines is None
    end = jail.read_text("lines.txt", offset=8, limit=100)
    assert end.text == "line 8\nline 9\n" and end.total_lines == 10


def test_binary_and_folders_are_explained(jail):
    (jail.root / "blob.bin").write_bytes(b"\0\1\2")
    with pytest.raises(InvalidArgumentError, match="binary"):
        jail.read_text("blob.bin")
    with pytest.raises(InvalidArgumentError, match="folder"):
        jail.read_text(".")
    with pytest.raises(InvalidArgumentError, match="does not exist"):
        jail.read_text("missing.txt")


def test_list_does_not_follow_links_out(jail):
    jail.write_text("a/b/deep.csv", "1,2")
    names = [e.path for e in jail.list(".", "*")[0]]
    assert names == ["a", "dir-out", "inside.txt", "link-in", "link-out"]
    deep = [e.path for e in jail.list(".", "**/*.csv")[0]]
    assert deep == ["a/b/deep.csv"]
    assert all("outside" not in e.path for e in jail.list(".", "**")[0])


# ----- through the MCP server ------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(session, tmp_path_factory):
    workspace = tmp_path_factory.mktemp("files-ws")
    with McpServerProcess(["--display", session.display, "--workspace", str(workspace)]) as mcp:
        yield mcp, workspace


def test_write_read_list_round_trip(server):
    mcp, workspace = server
    written = mcp.call("write_file", {"path": "notes/todo.txt", "content": "buy milk\n"})
    assert written["size"] == 9 and (workspace / "notes/todo.txt").read_text() == "buy milk\n"
    mcp.call("write_file", {"path": "notes/todo.txt", "content": "call mum\n", "append": True})
    read = mcp.call("read_file", {"path": "notes/todo.txt"})
    assert read["content"] == "buy milk\ncall mum\n" and read["next_offset"] is None
    listing = mcp.call("list_files", {"path": "notes"})
    assert [e["path"] for e in listing["entries"]] == ["notes/todo.txt"]


def test_the_model_reads_plain_text_not_json(server):
    mcp, workspace = server
    mcp.call("write_file", {"path": "plain/a.txt", "content": "one\ntwo\n"})
    texts = {
        tool: mcp.text(tool, args)
        for tool, args in [
            ("write_file", {"path": "plain/a.txt", "content": "three\n", "append": True}),
            ("read_file", {"path": "plain/a.txt", "limit": 2}),
            ("list_files", {"path": "plain"}),
        ]
    }
    assert texts["write_file"] == f"Appended to plain/a.txt: 14 bytes now (apps see it as {workspace}/plain/a.txt)."
    assert texts["read_file"] == (
        "plain/a.txt (14 bytes), lines 0-1 (0-based):\none\ntwo\n[more: read on with offset=2]"
    )
    assert texts["list_files"].startswith(f"1 entry in plain ({workspace}):\nplain/a.txt  14 bytes  20")


def test_a_message_of_megabytes_crosses_stdio_whole(server):
    # Far beyond one pipe buffer and asyncio's default 64 KiB line limit, with multi-byte characters.
    mcp, workspace = server
    content = "".join(f"line {i}: héllo wörld € 日本 🙂\n" for i in range(100_000))
    written = mcp.call("write_file", {"path": "big.txt", "content": content})
    assert (workspace / "big.txt").read_text(encoding="utf-8") == content
    assert written["size"] == len(content.encode("utf-8"))
    read = mcp.call("read_file", {"path": "big.txt", "offset": 99_998})
    assert read["content"] == content.splitlines(keepends=True)[-2] + content.splitlines(keepends=True)[-1]


def test_escapes_through_the_server_are_tool_errors(server, tmp_path_factory):
    mcp, workspace = server
    outside = tmp_path_factory.mktemp("outside")
    (outside / "secret.txt").write_text("secret")
    os.symlink(outside, workspace / "escape")
    assert "contains '..'" in mcp.error("read_file", {"path": "../secret.txt"})
    assert "outside the workspace" in mcp.error("read_file", {"path": str(outside / "secret.txt")})
    assert "symbolic link" in mcp.error("read_file", {"path": "escape/secret.txt"})
    assert "symbolic link" in mcp.error("write_file", {"path": "escape/new.txt", "content": "x"})
    assert not (outside / "new.txt").exists()
    assert mcp.call("list_files")["entries"]  # still serving


@pytest.mark.parametrize("kernel", ["openat2", "walk"])
def test_a_swapped_folder_never_leads_out_in_process(tmp_path, monkeypatch, kernel):
    # The same race as tests/test_attacks_files.py, straight on the jail, with and without openat2.
    if kernel == "walk":
        monkeypatch.setattr(_beneath, "has_openat2", lambda: False)
    outside, root = tmp_path / "outside", tmp_path / "ws"
    (root / "box").mkdir(parents=True)
    outside.mkdir()
    (root / "box/f.txt").write_text("inside")
    (outside / "f.txt").write_text("SECRET")
    os.symlink(outside, root / "swap")
    jail, swapper, leaked = Workspace(root), Swapper(root / "box", root / "swap"), 0
    swapper.start()
    try:
        for i in range(300):
            with contextlib.suppress(InvalidArgumentError, OutsideWorkspaceError):
                jail.write_text(f"box/sub/w{i}.txt", "pwned")
            with contextlib.suppress(InvalidArgumentError, OutsideWorkspaceError):
                leaked += "SECRET" in jail.read_text("box/f.txt").text
    finally:
        swapper.stop()
    assert (leaked, sorted(p.name for p in outside.rglob("*"))) == (0, ["f.txt"])
