"""Slack routing of the AWS alert topic: off by default, AWS Chatbot on the topic when configured."""

from __future__ import annotations

import json
from pathlib import Path

from aws_cdk import App
from aws_cdk.assertions import Match, Template

from envconfig.aws import Environment


def test_slack_is_off_by_default(aws_app, env):
    assert not aws_app.resources(env, "Observability", "AWS::Chatbot::SlackChannelConfiguration")


def test_slack_by_configuration_subscribes_chatbot_to_the_alert_topic(aws_app):
    import dataclasses

    from envconfig.aws import load_all
    from envconfig.models.aws import SlackConfig
    from stacks.observability import ObservabilityStack

    config = load_all()[Environment.STAGING]
    obs = dataclasses.replace(config.observability, slack=SlackConfig(workspace_id="T0123ABCD", channel_id="C0123ABCDE"))
    config = dataclasses.replace(config, observability=obs)
    # The same feature flags as the app (cdk.json context).
    context = json.loads((Path(__file__).resolve().parents[2] / "cdk.json").read_text())["context"]
    stack = ObservabilityStack(App(context=context), "Observability", config=config)
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::Chatbot::SlackChannelConfiguration", 1)
    template.has_resource_properties("AWS::Chatbot::SlackChannelConfiguration", {
        "SlackWorkspaceId": "T0123ABCD",
        "SlackChannelId": "C0123ABCDE",
        "SnsTopicArns": [{"Ref": Match.string_like_regexp("AlertsTopic")}],
        "GuardrailPolicies": [Match.object_like({"Fn::Join": Match.any_value()})],
    })
