"""Encrypted, TLS-only SNS topic for alarms, with e-mail subscriptions."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct


class AlertTopic(Construct):
    """Required: KMS encryption with ``encryption_key`` (whose policy must let
    ``cloudwatch.amazonaws.com`` use it, or alarms cannot publish) and a topic
    policy denying publishes not over TLS (``enforce_ssl``).

    That topic policy replaces SNS's default one, so it must also allow
    CloudWatch to publish, for alarms of this account named
    ``<alarm_name_prefix>*`` only; without it every alarm notification is
    dropped with "no resource-based policy allows the SNS:Publish action".
    """

    def __init__(self, scope: Construct, id_: str, *, topic_name: str, encryption_key: kms.IKey, emails: Sequence[str],
                 alarm_name_prefix: str) -> None:
        super().__init__(scope, id_)
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, master_key=encryption_key, enforce_ssl=True)
        stack = Stack.of(self)
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowCloudWatchAlarms",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:cloudwatch:{stack.region}:{stack.account}:alarm:{alarm_name_prefix}*"},
                },
            )
        )
        for email in emails:
            self.topic.add_subscription(subs.EmailSubscription(email))
