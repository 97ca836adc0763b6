"""The Oracle's HTTP entry point (a small real handler until the product's code arrives).

POST /events   body {"nonce": "...", "repository": "owner/name", "rule": "...", "finding": "..."}
               checks the nonce, records a false-positive event in the fp-events table.
GET  /health   liveness.

Configuration comes only from the environment contract's ``oracle`` service
(config/env_contract.yaml). Custom metrics (SSMParameterFailures,
CircuitBreakerTriggers) are written as CloudWatch embedded-metric log lines,
so the function needs no cloudwatch:PutMetricData permission.

Parameter cache: the nonce state (current value, rotation promises, each
promised earlier value) is read from SSM at most once per
``SSM_CACHE_SECONDS`` per execution environment, not on every request:
production allows 200 requests/s (bursts of 400), far more than Parameter
Store's shared standard throughput, and throttling would trip the breaker.
Promise expiry is judged at request time, so a cached promise never outlives
its ``until``; a newly rotated value is accepted once the cache refreshes
(``rotate-nonce`` says so).

Client errors are 4xx with a reason, never an exception (a 500 counts
toward the error-rate alarm).

Circuit breaker: after ``BREAKER_THRESHOLD`` consecutive failures to read the
nonce, the breaker opens for ``BREAKER_OPEN_SECONDS``: requests are answered
503 at once instead of piling onto a failing SSM, and one
``CircuitBreakerTriggers`` datapoint is emitted (its alarm: docs/requirements.md#alarms).
"""

from __future__ import annotations

import json
import logging
import os
import re
import time
import uuid

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from nonce import NonceState, load_state

LOG = logging.getLogger()
LOG.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

_ssm = boto3.client("ssm")
_dynamodb = boto3.client("dynamodb")

BREAKER_THRESHOLD = 3
REPOSITORY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}")
BREAKER_OPEN_SECONDS = 30.0


class CircuitBreaker:
    def __init__(self, threshold: int, open_seconds: float, clock=time.monotonic) -> None:
        self.threshold, self.open_seconds, self.clock = threshold, open_seconds, clock
        self.failures = 0
        self.open_until = 0.0

    def is_open(self) -> bool:
        return self.clock() < self.open_until

    def success(self) -> None:
        self.failures = 0

    def failure(self) -> bool:
        """Record a failure; True when this failure trips the breaker."""
        self.failures += 1
        if self.failures >= self.threshold:
            self.failures = 0
            self.open_until = self.clock() + self.open_seconds
            return True
        return False


_breaker = CircuitBreaker(BREAKER_THRESHOLD, BREAKER_OPEN_SECONDS)


class ParameterCache:
    """The nonce state, reused for ``ttl`` seconds (0: read on every request)."""

    def __init__(self, ttl: float, clock=time.monotonic) -> None:
        self.ttl, self.clock = ttl, clock
        self._state: NonceState | None = None
        self._read_at = 0.0

    def state(self, ssm, *, nonce_parameter: str, rotation_parameter: str) -> NonceState:
        if self._state is None or self.clock() - self._read_at >= self.ttl:
            state = load_state(ssm, nonce_parameter=nonce_parameter, rotation_parameter=rotation_parameter)
            if state.rotation_error is not None:
                # The current value still decides; the operators must see this.
                LOG.error("nonce rotation state unreadable, earlier versions rejected: %s", state.rotation_error)
                _metric("SSMParameterFailures")
            self._state, self._read_at = state, self.clock()
        return self._state


def _cache_seconds() -> float:
    raw = os.environ.get("SSM_CACHE_SECONDS", "30")
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 300:
        # Set by the stack from a validated config; a hand edit gets the default.
        LOG.error("SSM_CACHE_SECONDS=%r is not 0-300 seconds; using 30", raw)
        return 30.0
    return value


_cache = ParameterCache(_cache_seconds())


def _metric(name: str, value: float = 1) -> None:
    """Emit one custom metric in CloudWatch embedded metric format."""
    print(json.dumps({
        "_aws": {"Timestamp": int(time.time() * 1000), "CloudWatchMetrics": [{
            "Namespace": os.environ["METRICS_NAMESPACE"], "Dimensions": [["Environment"]],
            "Metrics": [{"Name": name, "Unit": "Count"}]}]},
        "Environment": os.environ["ENVIRONMENT"], name: value,
    }))


def _response(status: int, body: dict) -> dict:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": json.dumps(body)}


def handler(event: dict, context) -> dict:
    method = event.get("requestContext", {}).get("http", {}).get("method", "GET")
    path = event.get("rawPath", "/")
    if method == "GET" and path == "/health":
        return _response(200, {"status": "ok", "environment": os.environ["ENVIRONMENT"]})
    if method != "POST" or path != "/events":
        return _response(404, {"error": "not found"})
    try:
        body = json.loads(event.get("body") or "{}")
    except ValueError:
        return _response(400, {"error": "body must be JSON"})
    if not isinstance(body, dict):
        return _response(400, {"error": "body must be a JSON object with nonce and repository"})
    presented, repository = body.get("nonce"), body.get("repository")
    if not isinstance(presented, str) or not presented:
        return _response(400, {"error": "nonce must be a non-empty string"})
    if not isinstance(repository, str) or not REPOSITORY.fullmatch(repository):
        return _response(400, {"error": "repository must be a string owner/name"})
    if _breaker.is_open():
        return _response(503, {"error": "nonce store unavailable (circuit open)"})
    try:
        state = _cache.state(_ssm, nonce_parameter=os.environ["NONCE_SSM"],
                             rotation_parameter=os.environ["NONCE_SSM"] + "-rotation")
    except (ClientError, BotoCoreError) as error:
        _metric("SSMParameterFailures")
        LOG.error("nonce lookup failed: %s", error.__class__.__name__)
        if _breaker.failure():
            _metric("CircuitBreakerTriggers")
        return _response(503, {"error": "nonce store unavailable"})
    _breaker.success()
    decision = state.decide(presented, time.time())
    if not decision.accepted:
        return _response(403, {"error": "nonce rejected"})
    event_id = str(uuid.uuid4())
    _dynamodb.put_item(TableName=os.environ["FP_EVENTS_TABLE"], Item={
        "pk": {"S": f"repo#{repository}"}, "sk": {"S": f"event#{int(time.time())}#{event_id}"},
        "rule": {"S": str(body.get("rule", ""))}, "finding": {"S": str(body.get("finding", ""))},
    })
    return _response(201, {"id": event_id})
