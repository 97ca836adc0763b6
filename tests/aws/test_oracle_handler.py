"""The Oracle handler, run in-process against moto (the local target cannot run Lambda code)."""

from __future__ import annotations

import importlib
import json
import sys
import time
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


class Counting:
    """Counts the SSM calls the handler really makes (not what it reports)."""

    def __init__(self, ssm):
        self.ssm, self.calls = ssm, 0
        self.exceptions = ssm.exceptions

    def get_parameter(self, **kwargs):
        self.calls += 1
        return self.ssm.get_parameter(**kwargs)


def _rotate(config, *, until: float) -> None:
    """What rotate-nonce does: promise the current version, then put a new one."""
    ssm = boto3.client("ssm")
    version = ssm.get_parameter(Name=config.nonce_parameter)["Parameter"]["Version"]
    ssm.put_parameter(Name=config.nonce_rotation_parameter, Type="String", Overwrite=True,
                      Value=json.dumps({"accepted": [{"version": version, "until": until}]}))
    ssm.put_parameter(Name=config.nonce_parameter, Value=f"n0nce-{version + 1}", Type="SecureString", Overwrite=True)


@pytest.fixture
def counted(oracle, monkeypatch):
    handler, _, config = oracle
    counter = Counting(handler._ssm)
    monkeypatch.setattr(handler, "_ssm", counter)
    now = [1000.0]
    monkeypatch.setattr(handler, "_cache", handler.ParameterCache(30, clock=lambda: now[0]))
    return handler, counter, now, config


def test_ssm_calls_per_request_are_bounded_by_the_cache(counted):
    """Defect: 1-3 decrypted GetParameter calls on every request. Now: one read of the
    state (nonce, rotation, each promised version) per cache period, whatever the traffic."""
    handler, counter, now, config = counted
    _rotate(config, until=time.time() + 600)  # version 1 promised, version 2 current
    bodies = [{"nonce": "n0nce", "repository": "o/r"}, {"nonce": "n0nce-2", "repository": "o/r"}, {"nonce": "guess", "repository": "o/r"}]
    codes = [handler.handler(_event("POST", "/events", bodies[i % 3]), None)["statusCode"] for i in range(300)]
    assert codes[:3] == [201, 201, 403]
    assert counter.calls == 3  # nonce + nonce-rotation + version 1, for 300 requests
    now[0] += 30  # the next period reads once more
    handler.handler(_event("POST", "/events", bodies[0]), None)
    assert counter.calls == 6


def test_a_rotation_is_picked_up_when_the_cache_refreshes(counted):
    handler, _, now, config = counted
    body = {"nonce": "n0nce-2", "repository": "o/r"}
    handler.handler(_event("POST", "/events", {"nonce": "n0nce", "repository": "o/r"}), None)
    _rotate(config, until=time.time() + 600)
    assert handler.handler(_event("POST", "/events", body), None)["statusCode"] == 403  # cached state
    now[0] += 30
    assert handler.handler(_event("POST", "/events", body), None)["statusCode"] == 201
    assert handler.handler(_event("POST", "/events", {"nonce": "n0nce", "repository": "o/r"}), None)["statusCode"] == 201


def test_an_expired_promise_is_rejected_even_from_the_cache(counted, monkeypatch):
    handler, _, _, config = counted
    _rotate(config, until=time.time() + 600)
    body = {"nonce": "n0nce", "repository": "o/r"}
    assert handler.handler(_event("POST", "/events", body), None)["statusCode"] == 201
    monkeypatch.setattr(handler.time, "time", lambda: 4_000_000_000.0)  # long after `until`, same cache period
    assert handler.handler(_event("POST", "/events", body), None)["statusCode"] == 403


@pytest.mark.parametrize("body, reason", [
    ('{"nonce": 12345, "repository": "o/r"}', "nonce must be a non-empty string"),
    ('{"nonce": ["n0nce"], "repository": "o/r"}', "nonce must be a non-empty string"),
    ('{"nonce": "n0nce", "repository": {"a": 1}}', "repository must be a string owner/name"),
    ('["n0nce", "o/r"]', "body must be a JSON object with nonce and repository"),
    ('"n0nce"', "body must be a JSON object with nonce and repository"),
    ("{not json", "body must be JSON"),
])
def test_client_errors_are_400_with_a_reason(oracle, body, reason):
    """Defect: a non-string nonce raised AttributeError (a 500, counted by the error-rate alarm)."""
    handler, _, _ = oracle
    response = handler.handler({"rawPath": "/events", "requestContext": {"http": {"method": "POST"}}, "body": body}, None)
    assert (response["statusCode"], json.loads(response["body"])) == (400, {"error": reason})


def test_a_malformed_rotation_parameter_is_never_a_500(oracle, capsys):
    """Defect: JSONDecodeError (a 500). Now the current value still decides, earlier ones are
    rejected, and SSMParameterFailures tells the operators."""
    handler, _, config = oracle
    boto3.client("ssm").put_parameter(Name=config.nonce_rotation_parameter, Type="String", Value="{garbage")
    ok = handler.handler(_event("POST", "/events", {"nonce": "n0nce", "repository": "o/r"}), None)
    wrong = handler.handler(_event("POST", "/events", {"nonce": "other", "repository": "o/r"}), None)
    assert (ok["statusCode"], wrong["statusCode"]) == (201, 403)
    assert '"SSMParameterFailures": 1' in capsys.readouterr().out
