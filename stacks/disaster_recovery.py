"""Disaster-recovery stack: the vault and key in the second region that receive backup copies.

Deployed in ``recovery.dr_region`` (production) before the Data stack, whose
backup plan copies every recovery point here. The Data stack names this
vault by an ARN derived from configuration (:func:`dr_vault_arn`), never by
a construct reference: a cross-region reference would need exports (no
``Fn::ImportValue`` between stacks: an export in use blocks later removals) or CDK's custom-resource-based
cross-region references (custom resources are kept out of the stacks).
"""

from __future__ import annotations

from aws_cdk import CfnOutput, Environment, RemovalPolicy, Stack
from aws_cdk import aws_backup as backup
from constructs import Construct

from constructs_lib.aws import EnvironmentKey
from envconfig.aws import AwsConfig, AwsNaming
from stacks.base import EnvironmentStack


def dr_vault_name(names: AwsNaming | AwsConfig) -> str:
    return f"{names.resource_prefix}-tables-copy"


def dr_vault_arn(scope: Construct, names: AwsNaming, dr_region: str) -> str:
    """ARN of the copy vault, from names alone (``dr_region``: the configured second region)."""
    stack = Stack.of(scope)
    return f"arn:{stack.partition}:backup:{dr_region}:{names.account}:backup-vault:{dr_vault_name(names)}"


class DisasterRecoveryStack(EnvironmentStack):
    def __init__(self, scope: Construct, id_: str, *, config: AwsConfig) -> None:
        if not (config.recovery and config.recovery.dr_region):
            raise ValueError("DisasterRecoveryStack: recovery.dr_region is not set")
        super().__init__(
            scope, id_, config=config, env=Environment(account=config.account, region=config.recovery.dr_region),
            description=f"Mirror Dissonance disaster recovery ({config.name.value}): backup copies in {config.recovery.dr_region}",
        )
        # Its own key in this region: a KMS key never leaves its region, and a
        # copy must stay readable when the primary region (and its key) is not.
        self.key = EnvironmentKey(
            self, "CopyKey", alias=f"{config.resource_prefix}-backup-copies",
            description=f"Encrypts the {config.name.value} backup copies in {config.recovery.dr_region}",
        )
        self.vault = backup.BackupVault(
            self, "CopyVault", backup_vault_name=dr_vault_name(config), encryption_key=self.key.key,
            removal_policy=RemovalPolicy.RETAIN,
        )
        CfnOutput(self, "CopyVaultArn", value=self.vault.backup_vault_arn)
        CfnOutput(self, "CopyKeyArn", value=self.key.key.key_arn)
