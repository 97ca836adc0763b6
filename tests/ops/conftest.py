"""Ops commands against moto in-process (``mock_aws``), with the clock injected."""
from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from envconfig.aws import load
from localaws import cfn
from opscli.session import Aws


@pytest.fixture(autouse=True)
def _aws(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE", "MD_CONFIG_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    cfn.install()
    with mock_aws():
        yield


@pytest.fixture
def config():
    return load("staging")


@pytest.fixture
def aws(config):
    kms = boto3.client("kms", region_name=config.region)
    key = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName=f"alias/{config.resource_prefix}-secrets", TargetKeyId=key)
    return Aws(config, boto3.Session(region_name=config.region))
