"""``AWS::CloudWatch::Alarm``, unknown to moto's CloudFormation: metric and
metric-math alarms through moto's PutMetricAlarm model."""
from __future__ import annotations

from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends

from .base import Handler, Resource, as_bool, register


def _queries(metrics):
    if not metrics:
        return None
    queries = []
    for m in metrics:
        stat = None
        if m.get("MetricStat"):
            ms = m["MetricStat"]
            metric = ms["Metric"]
            stat = MetricStat(
                metric=Metric(metric_name=metric["MetricName"], namespace=metric.get("Namespace"),
                              dimensions=[Dimension(d["Name"], d["Value"]) for d in metric.get("Dimensions", [])]),
                period=ms.get("Period"), stat=ms.get("Stat"), unit=ms.get("Unit"))
        queries.append(MetricDataQuery(query_id=m["Id"], label=m.get("Label"), period=m.get("Period"),
                                       return_data=m.get("ReturnData"), expression=m.get("Expression"),
                                       metric_stat=stat))
    return queries


@register
class Alarm(Handler):
    TYPE = "AWS::CloudWatch::Alarm"
    NAME_PROPERTY = "AlarmName"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name, props, account_id, region):
        alarm = cloudwatch_backends[account_id][region].put_metric_alarm(
            name=name,
            namespace=props.get("Namespace"),
            metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            period=int(props["Period"]) if props.get("Period") is not None else None,
            threshold=float(props["Threshold"]) if props.get("Threshold") is not None else None,
            statistic=props.get("Statistic"),
            description=props.get("AlarmDescription"),
            dimensions=[{"Name": d["Name"], "Value": d["Value"]} for d in props.get("Dimensions", [])],
            alarm_actions=props.get("AlarmActions", []),
            metric_data_queries=_queries(props.get("Metrics")),
            datapoints_to_alarm=int(props["DatapointsToAlarm"]) if props.get("DatapointsToAlarm") else None,
            extended_statistic=props.get("ExtendedStatistic"),
            ok_actions=props.get("OKActions", []),
            insufficient_data_actions=props.get("InsufficientDataActions", []),
            unit=props.get("Unit"),
            actions_enabled=as_bool(props.get("ActionsEnabled"), default=True),
            treat_missing_data=props.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=props.get("ThresholdMetricId"),
        )
        return Resource(cls, alarm.name, {"Arn": alarm.alarm_arn}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        # PutMetricAlarm overwrites an alarm of the same name, as in AWS.
        wanted = props.get("AlarmName", original.physical_resource_id)
        if wanted != original.physical_resource_id:
            cls.remove(original, account_id, region)
        return cls.create(wanted, props, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        cloudwatch_backends[account_id][region].delete_alarms([resource.physical_resource_id])
