"""OIDC stack: GitHub Actions provider, the deploy role and the Oracle role."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnOutput, Duration, Validations
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.aws.acknowledgments import acknowledge_cmk_table_grant
from constructs_lib.aws.github_oidc import GitHubOidc
from constructs_lib.aws.naming import pascal
from constructs_lib.aws.oracle_service import ORACLE_ROUTES
from constructs_lib.aws.restore_drill_access import RestoreDrillAccess
from envconfig.aws import AwsEnvironment, TableName
from stacks.base import EnvironmentStack, PublishedValue

# The CDK bootstrap roles (default qualifier) are all the deploy role may assume.
BOOTSTRAP_ROLES = ("deploy-role", "file-publishing-role", "image-publishing-role", "lookup-role")
BOOTSTRAP_QUALIFIER = "hnb659fds"


class OidcStack(EnvironmentStack):
    def __init__(self, scope: Construct, id_: str, *, config: AwsEnvironment) -> None:
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

        # Seed 004's name for the role the Oracle's workflows assume.
        self.oracle_role = self.github.role(
            "OracleRole", role_name=f"MirrorDissonanceOracleRole-{config.name.value}",
            # This repository's subjects plus each consumer's (seed 001's Phase-Mirror-Test), all exact.
            subjects=config.oracle_subjects,
            description="The Oracle (GitHub Actions): read/write its tables, read its parameters, put its metrics, call its API",
        )
        data_key = kms.Key.from_key_arn(self, "DataKey", self.published(PublishedValue.DATA_KEY_ARN))
        for table in TableName:
            construct_id = pascal(table.value) + "Table"
            dynamodb.TableV2.from_table_attributes(
                self, construct_id, table_name=config.table_name(table), encryption_key=data_key
            ).grant_read_write_data(self.oracle_role)
        self.oracle_role.add_managed_policy(
            iam.ManagedPolicy.from_managed_policy_name(self, "ParameterRead", f"{config.resource_prefix}-parameters-read")
        )
        self.oracle_role.add_to_policy(
            iam.PolicyStatement(
                sid="PutOracleMetrics",
                actions=["cloudwatch:PutMetricData"],
                # PutMetricData has no resource type; the namespace condition is the narrowest scope AWS offers
                # (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazoncloudwatch.html).
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": config.observability.metrics_namespace}},
            )
        )
        self.oracle_role.add_to_policy(
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
        Validations.of(self.oracle_role).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="cloudwatch:PutMetricData has no resource type; limited by the cloudwatch:namespace condition to the Oracle's namespace.",
            )
        )
        acknowledge_cmk_table_grant(self.oracle_role)
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
        CfnOutput(self, "OracleRoleArn", value=self.oracle_role.role_arn)
        CfnOutput(self, "PlanRoleArn", value=self.plan_role.role_arn)
        CfnOutput(self, "OidcProviderArn", value=self.github.provider.oidc_provider_arn)
