"""Accounts on the page, in real browser contexts against the local stack (with its Auth emulator).

Two visitors are two browser contexts: each signs in as a guest of its own. Neither sees the
other's uploads; the second cannot read, overwrite or delete the first one's recording even
with its own valid token straight through the API; deleting leaves nothing in the bucket or
Firestore (checked with the official clients); an email account carries a guest's uploads and
follows the visitor to another browser.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import firebase_admin
import pytest
import requests
from firebase_admin import auth as firebase_auth
from firebase_admin import credentials
from google.cloud import firestore, storage
from playwright.sync_api import Page, expect

from shared.names import result_key
from tests.browser.conftest import Visitor
from tests.browser.page_actions import assert_classified, in_memory_file, open_page, screenshot, upload
from tests.fixtures.audio_files import sample_file

pytestmark = [pytest.mark.browser, pytest.mark.integration, pytest.mark.slow]

PASSWORD = "cough-cloud-1"


@pytest.fixture
def db(env: dict[str, str]) -> firestore.Client:
    return firestore.Client(project=env["GOOGLE_CLOUD_PROJECT"])


@pytest.fixture
def auth_admin(env: dict[str, str]) -> Iterator[Any]:
    """firebase_admin's Auth client on the stack's Auth emulator (FIREBASE_AUTH_EMULATOR_HOST)."""
    app = firebase_admin.initialize_app(
        credentials.ApplicationDefault(),
        {"projectId": env["GOOGLE_CLOUD_PROJECT"]},
        name=f"browser-tests-{uuid.uuid4().hex[:8]}",
    )
    yield app
    firebase_admin.delete_app(app)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def cough(name: str, seed: int) -> dict:
    return in_memory_file(name, sample_file("wav_pcm16", seconds=1.5, rate=16_000, seed=seed), "audio/wav")


def history_names(page: Page) -> list[str]:
    """The object names in the page's "Your uploads" list, once it has loaded."""
    expect(page.get_by_test_id("history").or_(page.get_by_test_id("history-empty"))).to_be_visible()
    return page.locator("[data-testid=history] li").evaluate_all("items => items.map(li => li.dataset.name)")


def upload_and_classify(visitor: Visitor, file: dict) -> str:
    """Upload `file` on the visitor's page, wait for its label; its final object name."""
    upload(visitor.page, file)
    # Until the upload is done, the panel may still show the last upload's (final) result.
    current = visitor.page.locator("[data-testid=history] li.current")
    expect(current).to_contain_text(file["name"])
    assert_classified(visitor.page)
    return current.get_attribute("data-name") or ""


def owned_objects(bucket: storage.Bucket, uid: str) -> list[str]:
    """Every object generation under the visitor's prefix."""
    return [blob.name for blob in bucket.client.list_blobs(bucket, prefix=f"users/{uid}/", versions=True)]


def owned_documents(db: firestore.Client, uid: str) -> list[str]:
    query = db.collection("results").where(filter=firestore.FieldFilter("owner", "==", uid))
    return [doc.id for doc in query.stream()]


def leftovers_of_upload(bucket: storage.Bucket, db: firestore.Client, name: str) -> list[str]:
    """What is left of one upload: object generations, its result document, its markers."""
    key = result_key(bucket.name, name)
    blobs = bucket.client.list_blobs(bucket, prefix=name, versions=True)
    left = [f"object {blob.name}#{blob.generation}" for blob in blobs]
    document = db.collection("results").document(key)
    if document.get().exists:
        left.append(f"document results/{key}")
    left += [f"marker {marker.id}" for marker in document.collection("finished").stream()]
    return left


def test_two_visitors_see_only_their_own_and_cannot_touch_each_others(
    new_visitor: Callable[..., Visitor], stack, bucket: storage.Bucket, db: firestore.Client
) -> None:
    api = stack.env["RESULTS_API_URL"]
    a, b = new_visitor(), new_visitor()
    for visitor in (a, b):
        open_page(visitor.page, stack.env["FRONTEND_URL"])
        expect(visitor.page.get_by_test_id("account-label")).to_have_text(re.compile("^Guest"))
    name_a = upload_and_classify(a, cough("cough-of-a.wav", seed=1))
    name_b = upload_and_classify(b, cough("cough-of-b.wav", seed=2))
    assert a.uid != b.uid
    assert name_a.startswith(f"users/{a.uid}/") and name_b.startswith(f"users/{b.uid}/")

    # Each page, reloaded, lists its own upload and only that.
    for visitor, own, other_file in ((a, name_a, "cough-of-b.wav"), (b, name_b, "cough-of-a.wav")):
        visitor.page.reload()
        assert history_names(visitor.page) == [own]
        expect(visitor.page.get_by_text(other_file)).to_have_count(0)
    screenshot(a.page, "visitor-a")
    screenshot(b.page, "visitor-b")

    # B, with its own valid token, straight through the API: A's recording is "not found" whatever B tries.
    token_b = b.token
    for name in (name_a, name_a.removeprefix(f"users/{a.uid}/")):
        reply = requests.get(f"{api}/results", params={"name": name}, headers=bearer(token_b), timeout=10)
        assert (reply.status_code, reply.json()["error"]["code"]) == (404, "not_found"), (name, reply.text)
    listed = requests.get(f"{api}/results", headers=bearer(token_b), timeout=10).json()["results"]
    assert [doc["name"] for doc in listed] == [name_b]
    overwrite = requests.post(
        f"{api}/uploads",
        json={"name": name_a, "content_type": "audio/wav", "size": 1000},
        headers=bearer(token_b),
        timeout=10,
    )
    assert overwrite.status_code == 403, overwrite.text
    assert "url" not in overwrite.json()
    delete = requests.delete(f"{api}/results", params={"name": name_a}, headers=bearer(token_b), timeout=10)
    assert delete.status_code == 404, delete.text

    # A's recording and result are untouched, and still A's.
    assert requests.get(f"{api}/results", params={"name": name_a}, headers=bearer(a.token), timeout=10).ok
    assert owned_objects(bucket, a.uid) == [name_a]

    # A reopens it and deletes it from the result panel: nothing of it is left, B's upload is untouched.
    a.page.get_by_role("button", name=re.compile("Open the result of cough-of-a.wav")).click()
    panel = a.page.get_by_test_id("result")
    expect(panel.get_by_test_id("kept-until")).to_be_visible()
    panel.get_by_role("button", name="Delete this recording").click()
    panel.get_by_role("button", name="Yes, delete").click()
    expect(a.page.get_by_test_id("history-note")).to_contain_text("Deleted cough-of-a.wav")
    expect(a.page.get_by_test_id("history-empty")).to_be_visible()
    assert leftovers_of_upload(bucket, db, name_a) == []
    assert owned_objects(bucket, a.uid) == [] and owned_documents(db, a.uid) == []
    reply = requests.get(f"{api}/results", params={"name": name_a}, headers=bearer(a.token), timeout=10)
    assert reply.status_code == 404
    assert owned_objects(bucket, b.uid) == [name_b]
    assert owned_documents(db, b.uid) == [result_key(bucket.name, name_b)]


def test_an_email_account_keeps_the_guests_uploads_and_follows_the_visitor(
    new_visitor: Callable[..., Visitor], stack
) -> None:
    email = f"ana-{uuid.uuid4().hex[:8]}@example.com"
    first = new_visitor()
    open_page(first.page, stack.env["FRONTEND_URL"])
    name = upload_and_classify(first, cough("before-signing-in.wav", seed=3))
    guest_uid = first.uid

    # The guest adds an email: the same account (same uid), so the upload is still theirs.
    page = first.page
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in or create account").click()
    expect(page.get_by_test_id("account-label")).to_have_text(email)
    expect(page.get_by_test_id("account-notice")).to_contain_text(f"Account created for {email}")
    page.reload()
    expect(page.get_by_test_id("account-label")).to_have_text(email)
    assert history_names(page) == [name]
    assert first.uid == guest_uid
    screenshot(page, "signed-in-with-email")

    # Another browser: a guest at first, then signing in to the email's account shows its uploads.
    second = new_visitor()
    open_page(second.page, stack.env["FRONTEND_URL"])
    assert history_names(second.page) == []
    second.page.get_by_label("Email").fill(email)
    second.page.get_by_label("Password").fill(PASSWORD)
    second.page.get_by_role("button", name="Sign in or create account").click()
    expect(second.page.get_by_test_id("account-label")).to_have_text(email)
    expect(second.page.get_by_test_id("account-notice")).to_contain_text("already had an account")
    assert history_names(second.page) == [name]
    assert second.uid == guest_uid

    # Signing out starts a new guest, who sees nothing of the account.
    second.page.get_by_role("button", name="Sign out").click()
    expect(second.page.get_by_test_id("account-label")).to_have_text(re.compile("^Guest"))
    assert history_names(second.page) == []
    expect(second.page.get_by_test_id("account-notice")).to_have_count(0)
    second.page.reload()
    assert history_names(second.page) == []
    assert second.uid != guest_uid

    # The right email with a wrong password is refused in plain words.
    second.page.get_by_label("Email").fill(email)
    second.page.get_by_label("Password").fill("not-the-password")
    second.page.get_by_role("button", name="Sign in or create account").click()
    expect(second.page.get_by_test_id("sign-in-error")).to_have_text(
        re.compile("that is not its password|The email or the password is not right")
    )
    expect(second.page.get_by_test_id("account-label")).to_have_text(re.compile("^Guest"))
    screenshot(second.page, "wrong-password")


def test_deleting_my_data_and_account_erases_everything_and_starts_a_new_guest(
    new_visitor: Callable[..., Visitor], stack, bucket: storage.Bucket, db: firestore.Client, auth_admin: Any
) -> None:
    visitor = new_visitor()
    page = visitor.page
    open_page(page, stack.env["FRONTEND_URL"])
    names = [upload_and_classify(visitor, cough(f"cough-{i}.wav", seed=10 + i)) for i in range(2)]
    uid, old_token = visitor.uid, visitor.token
    assert sorted(owned_objects(bucket, uid)) == sorted(names)
    assert len(owned_documents(db, uid)) == 2

    page.get_by_role("button", name="Delete my data and account").click()
    expect(page.get_by_role("group", name=re.compile("Delete all your recordings"))).to_be_visible()
    screenshot(page, "delete-account-confirm")
    page.get_by_role("button", name="Yes, delete everything").click()
    expect(page.get_by_test_id("account-notice")).to_have_text(
        "Your recordings, results and account were deleted. You are now a new guest."
    )
    expect(page.get_by_test_id("account-label")).to_have_text(re.compile("^Guest"))
    expect(page.get_by_test_id("history-empty")).to_be_visible()
    expect(page.get_by_test_id("account-notice")).to_contain_text("were deleted")  # still, for the new guest
    assert visitor.uid != uid

    # Nothing of the old account is left: objects, documents, markers, the account itself.
    assert owned_objects(bucket, uid) == []
    assert owned_documents(db, uid) == []
    for name in names:
        assert leftovers_of_upload(bucket, db, name) == []
    with pytest.raises(firebase_auth.UserNotFoundError):
        firebase_auth.get_user(uid, app=auth_admin)
    reply = requests.get(f"{stack.env['RESULTS_API_URL']}/results", headers=bearer(old_token), timeout=10)
    assert reply.status_code == 401

    # A guest who signs out is asked first (they cannot sign back in), then is a new guest.
    new_guest = visitor.uid
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_focused()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("A guest cannot sign back in")).to_be_visible()
    page.get_by_role("button", name="Yes, sign out").click()
    # The page looks the same for the next guest; its history request carries the new guest's token.
    deadline = time.monotonic() + 20
    while visitor.uid == new_guest and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert visitor.uid not in (uid, new_guest)
    expect(page.get_by_test_id("history-empty")).to_be_visible()


def upload_through_the_api(api: str, token: str, name: str, data: bytes) -> str:
    """What the page does for an upload, done by the test: a signed URL, then the PUT. The final name."""
    signed = requests.post(
        f"{api}/uploads",
        json={"name": name, "content_type": "audio/wav", "size": len(data)},
        headers=bearer(token),
        timeout=10,
    )
    signed.raise_for_status()
    body = signed.json()
    requests.put(body["url"], data=data, headers=body["headers"], timeout=10).raise_for_status()
    return body["name"]


def test_older_uploads_are_fetched_a_page_at_a_time(new_visitor: Callable[..., Visitor], stack) -> None:
    api = stack.env["RESULTS_API_URL"]
    visitor = new_visitor()
    open_page(visitor.page, stack.env["FRONTEND_URL"])
    assert history_names(visitor.page) == []
    data = sample_file("wav_pcm16", seconds=1.0, rate=16_000)
    names = {upload_through_the_api(api, visitor.token, f"web/clip-{i:02}.wav", data) for i in range(11)}

    def listed() -> list[str]:
        query = {"limit": 100}
        reply = requests.get(f"{api}/results", params=query, headers=bearer(visitor.token), timeout=10)
        return [doc["name"] for doc in reply.json()["results"]]

    deadline = time.monotonic() + 60
    while set(listed()) != names and time.monotonic() < deadline:
        time.sleep(0.25)
    newest_first = listed()
    assert set(newest_first) == names

    visitor.page.reload()
    assert history_names(visitor.page) == newest_first[:10]
    visitor.page.get_by_role("button", name="Show older uploads").click()
    expect(visitor.page.locator("[data-testid=history] li")).to_have_count(11)
    assert history_names(visitor.page) == newest_first
    expect(visitor.page.get_by_role("button", name="Show older uploads")).to_have_count(0)


def test_a_session_ended_in_another_browser_is_said_plainly_and_a_new_guest_starts(
    new_visitor: Callable[..., Visitor], stack
) -> None:
    email = f"bo-{uuid.uuid4().hex[:8]}@example.com"
    here, elsewhere = new_visitor(), new_visitor()
    for visitor in (here, elsewhere):
        open_page(visitor.page, stack.env["FRONTEND_URL"])
    upload_and_classify(here, cough("mine.wav", seed=5))
    for visitor in (here, elsewhere):
        visitor.page.get_by_label("Email").fill(email)
        visitor.page.get_by_label("Password").fill(PASSWORD)
        visitor.page.get_by_role("button", name="Sign in or create account").click()
        expect(visitor.page.get_by_test_id("account-label")).to_have_text(email)
    expect(here.page.get_by_test_id("history").locator("li")).to_have_count(1)
    account_uid = here.uid

    elsewhere.page.get_by_role("button", name="Delete my data and account").click()
    elsewhere.page.get_by_role("button", name="Yes, delete everything").click()
    expect(elsewhere.page.get_by_test_id("account-notice")).to_contain_text("were deleted")

    # Here, the next request cannot get a token any more: the page says why and starts a new guest.
    here.page.get_by_role("button", name=re.compile("Open the result of mine.wav")).click()
    expect(here.page.get_by_test_id("error")).to_contain_text(
        "Your sign-in is no longer valid: the account was deleted or disabled, or signed out everywhere "
        "(perhaps from another browser). You are signed out, and continue as a new guest."
    )
    expect(here.page.get_by_test_id("account-label")).to_have_text(re.compile("^Guest"))
    expect(here.page.get_by_test_id("history-empty")).to_be_visible()
    expect(here.page.get_by_test_id("result")).to_have_count(0)
    expect(here.page.get_by_test_id("account-notice")).to_have_count(0)  # "Account created…" is stale now
    assert here.uid != account_uid
    screenshot(here.page, "session-ended-elsewhere")
