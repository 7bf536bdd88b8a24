"""The upload page in Chromium on a stack serving another model (`coughcloud up --model DIR`,
tests/fixtures/own_model.py): it shows that model's labels, in its order, by its display names."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.browser.page_actions import in_memory_file, open_page, screenshot, upload, wait_for_final
from tests.conftest import RunningStack
from tests.fixtures.audio_files import sample_file
from tests.fixtures.own_model import DISPLAY_NAMES, LABELS

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

SHOWN = {**DISPLAY_NAMES, "inconclusive": "Inconclusive"}


@pytest.fixture(scope="module")
def stack(own_model_stack: RunningStack) -> RunningStack:
    """The visitors of this module (tests/browser/conftest.py's new_visitor) use the own-model stack."""
    return own_model_stack


def test_the_page_shows_the_models_own_labels_and_display_names(page: Page, stack: RunningStack) -> None:
    open_page(page, stack.env["FRONTEND_URL"])
    upload(page, in_memory_file("sound.wav", sample_file("wav_pcm16", seconds=1.5, rate=16_000), "audio/wav"))
    assert wait_for_final(page) == "done"

    answer = page.get_by_test_id("label")
    label = answer.get_attribute("data-label")
    assert label in SHOWN
    expect(answer).to_contain_text(SHOWN[label])
    bars = page.get_by_test_id("probability")
    expect(bars).to_have_count(len(LABELS))
    assert [bars.nth(i).get_attribute("data-label") for i in range(len(LABELS))] == list(LABELS)
    names = [bars.nth(i).locator(".bar-name").inner_text() for i in range(len(LABELS))]
    assert names == [DISPLAY_NAMES[label] for label in LABELS]
    expect(page.get_by_test_id("model")).to_contain_text("Model: sound-classifier 1.0.0")
    expect(page.get_by_test_id("history")).to_contain_text(SHOWN[label])
    for shipped in ("Dry cough", "Wet cough", "Not a cough"):
        expect(page.locator("body")).not_to_contain_text(shipped)
    screenshot(page, "own-model-result")
