"""An independent client: the MCP Inspector CLI (Node) drives the server over stdio."""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from tests.support.desktop import atspi, wait_for_app, wait_until

ROOT = Path(__file__).resolve().parents[1]
INSPECTOR = ROOT / "tests" / "node" / "node_modules" / ".bin" / "mcp-inspector"
CUA_MCP = str(Path(sys.executable).with_name("cua-mcp"))

pytestmark = pytest.mark.skipif(
    not INSPECTOR.exists() or shutil.which("node") is None, reason="run scripts/setup to install the Inspector CLI"
)


def inspector(session, *args: str, era: str = "legacy", timeout: float = 90) -> subprocess.CompletedProcess:
    command = [
        str(INSPECTOR), "--cli", "--protocol-era", era, "-e",
        f"DBUS_SESSION_BUS_ADDRESS={session.env['DBUS_SESSION_BUS_ADDRESS']}",
        "-e", f"XAUTHORITY={session.env['XAUTHORITY']}",  # the sandbox display admits its cookie's holders only
        CUA_MCP, "--display", session.display, *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("era", ["legacy", "modern"])
def test_inspector_lists_the_tools(session, era):
    done = inspector(session, "--method", "tools/list", "--format", "json", era=era)
    assert done.returncode == 0, done.stderr[-2000:]
    tools = {tool["name"]: tool for tool in json.loads(done.stdout)["result"]["tools"]}
    assert {"screenshot", "click", "type_text", "press_keys", "screen_info"} <= set(tools)
    assert tools["click"]["annotations"]["readOnlyHint"] is False
    assert tools["screenshot"]["annotations"]["readOnlyHint"] is True


def test_inspector_types_into_an_app(session):
    session.launch("mousepad")
    wait_for_app(session, "mousepad")
    wait_until(lambda: atspi(session, "text", "mousepad") == "", what="an empty document")
    done = inspector(
        session, "--method", "tools/call", "--tool-name", "type_text", "--tool-args-json",
        json.dumps({"text": "from the inspector ✓"}), "--format", "json",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["result"]["structuredContent"]["done"] == "typed 20 characters"
    wait_until(lambda: atspi(session, "text", "mousepad") == "from the inspector ✓", what="the typed text")


def test_inspector_takes_a_screenshot(session, tmp_path):
    out = tmp_path / "shot.json"
    done = inspector(
        session, "--method", "tools/call", "--tool-name", "screenshot", "--tool-args-json",
        json.dumps({"format": "jpeg"}), "--output", str(out), "-q", era="modern",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(out.read_text())
    image_block, text_block = result["content"]
    assert image_block["mimeType"] == "image/jpeg" and "1280x720 JPEG" in text_block["text"]
    with Image.open(io.BytesIO(base64.b64decode(image_block["data"]))) as image:
        assert (image.format, image.size) == ("JPEG", (1280, 720))


def test_inspector_sees_tool_errors(session):
    done = inspector(
        session, "--method", "tools/call", "--tool-name", "click", "--tool-args-json",
        json.dumps({"x": 4000, "y": 1}), "--format", "json",
    )  # fmt: skip
    result = json.loads(done.stdout)["result"] if done.stdout.strip() else {}
    assert result.get("isError") is True, done.stdout + done.stderr
    assert "x=4000 is outside 0..1279" in result["content"][0]["text"]
