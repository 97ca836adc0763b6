"""Static frontends: config-gated per app; staging serves landing, dashboard, meeting and the widget SDK."""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pytest

from envconfig.errors import ConfigError
from envconfig.gcp import CONFIG_DIR, Environment, load_gcp_config
from tests.config_edit import set_field, write_edited

ROOT = Path(__file__).resolve().parents[2]
LANDING = {"landing": {"domain": "www-staging.mirror-dissonance.dev"}}


@pytest.fixture(scope="module")
def config_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("config")
    write_edited(CONFIG_DIR / "staging.yaml", d / "staging.yaml", set_field("frontends", LANDING))
    write_edited(CONFIG_DIR / "production.yaml", d / "production.yaml", lambda data: None)
    return d


@pytest.fixture(scope="module")
def with_frontend(config_dir, gcp_synth, tmp_path_factory) -> dict:
    """A staging stack with one frontend (the provider import is already paid by gcp_synth)."""
    from constructs_lib.gcp import tf
    from stacks.gcp.platform import GcpPlatformStack

    outdir = tmp_path_factory.mktemp("cdktf.frontend")
    app = tf.App(outdir=str(outdir))
    GcpPlatformStack(app, config=load_gcp_config(config_dir / "staging.yaml"))
    app.synth()
    return json.loads((outdir / "stacks" / "gcp-staging" / "cdk.tf.json").read_text())


def _one(doc: dict, type_: str, part: str) -> tuple[str, dict]:
    found = [(n, b) for n, b in doc["resource"].get(type_, {}).items() if part in b["//"]["metadata"]["path"]]
    assert len(found) == 1, (type_, part, [n for n, _ in found])
    return found[0]


def test_staging_serves_the_planned_frontends_and_production_none_yet(gcp_synth):
    staging = gcp_synth[Environment.STAGING]
    assert {(f.name, f.domain, f.path) for f in staging.config.frontends} == {
        ("landing", "www-staging.mirror-dissonance.dev", None),
        ("dashboard", "app-staging.mirror-dissonance.dev", None),
        ("meeting", "meet-staging.mirror-dissonance.dev", None),
        ("widget", "cdn-staging.mirror-dissonance.dev", "/widget/"),
    }
    assert len(staging.resources("google_compute_backend_bucket")) == 4
    production = gcp_synth[Environment.PRODUCTION]
    assert production.config.frontends == () and not production.resources("google_compute_backend_bucket")


def test_widget_sdk_is_routed_by_path_on_the_cdn_host(gcp_synth):
    staging = gcp_synth[Environment.STAGING]
    url_map = staging.one("google_compute_url_map", "Edge/UrlMap")
    matcher = {r["hosts"][0]: r["path_matcher"] for r in url_map["host_rule"]}["cdn-staging.mirror-dissonance.dev"]
    [paths] = [m for m in url_map["path_matcher"] if m["name"] == matcher]
    widget = staging.ref("google_compute_backend_bucket", "FrontendWidget/Backend")
    assert paths["path_rule"] == [{"paths": ["/widget/*"], "service": widget}]
    cert = staging.one("google_compute_managed_ssl_certificate", "Edge/Certificate")
    assert "cdn-staging.mirror-dissonance.dev" in cert["managed"]["domains"]


def test_every_public_grant_is_object_read_on_a_cdn_served_versioned_bucket(synth):
    """The one exception to private buckets: a frontend bucket that a CDN backend serves,
    objectViewer to allUsers only (no list, no write), uniform access, versioning."""
    buckets = synth.resources("google_storage_bucket")
    by_ref = {f"${{google_storage_bucket.{n}.name}}": b for n, b in buckets.items()}
    cdn_served = {b["bucket_name"] for b in synth.resources("google_compute_backend_bucket").values() if b["enable_cdn"] is True}
    public_types = ("google_storage_bucket_iam_member", "google_storage_bucket_iam_binding", "google_storage_bucket_iam_policy",
                    "google_storage_bucket_acl", "google_storage_default_object_acl", "google_storage_object_acl")
    public = []
    for type_, name, body in synth.all_resources():
        if type_ in public_types and ("allUsers" in str(body) or "allAuthenticatedUsers" in str(body)):
            public.append((type_, name, body))
    assert len(public) == len(synth.config.frontends)
    for type_, name, body in public:
        assert type_ == "google_storage_bucket_iam_member", name
        assert body["member"] == "allUsers" and body["role"] == "roles/storage.objectViewer", name
        assert body["bucket"] in cdn_served, name
        bucket = by_ref[body["bucket"]]
        assert bucket["uniform_bucket_level_access"] is True and bucket["versioning"] == {"enabled": True}, name
    for name, bucket in buckets.items():
        if f"${{google_storage_bucket.{name}.name}}" not in cdn_served:
            assert bucket["public_access_prevention"] == "enforced", name


@pytest.mark.parametrize(("target", "role", "member"), [
    ("assets", "roles/storage.objectViewer", "allUsers"),          # not a frontend bucket
    ("frontend", "roles/storage.objectAdmin", "allUsers"),         # write
    ("frontend", "roles/storage.legacyBucketReader", "allUsers"),  # list
    ("frontend", "roles/storage.objectViewer", "allAuthenticatedUsers"),
])
def test_any_other_public_bucket_or_role_is_refused(gcp_synth, target, role, member):
    from constructs_lib.gcp import tf
    from stacks.gcp.platform import GcpPlatformStack, refuse_public_buckets

    stack = GcpPlatformStack(tf.Testing.app(), config=gcp_synth[Environment.STAGING].config)
    bucket = stack.data.bucket.bucket.name if target == "assets" else stack.frontends["landing"].bucket.name
    tf.storage_bucket_iam_member.StorageBucketIamMember(stack, "Rogue", bucket=bucket, role=role, member=member)
    with pytest.raises(ValueError, match=r"gcp-staging/Rogue: google_storage_bucket_iam_member grants .* only a CDN-served frontend bucket"):
        refuse_public_buckets(stack)


def test_frontend_bucket_cdn_backend_and_host_on_the_edge(with_frontend):
    doc = with_frontend
    _, bucket = _one(doc, "google_storage_bucket", "FrontendLanding/Bucket")
    assert bucket["name"] == "mirror-dissonance-stg-landing-web"
    assert bucket["uniform_bucket_level_access"] is True and bucket["versioning"] == {"enabled": True}
    assert bucket["encryption"]["default_kms_key_name"].startswith("${google_kms_crypto_key.Secrets_Kms_StorageKey_")
    assert bucket["logging"]["log_bucket"].startswith("${google_storage_bucket.Data_Assets_AccessLogBucket_")
    assert bucket["force_destroy"] is False
    _, read = _one(doc, "google_storage_bucket_iam_member", "FrontendLanding/PublicRead")
    # Objects readable, nothing else: no listing, no writes.
    assert read["role"] == "roles/storage.objectViewer" and read["member"] == "allUsers"
    name, backend = _one(doc, "google_compute_backend_bucket", "FrontendLanding/Backend")
    assert backend["enable_cdn"] is True and backend["cdn_policy"]["cache_mode"] == "CACHE_ALL_STATIC"
    _, url_map = _one(doc, "google_compute_url_map", "Edge/UrlMap")
    matchers = {m["name"]: m["default_service"] for m in url_map["path_matcher"]}
    routed = {r["hosts"][0]: matchers[r["path_matcher"]] for r in url_map["host_rule"]}
    assert routed["www-staging.mirror-dissonance.dev"] == f"${{google_compute_backend_bucket.{name}.id}}"
    _, cert = _one(doc, "google_compute_managed_ssl_certificate", "Edge/Certificate")
    assert "www-staging.mirror-dissonance.dev" in cert["managed"]["domains"]


def test_only_frontend_buckets_are_readable_by_all_users(with_frontend):
    public = [b for b in with_frontend["resource"]["google_storage_bucket_iam_member"].values() if b["member"] == "allUsers"]
    assert len(public) == 1 and "FrontendLanding" in public[0]["//"]["metadata"]["path"]
    for name, bucket in with_frontend["resource"]["google_storage_bucket"].items():
        if "Frontend" not in bucket["//"]["metadata"]["path"]:
            assert bucket["public_access_prevention"] == "enforced", name


def test_bad_frontend_config_is_refused(tmp_path):
    path = write_edited(CONFIG_DIR / "staging.yaml", tmp_path / "staging.yaml",
                        set_field("frontends", {"landing": {"domain": "not a host"}}))
    with pytest.raises(ConfigError, match="frontends.landing.domain: must be a DNS name"):
        load_gcp_config(path)


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.calls, self.fail = [], fail

    def __call__(self, argv) -> int:
        self.calls.append(tuple(argv))
        return 3 if self.fail else 0


def test_publish_uploads_then_invalidates(config_dir, tmp_path):
    from opscli.gcp_publish import main

    (tmp_path / "index.html").write_text("<!doctype html>")
    ex, out = Recorder(), io.StringIO()
    assert main(["--env", "staging", "--app", "landing", "--dir", str(tmp_path)], executor=ex, out=out, config_dir=config_dir) == 0
    assert ex.calls[0][:5] == ("gcloud", "storage", "rsync", str(tmp_path), "gs://mirror-dissonance-stg-landing-web")
    assert "--delete-unmatched-destination-objects" in ex.calls[0]
    assert ex.calls[1][:5] == ("gcloud", "compute", "url-maps", "invalidate-cdn-cache", "md-staging-edge")
    assert ex.calls[1][ex.calls[1].index("--host") + 1] == "www-staging.mirror-dissonance.dev"


def test_publish_stops_when_the_upload_fails(config_dir, tmp_path):
    from opscli.gcp_publish import main

    (tmp_path / "index.html").write_text("x")
    ex, out = Recorder(fail=True), io.StringIO()
    assert main(["--env", "staging", "--app", "landing", "--dir", str(tmp_path)], executor=ex, out=out, config_dir=config_dir) == 1
    assert len(ex.calls) == 1 and "step 1 failed (exit 3)" in out.getvalue()


@pytest.mark.parametrize(("app", "make_index", "message"), [
    ("dashboard", True, "--app: 'dashboard' is not a frontend of gcp-staging (configured: ['landing'])"),
    ("landing", False, "has no index.html"),
])
def test_publish_checks_input_before_any_call(config_dir, tmp_path, capsys, app, make_index, message):
    from opscli.gcp_publish import main

    if make_index:
        (tmp_path / "index.html").write_text("x")
    ex = Recorder()
    assert main(["--env", "staging", "--app", app, "--dir", str(tmp_path)], executor=ex, config_dir=config_dir) == 2
    assert ex.calls == [] and message in capsys.readouterr().err


def test_publish_help():
    proc = subprocess.run([str(ROOT / "bin" / "gcp-publish"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "invalidate" in proc.stdout and "Exit status" in proc.stdout
