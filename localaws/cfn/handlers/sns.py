"""SNS: ``AWS::SNS::Subscription`` and ``AWS::SNS::TopicPolicy``, which moto's
CloudFormation does not handle (it only knows inline topic subscriptions)."""
from __future__ import annotations

import json

from moto.sns.models import sns_backends

from .base import Handler, Resource, register

# CloudFormation property -> subscription attribute (same names in the API).
_SUB_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
                   "DeliveryPolicy", "SubscriptionRoleArn")


@register
class Subscription(Handler):
    TYPE = "AWS::SNS::Subscription"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name, props, account_id, region):
        backend = sns_backends[account_id][region]
        sub = backend.subscribe(props["TopicArn"], props["Endpoint"], props["Protocol"])
        for attr in _SUB_ATTRIBUTES:
            if attr in props:
                value = props[attr]
                backend.set_subscription_attributes(
                    sub.arn, attr, value if isinstance(value, str) else json.dumps(value))
        return Resource(cls, sub.arn, {"Arn": sub.arn}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        cls.remove(original, account_id, region)
        return cls.create(name, props, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        sns_backends[account_id][region].unsubscribe(resource.physical_resource_id)


@register
class TopicPolicy(Handler):
    TYPE = "AWS::SNS::TopicPolicy"
    ATTRIBUTES = ("Id",)

    @classmethod
    def create(cls, name, props, account_id, region):
        backend = sns_backends[account_id][region]
        policy = json.dumps(props["PolicyDocument"])
        for topic_arn in props["Topics"]:
            backend.get_topic(topic_arn).policy = policy  # the model's setter parses the JSON
        return Resource(cls, name, {"Id": name}, account_id, region, topics=list(props["Topics"]))

    @classmethod
    def update(cls, original, name, props, account_id, region):
        cls.remove(original, account_id, region)
        return cls.create(original.physical_resource_id, props, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = sns_backends[account_id][region]
        for topic_arn in resource.state.get("topics", []):
            if topic_arn in backend.topics:
                topic = backend.topics[topic_arn]
                topic._policy_json = topic._create_default_topic_policy(region, account_id, topic.name)
