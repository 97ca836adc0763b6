"""smoke and test-alarm: input checked before any cloud call, the ways they
fail (no credentials, unreachable endpoint, unknown alarm, an SLO breach,
an alarm whose actions are off), against moto in-process. The passing runs
against the deployed Oracle are in tests/e2e/test_truth.py."""
from __future__ import annotations

import itertools
import json

import boto3
import pytest

from opscli import alarm_drill, aws_ops, smoke
from opscli.errors import OpsError
from opscli.verify import Status

META = {"M": {"Type": "AWS::CDK::Metadata"}}


def deploy(aws, resources_by_stack):
    cf = aws.client("cloudformation")
    for stack in ("Data", "Secrets", "Observability", "Oidc", "Runtime"):
        cf.create_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1", ChangeSetType="CREATE",
                             TemplateBody=json.dumps({"Resources": resources_by_stack.get(stack, META)}))
        cf.execute_change_set(StackName=aws.stack_name(stack), ChangeSetName="c1")


@pytest.mark.parametrize("argv, message", [
    (["smoke", "--env", "staging", "--calls", "0"], "ops smoke: --calls must be between 1 and 1000, got 0"),
    (["test-alarm", "--env", "staging", "--wait", "0"], "ops test-alarm: --wait must be between 1 and 900 seconds, got 0"),
])
def test_bad_input_is_refused_before_any_cloud_call(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(smoke.live_stacks, "check", lambda aws: pytest.fail("a cloud call was made"))
    monkeypatch.setattr(alarm_drill, "alarms", lambda aws: pytest.fail("a cloud call was made"))
    assert aws_ops.main(argv) == 2
    assert capsys.readouterr().err.strip() == message


def test_no_credentials_is_one_line(capsys, monkeypatch):
    for var in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(var)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    assert aws_ops.main(["smoke", "--env", "staging"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("ops smoke: ") and len(err.strip().splitlines()) == 1


def test_unreachable_api_is_one_line(aws, capsys):
    assert aws_ops.main(["smoke", "--env", "staging", "--url", "http://127.0.0.1:9"]) == 2
    assert capsys.readouterr().err.strip().startswith("ops smoke: cannot reach the Oracle API at http://127.0.0.1:9: ")


def test_p95_is_nearest_rank():
    assert smoke.p95([0.1] * 19 + [5.0]) == 0.1
    assert smoke.p95([0.1] * 18 + [5.0, 5.0]) == 5.0
    assert smoke.p95([0.3]) == 0.3


def test_an_slo_breach_fails(aws, monkeypatch):
    responses = iter([smoke.Response(200, '{"status": "ok", "environment": "staging"}', 0.01),
                      smoke.Response(403, '{"error": "nonce rejected"}', 0.01)])

    class Slow:
        """Every call takes 2 s on the injected timer: over the 500 ms SLO."""

        def __init__(self, aws, base, timer):
            pass

        def __call__(self, method, path, body=None):
            return next(responses, smoke.Response(200, "{}", 2.0))

    monkeypatch.setattr(smoke, "Caller", Slow)
    monkeypatch.setattr(smoke, "_valid_event", lambda aws, call: smoke.Result("smoke", "event", Status.PASS, "ok"))
    results = smoke.run(aws, calls=5, url="http://api")
    latency = results[-1]
    assert latency.status is Status.FAIL
    assert latency.evidence == "expected <= 500 ms (observability.thresholds.api_latency_p95_ms), actual 2000 ms"
    assert [r.status for r in results[:3]] == [Status.PASS] * 3


def _observability(aws, actions_enabled=True):
    alarm = {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": "md-critical", "AlarmDescription": "[Critical] test", "ComparisonOperator": "GreaterThanThreshold",
        "EvaluationPeriods": 1, "MetricName": "X", "Namespace": "N", "Period": 60, "Statistic": "Sum", "Threshold": 1,
        "AlarmActions": [{"Ref": "Topic"}], "OKActions": [{"Ref": "Topic"}], "ActionsEnabled": actions_enabled}}
    deploy(aws, {"Observability": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}, "Alarm": alarm}})


def test_unknown_alarm_is_refused_with_the_known_names(aws, capsys):
    _observability(aws)
    assert aws_ops.main(["test-alarm", "--env", "staging", "--alarm", "nope"]) == 2
    assert capsys.readouterr().err.strip() == "ops test-alarm: no alarm 'nope' in Staging-Observability; known: md-critical"


@pytest.mark.parametrize("method", ["subscribe", "history"])
def test_delivery_is_confirmed_and_the_alarm_is_back_to_ok(aws, method):
    _observability(aws)
    [result] = alarm_drill.run(aws, alarm=None, method=method, wait_s=5)
    assert result.status is Status.PASS, result.evidence
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    assert cw.describe_alarms(AlarmNames=["md-critical"])["MetricAlarms"][0]["StateValue"] == "OK"
    assert boto3.client("sqs", region_name="us-east-1").list_queues().get("QueueUrls", []) == []  # probe removed


@pytest.mark.parametrize("method", ["subscribe", "history"])
def test_disabled_actions_are_not_confirmed(aws, method):
    _observability(aws, actions_enabled=False)
    clock = itertools.count(0, 10)  # each look at the clock is 10 s later: the wait ends without sleeping
    [result] = alarm_drill.run(aws, alarm="md-critical", method=method, wait_s=5,
                              now=lambda: next(clock), sleep=lambda s: None)
    assert result.status is Status.FAIL
    assert "actual: nothing received" in result.evidence or "actual: none" in result.evidence
    cw = boto3.client("cloudwatch", region_name="us-east-1")
    assert cw.describe_alarms(AlarmNames=["md-critical"])["MetricAlarms"][0]["StateValue"] == "OK"


def test_smoke_url_for_the_local_target(aws, monkeypatch):
    deploy(aws, {"Runtime": {"Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {"Name": "a", "ProtocolType": "HTTP"}}}})
    api = aws.physical_ids("Runtime", "AWS::ApiGatewayV2::Api")[0]
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:4566/")
    assert smoke.api_url(aws) == f"http://localhost:4566/_aws/execute-api/{api}"
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    assert smoke.api_url(aws) == f"https://{api}.execute-api.us-east-1.amazonaws.com"
    assert smoke.api_url(aws, "https://api.example/") == "https://api.example"


def test_smoke_without_an_api_is_one_line(aws):
    deploy(aws, {})
    with pytest.raises(OpsError, match="expected one HTTP API in Staging-Runtime, found 0"):
        smoke.api_url(aws)
