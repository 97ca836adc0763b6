"""Encrypted, TLS-only SNS topic for alarms, with e-mail subscriptions."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from constructs import Construct


class AlertTopic(Construct):
    """Required: KMS encryption with ``encryption_key`` (whose policy must let
    ``cloudwatch.amazonaws.com`` use it, or alarms cannot publish) and a topic
    policy denying publishes not over TLS (``enforce_ssl``)."""

    def __init__(self, scope: Construct, id_: str, *, topic_name: str, encryption_key: kms.IKey, emails: Sequence[str]) -> None:
        super().__init__(scope, id_)
        self.topic = sns.Topic(self, "Topic", topic_name=topic_name, master_key=encryption_key, enforce_ssl=True)
        for email in emails:
            self.topic.add_subscription(subs.EmailSubscription(email))
