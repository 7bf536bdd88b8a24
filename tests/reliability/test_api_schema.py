"""schemathesis against the running results_api's own /openapi.json: no 5xx, and every
reply (status, content type, headers, body) matches the document.

Excluded check: `positive_data_acceptance` (schema-valid data must get a 2xx). The
name rules (1–512 *bytes*, no control characters, no `..` segment) are not expressible
in JSON Schema, so a generated name may be schema-valid yet correctly refused with the
documented 400; that 400 is still checked against the Error schema.

Each case is sent with the ID token of a fresh visitor of the stack's Auth emulator (a case of
DELETE /me erases its visitor); schemathesis's own `ignored_auth` check also sends the
operations that declare the bearer scheme without a token and expects 401.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import positive_data_acceptance

from tests.accounts_support import bearer, new_visitor

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def api_schema(stack: Any) -> Any:
    url = stack.env["RESULTS_API_URL"].rstrip("/")
    return schemathesis.openapi.from_url(f"{url}/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@hypothesis_settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_results_api_matches_its_openapi_document(case: Any, stack: Any) -> None:
    token = new_visitor(stack.env).id_token
    case.call_and_validate(headers=bearer(token), excluded_checks=[positive_data_acceptance], timeout=10)
