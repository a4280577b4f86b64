"""Two agents on one desktop over HTTP, and a person watching them in the live view.

- Two HTTP clients typing at the same moment never interleave: each call's keystrokes are one
  job on the desktop, so mousepad ends up with one string followed by the other.
- The live view page, opened in headless Chromium through its `?token=` link, shows the desktop
  (a magenta window is visible in the page's own screenshot) and the calls just made.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from tests.support.desktop import atspi, wait_for_app, wait_until
from tests.support.http_server import HttpServer
from tests.support.mcp_client import bus_env

TOKEN = "live-view-token-4Kp"
CHROMIUM = shutil.which("chromium")


@pytest.fixture(scope="module")
def server(session, tmp_path_factory):
    http = HttpServer(["--display", session.display], env=bus_env(session), token=TOKEN)
    http.start(tmp_path_factory.mktemp("server") / "stderr.log")
    yield http
    http.stop()


@pytest.fixture(scope="module")
def mousepad(session, server):
    app = session.launch("mousepad")
    wait_for_app(session, "mousepad")
    wait_until(lambda: atspi(session, "text", "mousepad") == "", what="empty mousepad document")
    yield session
    app.terminate()
    app.wait(timeout=10)


def test_two_http_clients_typing_at_once_never_interleave(server, mousepad):
    # Long strings with disjoint alphabets: any interleaving would show as a mixed run.
    texts = {"legacy": "abcdefghij" * 60, "modern": "0123456789" * 60}
    clients = {era: server.client(era).start() for era in texts}
    try:
        clients["legacy"].call("press_keys", {"keys": "ctrl+a Delete"})
        start = threading.Barrier(len(clients))
        errors: list[BaseException] = []

        def type_it(era: str) -> None:
            try:
                start.wait(timeout=30)
                clients[era].call("type_text", {"text": texts[era]})
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=type_it, args=(era,)) for era in texts]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        assert not errors, errors
    finally:
        for client in clients.values():
            client.close()
    a, b = texts["legacy"], texts["modern"]
    expected = {a + b, b + a}
    final = wait_until(
        lambda: (text := atspi(mousepad, "text", "mousepad")) in expected and text,
        timeout=20,
        what="both strings, one after the other",
    )
    assert final in expected


@pytest.fixture(scope="module")
def magenta_window(session, mousepad):
    """A big, plainly coloured window the page's screenshot can be checked for."""
    app = session.launch(["xterm", "-bg", "#ff00ff", "-fg", "#ff00ff", "-geometry", "150x50+100+100"])
    yield app
    app.terminate()
    app.wait(timeout=10)


def _chromium(url: str, profile: Path, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--user-data-dir={profile}",
            "--window-size=1600,1000",
            # Lets the page's polling run a few seconds of its own time before the capture.
            "--virtual-time-budget=4000",
            *extra,
            url,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


def _magenta_share(path: Path) -> float:
    image = Image.open(path).convert("RGB")
    r, g, b = image.split()
    # 255 where each channel passes; the darker of the three masks is their AND.
    mask = ImageChops.darker(
        ImageChops.darker(r.point(lambda v: 255 if v > 200 else 0), g.point(lambda v: 255 if v < 60 else 0)),
        b.point(lambda v: 255 if v > 200 else 0),
    )
    return mask.histogram()[255] / (image.width * image.height)


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (scripts/setup installs it)")
def test_live_view_in_chromium_shows_the_desktop_and_the_calls(server, magenta_window, tmp_path):
    with server.client("modern") as client:
        # The xterm maps asynchronously: wait until a screenshot through MCP shows it.
        wait_until(
            lambda: _magenta_in_screenshot(client, tmp_path / "mcp.png") > 0.1, timeout=20, what="the magenta window"
        )
        client.call("move_mouse", {"x": 20, "y": 20})
    page_png = tmp_path / "page.png"
    url = f"{server.base}/?token={TOKEN}"
    shot = _chromium(url, tmp_path / "profile", f"--screenshot={page_png}")
    assert page_png.exists(), shot.stderr[-2000:]
    # The window is ~1/6 of the desktop and the desktop ~2/3 of the page: well over 3%.
    assert _magenta_share(page_png) > 0.03
    dom = _chromium(url, tmp_path / "profile2", "--dump-dom")
    assert 'class="tool">move_mouse<' in dom.stdout, dom.stdout[-2000:]
    assert "Moved to (20, 20)." in dom.stdout  # the call's result, as the model read it


def _magenta_in_screenshot(client, path: Path) -> float:
    data, _, _ = client.image({"format": "png"})
    path.write_bytes(data)
    return _magenta_share(path)
