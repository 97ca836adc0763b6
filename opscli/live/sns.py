"""SNS topics: every subscription (who receives the alerts)."""
from __future__ import annotations

from dataclasses import dataclass

from ..session import Aws


@dataclass(frozen=True)
class Subscription:
    protocol: str
    endpoint: str
    arn: str        # "PendingConfirmation" until the recipient confirms


def subscriptions(aws: Aws, topic_arn: str) -> tuple[Subscription, ...]:
    found = []
    for page in aws.client("sns").get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn):
        found += [Subscription(s["Protocol"], s["Endpoint"], s["SubscriptionArn"]) for s in page["Subscriptions"]]
    return tuple(sorted(found, key=lambda s: (s.protocol, s.endpoint)))
