"""The target records each API call by caller and IAM action (localaws/api_calls.py),
through the real server on 127.0.0.1, the way the end-to-end least-privilege test reads it."""
from __future__ import annotations

import json
import socket
import threading
import urllib.request

import boto3
import pytest

from localaws.api_calls import action_of, caller_of


@pytest.fixture(scope="module")
def endpoint():
    from localaws.server import build_server

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = build_server(port)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def calls(endpoint, method="GET"):
    request = urllib.request.Request(f"{endpoint}/_localaws/api-calls", method=method)
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def client(endpoint, service, key):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id=key, aws_secret_access_key="x")


def test_calls_are_recorded_by_caller_and_action(endpoint):
    calls(endpoint, "DELETE")
    ssm = client(endpoint, "ssm", "OPERATOR")
    ssm.put_parameter(Name="/t/p", Value="v", Type="String", Overwrite=True)
    client(endpoint, "ssm", "ORACLEROLE").get_parameter(Name="/t/p")
    client(endpoint, "sts", "ORACLEROLE").get_caller_identity()  # query protocol: the Action form field
    client(endpoint, "cloudwatch", "ORACLEROLE").list_metrics()
    recorded = calls(endpoint)
    assert recorded == [
        {"caller": "OPERATOR", "action": "ssm:PutParameter"},
        {"caller": "ORACLEROLE", "action": "ssm:GetParameter"},
        {"caller": "ORACLEROLE", "action": "sts:GetCallerIdentity"},
        {"caller": "ORACLEROLE", "action": "cloudwatch:ListMetrics"},
    ]
    # The form body reached the service unchanged (the recorder read it first).
    assert client(endpoint, "sts", "X").get_caller_identity()["Account"]
    assert calls(endpoint, "DELETE") == {"cleared": True} and calls(endpoint) == []


def test_a_function_is_recognised_by_its_runtime_user_agent():
    environ = {"HTTP_USER_AGENT": "Boto3/1.40 md/Botocore#1.40 exec-env/AWS_Lambda_python3.14",
               "HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=test/20261204/us-east-1/dynamodb/aws4_request, SignedHeaders=x, Signature=y",
               "HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}
    assert caller_of(environ) == "lambda" and action_of(environ, None) == "dynamodb:PutItem"
    invoke = {"HTTP_AUTHORIZATION": "AWS4-HMAC-SHA256 Credential=K/20261204/us-east-1/execute-api/aws4_request, SignedHeaders=x, Signature=y",
              "PATH_INFO": "/_aws/execute-api/abc/health"}
    assert caller_of(invoke) == "K" and action_of(invoke, None) == "execute-api:Invoke"
    assert action_of({"PATH_INFO": "/_localaws/health"}, None) is None  # unsigned: not an AWS API call
