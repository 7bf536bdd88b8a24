"""Headless Chromium (Debian's, no browser download) driven by Playwright, against the local stack."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from local_stack.frontend import FrontendServer
from local_stack.processes import free_port
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


def _serve_page(api_url: str) -> Iterator[str]:
    server = FrontendServer(free_port(), api_url)
    server.start()
    yield f"{server.url}/"
    server.stop()


@pytest.fixture
def foreign_origin_page_url(stack) -> Iterator[str]:
    """The same page and config.json, served from a local port that is not in CORS_ALLOWED_ORIGINS."""
    yield from _serve_page(stack.env["RESULTS_API_URL"])


@pytest.fixture
def page_with_api_down_url() -> Iterator[str]:
    """The page, configured with an API address where nothing listens."""
    yield from _serve_page(f"http://127.0.0.1:{free_port()}")
