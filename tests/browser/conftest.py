"""Headless Chromium (Debian's, no browser download) driven by Playwright, against the local stack.

Every page is a visitor of its own (a fresh browser context: its own storage, so its own guest
account). Each one records the ID tokens its page sends to the API, and must not make a single
request off this machine: the Firebase SDK talks to the stack's Auth emulator only.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Request, sync_playwright

from local_stack.frontend import FrontendServer, firebase_web_config
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


LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def token_claims(token: str) -> dict[str, Any]:
    """The payload of a JWT (not verified: the API does that; the test only reads the uid)."""
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


@dataclass
class Visitor:
    """One person's browser: a context of its own, its page, what the page sent."""

    context: BrowserContext
    page: Page
    api_url: str
    tokens: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    off_machine: list[str] = field(default_factory=list)

    def _on_request(self, request: Request) -> None:
        url = urlsplit(request.url)
        if url.scheme in ("http", "https", "ws", "wss") and url.hostname not in LOCAL_HOSTS:
            self.off_machine.append(request.url)
        authorization = request.headers.get("authorization", "")
        if request.url.startswith(self.api_url) and authorization.startswith("Bearer "):
            self.tokens.append(authorization.removeprefix("Bearer "))

    @property
    def token(self) -> str:
        """The last ID token the page sent to the results API."""
        assert self.tokens, "the page has not called the results API with a token yet"
        return self.tokens[-1]

    @property
    def uid(self) -> str:
        return token_claims(self.token)["user_id"]


def _visitor(browser: Browser, viewport: dict[str, int], api_url: str) -> Visitor:
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    visitor = Visitor(context, page, api_url)
    page.on("pageerror", lambda error: visitor.page_errors.append(str(error)))
    page.on("request", visitor._on_request)
    page.set_default_timeout(20_000)
    return visitor


def _close(visitor: Visitor) -> None:
    visitor.context.close()
    assert visitor.page_errors == [], f"uncaught errors in the page: {visitor.page_errors}"
    assert visitor.off_machine == [], f"the page made requests off this machine: {visitor.off_machine}"


@pytest.fixture
def new_visitor(browser: Browser, stack) -> Iterator[Callable[..., Visitor]]:
    """Make visitors (each its own browser context) on the session's stack; all closed at the end."""
    made: list[Visitor] = []

    def make(viewport: dict[str, int] = DESKTOP) -> Visitor:
        made.append(_visitor(browser, viewport, stack.env["RESULTS_API_URL"]))
        return made[-1]

    yield make
    for visitor in made:
        _close(visitor)


@pytest.fixture
def page(new_visitor: Callable[..., Visitor]) -> Page:
    return new_visitor(DESKTOP).page


@pytest.fixture
def phone_page(new_visitor: Callable[..., Visitor]) -> Page:
    return new_visitor(PHONE).page


def _serve_page(api_url: str, stack_env: dict[str, str]) -> Iterator[str]:
    server = FrontendServer(free_port(), api_url, firebase_web_config(stack_env))
    server.start()
    yield f"{server.url}/"
    server.stop()


@pytest.fixture
def foreign_origin_page_url(stack) -> Iterator[str]:
    """The same page and config.json, served from a local port that is not in CORS_ALLOWED_ORIGINS."""
    yield from _serve_page(stack.env["RESULTS_API_URL"], stack.env)


@pytest.fixture
def page_with_api_down_url(stack) -> Iterator[str]:
    """The page, configured with an API address where nothing listens (sign-in still works)."""
    yield from _serve_page(f"http://127.0.0.1:{free_port()}", stack.env)
