"""results_api against its own OpenAPI document: schemathesis generates requests from it.

Excluded check: `positive_data_acceptance`. A name is valid up to 512 *bytes* after the
caller's `users/{uid}/` prefix is added, which JSON Schema cannot say, so a schema-valid long
name is correctly refused with the documented 400 (still checked against the Error schema).
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from functions_framework import create_app
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from shared.config import settings as app_settings
from tests.accounts_support import bearer, new_visitor
from tests.pipeline_support import Pipeline, write_signing_key

pytestmark = pytest.mark.integration

app = create_app(target="results_api", source="functions/results_api.py")
schema = schemathesis.openapi.from_wsgi("/openapi.json", app)


@pytest.fixture
def configured(
    pipeline: Pipeline,
    auth_emulator: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    key_file = tmp_path_factory.getbasetemp() / "schemathesis-key.json"
    if not key_file.exists():
        write_signing_key(key_file)
    monkeypatch.setenv("SIGNING_KEY_FILE", str(key_file))
    monkeypatch.setenv("CORS_ALLOWED_ORIGINS", "https://app.example")
    app_settings.cache_clear()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_route_keeps_its_contract(case: Any, configured: None) -> None:
    token = new_visitor().id_token  # a fresh visitor each time: a case of DELETE /me erases it
    case.call_and_validate(headers=bearer(token), excluded_checks=[positive_data_acceptance])
