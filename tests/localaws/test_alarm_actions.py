"""Alarm actions on the local target (localaws/alarm_actions.py): a state
change publishes to the topic, the history records the action; with actions
disabled nothing leaves."""
from __future__ import annotations

import json

from localaws_kit import client


def _setup():
    sns, sqs, cw = client("sns"), client("sqs"), client("cloudwatch")
    topic = sns.create_topic(Name="alerts")["TopicArn"]
    queue = sqs.create_queue(QueueName="probe")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"})
    cw.put_metric_alarm(AlarmName="a1", Namespace="N", MetricName="M", ComparisonOperator="GreaterThanThreshold",
                        EvaluationPeriods=1, Period=60, Statistic="Sum", Threshold=1, AlarmActions=[topic], OKActions=[topic])
    return topic, queue, cw, sqs


def test_alarm_state_change_is_delivered_and_recorded():
    topic, queue, cw, sqs = _setup()
    cw.set_alarm_state(AlarmName="a1", StateValue="ALARM", StateReason="test")
    [message] = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
    body = json.loads(message["Body"])
    assert (body["AlarmName"], body["NewStateValue"], body["NewStateReason"]) == ("a1", "ALARM", "test")
    history = cw.describe_alarm_history(AlarmName="a1", HistoryItemType="Action")["AlarmHistoryItems"]
    assert [h["HistorySummary"] for h in history] == [f"Successfully executed action {topic}"]
    updates = cw.describe_alarm_history(AlarmName="a1", HistoryItemType="StateUpdate")["AlarmHistoryItems"]
    assert updates[0]["HistorySummary"] == "Alarm updated to ALARM"


def test_disabled_actions_deliver_nothing():
    _, queue, cw, sqs = _setup()
    cw.disable_alarm_actions(AlarmNames=["a1"])
    cw.set_alarm_state(AlarmName="a1", StateValue="ALARM", StateReason="test")
    assert not sqs.receive_message(QueueUrl=queue).get("Messages")
    assert cw.describe_alarm_history(AlarmName="a1", HistoryItemType="Action")["AlarmHistoryItems"] == []
