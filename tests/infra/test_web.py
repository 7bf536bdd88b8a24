"""The upload page on Cloud: its own public bucket, the built dist/ plus a generated config.json,
and its origin allowed by results_api and the uploads bucket."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from tests.infra.terraform import (
    REPO,
    TF_DIR,
    deployed_functions,
    function_env,
    locals_,
    resources,
    unwrap,
    variable_default,
)

WEB = resources("google_storage_bucket")["web"]
OBJECTS = resources("google_storage_bucket_object")
LOCALS = locals_()
DIST = REPO / "frontend_stub" / "dist"
PAGE_ORIGIN = "https://storage.googleapis.com"
WEB_BUCKET = "${google_storage_bucket.web.name}"
# What a browser needs for each kind of file the build emits (a module script must be JavaScript).
EXPECTED_TYPES = {
    "html": "text/html",
    "js": "text/javascript",
    "css": "text/css",
    "json": "application/json",
    "svg": "image/svg+xml",
    "png": "image/png",
}


def _output(name: str) -> str:
    text = (TF_DIR / "outputs.tf").read_text()
    match = re.search(rf'output "{name}" \{{.*?value\s*=\s*"?(.+?)"?\n\}}', text, flags=re.S)
    assert match, f"outputs.tf has no output {name!r}"
    return match.group(1)


def _dist_files() -> list[str]:
    """What `setsubtract(fileset(local.web_dist, "**"), ["config.json"])` yields."""
    assert (DIST / "index.html").exists(), "frontend_stub/dist is not built: run `make setup`"
    files = sorted(p.relative_to(DIST).as_posix() for p in DIST.rglob("*") if p.is_file())
    return [f for f in files if f != "config.json"]


def _content_type(name: str) -> str:
    """The object's content_type, evaluated as Terraform would."""
    return LOCALS["web_content_types"][re.search(r"[^.]+$", name).group(0).lower()]


def test_the_page_has_a_bucket_of_its_own_that_serves_index_html():
    assert unwrap(WEB["name"]) == "${var.project_id}-web"
    assert unwrap(WEB["uniform_bucket_level_access"]) is True
    assert unwrap(WEB["public_access_prevention"]) == "inherited"
    assert unwrap(unwrap(WEB["website"])["main_page_suffix"]) == "index.html"
    assert LOCALS["web_dist"] == "${path.module}/../../frontend_stub/dist"
    assert (TF_DIR / "../../frontend_stub/dist").resolve() == DIST


def test_the_web_bucket_is_the_only_publicly_readable_one():
    public = [
        (name, unwrap(body["bucket"]), unwrap(body["role"]))
        for name, body in resources("google_storage_bucket_iam_member").items()
        if unwrap(body["member"]) in {"allUsers", "allAuthenticatedUsers"}
    ]
    assert public == [("web_public", WEB_BUCKET, "roles/storage.objectViewer")]
    for kind in ("acl", "default_object_acl", "object_acl", "access_control", "iam_binding", "iam_policy"):
        assert not resources(f"google_storage_{kind}") and not resources(f"google_storage_bucket_{kind}")
    others = {n: b for n, b in resources("google_storage_bucket").items() if n != "web"}
    assert all(unwrap(b["public_access_prevention"]) == "enforced" for b in others.values())


def test_every_built_file_is_uploaded_with_the_type_a_browser_needs():
    objects = OBJECTS["web"]
    assert unwrap(objects["bucket"]) == WEB_BUCKET
    assert LOCALS["web_files"] == "${setsubtract(fileset(local.web_dist,\"**\"),['config.json'])}"
    assert unwrap(objects["for_each"]) == "${local.web_files}"
    assert unwrap(objects["name"]) == "${each.value}"
    assert unwrap(objects["source"]) == "${local.web_dist}/${each.value}"
    assert unwrap(objects["content_type"]) == '${local.web_content_types[lower(regex("[^.]+$",each.value))]}'
    files = _dist_files()
    assert "index.html" in files
    kinds = {name.rsplit(".", 1)[-1] for name in files}
    assert {"html", "js", "css"} <= kinds
    for name in files:
        kind = name.rsplit(".", 1)[-1]
        assert kind in LOCALS["web_content_types"], f"dist/{name}: add .{kind} to web_content_types"
        if kind in EXPECTED_TYPES:
            assert _content_type(name).split(";")[0] == EXPECTED_TYPES[kind], name


def test_hashed_assets_are_cached_for_good_and_the_page_and_config_are_revalidated():
    assert unwrap(OBJECTS["web"]["cache_control"]) == (
        '${startswith(each.value,"assets/") ? local.web_cache_immutable : local.web_cache_revalidate}'
    )
    assert "immutable" in LOCALS["web_cache_immutable"]
    assert LOCALS["web_cache_revalidate"] == "no-cache"
    assert unwrap(OBJECTS["web_config"]["cache_control"]) == "${local.web_cache_revalidate}"
    assets = [f for f in _dist_files() if f.startswith("assets/")]
    assert assets and all(re.search(r"-[\w-]{8,}\.\w+$", f) for f in assets), "assets must carry a hash"


def test_config_json_is_generated_with_the_results_api_url_and_the_firebase_settings():
    config = OBJECTS["web_config"]
    assert unwrap(config["bucket"]) == WEB_BUCKET
    assert unwrap(config["name"]) == "config.json"
    assert unwrap(config["content_type"]) == "application/json"
    content = unwrap(config["content"])
    assert re.fullmatch(
        r"\$\{jsonencode\(\{'apiUrl': "
        r"'\$\{google_cloudfunctions2_function\.function\[\"results_api\"\]\.url\}', "
        r"'firebase': '\$\{local\.firebase_web_config\}'\}\)\}",
        content,
    ), content
    # The page's contract: apiKey, authDomain, projectId (and, with App Check on, appId and
    # appCheckSiteKey); no emulator URL on Google Cloud.
    assert LOCALS["firebase_web_config"] == (
        "${merge({'apiKey': '${google_apikeys_key.web.key_string}', "
        "'authDomain': '${local.firebase_auth_domain}', 'projectId': '${var.project_id}'},"
        "local.app_check ? {'appId': '${google_firebase_web_app.page[0].app_id}', "
        "'appCheckSiteKey': '${var.app_check_site_key}'} : {})}"
    )
    assert LOCALS["firebase_auth_domain"] == "${var.project_id}.firebaseapp.com"
    precondition = unwrap(unwrap(unwrap(config["lifecycle"])["precondition"])["condition"])
    assert precondition == '${fileexists("${local.web_dist}/index.html")}'


def test_app_check_is_off_unless_a_site_key_is_given_and_then_results_api_requires_it():
    assert variable_default("app_check_site_key") == ""
    assert LOCALS["app_check"] == '${var.app_check_site_key != ""}'
    for kind in (
        "google_firebase_project",
        "google_firebase_web_app",
        "google_firebase_app_check_recaptcha_enterprise_config",
    ):
        for body in resources(kind).values():
            assert unwrap(body["count"]) == "${local.app_check ? 1 : 0}", kind
    env = deployed_functions()["results_api"]["env"]
    assert env["APP_CHECK_REQUIRED"] == '${local.app_check ? "1" : "0"}'


def test_the_built_page_works_under_a_path_and_finds_config_json_beside_it():
    """Served at /<bucket>/index.html: absolute /assets/ or /config.json would miss."""
    index = (DIST / "index.html").read_text()
    references = re.findall(r'(?:src|href)="([^"]+)"', index)
    assert references and all(r.startswith("./") for r in references), references
    bundle = "".join(p.read_text() for p in (DIST / "assets").glob("*.js"))
    assert "config.json" in bundle and "/config.json" not in bundle
    api_js = (REPO / "frontend_stub" / "src" / "lib" / "api.js").read_text()
    assert 'loadConfig(url = "config.json")' in api_js


def test_the_page_origin_is_allowed_by_results_api_and_the_uploads_bucket():
    assert LOCALS["web_page_origin"] == PAGE_ORIGIN
    assert LOCALS["web_origins"] == "${distinct(concat(['${local.web_page_origin}'],var.web_origins))}"
    assert function_env("results_api")["CORS_ALLOWED_ORIGINS"] == '${join(",",local.web_origins)}'
    cors = unwrap(resources("google_storage_bucket")["uploads"]["cors"])
    assert unwrap(cors["origin"]) == "${local.web_origins}"
    url = _output("web_url").replace("${local.web_page_origin}", PAGE_ORIGIN)
    parts = urlsplit(url.replace("${google_storage_bucket.web.name}", "PROJECT-web"))
    assert f"{parts.scheme}://{parts.netloc}" == PAGE_ORIGIN
    assert parts.path == "/PROJECT-web/index.html"


def test_nothing_of_the_page_lands_in_the_uploads_bucket():
    """A finalize event in the uploads bucket triggers preprocess."""
    for name, body in OBJECTS.items():
        assert "uploads" not in unwrap(body["bucket"]), name
    assert unwrap(WEB["name"]) != unwrap(resources("google_storage_bucket")["uploads"]["name"])


def test_the_page_is_the_documented_deploy_step():
    guide = (REPO / "docs/guides/deploy.md").read_text()
    section = guide.split("## From an empty project to a first classification", 1)[1].split("\n## ", 1)[0]
    assert "terraform output -raw web_url" in section
    assert section.index("make setup") < section.index("terraform apply")
