"""The Oracle's HTTP entry point (a small real handler until the product's code arrives).

POST /events   body {"nonce": "...", "repository": "owner/name", "rule": "...", "finding": "..."}
               checks the nonce, records a false-positive event in the fp-events table.
GET  /health   liveness.

Configuration comes only from the environment contract's ``oracle`` service
(config/env_contract.yaml). Custom metrics (SSMParameterFailures,
CircuitBreakerTriggers) are written as CloudWatch embedded-metric log lines,
so the function needs no cloudwatch:PutMetricData permission.

Circuit breaker: after ``BREAKER_THRESHOLD`` consecutive failures to read the
nonce, the breaker opens for ``BREAKER_OPEN_SECONDS``: requests are answered
503 at once instead of piling onto a failing SSM, and one
``CircuitBreakerTriggers`` datapoint is emitted (seed 001's alarm 8).
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from nonce import check_nonce

LOG = logging.getLogger()
LOG.setLevel(os.environ.get("LOG_LEVEL", "INFO"))

_ssm = boto3.client("ssm")
_dynamodb = boto3.client("dynamodb")

BREAKER_THRESHOLD = 3
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
        presented, repository = body["nonce"], body["repository"]
    except (ValueError, KeyError, TypeError):
        return _response(400, {"error": "body must be JSON with nonce and repository"})
    if _breaker.is_open():
        return _response(503, {"error": "nonce store unavailable (circuit open)"})
    try:
        decision = check_nonce(_ssm, nonce_parameter=os.environ["NONCE_SSM"],
                               rotation_parameter=os.environ["NONCE_SSM"] + "-rotation", presented=presented)
    except (ClientError, BotoCoreError) as error:
        _metric("SSMParameterFailures")
        LOG.error("nonce lookup failed: %s", error.__class__.__name__)
        if _breaker.failure():
            _metric("CircuitBreakerTriggers")
        return _response(503, {"error": "nonce store unavailable"})
    _breaker.success()
    if not decision.accepted:
        return _response(403, {"error": "nonce rejected"})
    event_id = str(uuid.uuid4())
    _dynamodb.put_item(TableName=os.environ["FP_EVENTS_TABLE"], Item={
        "pk": {"S": f"repo#{repository}"}, "sk": {"S": f"event#{int(time.time())}#{event_id}"},
        "rule": {"S": str(body.get("rule", ""))}, "finding": {"S": str(body.get("finding", ""))},
    })
    return _response(201, {"id": event_id})
