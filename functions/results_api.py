"""Cloud Function `results_api` (HTTP): results by name, signed upload URLs, health, OpenAPI."""

from __future__ import annotations

import flask
import functions_framework
from werkzeug.exceptions import HTTPException

from shared.http.api import framework_error, handle
from shared.http.warm import warm_on_start

# Flask's own refusals (outside results_api: functions-framework's /robots.txt, say) as JSON.
functions_framework.errorhandler(HTTPException)(framework_error)
warm_on_start()  # preprocess and predict start while this instance does


@functions_framework.http
def results_api(request: flask.Request) -> flask.Response:
    return handle(request)
