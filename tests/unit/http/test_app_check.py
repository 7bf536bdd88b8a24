"""App Check on results_api: off by default; when required, no token or a refused one is a 401."""

from __future__ import annotations

import flask
import pytest
from firebase_admin import app_check as firebase_app_check

from shared.config import settings
from shared.http import api, app_check


@pytest.fixture
def required(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("APP_CHECK_REQUIRED", "1")
    monkeypatch.setenv("GOOGLE_CLOUD_PROJECT", "demo-coughcloud")
    settings.cache_clear()
    yield
    settings.cache_clear()


def test_off_unless_required():
    settings.cache_clear()
    assert settings().APP_CHECK_REQUIRED == 0
    app_check.check(None)  # nothing asked, nothing checked


def test_required_refuses_a_missing_or_invalid_token_and_passes_a_valid_one(required, monkeypatch):
    with pytest.raises(app_check.Unattested, match="no X-Firebase-AppCheck header"):
        app_check.check(None)
    seen = []

    def verify(token, app=None):
        seen.append(token)
        if token != "good":
            raise ValueError("Decoding App Check token failed")
        return {"app_id": "1:2:web:3"}

    monkeypatch.setattr(firebase_app_check, "verify_token", verify)
    with pytest.raises(app_check.Unattested, match="refused: Decoding App Check token failed"):
        app_check.check("forged")
    app_check.check("good")
    assert seen == ["forged", "good"]


def test_the_api_answers_401_unattested_before_looking_at_the_id_token(required):
    app = flask.Flask(__name__)
    with app.test_request_context("/results?name=a.wav", headers={"Authorization": "Bearer x"}):
        reply = api.handle(flask.request)
    assert reply.status_code == 401
    assert reply.get_json()["error"]["code"] == "unattested"
    with app.test_request_context("/healthz"):
        assert api.handle(flask.request).status_code == 200  # public routes need no token
