"""What ``bin/ops restore-drill`` may do, and nothing else, as an IAM policy on a role."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Acknowledgment, Stack, Validations
from aws_cdk import aws_iam as iam
from constructs import Construct

# RestoreTableToPointInTime needs these on the *target* table as well
# (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/PointInTimeRecovery_Howitworks.html#howitworks_restoring).
_TARGET_ACTIONS = ("dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:Query",
                   "dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:DescribeTable", "dynamodb:DeleteTable")
SCRATCH_PREFIX = "restore-drill/"
# Partition-key prefix of the restore drill's canary items (opscli/restore_drill.py CANARY_PREFIX).
CANARY_PREFIX = "md-restore-drill-canary#"


class RestoreDrillAccess(Construct):
    """A managed policy for the restore drill, attached to ``role``.

    * source tables (exact ARNs): read, describe, describe continuous backups, restore from;
      put and delete only the drill's canary items (leading key ``md-restore-drill-canary#*``);
    * scratch tables (exact ARNs: the drill uses fixed names): what a restore writes, read back, delete;
    * the data key, only through DynamoDB and S3 in this region (``kms:ViaService``);
    * the baselines bucket: list versions, read objects and versions, and
      write / delete versions only under ``restore-drill/``.
    """

    def __init__(self, scope: Construct, id_: str, *, role: iam.IRole, source_tables: Sequence[str],
                 scratch_tables: Sequence[str], data_key_arn: str, baselines_bucket: str) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)

        def table_arn(name: str) -> str:
            return stack.format_arn(service="dynamodb", resource="table", resource_name=name)

        bucket_arn = f"arn:{stack.partition}:s3:::{baselines_bucket}"
        self.policy = iam.ManagedPolicy(self, "Policy", statements=[
            iam.PolicyStatement(sid="ReadAndRestoreSourceTables", actions=[
                "dynamodb:DescribeTable", "dynamodb:Scan", "dynamodb:GetItem", "dynamodb:DescribeContinuousBackups",
                "dynamodb:RestoreTableToPointInTime"], resources=[table_arn(t) for t in source_tables]),
            # The drill's own canary items (opscli/restore_drill.py): put and delete in a source table only
            # items whose partition key starts with the canary prefix (docs/requirements.md#restore).
            iam.PolicyStatement(sid="WriteDeleteCanaryItems", actions=["dynamodb:PutItem", "dynamodb:DeleteItem"],
                                resources=[table_arn(t) for t in source_tables],
                                conditions={"ForAllValues:StringLike": {"dynamodb:LeadingKeys": [f"{CANARY_PREFIX}*"]}}),
            iam.PolicyStatement(sid="WriteReadDeleteScratchTables", actions=list(_TARGET_ACTIONS),
                                resources=[table_arn(t) for t in scratch_tables]),
            iam.PolicyStatement(sid="UseDataKeyThroughDynamoDbAndS3", actions=[
                "kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey", "kms:CreateGrant"],
                resources=[data_key_arn],
                conditions={"StringEquals": {"kms:ViaService": [f"dynamodb.{stack.region}.amazonaws.com", f"s3.{stack.region}.amazonaws.com"]}}),
            iam.PolicyStatement(sid="ListBaselineVersions", actions=["s3:ListBucketVersions", "s3:ListBucket"], resources=[bucket_arn]),
            iam.PolicyStatement(sid="ReadBaselines", actions=["s3:GetObject", "s3:GetObjectVersion"], resources=[f"{bucket_arn}/*"]),
            iam.PolicyStatement(sid="WriteDeleteScratchObjects", actions=["s3:PutObject", "s3:DeleteObjectVersion", "s3:DeleteObject"],
                                resources=[f"{bucket_arn}/{SCRATCH_PREFIX}*"]),
        ])
        role.add_managed_policy(self.policy)
        Validations.of(self.policy).acknowledge(
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{baselines_bucket}/*]",
                reason="S3 names objects only by ARN; the drill reads sampled baseline objects, whose keys it learns by listing, in this one bucket.",
            ),
            Acknowledgment(
                id=f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{baselines_bucket}/{SCRATCH_PREFIX}*]",
                reason="The drill writes and deletes its scratch copies only under restore-drill/ in this one bucket; their keys are per run.",
            ),
        )
