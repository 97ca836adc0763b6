"""The environment's customer-managed KMS key."""

from __future__ import annotations

from typing import Mapping, Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.aws._props import merge_props

# The one place the key policies' CreateGrant limit is written (Control Tower
# CT.KMS.PR.3). A grant hands key use to another principal without a policy
# change; AWS services that use the key for our resources (DynamoDB tables,
# AWS Backup, Lambda environment encryption) create their grants with
# kms:GrantIsForAWSResource true, or call as a service principal, so they are
# untouched. Everyone else, the account's own administrators included, is
# denied: a grant for something that is not an AWS resource is a key-sharing
# path nobody reviews. The values are strings because the condition operator
# compares strings ("false"), and that is what the control checks for.
# https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource
CREATE_GRANT_SID = "DenyGrantsNotForAwsResources"
CREATE_GRANT_CONDITION = {"BoolIfExists": {"kms:GrantIsForAWSResource": "false", "aws:PrincipalIsAWSService": "false"}}


class EnvironmentKey(Construct):
    """A customer-managed KMS key with rotation on and an alias.

    Defaults (caller ``key_props`` may change them):
      * ``pending_window`` 30 days: the longest window to cancel a deletion.
    Required (cannot be overridden):
      * ``enable_key_rotation`` True: yearly rotation (docs/requirements.md#encryption).
      * ``removal_policy`` RETAIN: deleting the stack must never schedule the
        deletion of a key that still encrypts table data.
      * ``alias``: ``alias/<alias>``, so humans and ops commands find the key.
    The key policy is CDK's default (the account root, never ``*`` in an
    Allow) plus one statement per AWS service given in ``service_principals``,
    each limited to this account through ``aws:SourceAccount``, plus one Deny
    that limits ``kms:CreateGrant`` to grants for AWS resources
    (``CREATE_GRANT_CONDITION``).
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        alias: str,
        description: str,
        service_principals: Sequence[str] = (),
        key_props: kms.KeyProps | None = None,
    ) -> None:
        super().__init__(scope, id_)
        props = merge_props(
            "EnvironmentKey",
            {"pending_window": Duration.days(30), "description": description},
            key_props,
            {"enable_key_rotation": True, "removal_policy": RemovalPolicy.RETAIN, "alias": f"alias/{alias}"},
        )
        self.key = kms.Key(self, "Key", **props)
        self.alias_name = f"alias/{alias}"
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=CREATE_GRANT_SID, effect=iam.Effect.DENY, principals=[iam.AnyPrincipal()],
                actions=["kms:CreateGrant"], resources=["*"], conditions=CREATE_GRANT_CONDITION,
            )
        )
        for principal in service_principals:
            self.allow_service(principal)

    def allow_service(
        self,
        service_principal: str,
        *,
        actions: Sequence[str] = ("kms:Decrypt", "kms:GenerateDataKey*", "kms:Encrypt", "kms:ReEncrypt*", "kms:DescribeKey"),
        conditions: Mapping[str, Mapping[str, object]] | None = None,
        sid: str | None = None,
    ) -> None:
        """Let an AWS service use the key for this account only (CloudWatch, SNS, Logs ...).

        ``conditions`` default to ``aws:SourceAccount`` = this account; services
        that do not send it (CloudWatch Logs) pass their own documented
        condition. Key policies always name ``Resource: "*"``, which in a key
        policy means this key only
        (https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html).
        """
        account = Stack.of(self).account
        self.key.add_to_resource_policy(
            iam.PolicyStatement(
                sid=sid or f"Allow{service_principal.split('.')[0].capitalize()}",
                principals=[iam.ServicePrincipal(service_principal)],
                actions=list(actions),
                resources=["*"],
                conditions=dict(conditions) if conditions is not None else {"StringEquals": {"aws:SourceAccount": account}},
            )
        )

    def allow_cloudtrail(self) -> None:
        """Let CloudTrail trails of this account encrypt log files with the key
        (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html)."""
        stack = Stack.of(self)
        self.allow_service(
            "cloudtrail.amazonaws.com", actions=("kms:GenerateDataKey*",), sid="AllowCloudTrailEncrypt",
            conditions={"StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": f"arn:{stack.partition}:cloudtrail:*:{stack.account}:trail/*"}},
        )
        self.allow_service("cloudtrail.amazonaws.com", actions=("kms:DescribeKey",), sid="AllowCloudTrailDescribe")

    def allow_cloudwatch_logs(self) -> None:
        """Let CloudWatch Logs of this account and region encrypt log groups with the key
        (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html)."""
        stack = Stack.of(self)
        self.allow_service(
            f"logs.{stack.region}.amazonaws.com",
            conditions={"ArnLike": {"kms:EncryptionContext:aws:logs:arn": f"arn:{stack.partition}:logs:{stack.region}:{stack.account}:log-group:*"}},
        )
