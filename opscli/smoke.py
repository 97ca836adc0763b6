"""Smoke test of the deployed Oracle through its HTTP API (docs/requirements.md#verify-and-drift:
the Oracle answers after a deploy, within its latency objective).

Every request is SigV4-signed for ``execute-api`` with the caller's
credentials (the routes use IAM authorization; in CI that is the Oracle
role, which may invoke exactly these two routes, read the nonce and write
and delete its fp-events). Steps, each PASS or FAIL with its evidence:

1. ``GET /health`` answers 200 ``{"status": "ok", "environment": <env>}``;
2. ``POST /events`` with an invalid nonce answers 4xx (never 2xx, never 5xx);
3. ``POST /events`` with the current nonce answers 201, the event is in the
   fp-events table under a repository name unique to this run, and is then
   deleted again (the table keeps no smoke data);
4. ``--calls`` signed ``GET /health`` requests: their p95 latency is at most
   the SLO, which is the configured API latency alarm threshold
   (``observability.thresholds.api_latency_p95_ms``): what pages someone in
   production must not already be the state right after a deploy.

Where: on the local target (``AWS_ENDPOINT_URL`` set) the API is served at
``<endpoint>/_aws/execute-api/<api id>``; on AWS at
``https://<api id>.execute-api.<region>.amazonaws.com``; ``--url`` overrides.
The API id is the Runtime stack's (its output ``OracleApiEndpoint`` is the
AWS URL). Exit 1 on any failed step, 3 when a
stack is missing or failed.
"""
from __future__ import annotations

import json
import math
import os
import secrets
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Callable

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ClientError

from envconfig.aws import TableName

from .errors import OpsError
from .live import stacks as live_stacks
from .rules.smoke import invalid_nonce_refused
from .session import Aws
from .verify import Result, Status

TIMEOUT_S = 30


@dataclass(frozen=True)
class Response:
    status: int
    body: str
    seconds: float


def api_url(aws: Aws, override: str | None = None) -> str:
    if override:
        return override.rstrip("/")
    apis = aws.physical_ids("Runtime", "AWS::ApiGatewayV2::Api")
    if len(apis) != 1:
        raise OpsError(f"expected one HTTP API in {aws.stack_name('Runtime')}, found {len(apis)}")
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if endpoint:
        return f"{endpoint.rstrip('/')}/_aws/execute-api/{apis[0]}"
    return f"https://{apis[0]}.execute-api.{aws.region}.amazonaws.com"


class Caller:
    """Signed HTTP calls; ``timer`` is injected so an SLO breach is testable without a slow server."""

    def __init__(self, aws: Aws, base: str, timer: Callable[[], float] = time.monotonic):
        credentials = aws.session.get_credentials()
        if credentials is None:
            raise OpsError("no AWS credentials to sign the requests (set AWS_PROFILE, or test keys for the local target)")
        self.signer = SigV4Auth(credentials.get_frozen_credentials(), "execute-api", aws.region)
        self.base, self.timer = base, timer

    def __call__(self, method: str, path: str, body: dict | None = None) -> Response:
        data = json.dumps(body) if body is not None else None
        request = AWSRequest(method=method, url=self.base + path, data=data,
                             headers={"content-type": "application/json"} if data else {})
        self.signer.add_auth(request)
        prepared = urllib.request.Request(self.base + path, data=data.encode() if data else None, method=method,
                                          headers=dict(request.headers))
        start = self.timer()
        try:
            with urllib.request.urlopen(prepared, timeout=TIMEOUT_S) as answer:
                status, text = answer.status, answer.read().decode(errors="replace")
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode(errors="replace")
        except (urllib.error.URLError, OSError) as exc:
            raise OpsError(f"cannot reach the Oracle API at {self.base}: {getattr(exc, 'reason', exc)}") from None
        return Response(status, text, self.timer() - start)


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def check_calls(calls: int) -> None:
    if not 1 <= calls <= 1000:
        raise OpsError(f"--calls must be between 1 and 1000, got {calls}")


def run(aws: Aws, *, calls: int, url: str | None = None, timer: Callable[[], float] = time.monotonic) -> list[Result]:
    check_calls(calls)
    if url is None:  # with --url no CloudFormation read is needed (the Oracle role in CI has none)
        live_stacks.check(aws)
    call = Caller(aws, api_url(aws, url), timer)
    results = []
    env = aws.config.name.value

    health = call("GET", "/health")
    ok = health.status == 200 and _json(health.body).get("status") == "ok" and _json(health.body).get("environment") == env
    results.append(Result("smoke", "GET /health", Status.PASS if ok else Status.FAIL,
                          f"expected 200 {{status: ok, environment: {env}}}, actual {health.status} {health.body[:200]}"))

    bogus = call("POST", "/events", {"nonce": "smoke-invalid-" + secrets.token_hex(8), "repository": "smoke/invalid"})
    refused = invalid_nonce_refused(bogus.status, bogus.body)
    results.append(Result("smoke", refused.subject, Status.PASS if not refused.failed else Status.FAIL, refused.evidence()))

    results.append(_valid_event(aws, call))

    samples = [call("GET", "/health").seconds for _ in range(calls)]
    slo_ms = aws.config.observability.api_latency_p95_ms.value
    measured = p95(samples) * 1000
    results.append(Result("smoke", f"p95 latency of {calls} calls", Status.PASS if measured <= slo_ms else Status.FAIL,
                          f"expected <= {slo_ms:g} ms (observability.thresholds.api_latency_p95_ms), actual {measured:.0f} ms"))
    return results


def _json(text: str) -> dict:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _valid_event(aws: Aws, call: Caller) -> Result:
    subject = "POST /events with the current nonce (written, then removed)"
    try:
        nonce = aws.client("ssm").get_parameter(Name=aws.config.nonce_parameter, WithDecryption=True)["Parameter"]["Value"]
    except ClientError as exc:
        return Result("smoke", subject, Status.FAIL, f"cannot read {aws.config.nonce_parameter}: {exc.response['Error']['Code']}")
    repository = f"smoke/{uuid.uuid4()}"  # unique per run: the cleanup deletes only what this run wrote
    answer = call("POST", "/events", {"nonce": nonce, "repository": repository, "rule": "smoke", "finding": "bin/ops smoke"})
    del nonce
    if answer.status != 201:
        return Result("smoke", subject, Status.FAIL, f"expected 201, actual {answer.status} {answer.body[:200]}")
    table = aws.config.table_name(TableName.FP_EVENTS)
    ddb = aws.client("dynamodb")
    items = ddb.query(TableName=table, KeyConditionExpression="pk = :pk",
                      ExpressionAttributeValues={":pk": {"S": f"repo#{repository}"}})["Items"]
    for item in items:
        ddb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})
    left = ddb.query(TableName=table, KeyConditionExpression="pk = :pk",
                     ExpressionAttributeValues={":pk": {"S": f"repo#{repository}"}}, Select="COUNT")["Count"]
    ok = len(items) == 1 and left == 0
    return Result("smoke", subject, Status.PASS if ok else Status.FAIL,
                  f"expected 1 item in {table} for {repository} then none, actual {len(items)} written, {left} left")
