"""Configuration errors: every rule a user can break, with its message."""

from __future__ import annotations

from pathlib import Path

import pytest

from envconfig.errors import ConfigError
from tests.config_edit import DELETE, set_field, write_edited
from envconfig.gcp import CONFIG_DIR, Environment, load_environment, load_gcp_config


def _write(tmp_path: Path, env: str, mutate) -> Path:
    return write_edited(CONFIG_DIR / f"{env}.yaml", tmp_path / f"{env}.yaml", mutate)


_set = set_field
_DELETE = DELETE


@pytest.mark.parametrize("env", [e.value for e in Environment])
def test_repository_files_load(env):
    config = load_environment(env)
    assert config.stack_name == f"gcp-{env}"


CASES = [
    ("staging", "project_id", "My_Project", "project_id: must be a GCP project id"),
    ("staging", "project_id", "abc", "project_id: must be a GCP project id"),
    ("staging", "region", "mars-north1", "region: must be one of ['us-central1'"),
    ("staging", "environment", "production", "environment: must match the file name ('staging'), got 'production'"),
    ("staging", "name_prefix", "This-Prefix-Is-Far-Too-Long", "name_prefix: must be 3-15 lowercase letters"),
    ("staging", "github.infrastructure_repository", "just-a-repo", "github.infrastructure_repository: must be a GitHub repository of the form owner/name"),
    ("staging", "github.branch", "feature branch!", "github.branch: was removed: the pool trusts GitHub environments"),
    ("staging", "github.environment", "", "github.environment: must be a GitHub environment name"),
    ("staging", "sql.tier", "db-n1-standard-96", "sql.tier: must be one of ['db-f1-micro'"),
    ("staging", "sql.availability", "GLOBAL", "sql.availability: must be one of ['ZONAL', 'REGIONAL'], got 'GLOBAL'"),
    ("staging", "sql.backups_retained", 3, "sql.backups_retained: must be between 7 and 365, got 3"),
    ("staging", "sql.transaction_log_days", 8, "sql.transaction_log_days: must be between 1 and 7, got 8"),
    ("staging", "redis.tier", "PREMIUM", "redis.tier: must be one of ['BASIC', 'STANDARD_HA'], got 'PREMIUM'"),
    ("staging", "services.api.max_instances", 0, "services.api.max_instances: must be between 1 and 100, got 0"),
    ("staging", "services.websocket.min_instances", 20, "services.websocket.max_instances: must be >= min_instances (20), got 3"),
    ("staging", "services.api.cpu", "3", "services.api.cpu: must be one of 1, 2, 4, 6, 8"),
    ("staging", "services.agent.image_repository", "agent:latest", "services.agent.image_repository: must be an image path without tag"),
    ("staging", "services.api.replicas", 3, "services.api.replicas: is not a known setting"),
    ("staging", "services.agent", _DELETE, "services.agent: is required: every contract service is deployed"),
    ("staging", "monitoring.error_ratio_percent", -1, "monitoring.error_ratio_percent: must be at least 0, got -1"),
    ("staging", "monitoring.sql_connections", -5, "monitoring.sql_connections: must be between 0 and inf, got -5"),
    ("staging", "monitoring.redis_memory_percent", 120, "monitoring.redis_memory_percent: must be at most 100, got 120"),
    ("staging", "monitoring.emails", ["oncall-at-example.com"], "monitoring.emails[0]: must be an e-mail address"),
    ("staging", "monitoring.emails", [], "monitoring.emails: must have at least 1 item(s)"),
    ("staging", "budget.billing_account", "12345", "budget.billing_account: must be a billing account id"),
    ("staging", "budget.amount_usd", 0, "budget.amount_usd: must be between 1 and inf, got 0"),
    ("staging", "budget.alert_thresholds_usd", [150, 100], "budget.alert_thresholds_usd: must be strictly increasing, got [150, 100]"),
    ("staging", "budget.alert_thresholds_usd", [-1], "budget.alert_thresholds_usd: must be a non-empty list of whole USD amounts above 0"),
    ("staging", "network.subnet_cidr", "8.8.8.0/24", "network.subnet_cidr: must be a private IPv4 range"),
    ("staging", "network.subnet_cidr", "not-a-cidr", "network.subnet_cidr: must be an IPv4 CIDR"),
    ("staging", "app.trusted_origins", ["*"], "app.trusted_origins[0]: must be an https:// origin (no wildcard)"),
    ("staging", "oidc.deploy_roles", ["roles/editor"], "oidc.deploy_roles[0]: basic role roles/editor is not allowed"),
    ("staging", "backend.bucket", "UPPER", "backend.bucket: must be a GCS bucket name"),
    ("staging", "bootstrap_image", "hello", "bootstrap_image: must be a full image reference with a tag or digest"),
    ("staging", "deletion_protection", "yes", "deletion_protection: must be true or false, got 'yes'"),
    ("staging", "project_idd", "x", "project_idd: is not a known setting"),
    ("production", "deletion_protection", False, "deletion_protection: must be true in production"),
    ("production", "sql.availability", "ZONAL", "sql.availability: must be REGIONAL in production"),
    # The WebSocket is one long request (>= 3600 s) and needs sticky sessions (docs/requirements.md#gcp-connections).
    ("staging", "services.websocket.request_timeout_seconds", 300, "services.websocket.request_timeout_seconds: must be at least 3600 for the WebSocket service"),
    ("staging", "services.websocket.session_affinity", False, "services.websocket.session_affinity: must be true for the WebSocket service"),
    ("staging", "services.api.request_timeout_seconds", 7200, "services.api.request_timeout_seconds: must be between 1 and 3600, got 7200"),
    ("staging", "services.agent.image_repository", "us-central1-docker.pkg.dev/other-project/platform/agent",
     "services.agent.image_repository: must be an image in the stack's repository, us-central1-docker.pkg.dev/mirror-dissonance-stg/platform/<name>"),
    ("production", "migrations.image_repository", "europe-west1-docker.pkg.dev/mirror-dissonance-prd/platform/migrations",
     "migrations.image_repository: must be an image in the stack's repository"),
    ("staging", "artifact_registry.repository", "Platform", "artifact_registry.repository: must be an Artifact Registry repository id"),
    ("staging", "artifact_registry.keep_recent_versions", 0, "artifact_registry.keep_recent_versions: must be between 1 and 1000, got 0"),
    ("staging", "logging.retention_days", 7, "logging.retention_days: must be between 30 and 3650, got 7"),
    ("staging", "slo.availability_percent", 100, "slo.availability_percent: must be at most 99.99, got 100"),
    ("staging", "slo.window_days", 90, "slo.window_days: must be between 1 and 30, got 90"),
    ("staging", "otlp.traces_url", "http://collector:4318", "otlp.traces_url: must be an https:// OTLP endpoint URL"),
    ("staging", "otlp", {"traces_url": None}, "otlp.traces_url: at least one of traces_url, metrics_url, logs_url is required"),
    ("staging", "oidc.infra_service_account", "admin@example.com", "oidc.infra_service_account: must be a service account e-mail"),
    ("staging", "domains.api", "https://api.example.dev", "domains.api: must be a DNS name such as api-staging.example.dev"),
    ("staging", "livekit.zone", "europe-west1-b", "livekit.zone: must be in the stack's region us-central1, got 'europe-west1-b'"),
    ("staging", "livekit.media_source_ranges", ["everywhere"], "livekit.media_source_ranges[0]: must be a CIDR such as 0.0.0.0/0"),
    ("staging", "monitoring.websocket_connections", 0, "monitoring.websocket_connections: must be between 1 and inf, got 0"),
]


@pytest.mark.parametrize(("env", "field", "value", "message"), CASES, ids=[f"{c[0]}-{c[1]}-{i}" for i, c in enumerate(CASES)])
def test_config_error_names_file_field_and_rule(tmp_path, env, field, value, message):
    path = _write(tmp_path, env, _set(field, value))
    with pytest.raises(ConfigError) as info:
        load_gcp_config(path)
    assert str(info.value).startswith(f"{path}: "), str(info.value)
    assert message in str(info.value), str(info.value)


def test_no_branch_pin_environments_carry_the_branch_rules():
    assert load_environment("staging").github.branch is None
    assert load_environment("production").github.branch is None


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="staging.yaml: <file>: file does not exist"):
        load_gcp_config(tmp_path / "staging.yaml")


def test_bad_config_stops_the_app_before_any_construct(tmp_path, monkeypatch, capsys):
    """gcp_app reports the config error as one line and exits 2 (no jsii stack trace).
    It reads MD_CONFIG_DIR (before: always the repository's files, a false pass)."""
    import gcp_app

    for env in Environment:
        _write(tmp_path / "gcp", env.value, _set("region", "mars-north1") if env is Environment.PRODUCTION else (lambda d: None))
    monkeypatch.setenv("MD_CONFIG_DIR", str(tmp_path))
    assert gcp_app.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("gcp_app: configuration error: ") and "production.yaml: region: must be one of" in err
