"""Headless Chromium (Debian's, no browser download) driven by Playwright, against the local stack."""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from shared.config import REPO_ROOT
from tests.fixtures.audio_files import sample_file

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
DIST = REPO_ROOT / "frontend_stub" / "dist"
DESKTOP = {"width": 1100, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="session")
def fake_microphone_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What Chromium's fake capture device plays (looped): a cough, then a little quiet."""
    path = tmp_path_factory.mktemp("microphone") / "cough.wav"
    path.write_bytes(sample_file("wav_pcm16", seconds=1.5, rate=48_000, seed=7))
    return path


@pytest.fixture(scope="session")
def browser(fake_microphone_wav: Path) -> Iterator[Browser]:
    assert (DIST / "index.html").is_file(), "frontend_stub/dist is built by `make setup`"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, f"--use-file-for-fake-audio-capture={fake_microphone_wav}"],
        )
        yield browser
        browser.close()


def _page(browser: Browser, viewport: dict[str, int]) -> Iterator[Page]:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.set_default_timeout(20_000)
    yield page
    context.close()
    assert page_errors == [], f"uncaught errors in the page: {page_errors}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, DESKTOP)


@pytest.fixture
def phone_page(browser: Browser) -> Iterator[Page]:
    yield from _page(browser, PHONE)


class _PageWithConfig(http.server.SimpleHTTPRequestHandler):
    """Serves dist/ plus a /config.json pointing at the stack's API, from an origin it doesn't allow."""

    api_url = ""

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/config.json":
            body = json.dumps({"apiUrl": self.api_url}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def foreign_origin_page_url(stack) -> Iterator[str]:
    """The same page, served from a local port that is not in CORS_ALLOWED_ORIGINS."""
    handler = type("Handler", (_PageWithConfig,), {"api_url": stack.env["RESULTS_API_URL"]})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=DIST))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()
    thread.join()
