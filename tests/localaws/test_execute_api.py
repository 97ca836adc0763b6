"""HTTP API invocation (localaws/execute_api.py), in-process against moto: an
API deployed through CloudFormation, a request through the WSGI middleware,
the function's deployed zip run in a subprocess with its environment."""
from __future__ import annotations

import io
import json
import zipfile

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from werkzeug.test import Client

from localaws import execute_api
from localaws_kit import REGION, Stack, client

HANDLER = '''
import json, os, time
CALLS = []
def handler(event, context):
    CALLS.append(1)
    print("log line from the function")
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"env": os.environ.get("GREETING"), "route": event["routeKey"], "now": time.time(),
                                "body": event.get("body"), "warm_calls": len(CALLS),
                                "endpoint": os.environ.get("AWS_ENDPOINT_URL")})}
'''


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("app.py", HANDLER)
    return buffer.getvalue()


@pytest.fixture
def api():
    s3 = client("s3")
    s3.create_bucket(Bucket="assets")
    s3.put_object(Bucket="assets", Key="code.zip", Body=_zip())
    role = client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    api_ref = {"Ref": "Api"}
    permission = {"Type": "AWS::Lambda::Permission", "Properties": {
        "Action": "lambda:InvokeFunction", "FunctionName": {"Fn::GetAtt": ["Fn", "Arn"]}, "Principal": "apigateway.amazonaws.com",
        "SourceArn": {"Fn::Join": ["", ["arn:aws:execute-api:us-east-1:123456789012:", api_ref, "/*/*/hello"]]}}}
    Stack().deploy({
        "Fn": {"Type": "AWS::Lambda::Function", "Properties": {
            "FunctionName": "fn", "Runtime": "python3.12", "Handler": "app.handler", "Role": role, "Timeout": 10,
            "Code": {"S3Bucket": "assets", "S3Key": "code.zip"}, "Environment": {"Variables": {"GREETING": "deployed"}}}},
        "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "api", "ProtocolType": "HTTP"}},
        "Integration": {"Type": "AWS::ApiGatewayV2::Integration", "Properties": {
            "ApiId": api_ref, "IntegrationType": "AWS_PROXY", "IntegrationUri": {"Fn::GetAtt": ["Fn", "Arn"]},
            "PayloadFormatVersion": "2.0"}},
        "Hello": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": api_ref, "RouteKey": "POST /hello", "AuthorizationType": "AWS_IAM",
            "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integration"}]]}}},
        "Open": {"Type": "AWS::ApiGatewayV2::Route", "Properties": {
            "ApiId": api_ref, "RouteKey": "GET /open", "Target": {"Fn::Join": ["", ["integrations/", {"Ref": "Integration"}]]}}},
        "Permission": permission,
    })
    api_id = client("apigatewayv2").get_apis()["Items"][0]["ApiId"]
    def moto_app(environ, start_response):
        start_response("200 OK", [])
        return [b"moto"]

    yield Client(execute_api.ExecuteApi(moto_app)), api_id
    execute_api.stop_all()


def signed(path: str, body: str = "", headers: dict | None = None) -> dict:
    request = AWSRequest(method="POST", url=f"http://localhost{path}", data=body, headers=headers or {})
    SigV4Auth(Credentials("test", "test"), "execute-api", REGION).add_auth(request)
    return dict(request.headers)


def test_a_signed_request_runs_the_deployed_code_with_its_environment(api):
    http, api_id = api
    path = f"/_aws/execute-api/{api_id}/hello"
    first = http.post(path, data='{"x": 1}', headers=signed(path, '{"x": 1}'))
    assert first.status_code == 200, first.get_data(as_text=True)
    body = json.loads(first.get_data())
    assert body["env"] == "deployed" and body["route"] == "POST /hello" and body["body"] == '{"x": 1}'
    assert body["endpoint"].startswith("http://localhost")
    second = json.loads(http.post(path, headers=signed(path, "", {"X-LocalAws-Now": "1700000000"})).get_data())
    assert second["warm_calls"] == 2  # a warm execution environment, as Lambda reuses one
    assert second["now"] == 1700000000  # the injected instant, for this invocation only
    assert json.loads(http.post(path, headers=signed(path)).get_data())["now"] > 1700000000


def test_iam_routes_refuse_unsigned_requests_and_unknown_routes_are_404(api):
    http, api_id = api
    assert http.post(f"/_aws/execute-api/{api_id}/hello").status_code == 403
    assert http.post(f"/_aws/execute-api/{api_id}/nowhere").status_code == 404
    assert http.get("/_aws/execute-api/nosuchapi/hello").status_code == 404
    assert http.get("/other").get_data() == b"moto"  # everything else is moto's


def test_a_route_the_function_does_not_permit_answers_500(api):
    http, api_id = api
    # The permission covers */*/hello only: AWS answers 500 when the integration may not invoke.
    response = http.get(f"/_aws/execute-api/{api_id}/open")
    assert response.status_code == 500 and b"Internal Server Error" in response.get_data()


def test_a_new_deployment_replaces_the_warm_environment(api):
    http, api_id = api
    path = f"/_aws/execute-api/{api_id}/hello"
    assert json.loads(http.post(path, headers=signed(path)).get_data())["env"] == "deployed"
    boto3.client("lambda", region_name=REGION).update_function_configuration(
        FunctionName="fn", Environment={"Variables": {"GREETING": "redeployed"}})
    body = json.loads(http.post(path, headers=signed(path)).get_data())
    assert body["env"] == "redeployed" and body["warm_calls"] == 1
