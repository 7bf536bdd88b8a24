"""Buckets: private, CORS for the page's origins only, uploads expire, models keep versions."""

from __future__ import annotations

from tests.infra.terraform import function_env, resources, unwrap

BUCKETS = resources("google_storage_bucket")


def test_every_bucket_but_the_web_page_is_private_and_all_have_uniform_access():
    assert set(BUCKETS) == {"uploads", "models", "function_source", "web"}
    for name, bucket in BUCKETS.items():
        assert unwrap(bucket["uniform_bucket_level_access"]) is True, name
        public = "inherited" if name == "web" else "enforced"  # test_web.py: the page is public
        assert unwrap(bucket["public_access_prevention"]) == public, name
        assert unwrap(bucket["location"]) == "${var.region}", name  # Eventarc needs the trigger's region


def test_uploads_accept_browser_puts_from_the_same_origins_results_api_allows():
    cors = unwrap(BUCKETS["uploads"]["cors"])
    assert unwrap(cors["origin"]) == "${local.web_origins}"
    assert unwrap(cors["method"]) == ["PUT"]
    signed = {"Content-Type", "x-goog-content-length-range", "x-goog-if-generation-match"}
    assert signed <= set(unwrap(cors["response_header"]))
    assert function_env("results_api")["CORS_ALLOWED_ORIGINS"] == '${join(",",local.web_origins)}'
    assert all("cors" not in BUCKETS[name] for name in ("models", "function_source", "web"))


def test_uploads_expire_and_are_not_versioned_while_models_are():
    rule = unwrap(BUCKETS["uploads"]["lifecycle_rule"])
    assert unwrap(unwrap(rule["condition"])["age"]) == "${var.retention_days}"
    assert unwrap(unwrap(rule["action"])["type"]) == "Delete"
    assert "versioning" not in BUCKETS["uploads"]
    assert unwrap(unwrap(BUCKETS["models"]["versioning"])["enabled"]) is True


def test_function_source_objects_are_content_addressed():
    source = resources("google_storage_bucket_object")["source"]
    assert "filesha256(" in unwrap(source["name"])
    assert unwrap(source["bucket"]) == "${google_storage_bucket.function_source.name}"
