"""What a visitor does on the page, as steps the browser tests share."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from shared.config import REPO_ROOT

ARTIFACTS = REPO_ROOT / "test-artifacts" / "browser"
LABELS = {"Dry cough", "Wet cough", "Not a cough", "Inconclusive"}
RESULT_TIMEOUT_MS = 60_000


def screenshot(page: Page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def in_memory_file(name: str, data: bytes, mime_type: str) -> dict:
    return {"name": name, "mimeType": mime_type, "buffer": data}


def open_page(page: Page, url: str) -> None:
    """Open the page and wait until the visitor is signed in (a guest on a first visit)."""
    page.goto(url)
    expect(page.get_by_text("Results API:")).to_be_visible()
    expect(page.get_by_test_id("account-label")).not_to_have_text("Signing you in…")
    expect(page.get_by_label("Audio file")).to_be_enabled()


def upload(page: Page, file: dict) -> None:
    page.get_by_label("Audio file").set_input_files(file)
    page.get_by_role("button", name="Upload and classify").click()


def wait_for_final(page: Page) -> str:
    result = page.locator("[data-testid=result][data-status=done], [data-testid=result][data-status=failed]")
    expect(result).to_be_visible(timeout=RESULT_TIMEOUT_MS)
    return result.get_attribute("data-status") or ""


def assert_classified(page: Page) -> None:
    assert wait_for_final(page) == "done"
    expect(page.get_by_test_id("label")).to_be_visible()
    label_text = page.get_by_test_id("label").inner_text()
    assert any(label_text.startswith(label) for label in LABELS), label_text
    bars = page.get_by_test_id("probability")
    assert bars.count() >= 3
    percents = [
        float(re.search(r"([\d.]+)%", bars.nth(i).inner_text()).group(1)) for i in range(bars.count())
    ]
    assert sum(percents) == pytest.approx(100, abs=1)
    expect(page.get_by_test_id("model")).to_contain_text(re.compile(r"Model: \S+ \S+"))
