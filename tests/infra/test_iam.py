"""Least privilege, read from iam.tf: who may write where, invoke what, sign as whom."""

from __future__ import annotations

from typing import Any

from tests.infra.terraform import deployed_functions, resources, topics_published_by, unwrap

READ_ONLY_STORAGE_ROLES = {"roles/storage.objectViewer", "roles/storage.legacyObjectReader"}
# The one custom role a function holds on the uploads bucket: erasing, never writing.
ERASER_ROLE = "${google_project_iam_custom_role.upload_eraser.id}"
WRITE_PERMISSIONS = {"storage.objects.create", "storage.objects.update", "storage.objects.setRetention"}
FUNCTION_MEMBER = '${local.fn["%s"]}'
UPLOADER = "serviceAccount:${google_service_account.uploader.email}"


def grants(kind: str) -> list[dict[str, Any]]:
    """Every IAM member resource of `kind`, one dict per member (for_each expanded)."""
    expanded = []
    for name, body in resources(kind).items():
        attrs = {k: unwrap(v) for k, v in body.items() if not k.startswith("__")}
        for_each = attrs.pop("for_each", None)
        if for_each is None:
            expanded.append({"resource": name, **attrs})
            continue
        keys = for_each if isinstance(for_each, list) else _toset(for_each)
        for key in keys:
            attrs_for_key = {k: _substitute(v, key) for k, v in attrs.items()}
            expanded.append({"resource": name, **attrs_for_key})
    return expanded


def _substitute(value: Any, key: str) -> Any:
    if not isinstance(value, str):
        return value
    return value.replace("${each.value}", key).replace("[each.value]", f'["{key}"]')


def _toset(expression: str) -> list[str]:
    # `${toset(["a", "b"])}` as hcl2 renders it
    inner = expression.removeprefix("${toset([").removesuffix("])}")
    return [item.strip().strip("\"'") for item in inner.split(",")]


def _member_for(entry_point: str, grant: dict[str, Any]) -> bool:
    return grant["member"] == FUNCTION_MEMBER % entry_point


def test_no_function_can_write_to_the_uploads_bucket():
    """A function writing into the bucket that triggers preprocess could loop forever."""
    on_uploads = [g for g in grants("google_storage_bucket_iam_member") if "uploads" in g["bucket"]]
    assert on_uploads, "expected grants on the uploads bucket"
    for grant in on_uploads:
        if grant["member"] == UPLOADER:
            continue
        if grant["role"] == ERASER_ROLE:
            permissions = set(
                unwrap(resources("google_project_iam_custom_role")["upload_eraser"]["permissions"])
            )
            assert not permissions & WRITE_PERMISSIONS, permissions
            continue
        assert grant["role"] in READ_ONLY_STORAGE_ROLES, grant
    # ...nor anywhere through a project-wide Storage role.
    for grant in grants("google_project_iam_member"):
        if grant["member"].startswith("${local.fn"):
            assert not grant["role"].startswith("roles/storage"), grant
    assert not resources("google_storage_bucket_iam_binding")
    assert not resources("google_storage_bucket_iam_policy")


def test_only_the_uploader_writes_uploads_and_only_results_api_signs_as_it():
    writers = [g for g in grants("google_storage_bucket_iam_member") if g["member"] == UPLOADER]
    assert [(g["bucket"], g["role"]) for g in writers] == [
        ("${google_storage_bucket.uploads.name}", "${google_project_iam_custom_role.uploader.id}")
    ]
    role = resources("google_project_iam_custom_role")["uploader"]
    # Create only: replacing an object takes delete, so a signed URL cannot overwrite.
    assert unwrap(role["permissions"]) == ["storage.objects.create"]
    actors = [g for g in grants("google_service_account_iam_member") if "uploader" in g["service_account_id"]]
    assert [(g["member"], g["role"]) for g in actors] == [
        (FUNCTION_MEMBER % "results_api", "roles/iam.serviceAccountTokenCreator")
    ]
    assert not resources("google_service_account_key"), "the signer must have no exported key"


def test_each_function_has_its_own_service_account():
    function = resources("google_cloudfunctions2_function")["function"]
    service = unwrap(function["service_config"])
    assert unwrap(service["service_account_email"]) == "${google_service_account.function[each.key].email}"
    accounts = resources("google_service_account")["function"]
    assert unwrap(accounts["for_each"]) == "${local.functions}"


def test_each_function_may_publish_exactly_to_the_topics_its_code_publishes_to():
    topic_grants = [
        g for g in grants("google_pubsub_topic_iam_member") if g["member"].startswith("${local.fn")
    ]
    env_of = {name: config["env"] for name, config in deployed_functions().items()}
    for entry_point in deployed_functions():
        granted = sorted(g["topic"] for g in topic_grants if _member_for(entry_point, g))
        published = sorted(env_of[entry_point][field] for field in topics_published_by(entry_point))
        assert granted == published, entry_point
    assert all(g["role"] == "roles/pubsub.publisher" for g in topic_grants)


def test_the_code_publishes_where_this_test_expects():
    assert topics_published_by("preprocess") == {
        "FEATURES_TOPIC",
        "UPLOADS_DEAD_LETTER_TOPIC",
        "RESULTS_TOPIC",
    }
    assert topics_published_by("predict") >= {"RESULTS_TOPIC"}
    assert topics_published_by("dead_letter") == {"RESULTS_TOPIC"}
    assert topics_published_by("results_api") == set()


def test_preprocess_may_delete_uploads_it_refuses_but_never_write_one():
    by_preprocess = [g for g in grants("google_storage_bucket_iam_member") if _member_for("preprocess", g)]
    on_uploads = {g["role"] for g in by_preprocess if g["bucket"] == "${google_storage_bucket.uploads.name}"}
    assert on_uploads == {"roles/storage.objectViewer", ERASER_ROLE}


def test_results_api_erases_uploads_but_nothing_else_on_storage():
    """An owner's erasure: list a name's generations and delete them; no create, no read."""
    by_api = [g for g in grants("google_storage_bucket_iam_member") if _member_for("results_api", g)]
    assert [(g["bucket"], g["role"]) for g in by_api] == [
        ("${google_storage_bucket.uploads.name}", ERASER_ROLE)
    ]
    role = resources("google_project_iam_custom_role")["upload_eraser"]
    assert sorted(unwrap(role["permissions"])) == ["storage.objects.delete", "storage.objects.list"]


def test_results_api_reads_updates_and_erases_results_and_creates_only_tombstones():
    """Update: an owner's feedback (POST /results/feedback); delete: an owner's erasure;
    create: the erasure's tombstones (the code never creates a result: test_accounts.py)."""
    firestore = [
        g
        for g in grants("google_project_iam_member")
        if "datastore" in g["role"] or "results_reader_eraser" in g["role"]
    ]
    by_member = {g["member"]: g["role"] for g in firestore}
    assert (
        by_member[FUNCTION_MEMBER % "results_api"]
        == "${google_project_iam_custom_role.results_reader_eraser.id}"
    )
    role = resources("google_project_iam_custom_role")["results_reader_eraser"]
    assert sorted(unwrap(role["permissions"])) == [
        "datastore.databases.getMetadata",
        "datastore.entities.create",
        "datastore.entities.delete",
        "datastore.entities.get",
        "datastore.entities.list",
        "datastore.entities.update",
    ]
    for name in ("preprocess", "predict", "dead_letter"):
        assert by_member[FUNCTION_MEMBER % name] == "roles/datastore.user"


def test_only_results_api_touches_accounts_and_only_to_verify_revoke_and_delete():
    on_accounts = [
        g
        for g in grants("google_project_iam_member")
        if "firebaseauth" in g["role"] or "account" in g["role"]
    ]
    assert [(g["member"], g["role"]) for g in on_accounts] == [
        (FUNCTION_MEMBER % "results_api", "${google_project_iam_custom_role.account_verifier_eraser.id}")
    ]
    role = resources("google_project_iam_custom_role")["account_verifier_eraser"]
    assert sorted(unwrap(role["permissions"])) == [
        "firebaseauth.users.delete",
        "firebaseauth.users.get",
        "firebaseauth.users.update",
    ]
    # No broad Firebase or Identity Platform role anywhere.
    for grant in grants("google_project_iam_member"):
        assert not grant["role"].startswith(("roles/firebase", "roles/identitytoolkit")), grant


def test_only_results_api_is_public_and_event_functions_are_invoked_by_the_event_identity():
    invokers = resources("google_cloud_run_v2_service_iam_member")
    public = unwrap(invokers["results_api_public"])
    assert unwrap(public["member"]) == "allUsers"
    assert '["results_api"]' in unwrap(public["name"])
    events = invokers["events_invoke"]
    assert _toset(unwrap(events["for_each"])) == ["preprocess", "predict", "dead_letter"]
    assert unwrap(events["member"]) == "serviceAccount:${google_service_account.events.email}"
    all_users = [
        (g["resource"], g["role"])
        for kind in (
            "google_project_iam_member",
            "google_storage_bucket_iam_member",
            "google_pubsub_topic_iam_member",
        )
        for g in grants(kind)
        if "allUsers" in g["member"]
    ]
    assert all_users == [("web_public", "roles/storage.objectViewer")]  # the page (test_web.py)


def test_invoker_rights_are_exactly_the_event_identity_results_api_warm_ups_and_the_public_api():
    service = '${google_cloudfunctions2_function.function["%s"].service_config[0].service}'
    events = "serviceAccount:${google_service_account.events.email}"
    invokers = grants("google_cloud_run_v2_service_iam_member")
    assert {g["role"] for g in invokers} == {"roles/run.invoker"}
    assert sorted((g["name"], g["member"]) for g in invokers) == sorted(
        [
            (service % "preprocess", events),
            (service % "predict", events),
            (service % "dead_letter", events),
            (service % "preprocess", FUNCTION_MEMBER % "results_api"),  # its warm-ups
            (service % "predict", FUNCTION_MEMBER % "results_api"),
            (service % "results_api", "allUsers"),
        ]
    )
    # No invoker right anywhere else: not project-wide, not through a Cloud Functions role.
    for kind in ("google_project_iam_member", "google_service_account_iam_member"):
        for grant in grants(kind):
            assert not grant["role"].startswith(("roles/run.", "roles/cloudfunctions.")), grant
    assert not resources("google_cloud_run_v2_service_iam_binding")
    assert not resources("google_cloud_run_v2_service_iam_policy")
    assert not resources("google_cloudfunctions2_function_iam_member")


def test_platform_agents_have_what_eventarc_and_dead_lettering_need():
    project = {(g["member"], g["role"]) for g in grants("google_project_iam_member")}
    assert ("${local.storage_agent}", "roles/pubsub.publisher") in project
    assert (
        "serviceAccount:${google_service_account.events.email}",
        "roles/eventarc.eventReceiver",
    ) in project
    topics = {(g["topic"], g["member"]) for g in grants("google_pubsub_topic_iam_member")}
    assert ('${google_pubsub_topic.dead_letter["features"].name}', "${local.pubsub_agent}") in topics
    subscriptions = {
        (g["subscription"], g["role"])
        for g in grants("google_pubsub_subscription_iam_member")
        if g["member"] == "${local.pubsub_agent}"
    }
    assert (
        '${google_pubsub_subscription.push["predict-audio-features"].name}',
        "roles/pubsub.subscriber",
    ) in (subscriptions)
