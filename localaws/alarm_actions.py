"""CloudWatch alarm actions on the local target.

moto 5.2.5 changes an alarm's state (SetAlarmState) but executes none of its
actions and has no DescribeAlarmHistory. Here, as CloudWatch does:

* a state change of an alarm whose actions are enabled publishes the alarm
  notification (CloudWatch's JSON message: AlarmName, NewStateValue,
  NewStateReason, OldStateValue, AlarmArn, ...) to every SNS topic among the
  actions of the new state (AlarmActions for ALARM, OKActions for OK,
  InsufficientDataActions). moto's SNS then delivers it to the topic's
  subscriptions (an SQS queue receives it; e-mail is recorded, not sent);
* the alarm history records the state update and one ``Action`` item per
  action: ``Successfully executed action <arn>``, or ``Failed to execute
  action <arn>`` with the reason (a deleted topic, say);
* ``DescribeAlarmHistory`` answers from that history, newest first.

With actions disabled (DisableAlarmActions), nothing is published and no
Action item is written: exactly what ``bin/ops test-alarm`` must catch.
"""
from __future__ import annotations

import functools
import json
from datetime import datetime, timezone

_INSTALLED = False


def _notify(backend, alarm, old_state: str) -> None:
    from moto.sns.models import sns_backends

    actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
               "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(alarm.state_value) or []
    if not alarm.actions_enabled or alarm.state_value == old_state:
        return
    now = datetime.now(timezone.utc)
    message = json.dumps({
        "AlarmName": alarm.name, "AlarmDescription": alarm.description, "AWSAccountId": backend.account_id,
        "AlarmConfigurationUpdatedTimestamp": now.isoformat(), "NewStateValue": alarm.state_value,
        "NewStateReason": alarm.state_reason, "StateChangeTime": now.isoformat(), "Region": backend.region_name,
        "AlarmArn": alarm.alarm_arn, "OldStateValue": old_state,
        "Trigger": {"MetricName": alarm.metric_name, "Namespace": alarm.namespace, "Threshold": alarm.threshold,
                    "ComparisonOperator": alarm.comparison_operator},
    })
    subject = f'{alarm.state_value}: "{alarm.name}" in {backend.region_name}'[:100]
    for arn in actions:
        if ":sns:" not in arn:
            continue  # Auto Scaling / EC2 / SSM actions: not modelled here
        try:
            sns_backends[backend.account_id][backend.region_name].publish(message, arn=arn, subject=subject)
            summary = f"Successfully executed action {arn}"
        except Exception as exc:  # noqa: BLE001 - recorded in the history, as CloudWatch does
            summary = f"Failed to execute action {arn}. Received error: {exc}"
        alarm.history.append(("Action", summary, json.dumps({"actionState": "Succeeded" if summary.startswith("Success") else "Failed",
                                                              "notificationResource": arn}), alarm.state_value, now))


def _set_alarm_state(original):
    @functools.wraps(original)
    def set_alarm_state(self, alarm_name, reason, reason_data, state_value):
        old = self.alarms[alarm_name].state_value if alarm_name in self.alarms else None
        original(self, alarm_name, reason, reason_data, state_value)
        alarm = self.alarms[alarm_name]
        # moto appends the state *before* the update; CloudWatch's history says what it became.
        alarm.history[-1] = ("StateUpdate", reason, reason_data, alarm.state_value, alarm.state_updated_timestamp)
        _notify(self, alarm, old)

    return set_alarm_state


def describe_alarm_history(self):
    from moto.core.responses import ActionResult

    name = self._get_param("AlarmName")
    kind = self._get_param("HistoryItemType")
    alarms = [self.cloudwatch_backend.alarms[name]] if name in self.cloudwatch_backend.alarms else (
        [] if name else list(self.cloudwatch_backend.alarms.values()))
    items = []
    for alarm in alarms:
        for entry in alarm.history:
            item_type, summary, data, state, when = entry
            if item_type == "StateUpdate":
                summary, data = f"Alarm updated to {state}", json.dumps({"reason": summary})
            if kind and item_type != kind:
                continue
            items.append({"AlarmName": alarm.name, "AlarmType": "MetricAlarm", "Timestamp": when,
                          "HistoryItemType": item_type, "HistorySummary": summary, "HistoryData": data or "{}"})
    items.sort(key=lambda i: i["Timestamp"], reverse=True)
    return ActionResult({"AlarmHistoryItems": items})


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.cloudwatch.models import CloudWatchBackend
    from moto.cloudwatch.responses import CloudWatchResponse

    CloudWatchBackend.set_alarm_state = _set_alarm_state(CloudWatchBackend.set_alarm_state)
    CloudWatchResponse.describe_alarm_history = describe_alarm_history
    _INSTALLED = True
