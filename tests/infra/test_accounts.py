"""Accounts and privacy on Google Cloud, read from the Terraform: sign-in providers, the web
key, retention from one variable, the history index, and no emulator setting anywhere."""

from __future__ import annotations

import re

from tests.infra.terraform import (
    TF_DIR,
    deployed_functions,
    function_env,
    locals_,
    resources,
    unwrap,
    variable_default,
)


def test_no_terraform_sets_an_emulator_variable():
    """FIREBASE_AUTH_EMULATOR_HOST makes firebase-admin take unsigned tokens (docs/design/emulators.md)."""
    for path in TF_DIR.glob("*.tf"):
        code = "\n".join(
            line.split("#", 1)[0] for line in path.read_text().splitlines()
        )  # comments may say why
        assert not re.search(r"EMULATOR_HOST", code), path.name
    for entry_point in deployed_functions():
        assert not {name for name in function_env(entry_point) if "EMULATOR" in name}, entry_point


def test_visitors_sign_in_anonymously_or_with_email_and_password():
    config = unwrap(resources("google_identity_platform_config")["auth"])
    sign_in = unwrap(config["sign_in"])
    assert unwrap(unwrap(sign_in["anonymous"])["enabled"]) is True
    email = unwrap(sign_in["email"])
    assert (unwrap(email["enabled"]), unwrap(email["password_required"])) == (True, True)
    assert unwrap(sign_in["allow_duplicate_emails"]) is False
    domains = unwrap(config["authorized_domains"])
    assert "local.web_origins" in domains and "localhost" in domains
    # Anonymous accounts (capped at 100 million a project) are cleaned up, not kept forever.
    assert unwrap(config["autodelete_anonymous_users"]) is True


def test_the_web_key_only_reaches_the_sign_in_apis_from_the_pages_origins():
    key = unwrap(resources("google_apikeys_key")["web"])
    restrictions = unwrap(key["restrictions"])
    targets = sorted(unwrap(t["service"]) for t in restrictions["api_targets"])
    assert targets == ["identitytoolkit.googleapis.com", "securetoken.googleapis.com"]
    referrers = unwrap(unwrap(restrictions["browser_key_restrictions"])["allowed_referrers"])
    assert referrers == '${[for origin in local.web_origins : "${origin}/*"]}'


def test_one_variable_sets_retention_of_recordings_and_results():
    assert variable_default("retention_days") == 30
    rule = unwrap(resources("google_storage_bucket")["uploads"]["lifecycle_rule"])
    assert unwrap(unwrap(rule["condition"])["age"]) == "${var.retention_days}"
    assert locals_()["common_env"]["RETENTION_DAYS"] == "${tostring(var.retention_days)}"
    ttl = unwrap(resources("google_firestore_field")["results_expire_at"])
    assert (unwrap(ttl["collection"]), unwrap(ttl["field"])) == ("results", "expire_at")
    assert "ttl_config" in ttl
    from shared.config import Settings

    assert variable_default("retention_days") == Settings.RETENTION_DAYS  # the same default locally


def test_erasure_tombstones_expire():
    from shared.config import Settings

    ttl = unwrap(resources("google_firestore_field")["tombstones_expire_at"])
    assert (unwrap(ttl["collection"]), unwrap(ttl["field"])) == (Settings.TOMBSTONES_COLLECTION, "expire_at")
    assert "ttl_config" in ttl


def test_the_history_query_has_its_index():
    index = unwrap(resources("google_firestore_index")["results_by_owner"])
    assert unwrap(index["collection"]) == "results"
    fields = [(unwrap(f["field_path"]), unwrap(f["order"])) for f in index["fields"]]
    assert fields == [("owner", "ASCENDING"), ("created_at", "DESCENDING")]


def test_the_apis_accounts_need_are_enabled():
    apis = unwrap(resources("google_project_service")["apis"]["for_each"])
    assert "identitytoolkit.googleapis.com" in apis and "apikeys.googleapis.com" in apis
