"""Recovery on the synthesized templates: retained bucket policies, production
DR copies, budgets, data-event audit, Oracle consumer trust, dashboard panels.

Expected values are the policy (docs/requirements.md#recovery-objectives,
#cost, #audit-trail, #trust), written here."""

from __future__ import annotations

import json

import pytest

from envconfig import ConfigError
from envconfig.aws import REPO_CONFIG_DIR, Environment, TableName, load
from tests.config_edit import DELETE, set_field, write_edited

PRIMARY = "us-east-1"


def flat(value) -> str | list | dict:
    """Resolve the intrinsics CDK uses in names (partition, Fn::Join) to plain strings."""
    if isinstance(value, dict):
        if value == {"Ref": "AWS::Partition"}:
            return "aws"
        if "Fn::Join" in value:
            sep, parts = value["Fn::Join"]
            resolved = [flat(p) for p in parts]
            return sep.join(p if isinstance(p, str) else "TOKEN" for p in resolved)
        return {k: flat(v) for k, v in value.items()}
    if isinstance(value, list):
        return [flat(v) for v in value]
    return value


def one(resources: dict) -> tuple[str, dict]:
    assert len(resources) == 1, list(resources)
    return next(iter(resources.items()))


def test_every_bucket_policy_is_retained_with_its_bucket(aws_app):
    policies = [(env, stack, lid, r) for env, stack, lid, r in aws_app.all_resources() if r["Type"] == "AWS::S3::BucketPolicy"]
    assert len(policies) == 8  # baselines, trail and their access-log buckets, per environment
    for env, stack, lid, resource in policies:
        assert (resource.get("DeletionPolicy"), resource.get("UpdateReplacePolicy")) == ("Retain", "Retain"), (env, stack, lid)


def test_production_copies_every_recovery_point_to_a_second_region_with_its_own_key(aws_app):
    _, plan = one(aws_app.resources(Environment.PRODUCTION, "Data", "AWS::Backup::BackupPlan"))
    (rule,) = plan["Properties"]["BackupPlan"]["BackupPlanRule"]
    (copy,) = rule["CopyActions"]
    assert flat(copy["DestinationBackupVaultArn"]) == "arn:aws:backup:us-west-2:210987654321:backup-vault:mirror-dissonance-production-tables-copy"
    # Same retention floor as the original recovery point; never shorter than PITR's longest window.
    assert copy["Lifecycle"]["DeleteAfterDays"] == rule["Lifecycle"]["DeleteAfterDays"] >= 35

    dr = aws_app.template(Environment.PRODUCTION, "DisasterRecovery")
    vault_id, vault = one({k: v for k, v in dr["Resources"].items() if v["Type"] == "AWS::Backup::BackupVault"})
    key_id, key = one({k: v for k, v in dr["Resources"].items() if v["Type"] == "AWS::KMS::Key"})
    assert vault["Properties"]["BackupVaultName"] == "mirror-dissonance-production-tables-copy"
    assert vault["Properties"]["EncryptionKeyArn"] == {"Fn::GetAtt": [key_id, "Arn"]}  # its own key, in that region
    assert key["Properties"]["EnableKeyRotation"] is True
    assert vault["DeletionPolicy"] == key["DeletionPolicy"] == "Retain"


def test_dr_stack_is_in_the_second_region_and_only_in_production(aws_app):
    manifest = json.loads((aws_app.outdir / "assembly-Production" / "manifest.json").read_text())
    envs = {a["displayName"]: a["environment"] for a in manifest["artifacts"].values() if a["type"] == "aws:cloudformation:stack"}
    assert envs.pop("Production/DisasterRecovery") == "aws://210987654321/us-west-2"
    assert set(envs.values()) == {f"aws://210987654321/{PRIMARY}"}
    assert (Environment.STAGING, "DisasterRecovery") not in aws_app.templates
    _, plan = one(aws_app.resources(Environment.STAGING, "Data", "AWS::Backup::BackupPlan"))
    assert all("CopyActions" not in r for r in plan["Properties"]["BackupPlan"]["BackupPlanRule"])


@pytest.mark.parametrize("env,limit", [(Environment.STAGING, 10), (Environment.PRODUCTION, 100)])
def test_budget_alerts_go_to_the_alert_topic(aws_app, env, limit):
    _, budget = one(aws_app.resources(env, "Observability", "AWS::Budgets::Budget"))
    topic_id, _ = one(aws_app.resources(env, "Observability", "AWS::SNS::Topic"))
    props = budget["Properties"]
    assert props["Budget"]["BudgetName"] == f"mirror-dissonance-{env.value}-monthly"
    assert (props["Budget"]["BudgetType"], props["Budget"]["TimeUnit"]) == ("COST", "MONTHLY")
    assert props["Budget"]["BudgetLimit"] == {"Amount": limit, "Unit": "USD"}  # docs/requirements.md#cost: 10 USD a month in staging
    notifications = props["NotificationsWithSubscribers"]
    assert {(n["Notification"]["NotificationType"], n["Notification"]["Threshold"]) for n in notifications} >= {("ACTUAL", 100)}
    for n in notifications:
        assert n["Notification"]["ComparisonOperator"] == "GREATER_THAN"
        assert n["Subscribers"] == [{"SubscriptionType": "SNS", "Address": {"Ref": topic_id}}]
    # The encrypted topic accepts Budgets' publishes (topic policy and key policy), for this account only.
    _, topic_policy = one(aws_app.resources(env, "Observability", "AWS::SNS::TopicPolicy"))
    (allow,) = [s for s in topic_policy["Properties"]["PolicyDocument"]["Statement"] if s.get("Sid") == "AllowBudgets"]
    assert allow["Principal"] == {"Service": "budgets.amazonaws.com"} and allow["Action"] == "sns:Publish"
    account = "123456789012" if env is Environment.STAGING else "210987654321"
    assert allow["Condition"]["StringEquals"] == {"aws:SourceAccount": account}
    _, key = one(aws_app.resources(env, "Observability", "AWS::KMS::Key"))
    (key_allow,) = [s for s in key["Properties"]["KeyPolicy"]["Statement"] if s.get("Sid") == "AllowBudgets"]
    assert key_allow["Condition"] == {"StringEquals": {"aws:SourceAccount": account}}


@pytest.mark.parametrize("env,account", [(Environment.STAGING, "123456789012"), (Environment.PRODUCTION, "210987654321")])
def test_trail_logs_management_events_and_data_events_of_the_evidence(aws_app, env, account):
    _, trail = one(aws_app.resources(env, "Observability", "AWS::CloudTrail::Trail"))
    assert "EventSelectors" not in trail["Properties"]
    selectors = flat(trail["Properties"]["AdvancedEventSelectors"])
    fields = [{f["Field"]: {k: v for k, v in f.items() if k != "Field"} for f in s["FieldSelectors"]} for s in selectors]
    # Management events, read and write: no readOnly field narrows them.
    assert {"eventCategory": {"Equals": ["Management"]}} in fields
    tables = [f for f in fields if f.get("resources.type") == {"Equals": ["AWS::DynamoDB::Table"]}]
    assert tables == [{
        "eventCategory": {"Equals": ["Data"]},
        "resources.type": {"Equals": ["AWS::DynamoDB::Table"]},
        "resources.ARN": {"Equals": [f"arn:aws:dynamodb:{PRIMARY}:{account}:table/mirror-dissonance-{t}-{env.value}"
                                     for t in ("fp-events", "consent", "block-counter")]},
    }]
    objects = [f for f in fields if f.get("resources.type") == {"Equals": ["AWS::S3::Object"]}]
    assert objects == [{
        "eventCategory": {"Equals": ["Data"]},
        "resources.type": {"Equals": ["AWS::S3::Object"]},
        "resources.ARN": {"StartsWith": [f"arn:aws:s3:::mirror-dissonance-{env.value}-baselines-{account}/"]},
    }]
    assert all("readOnly" not in f for f in fields)


def _oracle_trust(aws_app, env):
    roles = aws_app.resources(env, "Oidc", "AWS::IAM::Role")
    (role,) = [r for r in roles.values() if r["Properties"]["RoleName"] == f"MirrorDissonanceOracleRole-{env.value}"]
    (statement,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    return statement


def test_oracle_role_trusts_only_its_smoke_environment(aws_app):
    # Consumers have their own role (tests/aws/test_trust.py); docs/requirements.md#trust.
    for env in (Environment.STAGING, Environment.PRODUCTION):
        statement = _oracle_trust(aws_app, env)
        assert set(statement["Condition"]) == {"StringEquals"}  # never StringLike
        assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:sub"] == [
            f"repo:PhaseMirror/Phase-Mirror:environment:{env.value}-oracle"]
        assert statement["Condition"]["StringEquals"]["token.actions.githubusercontent.com:aud"] == "sts.amazonaws.com"


def test_dashboard_shows_throughput_errors_duration_capacity_and_throttles(aws_app, env):
    _, dashboard = one(aws_app.resources(env, "Observability", "AWS::CloudWatch::Dashboard"))
    body = flat(dashboard["Properties"]["DashboardBody"])
    widgets = json.loads(body)["widgets"] if isinstance(body, str) and body.startswith("{") else None
    text = body if isinstance(body, str) else json.dumps(body)
    titles = [w["properties"].get("title") for w in widgets] if widgets else []
    assert {"Oracle throughput", "Oracle Lambda duration p50 / p95 (ms)", "Oracle API errors"} <= set(titles)

    def metrics(title):
        (w,) = [w for w in widgets if w["properties"].get("title") == title]
        return w["properties"]["metrics"]

    assert ["AWS/Lambda", "Invocations", "FunctionName", f"mirror-dissonance-{env.value}-oracle"] in [m[:4] for m in metrics("Oracle throughput")]
    durations = metrics("Oracle Lambda duration p50 / p95 (ms)")
    assert sorted(m[-1]["stat"] for m in durations) == ["p50", "p95"] and all(m[1] == "Duration" for m in durations)
    assert {m[1] for m in metrics("Oracle API errors")} == {"4xx", "5xx"}
    for table in ("fp-events", "consent", "block-counter"):
        name = f"mirror-dissonance-{table}-{env.value}"
        for metric in ("ConsumedReadCapacityUnits", "ConsumedWriteCapacityUnits", "ReadThrottleEvents", "WriteThrottleEvents"):
            assert f'"{metric}","TableName","{name}"' in text.replace(" ", ""), (metric, name)


def _load_edited(tmp_path, env, mutate):
    path = write_edited(REPO_CONFIG_DIR / "aws" / f"{env}.yaml", tmp_path / "aws" / f"{env}.yaml", mutate)
    return load(env, path)


@pytest.mark.parametrize("env,field,value,rule", [
    ("production", "recovery.dr_region", None, "recovery.dr_region: is required in production"),
    ("production", "recovery.dr_region", "us-east-1", "recovery.dr_region: must be a second region"),
    ("staging", "recovery.dr_region", "us-mars-1", "recovery.dr_region: 'us-mars-1' is not an AWS region"),
    ("staging", "recovery.objectives.consent.rpo_minutes", 1, "recovery.objectives.consent.rpo_minutes"),
    ("staging", "recovery.objectives.baselines", DELETE, "recovery.objectives.baselines"),
    ("staging", "budget.alert_thresholds_percent", [100, 80], "budget.alert_thresholds_percent: must be increasing"),
    ("staging", "budget.monthly_limit_usd", 0, "budget.monthly_limit_usd"),
    ("production", "audit.data_event_stores", ["fp-events"], "audit.data_event_stores: must list every store in production"),
    ("staging", "audit.data_event_stores", ["fp-events", "other"], "audit.data_event_stores[1]"),
    ("staging", "github.oracle_consumers", {"PhaseMirror/Phase-Mirror-Test": {"environments": ["*"]}},
     "github.oracle_consumers.PhaseMirror/Phase-Mirror-Test.environments[0]: must be a GitHub environment name"),
    ("staging", "github.oracle_consumers", {"not-a-repo": {"environments": ["staging"]}},
     "github.oracle_consumers.not-a-repo: must be a GitHub repository"),
    ("production", "github.oracle_consumers", {"PhaseMirror/Phase-Mirror-Test": {"environments": ["staging"]}},
     "trust only the GitHub environment 'production'"),
])
def test_recovery_configuration_rules(tmp_path, env, field, value, rule):
    with pytest.raises(ConfigError) as error:
        _load_edited(tmp_path, env, set_field(field, value))
    assert rule in str(error.value)
    assert f"{env}.yaml" in str(error.value)


@pytest.mark.parametrize("env,account", [(Environment.STAGING, "123456789012"), (Environment.PRODUCTION, "210987654321")])
def test_restore_drill_role_is_pinned_and_names_exactly_what_the_drill_touches(aws_app, env, account):
    from opscli.restore_drill import scratch_prefix

    roles = aws_app.resources(env, "Oidc", "AWS::IAM::Role")
    (role_id, role), = [(k, r) for k, r in roles.items() if r["Properties"]["RoleName"] == f"mirror-dissonance-{env.value}-github-restore-drill"]
    (trust,) = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Condition"] == {"StringEquals": {
        "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
        "token.actions.githubusercontent.com:sub": [f"repo:PhaseMirror/Phase-Mirror:environment:{env.value}-drill"]}}
    policies = aws_app.resources(env, "Oidc", "AWS::IAM::ManagedPolicy")
    (policy,) = [policies[ref["Ref"]] for ref in role["Properties"]["ManagedPolicyArns"]]
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    tables = ("fp-events", "consent", "block-counter")
    assert sorted(flat(statements["ReadAndRestoreSourceTables"]["Resource"])) == sorted(
        f"arn:aws:dynamodb:{PRIMARY}:{account}:table/mirror-dissonance-{t}-{env.value}" for t in tables)
    scratch = flat(statements["WriteReadDeleteScratchTables"]["Resource"])
    assert sorted(scratch) == sorted(
        f"arn:aws:dynamodb:{PRIMARY}:{account}:table/{aws_app.configs[env].restore_drill_table(TableName(t))}" for t in tables)
    assert all(s.endswith("-restore-drill") for s in scratch)
    bucket = f"mirror-dissonance-{env.value}-baselines-{account}"
    assert flat(statements["WriteDeleteScratchObjects"]["Resource"]) == f"arn:aws:s3:::{bucket}/{scratch_prefix()}*"
    assert "dynamodb:DeleteTable" not in statements["ReadAndRestoreSourceTables"]["Action"]  # never the evidence
    assert all("*" not in a for s in statements.values() for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]]))
