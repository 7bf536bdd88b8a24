"""The deployed functions and the code agree: entry points, event types, topics, buckets, env."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import functions_framework
import pytest
from cloudevents.http import CloudEvent

from shared.config import BUNDLED_MODEL_DIR, Settings
from shared.pipeline.events import pubsub_message
from tests.infra.terraform import (
    FUNCTIONS_DIR,
    SETTINGS_FIELDS,
    decorators_of,
    deployed_functions,
    function_env,
    function_sizing,
    locals_,
    resource_attribute,
    resources,
    settings_read_by,
    string_constants,
    unwrap,
    variable_default,
)

FINALIZED = "google.cloud.storage.object.v1.finalized"
PUBLISHED = "google.cloud.pubsub.topic.v1.messagePublished"
# Defaults that are right on Google Cloud as they are; every other field a function reads
# must be set by Terraform (a local path, an emulator bucket name or an empty signer would
# be wrong there).
CLOUD_SAFE_DEFAULTS = {
    "RESULTS_COLLECTION",
    "TOMBSTONES_COLLECTION",  # firestore.tf's TTL policy names the default
    "MIN_DURATION_S",
    "SILENCE_DBFS",
    "DECODE_TIMEOUT_S",
    "LOG_LEVEL",
    "WARM_UP_ON_START",  # 1: on Cloud a new results_api instance warms the functions (the stack: 0)
}
LOCAL_ONLY = {
    "STORAGE_EMULATOR_HOST",
    "FIRESTORE_EMULATOR_HOST",
    "PUBSUB_EMULATOR_HOST",
    "FIREBASE_AUTH_EMULATOR_HOST",
    "SIGNING_KEY_FILE",
}

FUNCTIONS = sorted(deployed_functions())
PUSH = resources("google_pubsub_subscription")["push"]
PUSH_SUBSCRIPTIONS = locals_()["push_subscriptions"]


def pushed_functions() -> set[str]:
    return {route["function"] for route in PUSH_SUBSCRIPTIONS.values()}


def test_every_function_module_is_deployed_and_every_deployed_function_has_a_module():
    modules = {p.stem for p in FUNCTIONS_DIR.glob("*.py") if p.name != "__init__.py"}
    assert set(FUNCTIONS) == modules


@pytest.mark.parametrize("entry_point", FUNCTIONS)
def test_entry_point_takes_the_event_its_trigger_sends(entry_point):
    config = deployed_functions()[entry_point]
    decorators = decorators_of(FUNCTIONS_DIR / f"{entry_point}.py", entry_point)
    constants = string_constants(FUNCTIONS_DIR / f"{entry_point}.py")
    if config["storage_trigger"] is not None:
        assert decorators == ["functions_framework.cloud_event"]
        assert config["storage_trigger"]["event_type"] == FINALIZED
        assert FINALIZED in constants, "the function should check the event type it is sent"
    elif entry_point in pushed_functions():
        assert decorators == ["functions_framework.cloud_event"]
        assert PUBLISHED in constants, "the function should check the event type it is sent"
    else:
        assert decorators == ["functions_framework.http"]
        assert config["ingress"] == "ALLOW_ALL"


def test_the_function_resource_deploys_each_module_under_its_entry_point():
    function = resources("google_cloudfunctions2_function")["function"]
    build = unwrap(function["build_config"])
    assert unwrap(function["for_each"]) == "${local.functions}"
    assert unwrap(build["entry_point"]) == "${each.key}"
    assert unwrap(build["runtime"]) == "python311"
    trigger = unwrap(unwrap(function["dynamic"])["event_trigger"])
    content = unwrap(trigger["content"])
    assert unwrap(content["retry_policy"]) == "RETRY_POLICY_RETRY"
    assert unwrap(content["event_filters"])["attribute"] == ["bucket"]


def test_preprocess_is_triggered_by_the_uploads_bucket():
    trigger = deployed_functions()["preprocess"]["storage_trigger"]
    assert trigger["bucket"] == "${google_storage_bucket.uploads.name}"
    assert function_env("preprocess")["UPLOAD_BUCKET"] == trigger["bucket"]


def test_ingress_is_open_only_where_a_caller_outside_googles_network_needs_it():
    """results_api for browsers; preprocess and predict for results_api's warm-ups (a function
    without VPC egress is not internal to Cloud Run), IAM-checked (test_iam.py); dead_letter not."""
    ingress = {name: config["ingress"] for name, config in deployed_functions().items()}
    assert ingress == {
        "preprocess": "ALLOW_ALL",
        "predict": "ALLOW_ALL",
        "results_api": "ALLOW_ALL",
        "dead_letter": "ALLOW_INTERNAL_ONLY",
    }


def test_results_api_warms_preprocess_and_predict_at_their_own_urls():
    env = function_env("results_api")
    urls = locals_()["warm_up_urls"]
    assert env["PREPROCESS_URL"] == '${local.warm_up_urls["preprocess"]}'
    assert env["PREDICT_URL"] == '${local.warm_up_urls["predict"]}'
    assert env["WARM_UP_INTERVAL_S"] == "${tostring(var.warm_up_interval_s)}"
    assert variable_default("warm_up_interval_s") == Settings.WARM_UP_INTERVAL_S
    # Cloud Run's deterministic URL of the service the function resource names (its entry
    # point, underscores as dashes: none in these two).
    assert "for name in ['preprocess', 'predict']" in urls
    assert "https://${name}-${data.google_project.this.number}.${var.region}.run.app" in urls
    function = resources("google_cloudfunctions2_function")["function"]
    assert unwrap(function["name"]) == '${replace(each.key,"_","-")}'
    for name in FUNCTIONS:  # no other function is told where to send warm-ups
        if name != "results_api":
            assert not {"PREPROCESS_URL", "PREDICT_URL", "WARM_UP_INTERVAL_S"} & set(function_env(name))


def test_topics_are_named_as_the_code_defaults():
    for name in FUNCTIONS:
        for field, value in function_env(name).items():
            if field.endswith("_TOPIC"):
                assert resource_attribute(value) == getattr(Settings, field), (name, field)


def test_buckets_in_env_are_the_right_buckets():
    expected = {"UPLOAD_BUCKET": "uploads", "MODEL_BUCKET": "models"}
    for name in FUNCTIONS:
        for field, value in function_env(name).items():
            if field.endswith("_BUCKET"):
                assert value == f"${{google_storage_bucket.{expected[field]}.name}}", (name, field)
    assert locals_()["model_uri"].startswith("gs://${google_storage_bucket.models.name}/")
    assert function_env("predict")["MODEL_URI"] == "${local.model_uri}"


def test_cloud_serves_the_model_the_repository_ships_by_default():
    """Terraform's default model is the bundled one the local stack and the CLI use."""
    assert variable_default("model_name") == BUNDLED_MODEL_DIR.parent.name
    assert variable_default("model_version") == BUNDLED_MODEL_DIR.name


@pytest.mark.parametrize("entry_point", FUNCTIONS)
def test_env_names_are_settings_fields_and_never_emulator_ones(entry_point):
    env = function_env(entry_point)
    assert set(env) <= SETTINGS_FIELDS, set(env) - SETTINGS_FIELDS
    assert not set(env) & LOCAL_ONLY


@pytest.mark.parametrize("entry_point", FUNCTIONS)
def test_every_setting_the_code_reads_is_set_unless_its_default_is_right_on_cloud(entry_point):
    needed = settings_read_by(entry_point) - CLOUD_SAFE_DEFAULTS - LOCAL_ONLY
    missing = needed - set(function_env(entry_point))
    assert not missing, f"{entry_point} reads {sorted(missing)} but functions.tf does not set them"


def test_the_code_reads_the_settings_this_test_relies_on():
    # If the code stops reading these, the test above proves nothing about them.
    assert {"MODEL_URI", "RESULTS_TOPIC"} <= settings_read_by("predict")
    assert {"SIGNING_SERVICE_ACCOUNT", "UPLOAD_BUCKET", "CORS_ALLOWED_ORIGINS"} <= settings_read_by(
        "results_api"
    )
    assert {"FEATURES_TOPIC", "UPLOADS_DEAD_LETTER_TOPIC"} <= settings_read_by("preprocess")


def test_delivery_budget_matches_the_code_default():
    assert variable_default("max_delivery_attempts") == Settings.MAX_DELIVERY_ATTEMPTS
    assert variable_default("max_upload_bytes") == Settings.MAX_UPLOAD_BYTES
    assert variable_default("max_duration_s") == Settings.MAX_DURATION_S
    assert variable_default("signed_url_expiry_s") == Settings.SIGNED_URL_EXPIRY_S


# --- Pub/Sub push subscriptions ---------------------------------------------------------


def test_push_subscriptions_feed_the_pubsub_functions_from_the_right_topics():
    routes = {name: (r["function"], r["topic"]) for name, r in PUSH_SUBSCRIPTIONS.items()}
    assert routes == {
        "predict-audio-features": ("predict", "${google_pubsub_topic.features}"),
        "dead-letter-upload-events": ("dead_letter", '${google_pubsub_topic.dead_letter["uploads"]}'),
        "dead-letter-audio-features": ("dead_letter", '${google_pubsub_topic.dead_letter["features"]}'),
    }
    assert resource_attribute("${google_pubsub_topic.features.name}") == Settings.FEATURES_TOPIC


def test_predict_messages_are_dead_lettered_by_pubsub_after_the_budget():
    route = PUSH_SUBSCRIPTIONS["predict-audio-features"]
    assert route["dead_letter"] == '${google_pubsub_topic.dead_letter["features"].id}'
    policy = unwrap(unwrap(unwrap(PUSH["dynamic"])["dead_letter_policy"])["content"])
    # Pub/Sub counts a push refused with 429 (predict at max instances) as a delivery: its budget
    # is its maximum, so overload delays; predict gives up after max_delivery_attempts of its own.
    assert unwrap(policy["max_delivery_attempts"]) == "${var.push_max_delivery_attempts}"
    assert variable_default("push_max_delivery_attempts") == 100
    assert {r["dead_letter"] for n, r in PUSH_SUBSCRIPTIONS.items() if n.startswith("dead-letter-")} == {None}


def test_push_requests_wait_longer_than_any_pushed_function_may_run():
    ack_deadline = unwrap(PUSH["ack_deadline_seconds"])
    sizing = function_sizing()
    for name in pushed_functions():
        assert ack_deadline > sizing[name].timeout_s, name


def _push_path() -> str:
    endpoint = unwrap(unwrap(PUSH["push_config"])["push_endpoint"])
    prefix = "${google_cloudfunctions2_function.function[each.value.function].service_config[0].uri}"
    assert endpoint.startswith(prefix)
    return endpoint.removeprefix(prefix)


def test_a_raw_pubsub_push_reaches_the_function_as_the_event_eventarc_would_send(tmp_path: Path):
    """functions-framework turns a push body sent to /projects/P/topics/T into a CloudEvent."""
    source = tmp_path / "main.py"
    source.write_text(
        "import json, pathlib\n"
        "import functions_framework\n"
        "@functions_framework.cloud_event\n"
        "def handler(event):\n"
        f"    pathlib.Path({str(tmp_path / 'event.json')!r}).write_text(\n"
        "        json.dumps({'type': event['type'], 'source': event['source'], 'data': event.data}))\n"
    )
    app = functions_framework.create_app(target="handler", source=str(source), signature_type="cloudevent")
    path = (
        _push_path()
        .replace("${var.project_id}", "my-project")
        .replace("${each.value.topic.name}", "audio-features")
    )
    body = {
        "message": {
            "data": base64.b64encode(b'{"schema": 1}').decode(),
            "attributes": {"key": "abc", "generation": "7"},
            "messageId": "42",
            "publishTime": "2026-11-21T10:00:00Z",
        },
        "subscription": "projects/my-project/subscriptions/predict-audio-features",
        "deliveryAttempt": 2,
    }
    response = app.test_client().post(path, data=json.dumps(body), content_type="application/json")
    assert response.status_code == 200, response.data
    seen = json.loads((tmp_path / "event.json").read_text())
    assert seen["type"] == PUBLISHED
    assert seen["source"] == "//pubsub.googleapis.com/projects/my-project/topics/audio-features"
    message = pubsub_message(CloudEvent({"type": seen["type"], "source": seen["source"]}, seen["data"]))
    assert message.data == b'{"schema": 1}'
    assert message.attributes == {"key": "abc", "generation": "7"}
    assert message.message_id == "42"
