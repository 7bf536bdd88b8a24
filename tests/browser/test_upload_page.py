"""The upload page in headless Chromium against the real local stack: what a visitor sees."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.page_actions import (
    assert_classified,
    in_memory_file,
    open_page,
    screenshot,
    upload,
    wait_for_final,
)
from tests.fixtures.audio_files import sample_file

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]


def test_uploading_a_recording_shows_its_label_and_probability_bars(page: Page, stack) -> None:
    open_page(page, stack.env["FRONTEND_URL"])
    upload(page, in_memory_file("cough.wav", sample_file("wav_pcm16", seconds=1.5, rate=16_000), "audio/wav"))
    assert_classified(page)
    # The API put the upload under the visitor's own prefix; the page shows that final name.
    object_name = page.get_by_test_id("result").inner_text()
    assert re.search(r"users/[A-Za-z0-9]+/web/\d{8}T\d{6}Z-[0-9a-f]{8}-cough\.wav", object_name)
    expect(page.get_by_test_id("kept-until")).to_contain_text(re.compile(r"Kept until \w+"))
    screenshot(page, "upload-result")

    # The history (from the API, for the same guest account) survives a reload and reopens the result.
    page.reload()
    history = page.get_by_test_id("history")
    expect(history).to_contain_text("cough.wav")
    expect(history.locator("li")).to_have_count(1)
    history.get_by_role("button", name=re.compile("Open the result of cough.wav")).first.click()
    assert_classified(page)
    screenshot(page, "upload-reopened-from-history")

    # Deleting asks first, then erases it: it is gone from the page, and after a reload too.
    history.get_by_role("button", name=re.compile("^Delete cough.wav")).click()
    history.get_by_role("button", name="Yes, delete").click()
    expect(page.get_by_test_id("history-note")).to_contain_text("Deleted cough.wav")
    expect(page.get_by_test_id("history-empty")).to_be_visible()
    expect(page.get_by_test_id("result")).to_have_count(0)
    page.reload()
    expect(page.get_by_test_id("history-empty")).to_be_visible()


def test_recording_from_the_microphone_with_the_keyboard_gives_a_result(phone_page: Page, stack) -> None:
    page = phone_page
    open_page(page, stack.env["FRONTEND_URL"])
    record = page.get_by_role("button", name="Record from microphone")
    for _ in range(10):
        if record.evaluate("button => button === document.activeElement"):
            break
        page.keyboard.press("Tab")
    else:
        pytest.fail("the record button cannot be reached with Tab")
    page.keyboard.press("Enter")

    # The level meter moves with the fake microphone's cough; Stop has the focus.
    expect(page.get_by_label("Microphone level")).to_be_visible()
    page.wait_for_function("() => document.querySelector('#mic-level')?.value > 0.2")
    expect(page.get_by_role("button", name="Stop recording")).to_be_focused()
    expect(page.get_by_text("0:02 / 0:30")).to_be_visible(timeout=10_000)
    screenshot(page, "recording-phone")
    page.keyboard.press("Enter")

    chosen = page.get_by_test_id("chosen")
    expect(chosen).to_contain_text(re.compile(r"recording-.*\.webm"))
    expect(chosen.get_by_role("button", name="Upload and classify")).to_be_focused()
    page.keyboard.press("Enter")
    assert_classified(page)
    screenshot(page, "recording-result-phone")


def test_a_corrupt_file_shows_its_error_in_plain_words(page: Page, stack) -> None:
    open_page(page, stack.env["FRONTEND_URL"])
    # A wav cut off inside its format chunk: recognisably a wav, but no audio stream to decode.
    broken = sample_file("wav_pcm16", seconds=1.0, rate=16_000)[:30]
    upload(page, in_memory_file("broken.wav", broken, "audio/wav"))
    assert wait_for_final(page) == "failed"
    failure = page.get_by_test_id("failure")
    expect(failure).to_contain_text("could not be read as audio")
    expect(failure).to_contain_text("(corrupt_audio)")
    assert page.get_by_test_id("failure-message").inner_text().strip() not in {"", "no details"}
    expect(page.get_by_test_id("history")).to_contain_text("Failed")
    screenshot(page, "corrupt-file")


@pytest.mark.parametrize(
    ("page_url_fixture", "kind", "message"),
    [
        # The same page served from a port that is not in CORS_ALLOWED_ORIGINS.
        ("foreign_origin_page_url", "cors", r"refused this page's origin .*CORS"),
        ("page_with_api_down_url", "unreachable", r"Could not reach the results API"),
    ],
)
def test_network_failures_are_shown_not_swallowed(
    page: Page, request: pytest.FixtureRequest, page_url_fixture: str, kind: str, message: str
) -> None:
    open_page(page, request.getfixturevalue(page_url_fixture))
    upload(page, in_memory_file("cough.wav", sample_file("wav_pcm16", seconds=1.0, rate=16_000), "audio/wav"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(re.compile(message))
    assert alert.get_attribute("data-kind") == kind
    expect(page.get_by_test_id("result")).to_have_count(0)
    expect(page.get_by_test_id("chosen")).to_be_visible()  # the chosen file stays, ready to retry
    screenshot(page, f"network-{kind}")


def test_a_slow_upload_shows_its_progress(page: Page, stack) -> None:
    open_page(page, stack.env["FRONTEND_URL"])
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 20, "downloadThroughput": -1, "uploadThroughput": 200_000},
    )
    data = sample_file("wav_pcm16", seconds=8.0, rate=48_000)  # ~770 kB: a few seconds at 200 kB/s
    upload(page, in_memory_file("long-cough.wav", data, "audio/wav"))
    progress = page.get_by_label(re.compile(r"Uploading… \d+%"))
    expect(progress).to_be_visible()
    page.wait_for_function(
        "() => (p => p && p.value > 0 && p.value < 1)(document.querySelector('#upload-progress'))"
    )
    screenshot(page, "upload-progress")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    assert_classified(page)


def test_a_file_that_is_not_audio_is_refused_before_upload_in_plain_words(page: Page, stack) -> None:
    open_page(page, stack.env["FRONTEND_URL"])
    upload(page, in_memory_file("notes.txt", b"not a recording\n", "text/plain"))
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text("This kind of file is not supported")
    expect(alert).to_contain_text("HTTP 415")
    expect(alert).to_contain_text("(unsupported_format)")
    expect(page.get_by_test_id("result")).to_have_count(0)
    screenshot(page, "not-audio-refused")
