"""Every cdk-nag and cfn-guard acknowledgment is narrow, reasoned and on the reviewed list.

Acknowledgments are read back from the cloud assembly's metadata (what
cdk-nag itself honours), so a new one anywhere in the app fails this test
until it is added here and to README's table on purpose.
"""

from __future__ import annotations

import json

from aws_cdk import Validations

CFN_GUARD = "cdk-validator-cfnguard"

# (construct path below the stack, rule id) -> where README explains it
EXPECTED = {
    ("Data/Baselines/AccessLogs/Bucket", "AwsSolutions-S1"),
    ("Observability/TrailBucket/AccessLogs/Bucket", "AwsSolutions-S1"),
    ("Data/Backup/Plan/Tables", "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]"),
    ("Runtime/Oracle/Function", "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"),
    ("Runtime/Oracle/Function", "AwsSolutions-IAM5[Resource::*]"),
    ("Runtime/Oracle/Function", "AwsSolutions-IAM5[Action::kms:GenerateDataKey*]"),
    ("Runtime/Oracle/Function", "AwsSolutions-IAM5[Action::kms:ReEncrypt*]"),
    # Per stage the bucket name differs; the test below compares per stage with the name filled in.
    ("Oidc/RestoreDrillAccess/Policy", "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<baselines>/*]"),
    ("Oidc/RestoreDrillAccess/Policy", "AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::<baselines>/restore-drill/*]"),
    # AWS Control Tower proactive controls (cfn-guard); README, "Policy gates".
    *{
        (f"{bucket}/AccessLogs/Bucket", f"{CFN_GUARD}::{rule}")
        for bucket in ("Data/Baselines", "Observability/TrailBucket")
        for rule in ("s3_bucket_logging_enabled_check", "s3_bucket_default_encryption_kms_check",
                     "s3_bucket_object_lock_enabled_check", "s3_event_notifications_enabled_check")
    },
    ("Data/Baselines/Bucket", f"{CFN_GUARD}::s3_bucket_object_lock_enabled_check"),
    ("Data/Baselines/Bucket", f"{CFN_GUARD}::s3_event_notifications_enabled_check"),
    ("Observability/TrailBucket/Bucket", f"{CFN_GUARD}::s3_event_notifications_enabled_check"),
    ("Runtime/Oracle/Function", f"{CFN_GUARD}::lambda_inside_vpc_check"),
}
# Logs are kept a year in production (CT.CLOUDWATCH.PR.2); staging keeps 30
# days (docs/requirements.md#retention) and says so on each of its log groups.
STAGING_ONLY = {
    (group, f"{CFN_GUARD}::cloudwatch_log_group_retention_period_check")
    for group in ("Runtime/Oracle/FunctionLogs", "Runtime/Oracle/ApiAccessLogs", "Observability/TrailLogs")
}
BASELINES = {"Staging": "mirror-dissonance-staging-baselines-123456789012",
             "Production": "mirror-dissonance-production-baselines-210987654321"}


def acknowledgments(outdir) -> dict[tuple[str, str, str], str]:
    found = {}
    for path in outdir.glob("assembly-*/*.metadata.json"):
        for construct_path, entries in json.loads(path.read_text()).items():
            for entry in entries:
                if entry["type"] == Validations.ACKNOWLEDGED_RULES_METADATA_KEY:
                    stage, below = construct_path.strip("/").split("/", 1)
                    for rule, reason in entry["data"].items():
                        found[(stage, below, rule.removeprefix("Annotation::"))] = reason
    return found


def test_acknowledgments_are_the_reviewed_list(aws_app):
    found = acknowledgments(aws_app.outdir)
    for stage in ("Staging", "Production"):
        expected = {(below, rule.replace("<baselines>", BASELINES[stage])) for below, rule in EXPECTED}
        if stage == "Staging":
            expected |= STAGING_ONLY
        assert {(below, rule) for (s, below, rule) in found if s == stage} == expected


def test_every_acknowledgment_is_narrow_and_reasoned(aws_app):
    for (stage, below, rule), reason in acknowledgments(aws_app.outdir).items():
        assert below.count("/") >= 1, f"{stage}/{below}: {rule} is acknowledged for a whole stack; acknowledge the construct"
        assert len(reason) >= 60, f"{stage}/{below}: {rule}: the reason must say why ({reason!r})"
