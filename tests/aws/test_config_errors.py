"""Every configuration rule of envconfig/aws.py stops synth with file, field and rule."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from envconfig import ConfigError
from envconfig.aws import REPO_CONFIG_DIR, Environment, load
from tests.config_edit import set_field, write_edited

ROOT = Path(__file__).resolve().parents[2]


def _write(tmp_path: Path, env: str, mutate) -> Path:
    return write_edited(REPO_CONFIG_DIR / "aws" / f"{env}.yaml", tmp_path / "aws" / f"{env}.yaml", mutate)


_set = set_field


CASES = [
    ("staging", "account", "12345", "account", "12-digit AWS account id"),
    ("staging", "account", 123456789012, "account", "must be a string"),
    ("staging", "region", "us-east-9", "region", "is not an AWS region"),
    ("staging", "name_prefix", "Mirror_Dissonance", "name_prefix", "lowercase letters"),
    ("staging", "name_prefix", "a" * 28, "name_prefix", "bucket names over 63 characters"),
    ("staging", "github.infrastructure_repository", "Phase-Mirror", "github.infrastructure_repository", "owner/name"),
    ("staging", "github.infrastructure_repository", "owner/name/extra", "github.infrastructure_repository", "owner/name"),
    ("staging", "data.pitr_recovery_period_days", 0, "data.pitr_recovery_period_days", "between 1 and 35"),
    ("staging", "data.pitr_recovery_period_days", 36, "data.pitr_recovery_period_days", "between 1 and 35"),
    ("staging", "data.backup_retention_days", 0, "data.backup_retention_days", "between 1 and"),
    ("staging", "observability.log_retention_days", 31, "observability.log_retention_days", "CloudWatch's allowed values"),
    ("staging", "observability.alarm_emails", ["not-an-email"], "observability.alarm_emails[0]", "e-mail address"),
    ("staging", "observability.alarm_emails", [], "observability.alarm_emails", "at least 1"),
    ("staging", "observability.thresholds.table_throttle.threshold", -1, "observability.thresholds.table_throttle.threshold", "at least 0"),
    ("staging", "observability.thresholds.lambda_error_rate_percent.threshold", 101, "observability.thresholds.lambda_error_rate_percent.threshold", "at most 100"),
    ("staging", "observability.thresholds.table_throttle.severity", "Urgent", "observability.thresholds.table_throttle.severity", "one of ['Critical', 'Warning']"),
    ("production", "data.deletion_protection", False, "data.deletion_protection", "must be true in production"),
    ("staging", "environment", "production", "environment", "file is for 'staging'"),
    ("staging", "github.existing_oidc_provider_arn", "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com",
     "github.existing_oidc_provider_arn", "must be empty when create_oidc_provider is true"),
    ("staging", "data.pitr_recovery_day", 7, "data.pitr_recovery_day", "is not a known setting"),
    ("staging", "runtime.log_level", "LOUD", "runtime.log_level", "DEBUG, INFO, WARNING or ERROR"),
]


@pytest.mark.parametrize("env,dotted,value,field,rule", CASES, ids=[f"{c[1]}={c[2]!r}" for c in CASES])
def test_invalid_value_names_file_field_and_rule(tmp_path, env, dotted, value, field, rule):
    path = _write(tmp_path, env, _set(dotted, value))
    with pytest.raises(ConfigError) as caught:
        load(env, path)
    assert caught.value.file == str(path)
    assert caught.value.field == field
    assert rule in caught.value.rule
    assert str(caught.value).startswith(f"{path}: {field}: ")


def test_missing_field(tmp_path):
    path = _write(tmp_path, "staging", lambda d: d.pop("region"))
    with pytest.raises(ConfigError, match=r"staging.yaml: region: is required"):
        load("staging", path)


def test_existing_provider_required_when_not_creating(tmp_path):
    path = _write(tmp_path, "staging", _set("github.create_oidc_provider", False))
    with pytest.raises(ConfigError, match="github.existing_oidc_provider_arn: is required when create_oidc_provider is false"):
        load("staging", path)


def test_existing_provider_must_be_in_the_account(tmp_path):
    def mutate(d):
        d["github"]["create_oidc_provider"] = False
        d["github"]["existing_oidc_provider_arn"] = "arn:aws:iam::999999999999:oidc-provider/token.actions.githubusercontent.com"
    with pytest.raises(ConfigError, match="must belong to account 123456789012"):
        load("staging", _write(tmp_path, "staging", mutate))


def test_invalid_yaml(tmp_path):
    path = tmp_path / "staging.yaml"
    path.write_text("account: [unclosed\n")
    with pytest.raises(ConfigError, match=r"<file>: is not valid YAML"):
        load("staging", path)


def test_unknown_environment():
    with pytest.raises(ConfigError, match=r"<environment>: must be one of \['staging', 'production'\]"):
        load("qa")


def test_repository_files_are_valid():
    for env in Environment:
        assert load(env).name is env


def test_cdk_app_reports_a_contract_violation_without_traceback(monkeypatch, capsys):
    import app
    import stacks.runtime as runtime

    original = runtime.oracle_environment
    monkeypatch.setattr(runtime, "oracle_environment", lambda config: {**original(config), "REDIS_URL": "redis://x"})
    assert app.main() == 2
    err = capsys.readouterr().err
    assert err.startswith("configuration error: ") and "REDIS_URL: is not in the environment contract" in err


def test_cdk_app_exits_with_the_message_and_no_traceback(tmp_path):
    """The real entry point (what `cdk synth` runs): exit 2, one line, no jsii trace."""
    _write(tmp_path, "staging", _set("data.pitr_recovery_period_days", 90))
    _write(tmp_path, "production", lambda d: None)
    proc = subprocess.run(
        [sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "MD_CONFIG_DIR": str(tmp_path)}, timeout=120,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and "jsii" not in proc.stderr
    assert proc.stderr.strip() == (
        f"configuration error: {tmp_path}/aws/staging.yaml: data.pitr_recovery_period_days: must be between 1 and 35, got 90"
    )
