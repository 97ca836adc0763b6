"""The Oracle handler, run in-process against moto (the local target cannot run Lambda code)."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from envconfig.aws import TableName, load
from stacks.runtime import oracle_environment

HANDLER_DIR = Path(__file__).resolve().parents[2] / "lambda" / "oracle"


@pytest.fixture
def oracle(monkeypatch):
    config = load("staging")
    for name, value in oracle_environment(config).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("AWS_DEFAULT_REGION", config.region)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.syspath_prepend(str(HANDLER_DIR))
    with mock_aws():
        ddb = boto3.client("dynamodb")
        ddb.create_table(TableName=config.table_name(TableName.FP_EVENTS),
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}],
                         BillingMode="PAY_PER_REQUEST")
        boto3.client("ssm").put_parameter(Name=config.nonce_parameter, Value="n0nce", Type="SecureString")
        for module in ("handler", "nonce"):
            sys.modules.pop(module, None)
        yield importlib.import_module("handler"), ddb, config


def _event(method: str, path: str, body: dict | None = None) -> dict:
    return {"rawPath": path, "requestContext": {"http": {"method": method}}, "body": json.dumps(body) if body else None}


def test_health(oracle):
    handler, _, _ = oracle
    response = handler.handler(_event("GET", "/health"), None)
    assert response["statusCode"] == 200 and json.loads(response["body"])["environment"] == "staging"


def test_event_with_current_nonce_is_recorded(oracle):
    handler, ddb, config = oracle
    response = handler.handler(_event("POST", "/events", {"nonce": "n0nce", "repository": "o/r", "rule": "R1"}), None)
    assert response["statusCode"] == 201
    items = ddb.scan(TableName=config.table_name(TableName.FP_EVENTS))["Items"]
    assert len(items) == 1 and items[0]["pk"]["S"] == "repo#o/r" and items[0]["rule"]["S"] == "R1"


def test_wrong_nonce_is_rejected_and_nothing_recorded(oracle):
    handler, ddb, config = oracle
    response = handler.handler(_event("POST", "/events", {"nonce": "guess", "repository": "o/r"}), None)
    assert response["statusCode"] == 403
    assert ddb.scan(TableName=config.table_name(TableName.FP_EVENTS))["Items"] == []


def test_malformed_body(oracle):
    handler, _, _ = oracle
    assert handler.handler(_event("POST", "/events", {"repository": "o/r"}), None)["statusCode"] == 400


def test_unknown_route(oracle):
    handler, _, _ = oracle
    assert handler.handler(_event("DELETE", "/events"), None)["statusCode"] == 404



def test_ssm_failures_trip_the_circuit_breaker(oracle, capsys):
    handler, _, _ = oracle
    handler.boto3.client("ssm").delete_parameter(Name=handler.os.environ["NONCE_SSM"])  # every lookup now fails
    now = [1000.0]
    handler._breaker = handler.CircuitBreaker(3, 30.0, clock=lambda: now[0])
    body = {"nonce": "n0nce", "repository": "o/r"}
    codes = [handler.handler(_event("POST", "/events", body), None)["statusCode"] for _ in range(4)]
    assert codes == [503, 503, 503, 503]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    names = [next(k for k in m if k in ("SSMParameterFailures", "CircuitBreakerTriggers")) for m in metrics]
    # three real failures, the third trips the breaker; the fourth request never reaches SSM
    assert names == ["SSMParameterFailures", "SSMParameterFailures", "SSMParameterFailures", "CircuitBreakerTriggers"]
    assert metrics[-1]["_aws"]["CloudWatchMetrics"][0]["Namespace"] == handler.os.environ["METRICS_NAMESPACE"]
    now[0] += 31  # after the open period, requests reach SSM again
    handler.handler(_event("POST", "/events", body), None)
    assert "SSMParameterFailures" in capsys.readouterr().out
