"""SNS: ``AWS::SNS::Subscription`` and ``AWS::SNS::TopicPolicy``, which moto's
CloudFormation does not handle (it only knows inline topic subscriptions),
and an ``AWS::SNS::Topic`` that updates in place: moto's update deletes and
re-creates the topic, silently dropping its subscriptions and policy."""
from __future__ import annotations

import json

from moto.sns.models import sns_backends

from .base import Handler, Resource, register

# CloudFormation property -> subscription attribute (same names in the API).
_SUB_ATTRIBUTES = ("FilterPolicy", "FilterPolicyScope", "RawMessageDelivery", "RedrivePolicy",
                   "DeliveryPolicy", "SubscriptionRoleArn")


_TOPIC_ATTRIBUTES = {"DisplayName": "display_name", "KmsMasterKeyId": "kms_master_key_id",
                     "ContentBasedDeduplication": "content_based_deduplication"}


@register
class Topic(Handler):
    TYPE = "AWS::SNS::Topic"
    NAME_PROPERTY = "TopicName"
    ATTRIBUTES = ("TopicArn", "TopicName")

    @classmethod
    def _apply(cls, topic, props):
        for prop, attr in _TOPIC_ATTRIBUTES.items():
            setattr(topic, attr, props.get(prop, "" if attr != "content_based_deduplication" else False))
        topic._tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}

    @classmethod
    def create(cls, name, props, account_id, region):
        backend = sns_backends[account_id][region]
        attributes = {"FifoTopic": "true"} if str(props.get("FifoTopic", "")).lower() == "true" else {}
        topic = backend.create_topic(name, attributes)
        cls._apply(topic, props)
        for sub in props.get("Subscription", []):
            backend.subscribe(topic.arn, sub["Endpoint"], sub["Protocol"])
        return Resource(cls, topic.arn, {"TopicArn": topic.arn, "TopicName": topic.name}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        topic = sns_backends[account_id][region].get_topic(original.physical_resource_id)
        if props.get("TopicName", topic.name) != topic.name:
            raise ValueError("renaming a topic replaces it (subscriptions are lost); the local target refuses")
        cls._apply(topic, props)
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        sns_backends[account_id][region].delete_topic(resource.physical_resource_id)


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
