"""Data stack: the environment key, the three Oracle tables, the baselines bucket, backups."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnOutput, Duration, Validations
from aws_cdk import aws_backup as backup
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from constructs_lib.aws import EncryptedTable, EnvironmentKey, HardenedBucket, TableBackup
from envconfig.aws import AwsNaming, DataConfig, RecoveryConfig, TableName
from stacks.base import EnvironmentStack, PublishedValue
from stacks.disaster_recovery import dr_vault_arn

# Key schema per table; ids are the stable logical-id roots (tests/aws/logical_ids.json).
_TABLES: dict[TableName, tuple[str, dynamodb.Attribute, dynamodb.Attribute | None]] = {
    TableName.FP_EVENTS: ("FpEvents", dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING), dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING)),
    TableName.CONSENT: ("Consent", dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING), dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING)),
    TableName.BLOCK_COUNTER: ("BlockCounter", dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING), None),
}


class DataStack(EnvironmentStack):
    """Receives its own sections (``data``, ``recovery``) and the environment's names, not the whole environment."""

    def __init__(self, scope: Construct, id_: str, *, names: AwsNaming, data: DataConfig, recovery: RecoveryConfig) -> None:
        super().__init__(scope, id_, config=names, description=f"Mirror Dissonance data ({names.name.value}): key, tables, baselines, backups")
        self.key = EnvironmentKey(
            self, "DataKey", alias=f"{names.resource_prefix}-data",
            description=f"Encrypts the {names.name.value} tables, baselines bucket, backups and the runtime's logs",
        )
        self.key.allow_cloudwatch_logs()
        self.tables: dict[TableName, EncryptedTable] = {}
        for table, (construct_id, partition_key, sort_key) in _TABLES.items():
            self.tables[table] = EncryptedTable(
                self,
                construct_id,
                table_props=dynamodb.TablePropsV2(table_name=names.table_name(table), partition_key=partition_key, sort_key=sort_key),
                encryption_key=self.key.key,
                pitr_recovery_period_days=data.pitr_recovery_period_days,
                deletion_protection=data.deletion_protection,
            )
            CfnOutput(self, f"{construct_id}TableName", value=self.tables[table].table.table_name)
        self.baselines = HardenedBucket(
            self,
            "Baselines",
            encryption_key=self.key.key,
            noncurrent_version_expiration=Duration.days(data.noncurrent_version_expiration_days),
            bucket_props={"bucket_name": f"{names.resource_prefix}-baselines-{names.account}"},
        )
        Validations.of(self.baselines.bucket).acknowledge(
            # Decision: no Object Lock here. Baselines are working data the
            # Oracle replaces; versioning already keeps every overwritten or
            # deleted version for the configured noncurrent-version period, and
            # a lock would block the erasure pathway (docs/requirements.md#retention).
            Acknowledgment(
                id="cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check",
                reason="CT.S3.PR.9: baselines are working data the Oracle replaces; versioning keeps overwritten versions for the configured period, and a WORM lock would block the erasure pathway that deleting data on request needs.",
            ),
            Acknowledgment(
                id="cdk-validator-cfnguard::s3_event_notifications_enabled_check",
                reason="CT.S3.PR.4: nothing consumes per-object events of the baselines; every request is in its server access logs, and the Oracle reads baselines on demand.",
            ),
        )
        # Production DR: copies go to the second region's vault, named from config (no cross-stack reference).
        copy_to = (backup.BackupVault.from_backup_vault_arn(self, "CopyVault", dr_vault_arn(self, names, recovery.dr_region))
                   if recovery.dr_region else None)
        self.backup = TableBackup(
            self,
            "Backup",
            vault_name=f"{names.resource_prefix}-tables",
            encryption_key=self.key.key,
            tables=[t.table for t in self.tables.values()],
            retention=Duration.days(data.backup_retention_days),
            copy_to=copy_to,
        )
        self.publish(PublishedValue.DATA_KEY_ARN, self.key.key.key_arn)
        CfnOutput(self, "DataKeyArn", value=self.key.key.key_arn)
        CfnOutput(self, "BaselinesBucketName", value=self.baselines.bucket.bucket_name)
        CfnOutput(self, "BackupVaultName", value=self.backup.vault.backup_vault_name)
