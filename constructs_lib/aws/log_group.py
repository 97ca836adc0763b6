"""CloudWatch Logs groups with retention, KMS and RETAIN: every log group of the app is made here."""

from __future__ import annotations

from aws_cdk import Acknowledgment, RemovalPolicy, Validations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.aws.retention import days_of

# Control Tower CT.CLOUDWATCH.PR.2 asks for a year of logs. Production's
# configuration loader refuses less (envconfig/aws.py), so only
# non-production log groups ever fall below it, and each one says why.
YEAR_OF_LOGS_DAYS = 365


def encrypted_log_group(scope: Construct, id_: str, *, name: str, retention: logs.RetentionDays, encryption_key: kms.IKey) -> logs.LogGroup:
    """Retention from configuration (set everywhere: docs/requirements.md#retention), encrypted with ``encryption_key``
    (whose policy must allow CloudWatch Logs: ``EnvironmentKey.allow_cloudwatch_logs``),
    RETAIN so that deleting a stack never deletes audit or access logs."""
    group = logs.LogGroup(scope, id_, log_group_name=name, retention=retention, encryption_key=encryption_key, removal_policy=RemovalPolicy.RETAIN)
    if days_of(retention) < YEAR_OF_LOGS_DAYS:
        Validations.of(group).acknowledge(
            Acknowledgment(
                id="cdk-validator-cfnguard::cloudwatch_log_group_retention_period_check",
                reason=f"CT.CLOUDWATCH.PR.2: {days_of(retention)} days is a non-production choice (docs/requirements.md#retention: at least 30 days, 30 in staging); "
                "the production loader refuses less than a year.",
            )
        )
    return group
