"""Handlers are tested in-process against moto's service APIs (``mock_aws``):
a template goes in through CloudFormation, the result is read back through
the service's own API, the way a user would check it."""
from __future__ import annotations

import pytest
from moto import mock_aws

from localaws import cfn, operator_changes

from localaws_kit import REGION, Stack


@pytest.fixture(autouse=True)
def _aws(monkeypatch):
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    cfn.install()
    operator_changes.install()
    with mock_aws():
        yield


@pytest.fixture
def stack():
    return Stack()
