"""A controlled alert: prove that an alarm's notification leaves for the
alert topic (docs/requirements.md#alarms: alert routing tested with a
controlled alert). A drill on the live environment, not a test of the code.

1. ``SetAlarmState`` puts the alarm (``--alarm NAME``, default: every
   Critical alarm of the environment's Observability stack) into ALARM, with a
   reason that says it is a test;
2. delivery is confirmed:
   * ``history`` (default on AWS): the alarm history records ``Successfully
     executed action <topic ARN>`` after the state change. CloudWatch writes
     that line once SNS accepted the publish; it cannot see an inbox, so the
     e-mail itself is the recipient's to confirm;
   * ``subscribe`` (default on the local target, ``AWS_ENDPOINT_URL`` set): a
     temporary SQS queue is subscribed to the topic first and must receive
     the ALARM notification (an observable delivery); queue and subscription
     are removed afterwards;
3. the alarm is set back to OK, whatever happened (CloudWatch re-evaluates it
   at its next period anyway).

Exit 1 when delivery is not confirmed within ``--wait`` seconds (disabled
actions, an alarm routed elsewhere, a topic that refuses the publish), 2 for
an unknown alarm name (checked before any change), 3 when a stack is
missing or failed.
"""
from __future__ import annotations

import getpass
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable

from botocore.exceptions import ClientError

from . import template_resolver as templates
from .errors import OpsError
from .session import Aws
from .verify import Result, Status


@dataclass(frozen=True)
class Alarm:
    name: str
    topics: tuple[str, ...]
    critical: bool


def alarms(aws: Aws) -> list[Alarm]:
    """The environment's alarms as deployed (names and topics from the Observability template)."""
    stacks = templates.load(aws)
    resolver = templates.Resolver(aws, stacks)
    stack = stacks["Observability"]
    found = []
    for logical, _ in stack.resources("AWS::CloudWatch::Alarm"):
        props = resolver.props(stack, logical)
        name = props.get("AlarmName") or stack.physical.get(logical)
        actions = props.get("AlarmActions") if isinstance(props.get("AlarmActions"), list) else []
        found.append(Alarm(name, tuple(a for a in actions if ":sns:" in a),
                           "[Critical]" in str(props.get("AlarmDescription", "")) or name.endswith("-critical")))
    return found


def _probe(aws: Aws, topic: str):
    """A temporary SQS queue subscribed to the topic (raw delivery)."""
    sqs, sns = aws.client("sqs"), aws.client("sns")
    queue = sqs.create_queue(QueueName=f"md-test-alarm-{uuid.uuid4().hex[:12]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sub = sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"},
                        ReturnSubscriptionArn=True)["SubscriptionArn"]
    return queue, sub


def _cleanup(aws: Aws, queue: str, sub: str) -> None:
    try:
        aws.client("sns").unsubscribe(SubscriptionArn=sub)
    finally:
        aws.client("sqs").delete_queue(QueueUrl=queue)


def _received(aws: Aws, queue: str, name: str, deadline: float, now: Callable[[], float]) -> bool:
    sqs = aws.client("sqs")
    while True:
        wait = max(0, min(5, int(deadline - now())))
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", []):
            body = json.loads(message["Body"])
            if body.get("AlarmName") == name and body.get("NewStateValue") == "ALARM":
                return True
        if now() >= deadline:
            return False


def _in_history(aws: Aws, name: str, topic: str, since: datetime, deadline: float, now: Callable[[], float],
                sleep: Callable[[float], None]) -> str | None:
    cw = aws.client("cloudwatch")
    while True:
        items = cw.describe_alarm_history(AlarmName=name, HistoryItemType="Action", StartDate=since)["AlarmHistoryItems"]
        for item in items:
            if topic in item["HistorySummary"]:
                return item["HistorySummary"]
        if now() >= deadline:
            return None
        sleep(3)


def check_wait(wait_s: float) -> None:
    if not 0 < wait_s <= 900:  # also refuses nan
        raise OpsError(f"--wait must be between 1 and 900 seconds, got {wait_s:g}")


def run(aws: Aws, *, alarm: str | None, method: str, wait_s: float,
        now: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> list[Result]:
    check_wait(wait_s)
    if method == "auto":
        method = "subscribe" if os.environ.get("AWS_ENDPOINT_URL") else "history"
    known = alarms(aws)
    by_name = {a.name: a for a in known}
    if alarm is not None and alarm not in by_name:
        raise OpsError(f"no alarm {alarm!r} in {aws.stack_name('Observability')}; known: {', '.join(sorted(by_name))}")
    chosen = [by_name[alarm]] if alarm else [a for a in known if a.critical]
    if not chosen:
        raise OpsError(f"no Critical alarm in {aws.stack_name('Observability')}; name one with --alarm")
    cw = aws.client("cloudwatch")
    results = []
    for target in chosen:
        if not target.topics:
            results.append(Result("alarm", target.name, Status.FAIL, "expected an SNS topic among its AlarmActions, actual none"))
            continue
        topic = target.topics[0]
        probe = _probe(aws, topic) if method == "subscribe" else None
        since = datetime.now(timezone.utc)
        try:
            cw.set_alarm_state(AlarmName=target.name, StateValue="ALARM",
                               StateReason=f"bin/ops test-alarm by {getpass.getuser()}: controlled test, no action needed")
            deadline = now() + wait_s
            if probe:
                ok = _received(aws, probe[0], target.name, deadline, now)
                evidence = (f"ALARM notification received from {topic} by a test subscription" if ok else
                            f"expected the ALARM notification on {topic} within {wait_s:g}s, actual: nothing received")
            else:
                line = _in_history(aws, target.name, topic, since, deadline, now, sleep)
                ok = bool(line) and line.startswith("Successfully")
                evidence = line or f"expected 'Successfully executed action {topic}' in the alarm history within {wait_s:g}s, actual: none"
        except ClientError as exc:
            ok, evidence = False, f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"
        finally:
            try:
                cw.set_alarm_state(AlarmName=target.name, StateValue="OK", StateReason="bin/ops test-alarm: test over")
            finally:
                if probe:
                    _cleanup(aws, *probe)
        results.append(Result("alarm", f"{target.name} -> {topic.rsplit(':', 1)[-1]}", Status.PASS if ok else Status.FAIL, evidence))
    return results
