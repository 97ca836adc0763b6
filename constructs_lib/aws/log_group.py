"""CloudWatch Logs groups with retention, KMS and RETAIN: every log group of the app is made here."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from constructs import Construct


def encrypted_log_group(scope: Construct, id_: str, *, name: str, retention: logs.RetentionDays, encryption_key: kms.IKey) -> logs.LogGroup:
    """Retention from configuration (SPEC: set everywhere), encrypted with ``encryption_key``
    (whose policy must allow CloudWatch Logs: ``EnvironmentKey.allow_cloudwatch_logs``),
    RETAIN so that deleting a stack never deletes audit or access logs."""
    return logs.LogGroup(scope, id_, log_group_name=name, retention=retention, encryption_key=encryption_key, removal_policy=RemovalPolicy.RETAIN)
