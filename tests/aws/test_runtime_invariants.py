"""Invariants of the Observability, OIDC and Runtime stacks, and cross-stack rules
(docs/requirements.md#alarms, #trust, #least-privilege, #env-contract)."""

from __future__ import annotations

import json
import re

from aws_cdk.assertions import Match, Template

from constructs_lib.aws.oracle_service import ACCESS_LOG_FIELDS
from envconfig.contract import default_contract
from tests.aws.policy_helpers import as_list, statements

# docs/requirements.md#alarms: six table throttles, SSM failures and the circuit breaker.
TABLE_AND_CUSTOM_ALARMS = {
    "fp-events-read-throttle", "fp-events-write-throttle", "consent-read-throttle", "consent-write-throttle",
    "block-counter-read-throttle", "block-counter-write-throttle", "ssm-parameter-failures", "circuit-breaker-triggered",
}
RUNTIME_ALARMS = {"oracle-error-rate", "oracle-api-latency-p95", "oracle-throttles"}


def _alarms(aws_app, env):
    return aws_app.resources(env, "Observability", "AWS::CloudWatch::Alarm")


def test_the_table_and_runtime_alarms(aws_app, env):
    prefix = aws_app.configs[env].resource_prefix
    names = {a["Properties"]["AlarmName"] for a in _alarms(aws_app, env).values()}
    expected = {f"{prefix}-{n}-{s}" for n in TABLE_AND_CUSTOM_ALARMS | RUNTIME_ALARMS for s in ("warning", "critical")}
    assert len(names) == 11 and names <= expected, names


def test_every_alarm_notifies_the_topic_and_treats_missing_data(aws_app, env):
    topic_id = next(iter(aws_app.resources(env, "Observability", "AWS::SNS::Topic")))
    for logical_id, alarm in _alarms(aws_app, env).items():
        props = alarm["Properties"]
        assert props["AlarmActions"] == [{"Ref": topic_id}], logical_id
        assert props["OKActions"] == [{"Ref": topic_id}], logical_id
        assert props["TreatMissingData"] in {"notBreaching", "breaching", "ignore", "missing"}, logical_id
        assert props["AlarmDescription"].startswith(("[Critical]", "[Warning]")), logical_id


def _metric_stat(props: dict) -> dict:
    """Namespace/metric/period/stat of a single-metric alarm in either template form."""
    if "MetricName" in props:
        return {"Namespace": props["Namespace"], "MetricName": props["MetricName"], "Period": props["Period"],
                "Stat": props.get("Statistic") or props.get("ExtendedStatistic")}
    (query,) = [m for m in props["Metrics"] if m.get("ReturnData", True)]
    stat = query["MetricStat"]
    return {**{k: stat["Metric"][k] for k in ("Namespace", "MetricName")}, "Period": stat["Period"], "Stat": stat["Stat"]}


def test_alarm_thresholds_come_from_config(aws_app, env):
    obs = aws_app.configs[env].observability
    by_name = {a["Properties"]["AlarmName"]: a["Properties"] for a in _alarms(aws_app, env).values()}
    prefix = aws_app.configs[env].resource_prefix
    throttle = by_name[f"{prefix}-fp-events-read-throttle-{obs.table_throttle.severity.value.lower()}"]
    assert throttle["Threshold"] == obs.table_throttle.value
    assert _metric_stat(throttle) == {"Namespace": "AWS/DynamoDB", "MetricName": "ReadThrottleEvents", "Period": obs.table_throttle.period_minutes * 60, "Stat": "Sum"}
    breaker = by_name[f"{prefix}-circuit-breaker-triggered-{obs.circuit_breaker_triggers.severity.value.lower()}"]
    assert _metric_stat(breaker)["Namespace"] == obs.metrics_namespace and breaker["Threshold"] == obs.circuit_breaker_triggers.value
    latency = by_name[f"{prefix}-oracle-api-latency-p95-{obs.api_latency_p95_ms.severity.value.lower()}"]
    assert _metric_stat(latency)["Stat"] == "p95" and latency["Threshold"] == obs.api_latency_p95_ms.value
    error_rate = by_name[f"{prefix}-oracle-error-rate-{obs.lambda_error_rate_percent.severity.value.lower()}"]
    assert error_rate["Threshold"] == obs.lambda_error_rate_percent.value and "100 * errors / invocations" in json.dumps(error_rate["Metrics"])


def test_topic_encrypted_tls_only_with_configured_subscriptions(aws_app, env):
    template = Template.from_json(aws_app.template(env, "Observability"))
    template.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": Match.any_value()})
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {"PolicyDocument": {"Statement": Match.array_with([Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})])}},
    )
    # The TLS-only policy replaces SNS's default one: CloudWatch must be allowed explicitly, for our alarms only.
    config = aws_app.configs[env]
    (policy,) = aws_app.resources(env, "Observability", "AWS::SNS::TopicPolicy").values()
    allows = [s for s in policy["Properties"]["PolicyDocument"]["Statement"] if s["Effect"] == "Allow"]
    # CloudWatch alarms, and AWS Budgets (tests/aws/test_recovery_invariants.py checks that one).
    assert sorted(s["Principal"]["Service"] for s in allows) == ["budgets.amazonaws.com", "cloudwatch.amazonaws.com"]
    (allow,) = [s for s in allows if s["Principal"] == {"Service": "cloudwatch.amazonaws.com"}]
    assert allow["Action"] == "sns:Publish"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": config.account}
    assert json.dumps(allow["Condition"]["ArnLike"]["aws:SourceArn"]).endswith(
        f':cloudwatch:{config.region}:{config.account}:alarm:{config.resource_prefix}-*"]]}}')
    emails = sorted(s["Properties"]["Endpoint"] for s in aws_app.resources(env, "Observability", "AWS::SNS::Subscription").values())
    assert emails == sorted(aws_app.configs[env].observability.alarm_emails)


def test_observability_key_lets_cloudwatch_and_cloudtrail_use_it(aws_app, env):
    key = next(iter(aws_app.resources(env, "Observability", "AWS::KMS::Key").values()))
    services = {s["Principal"].get("Service") for s in key["Properties"]["KeyPolicy"]["Statement"]}
    assert {"cloudwatch.amazonaws.com", "cloudtrail.amazonaws.com", f"logs.{aws_app.configs[env].region}.amazonaws.com"} <= services


def test_dashboard_has_the_table_ssm_and_circuit_breaker_panels(aws_app, env):
    dashboard = next(iter(aws_app.resources(env, "Observability", "AWS::CloudWatch::Dashboard").values()))
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in ("DynamoDB capacity (read)", "DynamoDB capacity (write)", "DynamoDB user and system errors",
                  "SSM parameter failures", "Circuit breaker events", "Alarm status", "Oracle API latency p95", "Oracle errors"):
        assert title in body, title


def test_audit_trail(aws_app, env):
    config = aws_app.configs[env]
    template = Template.from_json(aws_app.template(env, "Observability"))
    template.has_resource_properties(
        "AWS::CloudTrail::Trail",
        {
            "IsMultiRegionTrail": True, "EnableLogFileValidation": True, "IncludeGlobalServiceEvents": True, "IsLogging": True,
            "KMSKeyId": Match.any_value(), "CloudWatchLogsLogGroupArn": Match.any_value(), "CloudWatchLogsRoleArn": Match.any_value(),
            "S3BucketName": {"Ref": Match.string_like_regexp("^TrailBucket[0-9A-F]{8}$")},  # the hardened bucket, not its log bucket
        },
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"LogGroupName": f"/aws/cloudtrail/{config.resource_prefix}", "KmsKeyId": Match.any_value()})


def test_log_retention_everywhere(aws_app):
    groups = 0
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] == "AWS::Logs::LogGroup":
            groups += 1
            assert resource["Properties"]["RetentionInDays"] == aws_app.configs[env].observability.log_retention_days, logical_id
            assert "KmsKeyId" in resource["Properties"], f"{logical_id}: log group not KMS-encrypted"
        if resource["Type"] == "AWS::Lambda::Function":
            assert "LogGroup" in resource["Properties"]["LoggingConfig"], f"{logical_id}: Lambda without its own log group"
    assert groups == 6  # trail, Oracle function, Oracle API access log, per environment


def test_oidc_trust_is_pinned_exactly(aws_app, env):
    config = aws_app.configs[env]
    roles = aws_app.resources(env, "Oidc", "AWS::IAM::Role")
    # deploy, plan, Oracle smoke, restore drill, and in staging the consumer role
    # (the exact subjects per role: tests/aws/test_trust.py).
    assert len(roles) == (5 if env.value == "staging" else 4)
    for logical_id, role in roles.items():
        (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        sub = statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"]
        assert statement["Condition"] == {
            "StringEquals": {
                "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
                "token.actions.githubusercontent.com:sub": sub,
            }
        }, f"{logical_id}: only StringEquals on aud and sub"
        assert not any("*" in s or ":ref:" in s for s in as_list(sub))
        assert role["Properties"]["MaxSessionDuration"] == config.github.max_session_hours * 3600


def test_oidc_provider_is_native(aws_app, env):
    template = Template.from_json(aws_app.template(env, "Oidc"))
    template.has_resource_properties(
        "AWS::IAM::OIDCProvider", {"Url": "https://token.actions.githubusercontent.com", "ClientIdList": ["sts.amazonaws.com"]}
    )
    template.resource_count_is("AWS::Lambda::Function", 0)
    template.resource_count_is("AWS::CloudFormation::CustomResource", 0)


def test_deploy_role_can_only_assume_bootstrap_roles(aws_app, env):
    config = aws_app.configs[env]
    policies = aws_app.resources(env, "Oidc", "AWS::IAM::Policy")
    deploy = [p for p in policies.values() if any(r["Ref"].startswith("GitHubDeployRole") for r in p["Properties"]["Roles"])]
    (policy,) = deploy
    # Besides the bootstrap roles, only its lock and deployed-approval parameters (tests/aws/test_exact_policies.py).
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    assert sorted(s["Sid"] for s in statements) == ["AssumeCdkBootstrapRoles", "DeployLockAndRecord"]
    (statement,) = [s for s in statements if s["Sid"] == "AssumeCdkBootstrapRoles"]
    assert sorted(as_list(statement["Action"])) == ["sts:AssumeRole", "sts:TagSession"]
    resources = [r["Fn::Join"][1][-1] for r in statement["Resource"]]
    assert sorted(resources) == sorted(
        f":iam::{config.account}:role/cdk-hnb659fds-{r}-{config.account}-{config.region}"
        for r in ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
    )


def test_plan_role_can_only_assume_the_lookup_role(aws_app, env):
    config = aws_app.configs[env]
    (policy,) = [p for p in aws_app.resources(env, "Oidc", "AWS::IAM::Policy").values()
                 if any(r["Ref"].startswith("GitHubPlanRole") for r in p["Properties"]["Roles"])]
    (statement,) = policy["Properties"]["PolicyDocument"]["Statement"]
    assert statement["Resource"]["Fn::Join"][1][-1] == f":iam::{config.account}:role/cdk-hnb659fds-lookup-role-{config.account}-{config.region}"


def test_lambda_environment_is_within_the_contract(aws_app, env):
    contract = default_contract().service("oracle")
    for function in aws_app.resources(env, "Runtime", "AWS::Lambda::Function").values():
        names = set(function["Properties"]["Environment"]["Variables"])
        assert names <= set(contract.variables), names - set(contract.variables)
        assert contract.required <= names
        assert not names & contract.secrets


def test_lambda_runtime_settings(aws_app, env):
    config = aws_app.configs[env]
    template = Template.from_json(aws_app.template(env, "Runtime"))
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Architectures": ["arm64"], "TracingConfig": {"Mode": "Active"},
            "ReservedConcurrentExecutions": config.runtime.reserved_concurrency, "KmsKeyArn": Match.any_value(),
            "FunctionName": f"{config.resource_prefix}-oracle",
        },
    )


def test_http_api_access_log_uses_only_http_api_variables(aws_app, env):
    """HTTP APIs reject REST-only variables such as $context.resourcePath at stage creation."""
    (stage,) = aws_app.resources(env, "Runtime", "AWS::ApiGatewayV2::Stage").values()
    variables = set(re.findall(r"\$context\.[A-Za-z.]+", stage["Properties"]["AccessLogSettings"]["Format"]))
    assert variables == set(ACCESS_LOG_FIELDS.values())
    assert "$context.resourcePath" not in variables and "$context.requestId" in variables


def test_http_api_requires_iam_and_logs_and_throttles(aws_app, env):
    config = aws_app.configs[env]
    routes = aws_app.resources(env, "Runtime", "AWS::ApiGatewayV2::Route")
    assert sorted(r["Properties"]["RouteKey"] for r in routes.values()) == ["GET /health", "POST /events"]
    assert all(r["Properties"]["AuthorizationType"] == "AWS_IAM" for r in routes.values())
    template = Template.from_json(aws_app.template(env, "Runtime"))
    template.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default", "AutoDeploy": True,
            "AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.string_like_regexp("requestId")},
            "DefaultRouteSettings": {"ThrottlingRateLimit": config.runtime.api_throttle_rate, "ThrottlingBurstLimit": config.runtime.api_throttle_burst},
        },
    )


# Every Allow statement with Resource "*" must be one of these, each with why AWS offers nothing narrower.
WILDCARD_RESOURCE_ALLOWED = {
    ("AWS::KMS::Key", None): "In a key policy, Resource '*' means the key itself (KMS key policy documentation).",
    ("AWS::IAM::Policy", frozenset({"xray:PutTraceSegments", "xray:PutTelemetryRecords"})): "X-Ray trace upload has no resource type.",
}


def test_no_action_star_and_resource_star_only_where_listed(aws_app):
    found = []
    for env, stack, logical_id, resource in aws_app.all_resources():
        for statement in statements(resource):
            actions = as_list(statement.get("Action", []))
            assert "*" not in actions, f"{env.value}/{stack}/{logical_id}: Action '*'"
            if statement["Effect"] == "Allow" and resource["Type"] != "AWS::KMS::Key":
                assert not any(a.endswith(":*") for a in actions), f"{logical_id}: service-wide action {actions}"
            if statement["Effect"] == "Allow" and "*" in as_list(statement.get("Resource", [])):
                key = (resource["Type"], None if resource["Type"] == "AWS::KMS::Key" else frozenset(actions))
                assert key in WILDCARD_RESOURCE_ALLOWED, f"{env.value}/{stack}/{logical_id}: Resource '*' for {actions} is not in the reasoned list"
                found.append(key)
    assert set(found) == set(WILDCARD_RESOURCE_ALLOWED), "a listed exception is no longer used: remove it"


def test_no_exports_between_stacks(aws_app):
    for (env, stack), template in aws_app.templates.items():
        text = json.dumps(template)
        assert "Fn::ImportValue" not in text, f"{env.value}/{stack} imports an export"
        for name, output in template.get("Outputs", {}).items():
            assert "Export" not in output, f"{env.value}/{stack} output {name} is exported"



def test_published_values_are_read_by_dynamic_reference(aws_app):
    """SSM-typed template parameters are resolved at CreateChangeSet with the caller's
    credentials; the CDK deploy role may read only /cdk-bootstrap/*. Dynamic references
    are resolved by CloudFormation's execution role instead."""
    references = 0
    for (env, stack), template in aws_app.templates.items():
        for name, parameter in template.get("Parameters", {}).items():
            if parameter["Type"].startswith("AWS::SSM::Parameter::Value"):
                assert parameter["Default"].startswith("/cdk-bootstrap/"), f"{env.value}/{stack}: parameter {name} reads {parameter['Default']}"
        references += json.dumps(template).count("{{resolve:ssm:" + aws_app.configs[env].parameter_prefix + "infra/")
    assert references >= 18  # Runtime, Oidc and Observability of both environments
