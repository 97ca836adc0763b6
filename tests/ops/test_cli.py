"""bin/ops: help, configuration and account errors, verify-pitr."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from envconfig.aws import TableName
from opscli import aws_ops

REPO = Path(__file__).resolve().parents[2]
COMMANDS = ("verify-pitr", "rotate-nonce", "check-nonce", "set-github-token", "verify", "outputs", "detect-drift",
            "smoke", "test-alarm")


@pytest.mark.parametrize("command", COMMANDS)
def test_help_of_every_command(command):
    result = subprocess.run([str(REPO / "bin" / "ops"), command, "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    assert "--env {staging,production}" in result.stdout


def test_env_is_required(capsys):
    with pytest.raises(SystemExit) as exit_:
        aws_ops.main(["verify-pitr"])
    assert exit_.value.code == 2
    assert "the following arguments are required: --env" in capsys.readouterr().err


def test_wrong_account_is_refused(aws, capsys):
    assert aws_ops.main(["verify-pitr", "--env", "production"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ops verify-pitr: credentials are for account 123456789012, but ")
    assert err.endswith("production.yaml says production is account 210987654321; use the right AWS_PROFILE")


def test_invalid_config_names_file_and_field(aws, capsys, tmp_path, monkeypatch):
    shutil.copytree(REPO / "config", tmp_path / "config")
    path = tmp_path / "config" / "aws" / "staging.yaml"
    path.write_text(path.read_text().replace("pitr_recovery_period_days: 35", "pitr_recovery_period_days: 99"))
    monkeypatch.setenv("MD_CONFIG_DIR", str(tmp_path / "config"))
    assert aws_ops.main(["verify-pitr", "--env", "staging"]) == 2
    err = capsys.readouterr().err
    assert str(path) in err and "pitr_recovery_period_days" in err


def test_no_credentials_is_one_line(capsys, monkeypatch, tmp_path):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    assert aws_ops.main(["verify-pitr", "--env", "staging"]) == 2
    assert "cannot identify the AWS account of these credentials" in capsys.readouterr().err


def make_tables(config, pitr_days):
    ddb = boto3.client("dynamodb", region_name=config.region)
    for table in TableName:
        name = config.table_name(table)
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])
        if pitr_days:
            ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
                "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": pitr_days})


def test_verify_pitr_passes(aws, config, capsys):
    make_tables(config, 35)
    assert aws_ops.main(["verify-pitr", "--env", "staging"]) == 0
    out = capsys.readouterr().out
    assert out.count("PASS") == 3 and "3 checks, 0 failed" in out


def test_verify_pitr_fails_on_a_wrong_period(aws, config, capsys):
    make_tables(config, 7)
    assert aws_ops.main(["verify-pitr", "--env", "staging"]) == 1
    captured = capsys.readouterr()
    assert "status ENABLED, period 7 days (want ENABLED, 35)" in captured.out
    assert captured.err.strip() == "ops verify-pitr: PITR is not enabled with the configured period on every table"


def test_verify_pitr_fails_on_a_missing_table(aws, capsys):
    assert aws_ops.main(["verify-pitr", "--env", "staging"]) == 1
    assert "FAIL" in capsys.readouterr().out


def test_region_comes_from_aws_region(config, monkeypatch):
    from opscli.session import Aws

    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    assert Aws(config, boto3.Session()).region == "eu-west-1"
    monkeypatch.delenv("AWS_REGION")
    assert Aws(config, boto3.Session()).region == config.region
