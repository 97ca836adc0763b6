"""OIDC stack: GitHub Actions provider and one role per purpose (deploy, plan, Oracle smoke, consumers, restore drill)."""

from __future__ import annotations

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.aws.github_oidc import GitHubOidc
from constructs_lib.aws.oracle_service import ORACLE_ROUTES
from constructs_lib.aws.restore_drill_access import RestoreDrillAccess
from envconfig.aws import AwsConfig, TableName
from stacks.base import EnvironmentStack, PublishedValue

# The CDK bootstrap roles (default qualifier) are all the deploy role may assume.
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
BOOTSTRAP_QUALIFIER = "hnb659fds"


class OidcStack(EnvironmentStack):
    def __init__(self, scope: Construct, id_: str, *, config: AwsConfig) -> None:
        super().__init__(scope, id_, config=config, description=f"Mirror Dissonance GitHub OIDC ({config.name.value}): provider, deploy and Oracle roles")
        self.github = GitHubOidc(
            self,
            "GitHub",
            subjects=config.github_subjects,
            create_provider=config.github.create_oidc_provider,
            existing_provider_arn=config.github.existing_oidc_provider_arn,
            max_session_duration=Duration.hours(config.github.max_session_hours),
        )

        self.deploy_role = self.github.role(
            "DeployRole", role_name=f"{config.resource_prefix}-github-deploy",
            description=f"GitHub Actions deploys {config.name.value} through the CDK bootstrap roles, nothing else",
        )
        self.deploy_role.add_to_policy(
            iam.PolicyStatement(
                sid="AssumeCdkBootstrapRoles",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[
                    f"arn:{self.partition}:iam::{config.account}:role/cdk-{BOOTSTRAP_QUALIFIER}-{role}-{config.account}-{config.region}"
                    for role in BOOTSTRAP_ROLES
                ],
            )
        )

        # bin/ops deploy / rollback (opscli/deploy_lock.py, opscli/release.py): the deploy lock and the
        # record of the deployed approval id, exactly these two String parameters
        # (docs/requirements.md#deploy-lock). Its post-deploy reads go through the lookup role above.
        self.deploy_role.add_to_policy(
            iam.PolicyStatement(
                sid="DeployLockAndRecord",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[self.format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))
                           for name in (config.deploy_lock_parameter, config.deployed_approval_parameter)],
            )
        )

        # The plan job (cdk diff before an approval) and drift detection run in
        # the GitHub environment "<env>-plan", which needs no approval; this
        # role may assume only the read-only CDK lookup role.
        self.plan_role = self.github.role(
            "PlanRole", role_name=f"{config.resource_prefix}-github-plan", subjects=[config.plan_subject],
            description=f"GitHub Actions diffs and checks drift of {config.name.value} through the read-only CDK lookup role",
        )
        self.plan_role.add_to_policy(
            iam.PolicyStatement(
                sid="AssumeCdkLookupRole",
                actions=["sts:AssumeRole", "sts:TagSession"],
                resources=[f"arn:{self.partition}:iam::{config.account}:role/cdk-{BOOTSTRAP_QUALIFIER}-lookup-role-{config.account}-{config.region}"],
            )
        )

        data_key = kms.Key.from_key_arn(self, "DataKey", self.published(PublishedValue.DATA_KEY_ARN))
        # The Oracle role (its name is the one the Oracle's planning documents
        # give): trusted only by the smoke job's own GitHub environment
        # "<env>-oracle", and granted exactly what that job calls, measured on
        # the local target (tests/e2e/test_least_privilege.py,
        # docs/requirements.md#least-privilege): the two API routes, the
        # nonce, and a query and delete of the one fp-events item the smoke
        # wrote. No Scan, no BatchWrite, no other table, no github-token.
        self.oracle_role = self.github.role(
            "OracleRole", role_name=f"MirrorDissonanceOracleRole-{config.name.value}",
            subjects=config.oracle_subjects,
            description="The Oracle's smoke job (GitHub Actions): call its API, read the nonce, remove its own fp-events",
        )
        self._grant_api_and_nonce(self.oracle_role, config)
        fp_events_arn = self.format_arn(service="dynamodb", resource="table", resource_name=config.table_name(TableName.FP_EVENTS))
        self.oracle_role.add_to_policy(
            iam.PolicyStatement(
                sid="FindAndRemoveSmokeEvents",
                actions=["dynamodb:Query", "dynamodb:DeleteItem"],
                resources=[fp_events_arn],
            )
        )
        # The table's customer-managed key: DynamoDB calls KMS on the caller's
        # behalf, so the caller needs Decrypt through DynamoDB only.
        self.oracle_role.add_to_policy(
            iam.PolicyStatement(
                sid="DecryptTableViaDynamoDb", actions=["kms:Decrypt"], resources=[data_key.key_arn],
                conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{self.region}.amazonaws.com"}},
            )
        )
        CfnOutput(self, "OracleRoleArn", value=self.oracle_role.role_arn)
        # Consumers (repositories whose workflows call the Oracle) get their
        # own role: call the API with the nonce, nothing else; no table, no
        # github-token (docs/requirements.md#trust).
        self.consumer_role = None
        if config.consumer_subjects:
            self.consumer_role = self.github.role(
                "OracleConsumerRole", role_name=f"MirrorDissonanceOracleConsumerRole-{config.name.value}",
                subjects=config.consumer_subjects,
                description="Repositories that call the Oracle (GitHub Actions): its two API routes and the nonce, nothing else",
            )
            self._grant_api_and_nonce(self.consumer_role, config)
            CfnOutput(self, "OracleConsumerRoleArn", value=self.consumer_role.role_arn)
        # The scheduled restore drill (GitHub environment "<env>-drill", no approval): restore and compare only.
        self.restore_drill_role = self.github.role(
            "RestoreDrillRole", role_name=f"{config.resource_prefix}-github-restore-drill", subjects=[config.restore_drill_subject],
            description=f"GitHub Actions restore drill of {config.name.value}: restore tables and baseline versions to scratch copies, compare, delete",
        )
        self.restore_drill_access = RestoreDrillAccess(
            self, "RestoreDrillAccess", role=self.restore_drill_role,
            source_tables=[config.table_name(t) for t in TableName],
            scratch_tables=[config.restore_drill_table(t) for t in TableName],
            data_key_arn=data_key.key_arn, baselines_bucket=config.baselines_bucket,
        )
        CfnOutput(self, "RestoreDrillRoleArn", value=self.restore_drill_role.role_arn)
        CfnOutput(self, "DeployRoleArn", value=self.deploy_role.role_arn)
        CfnOutput(self, "PlanRoleArn", value=self.plan_role.role_arn)
        CfnOutput(self, "OidcProviderArn", value=self.github.provider.oidc_provider_arn)

    def _grant_api_and_nonce(self, role: iam.Role, config: AwsConfig) -> None:
        """Invoke exactly the Oracle API's routes, read exactly the nonce (decrypted through SSM only)."""
        role.add_to_policy(
            iam.PolicyStatement(
                sid="InvokeOracleApi",
                actions=["execute-api:Invoke"],
                # Exactly the Oracle API's routes on its $default stage: no wildcard.
                resources=[
                    self.format_arn(service="execute-api", resource=self.published(PublishedValue.ORACLE_API_ID), resource_name=f"$default/{route}")
                    for route in ORACLE_ROUTES
                ],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="ReadNonce", actions=["ssm:GetParameter"],
                resources=[self.format_arn(service="ssm", resource="parameter", resource_name=config.nonce_parameter.lstrip("/"))],
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                sid="DecryptNonceViaSsm", actions=["kms:Decrypt"],
                resources=[self.published(PublishedValue.SECRETS_KEY_ARN)],
                conditions={"StringEquals": {"kms:ViaService": f"ssm.{self.region}.amazonaws.com"}},
            )
        )
