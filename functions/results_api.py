"""Cloud Function `results_api` (HTTP): results by name, signed upload URLs, health, OpenAPI."""

from __future__ import annotations

import flask
import functions_framework

from shared.http.api import handle


@functions_framework.http
def results_api(request: flask.Request) -> flask.Response:
    return handle(request)
