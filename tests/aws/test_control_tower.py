"""AWS Control Tower proactive controls (cfn-guard) on every Stage, and the fixes they asked for.

The controls that protect something real here are fixed, and each fix is
stated below as the policy value, not read back from configuration: the
CreateGrant limit on every key, this account on the Oracle's invoke
permissions, Object Lock on the audit-trail bucket (compliance mode for at
least a year in production), a year of logs in production. The rest are
acknowledged (tests/aws/test_acknowledgments.py, README).
"""

from __future__ import annotations

import json

import jsii
import pytest
from aws_cdk import IPolicyValidationContext
from aws_cdk import aws_kms as kms
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from gates.control_tower import ControlTowerChecks
from gates.control_tower_rules import RULE_TYPES_FILE, rule_types_from_package, rules_without_effect

from envconfig import ConfigError
from envconfig.aws import REPO_CONFIG_DIR, Environment, load
from tests.config_edit import DELETE, set_field, write_edited

DENY_GRANTS_NOT_FOR_AWS_RESOURCES = {
    "Sid": "DenyGrantsNotForAwsResources",
    "Effect": "Deny",
    "Principal": {"AWS": "*"},
    "Action": "kms:CreateGrant",
    "Resource": "*",
    "Condition": {"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}},
}


def test_every_key_limits_create_grant_to_aws_resources(aws_app):
    keys = 0
    for env, stack, logical_id, resource in aws_app.all_resources():
        if resource["Type"] == "AWS::KMS::Key":
            keys += 1
            statements = resource["Properties"]["KeyPolicy"]["Statement"]
            denies = [s for s in statements if s["Effect"] == "Deny"]
            assert denies == [DENY_GRANTS_NOT_FOR_AWS_RESOURCES], f"{env.value}/{stack}/{logical_id}: {json.dumps(denies)}"
    assert keys == 7  # data, secrets, observability per environment; production's DR copy key


def test_oracle_invoke_permissions_name_this_account_and_the_api(aws_app, env):
    permissions = aws_app.resources(env, "Runtime", "AWS::Lambda::Permission")
    assert len(permissions) == 2  # POST /events, GET /health
    for logical_id, permission in permissions.items():
        props = permission["Properties"]
        assert props["Principal"] == "apigateway.amazonaws.com"
        # A literal 12-digit string: a token here would not satisfy CT.LAMBDA.PR.2.
        assert props["SourceAccount"] == aws_app.configs[env].account and props["SourceAccount"].isdigit(), logical_id
        assert "execute-api" in json.dumps(props["SourceArn"]), logical_id


def _bucket(aws_app, env, stack, prefix):
    (bucket,) = [r for k, r in aws_app.resources(env, stack, "AWS::S3::Bucket").items() if k.startswith(prefix) and "AccessLogs" not in k]
    return bucket["Properties"]


def test_audit_trail_bucket_is_object_locked(aws_app):
    production = _bucket(aws_app, Environment.PRODUCTION, "Observability", "TrailBucket")
    assert production["ObjectLockEnabled"] is True
    retention = production["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]
    # Production: nobody, the pipeline's administrator role included, can delete a log file for a year.
    assert production["ObjectLockConfiguration"]["ObjectLockEnabled"] == "Enabled"
    assert retention["Mode"] == "COMPLIANCE" and retention["Days"] >= 365 and "Years" not in retention
    staging = _bucket(aws_app, Environment.STAGING, "Observability", "TrailBucket")
    assert staging["ObjectLockEnabled"] is True
    assert staging["ObjectLockConfiguration"]["Rule"]["DefaultRetention"]["Mode"] in ("GOVERNANCE", "COMPLIANCE")
    # Versioning is what S3 requires before it accepts a lock.
    assert production["VersioningConfiguration"] == staging["VersioningConfiguration"] == {"Status": "Enabled"}


def test_baselines_bucket_is_not_object_locked(aws_app, env):
    """The decision (README, acknowledgments): baselines are working data with an erasure pathway."""
    props = _bucket(aws_app, env, "Data", "Baselines")
    assert "ObjectLockEnabled" not in props and "ObjectLockConfiguration" not in props


def test_access_log_buckets_are_not_object_locked(aws_app, env):
    """S3 refuses Object Lock buckets as server-access-log destinations."""
    for stack in ("Data", "Observability"):
        for logical_id, bucket in aws_app.resources(env, stack, "AWS::S3::Bucket").items():
            if "AccessLogs" in logical_id:
                assert "ObjectLockEnabled" not in bucket["Properties"], logical_id


def test_production_log_groups_keep_a_year(aws_app):
    groups = aws_app.resources(Environment.PRODUCTION, "Runtime", "AWS::Logs::LogGroup") | aws_app.resources(Environment.PRODUCTION, "Observability", "AWS::Logs::LogGroup")
    assert len(groups) == 3
    for logical_id, group in groups.items():
        assert group["Properties"]["RetentionInDays"] >= 365, logical_id


def test_cfn_guard_fails_synth_on_a_finding(tmp_path, monkeypatch):
    """The plugin runs on the Stage and can fail: a key without the CreateGrant limit
    (rotation on, so cdk-nag has nothing to say) stops synth with CT.KMS.PR.3."""
    import stacks.data as data_module
    from app import build_app

    original = data_module.DataStack.__init__

    def with_bare_key(self, *args, **kwargs):
        original(self, *args, **kwargs)
        kms.Key(self, "Careless", enable_key_rotation=True)

    monkeypatch.setattr(data_module.DataStack, "__init__", with_bare_key)
    app, _ = build_app({Environment.STAGING: load("staging")}, outdir=str(tmp_path))
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed") as caught:
        app.synth()
    assert "AwsSolutions" not in str(caught.value)
    report = json.loads((tmp_path / "validation-report.json").read_text())
    violations = [(v["ruleName"], c.get("constructPath")) for p in report["pluginReports"] for v in p["violations"] for c in v["violatingConstructs"]]
    assert ("kms_create_grant_aws_service_check", "Staging/Data/Careless/Resource") in violations
    assert {p["pluginName"] for p in report["pluginReports"]} == {"cdk-validator-cfnguard"}


CASES = [
    ("production", "observability.log_retention_days", 90, "observability.log_retention_days", "at least 365 in production"),
    ("production", "observability.audit_trail_object_lock.mode", "governance", "observability.audit_trail_object_lock.mode", "must be compliance in production"),
    ("production", "observability.audit_trail_object_lock.days", 364, "observability.audit_trail_object_lock.days", "at least 365 in production"),
    ("staging", "observability.audit_trail_object_lock.days", 0, "observability.audit_trail_object_lock.days", "between 1 and 3650"),
    ("staging", "observability.audit_trail_object_lock.days", 36500, "observability.audit_trail_object_lock.days", "between 1 and 3650"),
    ("staging", "observability.audit_trail_object_lock.mode", "legal-hold", "observability.audit_trail_object_lock.mode", "one of ['governance', 'compliance']"),
    ("staging", "observability.audit_trail_object_lock.years", 1, "observability.audit_trail_object_lock.years", "is not a known setting"),
    ("staging", "observability.audit_trail_object_lock", DELETE, "observability.audit_trail_object_lock", "is required"),
]


@pytest.mark.parametrize("env,dotted,value,field,rule", CASES, ids=[f"{c[0]}:{c[1]}={c[2]!r}" for c in CASES])
def test_control_tower_configuration_rules(tmp_path, env, dotted, value, field, rule):
    path = write_edited(REPO_CONFIG_DIR / "aws" / f"{env}.yaml", tmp_path / "aws" / f"{env}.yaml", set_field(dotted, value))
    with pytest.raises(ConfigError) as caught:
        load(env, path)
    assert (caught.value.field, str(caught.value).startswith(f"{path}: {field}: ")) == (field, True)
    assert rule in caught.value.rule



@jsii.implements(IPolicyValidationContext)
class _Templates:
    def __init__(self, paths: list[str]) -> None:
        self._paths = paths

    @property
    def template_paths(self) -> list[str]:
        return self._paths


def _findings(report) -> set[tuple[str, str, str]]:
    return {(v.rule_name, r.template_path, r.resource_logical_id) for v in report.violations for r in v.violating_resources}


def test_reduced_rule_set_reports_what_the_whole_set_reports(aws_app):
    """Leaving out the rules that select no type present changes no finding:
    per Stage, the whole bundled rule set and ControlTowerChecks' reduced run
    report the same (rule, template, resource) triples, and there are some."""
    total = 0
    for assembly in sorted(aws_app.outdir.glob("assembly-*")):
        context = _Templates([str(p) for p in sorted(assembly.glob("*.template.json"))])
        whole = _findings(CfnGuardValidator().validate(context))
        reduced = _findings(ControlTowerChecks().validate(context))
        assert reduced == whole, assembly.name
        total += len(whole)
    assert total > 0  # the acknowledged findings are in the templates: the comparison compares something


def test_rule_type_list_matches_the_installed_package():
    """gates/control_tower_rule_types.json is what the pinned package
    ships; after an upgrade regenerate it (python -m gates.control_tower_rules)."""
    recorded = json.loads(RULE_TYPES_FILE.read_text(encoding="utf-8"))
    assert recorded == rule_types_from_package()
    assert len(recorded["rules"]) == 237 and all(recorded["rules"].values())


def test_only_rules_naming_absent_types_are_left_out():
    left_out = set(rules_without_effect({"AWS::S3::Bucket", "AWS::KMS::Key"}))
    assert "ct-s3-pr-1" not in left_out and "ct-kms-pr-1" not in left_out
    assert "ct-rds-pr-1" in left_out and "ct-lambda-pr-2" in left_out
    assert rules_without_effect(set()) == sorted(json.loads(RULE_TYPES_FILE.read_text())["rules"])
