"""DynamoDB table with its invariants (docs/requirements.md#tables): PITR, CMK, deletion protection, RETAIN."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.aws._props import merge_props


class EncryptedTable(Construct):
    """A ``TableV2`` that cannot be built insecurely.

    Defaults (caller ``table_props`` may change them):
      * ``billing`` on demand: the Oracle's traffic is bursty and low (docs/requirements.md#cost).
    Required (cannot be overridden):
      * ``encryption`` with ``encryption_key`` (a customer-managed key);
      * point-in-time recovery on, with ``pitr_recovery_period_days`` (1-35);
      * ``deletion_protection`` as given (config decides; production refuses false);
      * ``removal_policy`` RETAIN in every environment: a table is never
        deleted by a stack operation.
    cdk-nag has no rules for ``AWS::DynamoDB::GlobalTable`` (what TableV2
    emits), so tests/aws assert PITR and encryption on the template.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        table_props: dynamodb.TablePropsV2,
        encryption_key: kms.IKey,
        pitr_recovery_period_days: int,
        deletion_protection: bool,
    ) -> None:
        super().__init__(scope, id_)
        if not 1 <= pitr_recovery_period_days <= 35:
            raise ValueError(f"EncryptedTable {id_}: pitr_recovery_period_days must be 1-35, got {pitr_recovery_period_days}")
        props = merge_props(
            "EncryptedTable",
            {"billing": dynamodb.Billing.on_demand()},
            table_props,
            {
                "encryption": dynamodb.TableEncryptionV2.customer_managed_key(encryption_key),
                "point_in_time_recovery_specification": dynamodb.PointInTimeRecoverySpecification(
                    point_in_time_recovery_enabled=True, recovery_period_in_days=pitr_recovery_period_days
                ),
                "deletion_protection": deletion_protection,
                "removal_policy": RemovalPolicy.RETAIN,
            },
        )
        self.table = dynamodb.TableV2(self, "Table", **props)
        self.encryption_key = encryption_key
