"""Cloud Function `results_api` (HTTP): results by name, signed upload URLs, health, OpenAPI."""

from __future__ import annotations

from shared.cloud.warmup import warm_on_start

# First, before the heavy imports below (about nine tenths of this instance's start-up):
# preprocess and predict start while this instance does.
warm_on_start()

import flask  # noqa: E402
import functions_framework  # noqa: E402
from werkzeug.exceptions import HTTPException  # noqa: E402

from shared.http.api import framework_error, handle  # noqa: E402

# Flask's own refusals (outside results_api: functions-framework's /robots.txt, say) as JSON.
functions_framework.errorhandler(HTTPException)(framework_error)


@functions_framework.http
def results_api(request: flask.Request) -> flask.Response:
    return handle(request)
