"""The HTTP transport from the outside: its front door (token, Host, Origin, bind rules), both
protocol eras through the SDK client, an independent client (MCP Inspector), a screenshot too big
for an SSE event, the group policy, and the audit log."""

from __future__ import annotations

import base64
import io
import json
import os
import subprocess
from pathlib import Path

import httpx2
import pytest
from PIL import Image

from tests.support.desktop import wait_until
from tests.support.http_server import HttpServer
from tests.support.mcp_client import CUA_MCP, McpServerProcess, bus_env

TOKEN = "test-token-Zq8"
INSPECTOR = Path(__file__).parent / "node" / "node_modules" / ".bin" / "mcp-inspector"
ONE_MIB = 1024 * 1024
# One legacy-era JSON-RPC body, valid enough to get past the guard to the SDK.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "curl", "version": "0"}},
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def audit_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("audit") / "calls.jsonl"


@pytest.fixture(scope="module")
def server(session, audit_log, tmp_path_factory):
    """Native scale, so a screenshot is a full 1920x1080 PNG; typed text redacted in the log."""
    args = ["--display", session.display, "--scale", "native", "--audit-log", str(audit_log), "--redact-text"]
    http = HttpServer(args, env=bus_env(session), token=TOKEN)
    http.start(tmp_path_factory.mktemp("server") / "stderr.log")
    yield http
    http.stop()


def _post(server: HttpServer, headers: dict[str, str]) -> httpx2.Response:
    return httpx2.post(server.url, json=INITIALIZE, headers={**MCP_HEADERS, **headers}, timeout=10)


# ----- the front door ----------------------------------------------------------------------


def test_healthz_answers_without_a_token(server):
    response = httpx2.get(f"{server.base}/healthz", timeout=5)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic dGVzdA==", f"Bearer {TOKEN}x"])
def test_missing_or_wrong_token_is_401(server, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    response = _post(server, headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert "token" in response.json()["error"]
    for path in ("/", "/frame.jpg", "/calls.json"):
        assert httpx2.get(server.base + path, headers=headers, timeout=5).status_code == 401


def test_the_right_token_gets_through(server):
    response = _post(server, server.headers)
    assert response.status_code == 200
    assert response.json()["result"]["serverInfo"]["name"] == "cua-mcp"


def test_foreign_origin_is_403(server):
    response = _post(server, {**server.headers, "Origin": "http://evil.example"})
    assert response.status_code == 403
    assert "Origin" in response.json()["error"]


def test_our_own_origin_is_accepted(server):
    response = _post(server, {**server.headers, "Origin": f"http://127.0.0.1:{server.port}"})
    assert response.status_code == 200


def test_bad_host_is_421(server):
    for host in ("evil.example", f"evil.example:{server.port}", "127.0.0.1:1"):
        response = _post(server, {**server.headers, "Host": host})
        assert response.status_code == 421, host


def test_live_view_link_trades_the_token_for_a_cookie(server):
    with httpx2.Client(base_url=server.base, timeout=10) as browser:
        assert browser.get("/?token=wrong").status_code == 401
        login = browser.get(f"/?token={TOKEN}")
        assert login.status_code == 303
        assert login.headers["location"] == "/"
        assert TOKEN not in login.headers["set-cookie"]  # the cookie holds a digest, not the token
        page = browser.get("/")
        assert page.status_code == 200
        assert "/frame.jpg" in page.text
        frame = browser.get("/frame.jpg")
        assert frame.headers["content-type"] == "image/jpeg"
        assert Image.open(io.BytesIO(frame.content)).size == (1920, 1080)
        # The cookie opens the live view only, never the MCP endpoint (no cross-site tool calls).
        assert browser.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS).status_code == 401


def test_non_loopback_bind_without_token_refuses_to_start(session):
    for host in ("0.0.0.0", "192.0.2.7"):
        result = subprocess.run(
            [CUA_MCP, "--transport", "http", "--host", host, "--display", session.display],
            env={**os.environ, **bus_env(session), "CUA_MCP_TOKEN": ""},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert result.returncode != 0
        assert f"refusing to listen on {host}" in result.stderr
        assert "CUA_MCP_TOKEN" in result.stderr


def test_unknown_group_is_a_cli_error():
    result = subprocess.run([CUA_MCP, "--allow", "shel"], capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert "unknown tool group(s) shel" in result.stderr
    assert "observe, input" in result.stderr


# ----- MCP over HTTP -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def busy_screen(session):
    """Random pixels over the whole screen: a PNG that compresses badly, as a busy desktop does."""
    path = Path(session.env["HOME"]) / "noise.png"  # where the desktop's unprivileged user can read it
    Image.frombytes("RGB", (1920, 1080), os.urandom(1920 * 1080 * 3)).save(path, compress_level=1)
    viewer = session.launch(["display", "-geometry", "+0+0", "-borderwidth", "0", str(path)])
    yield viewer
    viewer.terminate()
    viewer.wait(timeout=10)


@pytest.mark.parametrize("era,version", [("legacy", "2025-11-25"), ("modern", "2026-07-28")])
def test_sdk_client_screenshots_and_clicks_in_both_eras(server, busy_screen, era, version):
    with server.client(era) as client:
        assert client.protocol_version == version

        # The noise window takes a moment to map: wait until the screen really is busy.
        def big_png():
            data, mime, meta = client.image({"format": "png"})
            return (data, mime, meta) if len(base64.b64encode(data)) > ONE_MIB else None

        data, mime, meta = wait_until(big_png, timeout=20, interval=0.3, what="a busy screen")
        assert mime == "image/png"
        assert (meta["width"], meta["height"]) == (1920, 1080)
        assert len(base64.b64encode(data)) > ONE_MIB  # more than the SDK client's SSE event limit
        assert client.call("click", {"x": 700, "y": 400})["cursor"] == [700, 400]


def test_inspector_cli_lists_the_tools_over_http(server):
    result = subprocess.run(
        [
            str(INSPECTOR),
            "--cli",
            server.url,
            "--header",
            f"Authorization: Bearer {TOKEN}",
            "--protocol-era",
            "modern",
            "--method",
            "tools/list",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    names = {tool["name"] for tool in json.loads(result.stdout)["tools"]}
    assert {"screenshot", "click", "type_text", "press_keys"} <= names


def test_tool_schemas_do_not_show_the_recorder_context(server):
    with server.client("modern") as client:
        for tool in client.list_tools():
            assert "cua_call_context" not in json.dumps(tool.input_schema), tool.name


# ----- audit -------------------------------------------------------------------------------


def test_audit_log_records_calls_with_typed_text_redacted(server, audit_log):
    secret = "correct horse battery staple"
    with server.client("legacy") as client:
        client.call("move_mouse", {"x": 5, "y": 6})
        client.call("type_text", {"text": secret})
        message = client.error("screenshot", {"region": [0, 0, 0, 0]})
    lines = [json.loads(line) for line in audit_log.read_text().splitlines()]
    assert secret not in audit_log.read_text()
    move, typed, failed = lines[-3:]
    # The arguments the call ran with: what the client sent, and any optional ones at their defaults.
    assert move["tool"] == "move_mouse" and {"x": 5, "y": 6}.items() <= move["arguments"].items()
    assert move["outcome"] == "ok" and move["error"] is None and move["duration_ms"] >= 0
    assert move["client"]["transport"] == "http"
    assert move["client"]["remote"].startswith("127.0.0.1:")
    assert move["client"]["protocol"] == "2025-11-25"
    assert move["client"]["name"]  # the SDK client's clientInfo
    assert move["result"].startswith("[redacted: ")  # results may echo text: redacted as well
    assert typed["tool"] == "type_text"
    assert typed["arguments"]["text"] == f"[redacted: {len(secret)} characters]"
    assert failed["tool"] == "screenshot" and failed["outcome"] == "error"
    assert failed["error"] in message
    # The same recorder feeds the live view.
    calls = httpx2.get(f"{server.base}/calls.json", headers=server.headers, timeout=5).json()["calls"]
    assert [c["tool"] for c in calls[-3:]] == ["move_mouse", "type_text", "screenshot"]
    assert calls[-2]["arguments"]["text"].startswith("[redacted")


def test_calls_json_returns_only_newer_calls(server):
    headers = server.headers
    last = httpx2.get(f"{server.base}/calls.json", headers=headers, timeout=5).json()["last"]
    with server.client("modern") as client:
        client.call("screen_info")
    newer = httpx2.get(f"{server.base}/calls.json?after={last}", headers=headers, timeout=5).json()
    assert [c["tool"] for c in newer["calls"]] == ["screen_info"]
    assert newer["calls"][0]["seq"] == last + 1
    bad = httpx2.get(f"{server.base}/calls.json?after=-1", headers=headers, timeout=5)
    assert bad.status_code == 422


# ----- policy ------------------------------------------------------------------------------


def test_read_only_keeps_observe_alone(session, tmp_path):
    http = HttpServer(["--display", session.display, "--read-only", "--allow", "shell"], env=bus_env(session))
    http.start(tmp_path / "stderr.log")
    try:
        with http.client("modern") as client:
            tools = client.list_tools()
            names = {t.name for t in tools}
            assert {"screenshot", "screen_info", "list_windows"} <= names
            assert not names & {"click", "type_text", "run_command", "write_file", "launch", "clipboard_set"}
            assert all(t.annotations.read_only_hint for t in tools), names
    finally:
        http.stop()


def test_deny_removes_a_group_from_tools_list(session):
    with McpServerProcess(["--display", session.display, "--deny", "input"], env=bus_env(session)) as client:
        names = {t.name for t in client.list_tools()}
        assert "screenshot" in names
        assert not names & {"click", "type_text", "press_keys", "scroll", "drag"}
        result = client.call_raw("click", {"x": 1, "y": 1})
        assert result.is_error


def test_the_default_policy_offers_input_but_no_shell(session):
    with McpServerProcess(["--display", session.display], env=bus_env(session)) as client:
        names = {t.name for t in client.list_tools()}
        assert {"click", "type_text"} <= names
        assert "run_command" not in names


def test_stdio_calls_are_audited_too(session, tmp_path):
    log = tmp_path / "stdio.jsonl"
    args = ["--display", session.display, "--audit-log", str(log)]
    with McpServerProcess(args, env=bus_env(session)) as client:
        client.call("move_mouse", {"x": 3, "y": 4})
        client.call("type_text", {"text": "visible"})
    first, second = (json.loads(line) for line in log.read_text().splitlines())
    assert first["client"]["transport"] == "stdio"
    assert "remote" not in first["client"]
    assert second["arguments"]["text"] == "visible"  # no --redact-text: the text is kept
    assert first["result"].startswith("Moved to (3, 4)."), first["result"]
    assert first["outcome"] == "ok" and first["error"] is None


def test_a_call_the_client_cancels_is_recorded_as_cancelled(server):
    def cancelled_wait():
        calls = httpx2.get(f"{server.base}/calls.json", headers=server.headers, timeout=5).json()["calls"]
        return next((c for c in reversed(calls) if c["tool"] == "wait"), None)

    with server.client("legacy") as client:
        client.call_abandoned("wait", {"seconds": 5}, after=0.5)
        # Closing the client at once races the SDK client's own handling of the cancelled reply.
        record = wait_until(cancelled_wait, timeout=10, what="the cancelled call in the record")
    assert record["outcome"] == "error"
    assert record["error"].startswith("cancelled")
    assert record["duration_ms"] < 5000
