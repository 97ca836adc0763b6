"""Alarms as a facade: every alarm goes to the alert topic, thresholds keyed by severity."""

from __future__ import annotations

from typing import Mapping

from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_chatbot as chatbot
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct

from constructs_lib.aws.naming import pascal
from envconfig.aws import Severity


class MonitoringFacade(Construct):
    """Creates alarms that cannot be forgotten: each has an action on ``topic``,
    a name ``<name_prefix>-<alarm>-<severity>``, a description naming the rule,
    and an explicit missing-data treatment (``NOT_BREACHING`` by default:
    throttles and failures that did not happen emit no datapoints, and an
    alarm that flaps to INSUFFICIENT_DATA on a quiet night trains people to
    ignore it).

    ``thresholds`` map a severity to a value (``{Severity.CRITICAL: 5}``): one
    alarm per severity, so a Warning and a Critical level can share a metric.
    """

    def __init__(self, scope: Construct, id_: str, *, topic: sns.ITopic, name_prefix: str) -> None:
        super().__init__(scope, id_)
        self.topic = topic
        self.name_prefix = name_prefix
        self.alarms: dict[str, cw.Alarm] = {}

    def add(
        self,
        name: str,
        *,
        metric: cw.IMetric,
        thresholds: Mapping[Severity, float],
        description: str,
        missing_data: cw.TreatMissingData = cw.TreatMissingData.NOT_BREACHING,
    ) -> list[cw.Alarm]:
        created = []
        for severity, threshold in thresholds.items():
            construct_id = pascal(name) + severity.value
            alarm = cw.Alarm(
                self,
                construct_id,
                alarm_name=f"{self.name_prefix}-{name}-{severity.value.lower()}",
                alarm_description=f"[{severity.value}] {description} (threshold: > {threshold:g})",
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
                treat_missing_data=missing_data,
            )
            alarm.add_alarm_action(cw_actions.SnsAction(self.topic))
            alarm.add_ok_action(cw_actions.SnsAction(self.topic))
            self.alarms[alarm.node.id] = alarm
            created.append(alarm)
        return created


def sum_metric(namespace: str, metric_name: str, dimensions: Mapping[str, str], period: Duration, label: str | None = None) -> cw.Metric:
    return cw.Metric(namespace=namespace, metric_name=metric_name, dimensions_map=dict(dimensions), statistic="Sum", period=period, label=label)


class SlackRouting(Construct):
    """AWS Chatbot on the alert topic: every alarm (Critical and Warning alike,
    as the topic's other subscribers get them) also reaches one Slack channel.

    AWS Chatbot "Tutorial: Get started with Slack"
    (https://docs.aws.amazon.com/chatbot/latest/adminguide/slack-setup.html):
    the workspace is authorised once in the console; the channel
    configuration subscribes to the topic. The guardrail is ``AWSDenyAll``:
    the channel receives notifications and can run nothing in the account.

    Attributes: ``channel`` (SlackChannelConfiguration).
    """

    def __init__(self, scope: Construct, id_: str, *, topic: sns.ITopic, name: str, workspace_id: str,
                 channel_id: str) -> None:
        super().__init__(scope, id_)
        self.channel = chatbot.SlackChannelConfiguration(
            self, "Channel", slack_channel_configuration_name=name, slack_workspace_id=workspace_id,
            slack_channel_id=channel_id, notification_topics=[topic],
            guardrail_policies=[iam.ManagedPolicy.from_aws_managed_policy_name("AWSDenyAll")],
            logging_level=chatbot.LoggingLevel.ERROR,
        )
