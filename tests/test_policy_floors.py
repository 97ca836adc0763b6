"""The loader refuses values that break what the requirements fix
(docs/requirements.md). The bounds are written here as numbers from their
source, not read from envconfig/policy.py or from the configuration files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from envconfig import ConfigError, aws, gcp
from envconfig.location import REPO_CONFIG_DIR
from tests.config_edit import set_field, write_edited


@pytest.fixture
def candidate(tmp_path, monkeypatch) -> Path:
    shutil.copytree(REPO_CONFIG_DIR, tmp_path / "config")
    monkeypatch.setenv("MD_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


CASES = [
    # Roles trust GitHub environments only, never a branch (docs/requirements.md#trust)
    ("aws", "production", "github.allow_main_branch", True, "github.allow_main_branch: was removed: roles trust GitHub environments only"),
    # docs/requirements.md#retention: log retention 30 days; backups kept 7 days
    ("aws", "staging", "observability.log_retention_days", 14, "observability.log_retention_days: must be at least 30 days"),
    ("aws", "production", "data.backup_retention_days", 6, "data.backup_retention_days: must be at least 7 days"),
    # docs/requirements.md#alarms: throttles > 10 / 5 min, SSMParameterFailures > 5, CircuitBreakerTriggers > 0, errors > 1 %, p95 > 500 ms
    ("aws", "production", "observability.thresholds.table_throttle.threshold", 11, "table_throttle.threshold: must be at most 10"),
    ("aws", "production", "observability.thresholds.ssm_parameter_failures.threshold", 6, "ssm_parameter_failures.threshold: must be at most 5"),
    ("aws", "production", "observability.thresholds.circuit_breaker_triggers.threshold", 1, "circuit_breaker_triggers.threshold: must be at most 0"),
    ("aws", "production", "observability.thresholds.lambda_error_rate_percent.threshold", 2, "lambda_error_rate_percent.threshold: must be at most 1"),
    ("aws", "staging", "observability.thresholds.api_latency_p95_ms.threshold", 800, "api_latency_p95_ms.threshold: must be at most 500"),
    ("aws", "staging", "observability.thresholds.table_throttle.period_minutes", 60, "table_throttle.period_minutes: must be at most 5"),
    # The agent service is internal; production Redis is STANDARD_HA
    ("gcp", "staging", "services.agent.public", True, "services.agent.public: must be false"),
    ("gcp", "production", "redis.tier", "BASIC", "redis.tier: must be STANDARD_HA in production"),
    ("gcp", "production", "github.branch", "main", "github.branch: was removed: the pool trusts GitHub environments"),
    ("gcp", "production", "github.environment", "production", "github.environment: must be 'gcp-production'"),
    ("gcp", "staging", "oidc.deploy_roles", ["roles/run.developer", "roles/storage.admin"], "oidc.deploy_roles[1]: roles/storage.admin is not on the deploy identity's allow-list"),
    ("gcp", "production", "oidc.deploy_roles", ["roles/iam.securityAdmin"], "oidc.deploy_roles[0]: roles/iam.securityAdmin is not on"),
    # docs/requirements.md#gcp-alerts: > 5 %, > 500 ms, disk > 80 %, Redis memory > 75 %; #cost: budget alerts 100 / 150 / 200 USD
    ("gcp", "production", "monitoring.error_ratio_percent", 10, "monitoring.error_ratio_percent: must be at most 5"),
    ("gcp", "staging", "monitoring.latency_p95_ms", 900, "monitoring.latency_p95_ms: must be at most 500"),
    ("gcp", "staging", "monitoring.sql_disk_percent", 95, "monitoring.sql_disk_percent: must be at most 80"),
    ("gcp", "staging", "monitoring.redis_memory_percent", 90, "monitoring.redis_memory_percent: must be at most 75"),
    ("gcp", "staging", "budget.alert_thresholds_usd", [100, 200], "budget.alert_thresholds_usd: must include the alerts at 100, 150 and 200 USD"),
]


@pytest.mark.parametrize("cloud, env, field, value, message", CASES, ids=[f"{c[1]}-{c[2]}" for c in CASES])
def test_policy_breaking_values_are_refused(candidate, cloud, env, field, value, message):
    path = write_edited(candidate / cloud / f"{env}.yaml", candidate / cloud / f"{env}.yaml", set_field(field, value))
    with pytest.raises(ConfigError) as error:
        aws.load(env) if cloud == "aws" else gcp.load_environment(env)
    assert str(error.value).startswith(f"{path}: ") and message in str(error.value), str(error.value)


@pytest.mark.parametrize("cloud, env, field, value", [
    ("aws", "production", "observability.thresholds.table_throttle.threshold", 3),   # stricter is always fine
    ("gcp", "staging", "monitoring.error_ratio_percent", 2),
])
def test_stricter_values_are_accepted(candidate, cloud, env, field, value):
    write_edited(candidate / cloud / f"{env}.yaml", candidate / cloud / f"{env}.yaml", set_field(field, value))
    assert aws.load(env) if cloud == "aws" else gcp.load_environment(env)
