"""Exact IAM, key-policy, alarm and trail assertions: the whole document,
stated here from docs/requirements.md, never rebuilt from the configuration
the stacks read. A policy that gains one action, a key that gains one
principal, an alarm whose comparison flips, all fail here.

Where another change is expected to add to a document, the addition has one
place below (KEY_POLICY_CREATE_GRANT, trail_event_selectors).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from envconfig.aws import Environment

REPO = Path(__file__).resolve().parents[2]
ACCOUNTS = {Environment.STAGING: "123456789012", Environment.PRODUCTION: "210987654321"}  # config/aws/*.yaml (free to choose)
REGION = "us-east-1"

# ---- one place for additions by other changes --------------------------------
# kms:CreateGrant limited to AWS resources (kms:GrantIsForAWSResource): add the
# statement(s) here once, and every key below expects them.
# Control Tower CT.KMS.PR.3 (constructs_lib/aws/environment_key.py).
KEY_POLICY_CREATE_GRANT: list[dict] = [
    {"Action": ["kms:CreateGrant"], "Effect": "Deny", "Principal": {"AWS": "*"}, "Resource": ["*"],
     "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
     "Sid": "DenyGrantsNotForAwsResources"},
]


def trail_event_selectors(env: Environment) -> list[dict]:
    """docs/requirements.md#audit-trail "who accessed evidence": management events read and write, and the
    data events of the three tables and the baselines objects (both environments list all four)."""
    account, e = ACCOUNTS[env], env.value
    return [
        {"Name": "Management events (read and write)", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "Oracle tables: data events", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]},
            {"Field": "resources.ARN", "Equals": [f"arn:aws:dynamodb:{REGION}:{account}:table/mirror-dissonance-{t}-{e}"
                                                  for t in ("fp-events", "consent", "block-counter")]}]},
        {"Name": "Baselines bucket: object data events", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::mirror-dissonance-{e}-baselines-{account}/"]}]},
    ]


def flat(value):
    """Intrinsics as readable text: Fn::Join joined, Ref / GetAtt as ${...}; Partition is 'aws'."""
    if isinstance(value, dict):
        if "Fn::Join" in value:
            return "".join(str(flat(v)) for v in value["Fn::Join"][1])
        if "Ref" in value:
            return "aws" if value["Ref"] == "AWS::Partition" else "${%s}" % re.sub(r"[0-9A-F]{8}$", "", value["Ref"])
        if "Fn::GetAtt" in value:
            logical, attribute = value["Fn::GetAtt"]
            return "${%s.%s}" % (re.sub(r"[0-9A-F]{8}$", "", logical), attribute)
        return {k: flat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [flat(v) for v in value]
    return value


def statements(document: dict) -> list[dict]:
    """Statements, with single values as lists and sorted, so order is not the assertion."""
    result = []
    for statement in flat(document)["Statement"]:
        s = dict(statement)
        for key in ("Action", "Resource"):
            if key in s:
                s[key] = sorted(s[key] if isinstance(s[key], list) else [s[key]])
        result.append(s)
    return sorted(result, key=lambda s: json.dumps(s, sort_keys=True))


def resources_of(aws_app, env, type_):
    # Production also has the DisasterRecovery stack (backup copies in a second region, docs/requirements.md#restore).
    dr = ("DisasterRecovery",) if env is Environment.PRODUCTION else ()
    for stack in ("Data", "Secrets", "Observability", "Oidc", "Runtime", *dr):
        for logical, resource in aws_app.resources(env, stack, type_).items():
            yield stack, re.sub(r"[0-9A-F]{8}$", "", logical), resource


# ---- roles -----------------------------------------------------------------

def expected_roles(env: Environment) -> dict[str, dict]:
    account, e = ACCOUNTS[env], env.value
    arn = f"arn:aws:iam::{account}"
    tables = sorted(f"arn:aws:dynamodb:{REGION}:{account}:table/mirror-dissonance-{t}-{e}" for t in ("fp-events", "consent", "block-counter"))
    data_key = f"{{{{resolve:ssm:/mirror-dissonance/{e}/infra/data-key-arn}}}}"
    api = f"arn:aws:execute-api:{REGION}:{account}:{{{{resolve:ssm:/mirror-dissonance/{e}/infra/oracle-api-id}}}}/$default"
    cdk = [f"{arn}:role/cdk-hnb659fds-{r}-role-{account}-{REGION}" for r in ("deploy", "file-publishing", "image-publishing", "lookup")]
    key_use = ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    read_policy = f"{arn}:policy/mirror-dissonance-{e}-parameters-read"
    fp_events = f"arn:aws:dynamodb:{REGION}:{account}:table/mirror-dissonance-fp-events-{e}"
    secrets_key = f"{{{{resolve:ssm:/mirror-dissonance/{e}/infra/secrets-key-arn}}}}"
    nonce = f"arn:aws:ssm:{REGION}:{account}:parameter/mirror-dissonance/{e}/nonce"
    consumer = {
        # A consumer calls the API with the nonce: never a table, never the github-token parameter.
        "Oidc/GitHubOracleConsumerRole": {"managed": [], "statements": [
            {"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [f"{api}/GET/health", f"{api}/POST/events"], "Sid": "InvokeOracleApi"},
            {"Action": ["kms:Decrypt"], "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}},
             "Effect": "Allow", "Resource": [secrets_key], "Sid": "DecryptNonceViaSsm"},
            {"Action": ["ssm:GetParameter"], "Effect": "Allow", "Resource": [nonce], "Sid": "ReadNonce"},
        ]},
    } if env is Environment.STAGING else {}
    return {**consumer,
        # docs/requirements.md#trust: the deploy role may only assume the CDK bootstrap roles
        "Oidc/GitHubDeployRole": {"managed": [], "statements": [
            {"Action": ["sts:AssumeRole", "sts:TagSession"], "Effect": "Allow", "Resource": sorted(cdk), "Sid": "AssumeCdkBootstrapRoles"},
            # bin/ops deploy's lock and its record of the deployed approval id: these two parameters, nothing else
            {"Action": ["ssm:GetParameter", "ssm:PutParameter"], "Effect": "Allow", "Sid": "DeployLockAndRecord", "Resource": [
                f"arn:aws:ssm:{REGION}:{account}:parameter/mirror-dissonance/{e}/deploy-lock",
                f"arn:aws:ssm:{REGION}:{account}:parameter/mirror-dissonance/{e}/deployed-approval"]}]},
        "Oidc/GitHubPlanRole": {"managed": [], "statements": [
            {"Action": ["sts:AssumeRole", "sts:TagSession"], "Effect": "Allow", "Resource": [cdk[3]], "Sid": "AssumeCdkLookupRole"}]},
        # The Oracle role is the smoke job's: the two routes, the nonce, query and delete of its own fp-events item.
        "Oidc/GitHubOracleRole": {"managed": [], "statements": [
            {"Action": ["dynamodb:DeleteItem", "dynamodb:Query"], "Effect": "Allow", "Resource": [fp_events], "Sid": "FindAndRemoveSmokeEvents"},
            {"Action": ["execute-api:Invoke"], "Effect": "Allow", "Resource": [f"{api}/GET/health", f"{api}/POST/events"], "Sid": "InvokeOracleApi"},
            {"Action": ["kms:Decrypt"], "Condition": {"StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}},
             "Effect": "Allow", "Resource": [data_key], "Sid": "DecryptTableViaDynamoDb"},
            {"Action": ["kms:Decrypt"], "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}},
             "Effect": "Allow", "Resource": [secrets_key], "Sid": "DecryptNonceViaSsm"},
            {"Action": ["ssm:GetParameter"], "Effect": "Allow", "Resource": [nonce], "Sid": "ReadNonce"},
        ]},
        "Runtime/OracleFunctionServiceRole": {
            "managed": sorted(["arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole", read_policy]), "statements": [
                {"Action": ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], "Effect": "Allow", "Resource": ["*"]},
                {"Action": ["dynamodb:PutItem"], "Effect": "Allow", "Resource": [fp_events]},
                {"Action": ["kms:Decrypt"], "Condition": {"StringEquals": {"kms:ViaService": f"dynamodb.{REGION}.amazonaws.com"}},
                 "Effect": "Allow", "Resource": [data_key], "Sid": "DecryptTableViaDynamoDb"},
            ]},
        "Data/BackupPlanTablesRole": {"managed": ["arn:aws:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup"], "statements": []},
        # docs/requirements.md#restore: restores only into the drill's scratch copies (its one managed policy, asserted below)
        "Oidc/GitHubRestoreDrillRole": {"managed": ["${RestoreDrillAccessPolicy}"], "statements": []},
        "Observability/AuditTrailLogsRole": {"managed": [], "statements": [
            {"Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Effect": "Allow", "Resource": ["${TrailLogs.Arn}"]}]},
    }


def actual_roles(aws_app, env) -> dict[str, dict]:
    roles = {}
    for stack, logical, role in resources_of(aws_app, env, "AWS::IAM::Role"):
        props = role["Properties"]
        assert "Policies" not in props, f"{stack}/{logical} has inline policies in the role itself"
        roles[f"{stack}/{logical}"] = {"managed": sorted(flat(props.get("ManagedPolicyArns", []))), "statements": [], "_ref": "${%s}" % logical}
    for stack, logical, policy in resources_of(aws_app, env, "AWS::IAM::Policy"):
        attached = flat(policy["Properties"]["Roles"])
        for name, role in roles.items():
            if name.startswith(f"{stack}/") and role["_ref"] in attached:
                role["statements"] += statements(policy["Properties"]["PolicyDocument"])
    for role in roles.values():
        del role["_ref"]
        role["statements"] = sorted(role["statements"], key=lambda s: json.dumps(s, sort_keys=True))
    return roles


def test_every_role_has_exactly_its_policies(aws_app, env):
    expected = expected_roles(env)
    for role in expected.values():
        role["statements"] = sorted(role["statements"], key=lambda s: json.dumps(s, sort_keys=True))
    actual = actual_roles(aws_app, env)
    assert sorted(actual) == sorted(expected), "roles added or removed"
    for name in expected:
        assert actual[name] == expected[name], name


def test_the_parameter_read_policy_is_exactly_the_three_parameters(aws_app, env):
    account, e = ACCOUNTS[env], env.value
    [policy] = [p for _, logical, p in resources_of(aws_app, env, "AWS::IAM::ManagedPolicy") if logical == "ParameterAccessRead"]
    assert statements(policy["Properties"]["PolicyDocument"]) == sorted([
        {"Action": ["ssm:GetParameter"], "Effect": "Allow", "Sid": "ReadParameters",
         "Resource": sorted(f"arn:aws:ssm:{REGION}:{account}:parameter/mirror-dissonance/{e}/{n}" for n in ("nonce", "nonce-rotation", "github-token"))},
        {"Action": ["kms:Decrypt"], "Condition": {"StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}},
         "Effect": "Allow", "Resource": ["${SecretsKey.Arn}"], "Sid": "DecryptViaSsm"},
    ], key=lambda s: json.dumps(s, sort_keys=True))


def test_the_restore_drill_policy_is_exactly_sources_and_scratch_copies(aws_app, env):
    account, e = ACCOUNTS[env], env.value
    names = ("block-counter", "consent", "fp-events")
    baselines = f"arn:aws:s3:::mirror-dissonance-{e}-baselines-{account}"
    [policy] = [p for _, logical, p in resources_of(aws_app, env, "AWS::IAM::ManagedPolicy") if logical == "RestoreDrillAccessPolicy"]
    assert statements(policy["Properties"]["PolicyDocument"]) == sorted([
        {"Action": ["dynamodb:DescribeContinuousBackups", "dynamodb:DescribeTable", "dynamodb:GetItem",
                    "dynamodb:RestoreTableToPointInTime", "dynamodb:Scan"], "Effect": "Allow", "Sid": "ReadAndRestoreSourceTables",
         "Resource": [f"arn:aws:dynamodb:{REGION}:{account}:table/mirror-dissonance-{t}-{e}" for t in names]},
        # the drill's canaries: only items whose partition key starts with md-restore-drill-canary#
        {"Action": ["dynamodb:DeleteItem", "dynamodb:PutItem"], "Effect": "Allow", "Sid": "WriteDeleteCanaryItems",
         "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["md-restore-drill-canary#*"]}},
         "Resource": [f"arn:aws:dynamodb:{REGION}:{account}:table/mirror-dissonance-{t}-{e}" for t in names]},
        {"Action": ["dynamodb:BatchWriteItem", "dynamodb:DeleteItem", "dynamodb:DeleteTable", "dynamodb:DescribeTable", "dynamodb:GetItem",
                    "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem"], "Effect": "Allow",
         "Sid": "WriteReadDeleteScratchTables",
         "Resource": [f"arn:aws:dynamodb:{REGION}:{account}:table/mirror-dissonance-{t}-{e}-restore-drill" for t in names]},
        {"Action": ["kms:CreateGrant", "kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey"],
         "Condition": {"StringEquals": {"kms:ViaService": [f"dynamodb.{REGION}.amazonaws.com", f"s3.{REGION}.amazonaws.com"]}},
         "Effect": "Allow", "Sid": "UseDataKeyThroughDynamoDbAndS3",
         "Resource": [f"{{{{resolve:ssm:/mirror-dissonance/{e}/infra/data-key-arn}}}}"]},
        {"Action": ["s3:ListBucket", "s3:ListBucketVersions"], "Effect": "Allow", "Resource": [baselines], "Sid": "ListBaselineVersions"},
        {"Action": ["s3:GetObject", "s3:GetObjectVersion"], "Effect": "Allow", "Resource": [f"{baselines}/*"], "Sid": "ReadBaselines"},
        {"Action": ["s3:DeleteObject", "s3:DeleteObjectVersion", "s3:PutObject"], "Effect": "Allow",
         "Resource": [f"{baselines}/restore-drill/*"], "Sid": "WriteDeleteScratchObjects"},
    ], key=lambda s: json.dumps(s, sort_keys=True))


# ---- key policies ------------------------------------------------------------

def expected_keys(env: Environment) -> dict[str, list[dict]]:
    account = ACCOUNTS[env]
    root = {"Action": ["kms:*"], "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{account}:root"}, "Resource": ["*"]}
    logs = {"Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"],
            "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:aws:logs:{REGION}:{account}:log-group:*"}},
            "Effect": "Allow", "Principal": {"Service": f"logs.{REGION}.amazonaws.com"}, "Resource": ["*"], "Sid": "AllowLogs"}
    dr = {"DisasterRecovery/CopyKey": [root, *KEY_POLICY_CREATE_GRANT]} if env is Environment.PRODUCTION else {}
    return {
        **dr,
        "Data/DataKey": [root, logs, *KEY_POLICY_CREATE_GRANT],
        "Secrets/SecretsKey": [root, *KEY_POLICY_CREATE_GRANT],
        "Observability/ObservabilityKey": [root, logs, *KEY_POLICY_CREATE_GRANT,
            {"Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Condition": {"StringEquals": {"aws:SourceAccount": account}},
             "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Resource": ["*"], "Sid": "AllowCloudwatch"},
            # AWS Budgets publishes to the encrypted alert topic (docs/requirements.md#cost), for this account only
            {"Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Condition": {"StringEquals": {"aws:SourceAccount": account}},
             "Effect": "Allow", "Principal": {"Service": "budgets.amazonaws.com"}, "Resource": ["*"], "Sid": "AllowBudgets"},
            {"Action": ["kms:GenerateDataKey*"], "Condition": {"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:aws:cloudtrail:*:{account}:trail/*"}},
             "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Resource": ["*"], "Sid": "AllowCloudTrailEncrypt"},
            {"Action": ["kms:DescribeKey"], "Condition": {"StringEquals": {"aws:SourceAccount": account}},
             "Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Resource": ["*"], "Sid": "AllowCloudTrailDescribe"},
        ],
    }


def test_every_key_policy_is_exactly_this_account_and_conditioned_services(aws_app, env):
    expected = {name: sorted(s, key=lambda s: json.dumps(s, sort_keys=True)) for name, s in expected_keys(env).items()}
    actual = {f"{stack}/{logical}": statements(key["Properties"]["KeyPolicy"]) for stack, logical, key in resources_of(aws_app, env, "AWS::KMS::Key")}
    assert sorted(actual) == sorted(expected), "keys added or removed"
    for name in expected:
        assert actual[name] == expected[name], name


def test_no_service_principal_without_a_source_condition(aws_app, env):
    """docs/requirements.md#encryption: key policies name only this account and service principals with a source condition."""
    for stack, logical, key in resources_of(aws_app, env, "AWS::KMS::Key"):
        for statement in statements(key["Properties"]["KeyPolicy"]):
            principal = statement["Principal"]
            if statement in KEY_POLICY_CREATE_GRANT:
                continue  # a Deny on everyone (CT.KMS.PR.3) restricts; it grants nobody anything
            if "Service" in principal:
                assert statement.get("Condition"), f"{stack}/{logical} {statement.get('Sid')}: service principal without a condition"
            else:
                assert principal == {"AWS": f"arn:aws:iam::{ACCOUNTS[env]}:root"}, f"{stack}/{logical}: {principal}"


# ---- alarms -----------------------------------------------------------------

def emitted_metrics() -> set[str]:
    """The custom metrics the Oracle handler really writes (its EMF calls)."""
    source = (REPO / "lambda" / "oracle" / "handler.py").read_text()
    return set(re.findall(r'_metric\("(\w+)"\)', source))


# docs/requirements.md#alarms (the Oracle's alarms and the runtime alarms): metric, statistic, ceiling of the threshold.
# Every alarm fires on "greater than", over 5 minutes (docs/requirements.md#alarms).
REQUIRED_ALARMS = {
    **{f"Alarms{t}{rw}ThrottleWarning": ("AWS/DynamoDB", f"{rw}ThrottleEvents", "Sum", 10)
       for t in ("FpEvents", "Consent", "BlockCounter") for rw in ("Read", "Write")},
    "AlarmsSsmParameterFailuresCritical": ("custom", "SSMParameterFailures", "Sum", 5),
    "AlarmsCircuitBreakerTriggeredCritical": ("custom", "CircuitBreakerTriggers", "Sum", 0),
    "AlarmsOracleErrorRateCritical": ("AWS/Lambda", "Errors/Invocations", "expression", 1),
    "AlarmsOracleApiLatencyP95Warning": ("AWS/ApiGateway", "Latency", "p95", 500),
    "AlarmsOracleThrottlesWarning": ("AWS/Lambda", "Throttles", "Sum", 0),
}


def _alarm_metric(props: dict) -> tuple[str, str, str]:
    if "MetricName" in props:
        return props["Namespace"], props["MetricName"], props.get("Statistic") or props.get("ExtendedStatistic")
    metrics = flat(props["Metrics"])
    returned = [m for m in metrics if m.get("ReturnData", True)]
    assert len(returned) == 1
    if "Expression" in returned[0]:
        stats = {m["Id"]: m["MetricStat"] for m in metrics if "MetricStat" in m}
        assert returned[0]["Expression"] == "IF(invocations > 0, 100 * errors / invocations, 0)"
        return stats["errors"]["Metric"]["Namespace"], f"{stats['errors']['Metric']['MetricName']}/{stats['invocations']['Metric']['MetricName']}", "expression"
    stat = returned[0]["MetricStat"]
    return stat["Metric"]["Namespace"], stat["Metric"]["MetricName"], stat["Stat"]


def _period(props: dict) -> set[int]:
    if "Period" in props:
        return {props["Period"]}
    return {m["MetricStat"]["Period"] for m in props["Metrics"] if "MetricStat" in m}


def test_every_alarm_metric_comparison_and_threshold(aws_app, env):
    alarms = {logical: alarm["Properties"] for _, logical, alarm in resources_of(aws_app, env, "AWS::CloudWatch::Alarm")}
    assert sorted(alarms) == sorted(REQUIRED_ALARMS)
    [function] = aws_app.resources(env, "Runtime", "AWS::Lambda::Function").values()
    namespace = function["Properties"]["Environment"]["Variables"]["METRICS_NAMESPACE"]
    for name, (want_namespace, metric, statistic, ceiling) in REQUIRED_ALARMS.items():
        props = alarms[name]
        got_namespace, got_metric, got_statistic = _alarm_metric(props)
        if want_namespace == "custom":
            # the namespace the function writes to, and a metric it really emits
            assert got_namespace == namespace and got_metric in emitted_metrics(), name
        else:
            assert got_namespace == want_namespace, name
        assert (got_metric, got_statistic) == (metric, statistic), name
        assert props["ComparisonOperator"] == "GreaterThanThreshold", name
        assert 0 <= props["Threshold"] <= ceiling, f"{name}: {props['Threshold']} above the required {ceiling}"
        assert _period(props) == {300} and props["EvaluationPeriods"] == 1, name
    assert emitted_metrics() == {"SSMParameterFailures", "CircuitBreakerTriggers"}


# ---- the trail ------------------------------------------------------------

def test_trail_records_management_events_everywhere(aws_app, env):
    [(_, _, trail)] = list(resources_of(aws_app, env, "AWS::CloudTrail::Trail"))
    props = flat(trail["Properties"])
    # CloudTrail refuses a trail with both basic and advanced selectors.
    assert props["AdvancedEventSelectors"] == trail_event_selectors(env)
    assert "EventSelectors" not in props and "InsightSelectors" not in props
    assert (props["IsMultiRegionTrail"], props["IncludeGlobalServiceEvents"], props["EnableLogFileValidation"], props["IsLogging"]) == (True, True, True, True)
    assert props["KMSKeyId"] == "${ObservabilityKey.Arn}"


# ---- the audit trail bucket -------------------------------------------------

def test_trail_bucket_admits_cloudtrail_for_this_trail_only(aws_app, env):
    """Before: CloudTrail's PutObject had no aws:SourceArn (any trail naming the bucket could write)."""
    account, e = ACCOUNTS[env], env.value
    trail = f"arn:aws:cloudtrail:{REGION}:{account}:trail/mirror-dissonance-{e}-audit"
    policies = [p for _, logical, p in resources_of(aws_app, env, "AWS::S3::BucketPolicy") if logical.startswith("TrailBucketPolicy")]
    assert len(policies) == 1
    cloudtrail = [s for s in statements(policies[0]["Properties"]["PolicyDocument"])
                  if s.get("Principal") == {"Service": "cloudtrail.amazonaws.com"}]
    assert sorted(a for s in cloudtrail for a in s["Action"]) == ["s3:GetBucketAcl", "s3:PutObject"]
    for statement in cloudtrail:
        assert statement["Condition"]["StringEquals"]["aws:SourceArn"] == trail, statement
    (put,) = [s for s in cloudtrail if s["Action"] == ["s3:PutObject"]]
    assert put["Condition"]["StringEquals"]["s3:x-amz-acl"] == "bucket-owner-full-control"


# ---- one identity per purpose -----------------------------------------------

FORBIDDEN_TO_CONSUMERS = ("dynamodb:Scan", "dynamodb:DeleteItem", "dynamodb:BatchWriteItem", "dynamodb:PutItem", "dynamodb:UpdateItem")


def test_consumer_role_cannot_scan_delete_or_read_the_token(aws_app):
    """Before: the consumer repository assumed the Oracle role (Scan, BatchWrite, DeleteItem, the github-token)."""
    roles = aws_app.resources(Environment.STAGING, "Oidc", "AWS::IAM::Role")
    (logical, role) = next((k, r) for k, r in roles.items() if r["Properties"]["RoleName"] == "MirrorDissonanceOracleConsumerRole-staging")
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == [
        "repo:PhaseMirror/Phase-Mirror-Test:environment:staging"]
    assert "ManagedPolicyArns" not in role["Properties"]  # not the parameters-read policy (it names the github-token)
    policies = [p for p in aws_app.resources(Environment.STAGING, "Oidc", "AWS::IAM::Policy").values() if {"Ref": logical} in p["Properties"]["Roles"]]
    text = json.dumps(policies)
    for action in FORBIDDEN_TO_CONSUMERS + ("dynamodb:*", "kms:ReEncrypt"):
        assert action not in text, action
    assert "github-token" not in text and "/nonce" in text
    # The Oracle role trusts no consumer, and no role trusts a branch.
    for env in Environment:
        for other in aws_app.resources(env, "Oidc", "AWS::IAM::Role").values():
            subjects = json.dumps(other["Properties"]["AssumeRolePolicyDocument"])
            assert ":ref:" not in subjects
            if other["Properties"]["RoleName"] != f"MirrorDissonanceOracleConsumerRole-{env.value}":
                assert "Phase-Mirror-Test" not in subjects


def test_one_subject_cannot_open_two_roles():
    from aws_cdk import App, Stack

    from constructs_lib.aws.github_oidc import GitHubOidc

    github = GitHubOidc(Stack(App(), "T"), "GitHub", subjects=["repo:o/r:environment:staging"], create_provider=True)
    github.role("Deploy", role_name="deploy", description="d")
    github.role("Smoke", role_name="smoke", description="s", subjects=["repo:o/r:environment:staging-oracle"])
    with pytest.raises(ValueError, match=r"subject 'repo:o/r:environment:staging' already opens role 'Deploy'; 'Oracle' needs its own"):
        github.role("Oracle", role_name="oracle", description="o")
