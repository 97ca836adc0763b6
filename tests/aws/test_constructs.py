"""Unit tests of constructs_lib.aws on bare stacks: the secure defaults cannot be switched off."""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk import App, Duration, Environment, Stack
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk.assertions import Template

from constructs_lib.aws import EncryptedTable, EnvironmentKey, HardenedBucket
from constructs_lib.aws.github_oidc import GitHubOidc
from constructs_lib.aws.oracle_service import OracleService
from envconfig.contract import ContractError, default_contract

PK = dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING)


@pytest.fixture
def stack():
    # A region-specific stack: TableV2 renders its replica SSE settings per region.
    return Stack(App(), "Test", env=Environment(account="123456789012", region="us-east-1"))


def test_table_refuses_pitr_period_outside_1_35(stack):
    key = kms.Key(stack, "K")
    with pytest.raises(ValueError, match="pitr_recovery_period_days must be 1-35, got 0"):
        EncryptedTable(stack, "T", table_props=dynamodb.TablePropsV2(partition_key=PK), encryption_key=key, pitr_recovery_period_days=0, deletion_protection=True)


def test_table_refuses_caller_encryption_override(stack):
    key = kms.Key(stack, "K")
    props = dynamodb.TablePropsV2(partition_key=PK, encryption=dynamodb.TableEncryptionV2.dynamo_owned_key())
    with pytest.raises(ValueError, match="encryption is fixed by this construct's security defaults"):
        EncryptedTable(stack, "T", table_props=props, encryption_key=key, pitr_recovery_period_days=7, deletion_protection=True)


def test_table_caller_defaults_are_kept(stack):
    key = kms.Key(stack, "K")
    EncryptedTable(stack, "T", table_props=dynamodb.TablePropsV2(partition_key=PK, time_to_live_attribute="expiresAt"),
                   encryption_key=key, pitr_recovery_period_days=7, deletion_protection=False)
    Template.from_stack(stack).has_resource_properties("AWS::DynamoDB::GlobalTable", {"TimeToLiveSpecification": {"AttributeName": "expiresAt", "Enabled": True}})


def test_key_rotation_cannot_be_disabled(stack):
    with pytest.raises(ValueError, match="enable_key_rotation is fixed"):
        EnvironmentKey(stack, "K", alias="a", description="d", key_props=kms.KeyProps(enable_key_rotation=False))


def test_bucket_cannot_be_made_public(stack):
    key = kms.Key(stack, "K")
    with pytest.raises(ValueError, match="block_public_access is fixed"):
        HardenedBucket(stack, "B", encryption_key=key, noncurrent_version_expiration=Duration.days(1),
                       bucket_props=s3.BucketProps(block_public_access=s3.BlockPublicAccess.BLOCK_ACLS))


def test_bucket_shares_a_given_log_bucket(stack):
    key = kms.Key(stack, "K")
    logs_bucket = s3.Bucket(stack, "Logs")
    HardenedBucket(stack, "B", encryption_key=key, noncurrent_version_expiration=Duration.days(1), access_logs_bucket=logs_bucket)
    Template.from_stack(stack).resource_count_is("AWS::S3::Bucket", 2)


@pytest.mark.parametrize("subject", ["repo:owner/name:*", "repo:owner/*", "owner/name"])
def test_oidc_refuses_wildcard_subjects(stack, subject):
    with pytest.raises(ValueError, match="must be an exact 'repo:<owner>/<name>:...' value"):
        GitHubOidc(stack, "G", subjects=[subject], create_provider=True)


def test_oidc_provider_create_xor_import(stack):
    with pytest.raises(ValueError, match="exactly one of"):
        GitHubOidc(stack, "G", subjects=["repo:o/n:environment:staging"], create_provider=True,
                   existing_provider_arn="arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com")


def test_oidc_imports_an_existing_provider(stack):
    arn = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"
    oidc = GitHubOidc(stack, "G", subjects=["repo:o/n:environment:staging"], create_provider=False, existing_provider_arn=arn)
    oidc.role("R", role_name="r", description="d")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::OIDCProvider", 0)
    template.has_resource_properties("AWS::IAM::Role", {"AssumeRolePolicyDocument": {"Statement": [{"Principal": {"Federated": arn}, "Action": "sts:AssumeRoleWithWebIdentity", "Effect": "Allow",
        "Condition": {"StringEquals": {"token.actions.githubusercontent.com:aud": "sts.amazonaws.com", "token.actions.githubusercontent.com:sub": ["repo:o/n:environment:staging"]}}}]}})


def test_oracle_service_refuses_names_outside_the_contract(stack):
    with pytest.raises(ContractError, match=r"REDIS_URL: is not in the environment contract"):
        OracleService(
            stack, "O", function_name="f", code_path=Path(__file__).resolve().parents[2] / "lambda" / "oracle", handler="handler.handler",
            contract=default_contract().service("oracle"), environment={"REDIS_URL": "redis://x"}, encryption_key=kms.Key(stack, "K"),
            log_retention=logs.RetentionDays.ONE_MONTH, reserved_concurrency=1, memory_mb=128, timeout=Duration.seconds(3),
            throttle_rate=1, throttle_burst=1,
        )
