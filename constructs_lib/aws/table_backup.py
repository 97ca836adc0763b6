"""AWS Backup vault and daily plan for a set of tables."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Acknowledgment, Duration, RemovalPolicy, Validations
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_events as events
from aws_cdk import aws_kms as kms
from constructs import Construct


class TableBackup(Construct):
    """A KMS-encrypted vault and a daily plan selecting ``tables``.

    PITR covers the last 1-35 days; the plan keeps daily snapshots for
    ``retention`` beyond that and survives an accidental table deletion.
    Required: the vault is encrypted with ``encryption_key`` and RETAINed
    (a vault holding recovery points must outlive its stack).
    ``copy_to``: a vault (in another region, with its own key) that receives a
    copy of every recovery point, kept as long as the original (same
    retention floor).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        vault_name: str,
        encryption_key: kms.IKey,
        tables: Sequence[dynamodb.ITableV2],
        retention: Duration,
        copy_to: backup.IBackupVault | None = None,
    ) -> None:
        super().__init__(scope, id_)
        self.vault = backup.BackupVault(
            self, "Vault", backup_vault_name=vault_name, encryption_key=encryption_key, removal_policy=RemovalPolicy.RETAIN
        )
        self.plan = backup.BackupPlan(self, "Plan", backup_plan_name=vault_name, backup_vault=self.vault)
        self.plan.add_rule(
            backup.BackupPlanRule(
                rule_name="Daily",
                schedule_expression=events.Schedule.cron(hour="5", minute="0"),
                delete_after=retention,
                copy_actions=[backup.BackupPlanCopyActionProps(destination_backup_vault=copy_to, delete_after=retention)] if copy_to else None,
            )
        )
        self.selection = self.plan.add_selection(
            "Tables", resources=[backup.BackupResource.from_arn(t.table_arn) for t in tables]
        )
        Validations.of(self.selection).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]",
                reason="AWS Backup's documented service role policy; it follows new resource types AWS Backup supports, which a hand-written copy would not (https://docs.aws.amazon.com/aws-backup/latest/devguide/iam-service-roles.html).",
            )
        )
