"""Least privilege, measured (docs/requirements.md#least-privilege): the served
Oracle on the local target is driven as in CI (deploy, smoke as the Oracle
role, nonce rotation, FP events written by the function), the target records
every API call by caller (localaws/api_calls.py), and each action the Oracle
function's role or the Oracle role grants must have been called, or be listed
below with the reason it cannot be seen here. Granted actions are read from
the deployed templates, never from the code that builds them."""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from envconfig.aws import load

from tests.e2e.local_target import REPO, LocalTarget

pytestmark = pytest.mark.e2e

CONFIG = load("staging")
ORACLE_ROLE_KEY = "ORACLEROLEKEY"  # the smoke job's credentials, told apart from the operator's ("test")

# AWS-managed policies attach by ARN; their actions are AWS's documented ones.
AWS_MANAGED = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"},
}
# Actions IAM never denies: not granted, not compared (bin/ops checks the account it talks to).
NO_PERMISSION_NEEDED = {"sts:GetCallerIdentity"}
# Granted, never called by the caller's own code, each for a reason the local target cannot show.
NOT_OBSERVABLE = {
    "kms:Decrypt": "DynamoDB and SSM call KMS on the caller's behalf (kms:ViaService condition); the local target's services do not call KMS",
    "logs:CreateLogGroup": "the Lambda service writes the function's output with the execution role, not the function's code",
    "logs:CreateLogStream": "the Lambda service writes the function's output with the execution role, not the function's code",
    "logs:PutLogEvents": "the Lambda service writes the function's output with the execution role, not the function's code",
    "xray:PutTraceSegments": "active tracing: the runtime's X-Ray daemon sends segments, not the function's code",
    "xray:PutTelemetryRecords": "active tracing: the runtime's X-Ray daemon sends telemetry, not the function's code",
}


@pytest.fixture(scope="module")
def target(tmp_path_factory, gates_cache_dir):
    tmp = tmp_path_factory.mktemp("least-privilege")
    t = LocalTarget(tmp, CONFIG.region, gates_cache_dir)
    t.env["DEPLOY_LOCAL_OUTDIR"] = str(tmp / "cdk.out")
    try:
        t.run(str(REPO / "bin" / "deploy-local"))
        yield t
    finally:
        t.stop()


def post_event(target, url: str, nonce: str, *, at: float) -> int:
    """A SigV4-signed POST /events as the Oracle role, at instant ``at`` (the target's X-LocalAws-Now)."""
    body = json.dumps({"nonce": nonce, "repository": "least/privilege", "rule": "r", "finding": "f"})
    request = AWSRequest(method="POST", url=f"{url}/events", data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(Credentials(ORACLE_ROLE_KEY, "x"), "execute-api", CONFIG.region).add_auth(request)
    headers = {**dict(request.headers), "X-LocalAws-Now": str(at)}
    try:
        with urllib.request.urlopen(urllib.request.Request(f"{url}/events", data=body.encode(), headers=headers, method="POST"),
                                    timeout=30) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def recorded(target, method="GET"):
    request = urllib.request.Request(f"{target.endpoint}/_localaws/api-calls", method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def templates(outdir: Path) -> dict[str, dict]:
    """Stack name -> template of the deployed Staging assembly."""
    found = {}
    for path in outdir.rglob("*.template.json"):
        for stack in ("Oidc", "Runtime", "Secrets"):
            if f"Staging{stack}" in path.name.replace("-", ""):
                found[stack] = json.loads(path.read_text())
    assert set(found) == {"Oidc", "Runtime", "Secrets"}, sorted(p.name for p in outdir.rglob("*.template.json"))
    return found


def _actions(document: dict) -> set[str]:
    result = set()
    for statement in document["Statement"]:
        if statement["Effect"] == "Allow":
            actions = statement["Action"]
            result |= set(actions if isinstance(actions, list) else [actions])
    return result


def granted(stacks: dict[str, dict], stack: str, role_prefix: str) -> set[str]:
    """Every action the role's inline and managed policies allow."""
    resources = stacks[stack]["Resources"]
    (logical,) = [k for k, r in resources.items() if r["Type"] == "AWS::IAM::Role" and k.startswith(role_prefix)]
    actions = set()
    for resource in resources.values():
        if resource["Type"] == "AWS::IAM::Policy" and {"Ref": logical} in resource["Properties"]["Roles"]:
            actions |= _actions(resource["Properties"]["PolicyDocument"])
    managed_by_name = {r["Properties"].get("ManagedPolicyName"): r["Properties"]["PolicyDocument"]
                       for r in stacks["Secrets"]["Resources"].values() if r["Type"] == "AWS::IAM::ManagedPolicy"}
    for arn in resources[logical]["Properties"].get("ManagedPolicyArns", []):
        text = json.dumps(arn)
        aws_managed = [a for name, a in AWS_MANAGED.items() if name.rsplit("/", 1)[-1] in text]
        if aws_managed:
            actions |= aws_managed[0]
            continue
        (name,) = [n for n in managed_by_name if n and n in text]
        actions |= _actions(managed_by_name[name])
    return actions


def test_granted_minus_used_is_empty_or_reasoned(target):
    api_id = target.client("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    url = f"{target.endpoint}/_aws/execute-api/{api_id}"
    recorded(target, "DELETE")
    as_oracle_role = {"AWS_ACCESS_KEY_ID": ORACLE_ROLE_KEY}
    # Smoke as the Oracle role (the CI job's command), a rotation, smoke again:
    # the function writes FP events and reads the current and promised nonces.
    first = target.run(str(REPO / "bin" / "ops"), "smoke", "--env", "staging", "--url", url, "--calls", "3", env=as_oracle_role)
    assert first.stdout.count("PASS") >= 3, first.stdout
    ssm = target.client("ssm")
    previous = ssm.get_parameter(Name=CONFIG.nonce_parameter, WithDecryption=True)["Parameter"]["Value"]
    target.run(str(REPO / "bin" / "ops"), "rotate-nonce", "--env", "staging", "--grace", "300")
    # One minute later (the function's parameter cache has expired), a caller still holding the
    # previous nonce is accepted within the grace period: the function reads the rotation promise.
    assert post_event(target, url, previous, at=time.time() + 60) == 201
    calls = recorded(target)
    used = {
        "lambda": {c["action"] for c in calls if c["caller"] == "lambda"} - NO_PERMISSION_NEEDED,
        "oracle-role": {c["action"] for c in calls if c["caller"] == ORACLE_ROLE_KEY} - NO_PERMISSION_NEEDED,
    }
    # What the Oracle's code and the smoke job call (stated, so a new call is a decision too).
    assert used["lambda"] == {"ssm:GetParameter", "dynamodb:PutItem"}
    assert used["oracle-role"] == {"execute-api:Invoke", "ssm:GetParameter", "dynamodb:Query", "dynamodb:DeleteItem"}

    stacks = templates(Path(target.env["DEPLOY_LOCAL_OUTDIR"]))
    report = {}
    for label, stack, role in (("lambda", "Runtime", "OracleFunctionServiceRole"), ("oracle-role", "Oidc", "GitHubOracleRole")):
        grants = granted(stacks, stack, role)
        unused = grants - used[label]
        assert unused - set(NOT_OBSERVABLE) == set(), f"{role} grants actions its caller never made: {sorted(unused - set(NOT_OBSERVABLE))}"
        assert used[label] <= grants, f"{role} lacks {sorted(used[label] - grants)}"
        report[role] = (len(grants), len(used[label]), sorted(unused))
    print("least privilege (granted, used, unused with reasons):", report)
    # The consumer role is never granted a table, the github-token or a Scan.
    (consumer,) = [r for k, r in stacks["Oidc"]["Resources"].items() if k.startswith("GitHubOracleConsumerRole") and r["Type"] == "AWS::IAM::Role"]
    consumer_actions = granted(stacks, "Oidc", "GitHubOracleConsumerRole")
    assert consumer_actions == {"execute-api:Invoke", "ssm:GetParameter", "kms:Decrypt"}
    assert "ManagedPolicyArns" not in consumer["Properties"]
