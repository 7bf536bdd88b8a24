"""Visitors on the running local stack, as the page acts: call the API with their ID token,
upload through a signed URL, wait for a result; and what of a visitor the stack still holds."""

from __future__ import annotations

import time
from typing import Any

import requests
from google.cloud import firestore, storage
from google.cloud.firestore_v1.base_query import FieldFilter

from shared.accounts.sign_in import Session
from shared.pipeline.messages import FINISHED
from tests.accounts_support import bearer
from tests.integration.support import WAIT_S


def api(env: dict[str, str], method: str, path: str, visitor: Session | None, **kwargs: Any) -> Any:
    headers = {"Origin": env["FRONTEND_URL"], **kwargs.pop("headers", {})}
    if visitor is not None:
        headers.update(bearer(visitor.id_token))
    return requests.request(method, env["RESULTS_API_URL"] + path, headers=headers, timeout=10, **kwargs)


def upload_as(env: dict[str, str], visitor: Session, name: str, data: bytes) -> dict[str, Any]:
    """What the page does: ask for a signed URL, PUT the file to it."""
    body = {"name": name, "content_type": "audio/wav", "size": len(data)}
    signed = api(env, "POST", "/uploads", visitor, json=body)
    assert signed.status_code == 200, signed.text
    signed = signed.json()
    assert requests.put(signed["url"], data=data, headers=signed["headers"], timeout=10).ok
    return signed


def wait_as(env: dict[str, str], visitor: Session, name: str) -> dict[str, Any]:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        reply = api(env, "GET", "/results", visitor, params={"name": name})
        if reply.status_code == 200 and reply.json()["status"] in FINISHED:
            return reply.json()
        assert reply.status_code in (200, 404), reply.text
        time.sleep(0.05)
    raise AssertionError(f"{name} not finished after {WAIT_S} s")


def leftovers(env: dict[str, str], uid: str) -> dict[str, list[str]]:
    """Everything of `uid` in the stack: objects under its prefix (every generation), and
    result documents it owns or that are named under its prefix."""
    prefix = f"users/{uid}/"
    blobs = storage.Client().list_blobs(env["UPLOAD_BUCKET"], prefix=prefix, versions=True)
    collection = firestore.Client(project=env["GOOGLE_CLOUD_PROJECT"]).collection("results")
    owned = collection.where(filter=FieldFilter("owner", "==", uid)).stream()
    named = (
        collection.where(filter=FieldFilter("name", ">=", prefix))
        .where(filter=FieldFilter("name", "<", prefix[:-1] + "0"))
        .stream()
    )
    return {"objects": [b.name for b in blobs], "results": sorted({d.id for d in [*owned, *named]})}


def markers(env: dict[str, str], key: str) -> list[str]:
    collection = firestore.Client(project=env["GOOGLE_CLOUD_PROJECT"]).collection("results")
    return [m.id for m in collection.document(key).collection("finished").stream()]
