"""Observability stack: alert topic, the table, Oracle and runtime alarms (docs/requirements.md#alarms), dashboard, audit trail."""

from __future__ import annotations

from aws_cdk import Acknowledgment, CfnOutput, Duration, Validations
from aws_cdk import aws_cloudtrail as cloudtrail
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_s3 as s3
from constructs import Construct

from constructs_lib.aws import EnvironmentKey, HardenedBucket
from constructs_lib.aws.alert_topic import AlertTopic
from constructs_lib.aws.cost_budget import CostBudget
from constructs_lib.aws.log_group import encrypted_log_group
from constructs_lib.aws.monitoring import MonitoringFacade, SlackRouting, sum_metric
from constructs_lib.aws.retention import retention_days
from constructs_lib.aws.trail_bucket import require_trail_source_arn
from envconfig.audit_trail import ObjectLockMode
from envconfig.aws import AwsConfig, Store, TableName, Threshold
from stacks.base import EnvironmentStack, PublishedValue


def _minutes(threshold: Threshold) -> Duration:
    return Duration.minutes(threshold.period_minutes)


class ObservabilityStack(EnvironmentStack):
    def __init__(self, scope: Construct, id_: str, *, config: AwsConfig) -> None:
        super().__init__(scope, id_, config=config, description=f"Mirror Dissonance observability ({config.name.value}): alarms, dashboard, audit trail")
        obs = config.observability
        self.key = EnvironmentKey(
            self, "ObservabilityKey", alias=f"{config.resource_prefix}-observability",
            description=f"Encrypts the {config.name.value} alert topic, audit trail and its logs",
        )
        # Alarms publish to the encrypted topic as CloudWatch; CloudTrail encrypts log files.
        self.key.allow_service("cloudwatch.amazonaws.com", actions=("kms:Decrypt", "kms:GenerateDataKey*"))
        self.key.allow_cloudwatch_logs()
        self.key.allow_cloudtrail()
        self.alerts = AlertTopic(
            self, "Alerts", topic_name=f"{config.resource_prefix}-alerts", encryption_key=self.key.key,
            emails=obs.alarm_emails, alarm_name_prefix=f"{config.resource_prefix}-",
        )
        # Cost (docs/requirements.md#cost): the account's monthly budget alerts on the same topic.
        if config.budget:
            self.key.allow_service("budgets.amazonaws.com", actions=("kms:Decrypt", "kms:GenerateDataKey*"), sid="AllowBudgets")
            self.budget = CostBudget(
                self, "Budget", budget_name=f"{config.resource_prefix}-monthly", limit_usd=config.budget.monthly_limit_usd,
                thresholds_percent=config.budget.alert_thresholds_percent, topic=self.alerts.topic,
            )
        self.monitoring = MonitoringFacade(self, "Alarms", topic=self.alerts.topic, name_prefix=config.resource_prefix)
        # Slack, off unless configured: AWS Chatbot subscribed to the same topic.
        self.slack = SlackRouting(
            self, "Slack", topic=self.alerts.topic, name=f"{config.resource_prefix}-alerts",
            workspace_id=obs.slack.workspace_id, channel_id=obs.slack.channel_id,
        ) if obs.slack else None

        # Alarms 1-6 (docs/requirements.md#alarms): read/write throttles on each table.
        t = obs.table_throttle
        table_metrics: dict[TableName, dict[str, cw.Metric]] = {}
        for table in TableName:
            name = config.table_name(table)
            table_metrics[table] = {
                kind: sum_metric("AWS/DynamoDB", f"{kind}ThrottleEvents", {"TableName": name}, _minutes(t), label=f"{table.value} {kind.lower()} throttles")
                for kind in ("Read", "Write")
            }
            for kind, metric in table_metrics[table].items():
                self.monitoring.add(
                    f"{table.value}-{kind.lower()}-throttle", metric=metric, thresholds={t.severity: t.value},
                    description=f"{name}: {kind}ThrottleEvents above {t.value:g} per {t.period_minutes} min",
                )
        # Alarms 7-8 (docs/requirements.md#alarms): the Oracle's custom metrics.
        env_dim = {"Environment": config.name.value}
        ssm_failures = sum_metric(obs.metrics_namespace, "SSMParameterFailures", env_dim, _minutes(obs.ssm_parameter_failures))
        breaker = sum_metric(obs.metrics_namespace, "CircuitBreakerTriggers", env_dim, _minutes(obs.circuit_breaker_triggers))
        s, c = obs.ssm_parameter_failures, obs.circuit_breaker_triggers
        self.monitoring.add("ssm-parameter-failures", metric=ssm_failures, thresholds={s.severity: s.value},
                            description=f"Oracle failed to read its SSM parameters more than {s.value:g} times in {s.period_minutes} min")
        self.monitoring.add("circuit-breaker-triggered", metric=breaker, thresholds={c.severity: c.value},
                            description=f"Oracle circuit breaker tripped (more than {c.value:g} in {c.period_minutes} min)")

        # Runtime alarms (docs/requirements.md#alarms) on the Oracle function (deterministic name) and its API (published id).
        function_dim = {"FunctionName": f"{config.resource_prefix}-oracle"}
        e, lat, thr = obs.lambda_error_rate_percent, obs.api_latency_p95_ms, obs.lambda_throttles
        errors = sum_metric("AWS/Lambda", "Errors", function_dim, _minutes(e))
        invocations = sum_metric("AWS/Lambda", "Invocations", function_dim, _minutes(e))
        error_rate = cw.MathExpression(
            expression="IF(invocations > 0, 100 * errors / invocations, 0)",
            using_metrics={"errors": errors, "invocations": invocations},
            label="Oracle error rate (%)", period=_minutes(e),
        )
        api_dim = {"ApiId": self.published(PublishedValue.ORACLE_API_ID)}
        latency = cw.Metric(namespace="AWS/ApiGateway", metric_name="Latency", dimensions_map=api_dim, statistic="p95", period=_minutes(lat), label="API latency p95 (ms)")
        throttles = sum_metric("AWS/Lambda", "Throttles", function_dim, _minutes(thr))
        self.monitoring.add("oracle-error-rate", metric=error_rate, thresholds={e.severity: e.value},
                            description=f"Oracle Lambda error rate above {e.value:g} % over {e.period_minutes} min")
        self.monitoring.add("oracle-api-latency-p95", metric=latency, thresholds={lat.severity: lat.value},
                            description=f"Oracle API p95 latency above {lat.value:g} ms over {lat.period_minutes} min")
        self.monitoring.add("oracle-throttles", metric=throttles, thresholds={thr.severity: thr.value},
                            description=f"Oracle Lambda throttled (reserved concurrency {config.runtime.reserved_concurrency})")

        # The table, parameter and circuit-breaker dashboard panels (docs/requirements.md#alarms), plus runtime latency and errors.
        self.dashboard = cw.Dashboard(self, "Dashboard", dashboard_name=f"{config.resource_prefix}-oracle")
        self.dashboard.add_widgets(
            cw.GraphWidget(title="DynamoDB capacity (read)", width=12, left=[
                cw.Metric(namespace="AWS/DynamoDB", metric_name="ConsumedReadCapacityUnits", dimensions_map={"TableName": config.table_name(tb)}, statistic="Sum", label=tb.value) for tb in TableName]),
            cw.GraphWidget(title="DynamoDB capacity (write)", width=12, left=[
                cw.Metric(namespace="AWS/DynamoDB", metric_name="ConsumedWriteCapacityUnits", dimensions_map={"TableName": config.table_name(tb)}, statistic="Sum", label=tb.value) for tb in TableName]),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="DynamoDB user and system errors", width=12, left=[
                cw.Metric(namespace="AWS/DynamoDB", metric_name="UserErrors", statistic="Sum", label="user errors (account)"),
                *[cw.Metric(namespace="AWS/DynamoDB", metric_name="SystemErrors", dimensions_map={"TableName": config.table_name(tb), "Operation": "PutItem"}, statistic="Sum", label=f"{tb.value} system errors") for tb in TableName]]),
            cw.GraphWidget(title="Throttles", width=12, left=[m for metrics in table_metrics.values() for m in metrics.values()]),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="SSM parameter failures", width=8, left=[ssm_failures]),
            cw.GraphWidget(title="Circuit breaker events", width=8, left=[breaker]),
            cw.AlarmStatusWidget(title="Alarm status", width=8, alarms=list(self.monitoring.alarms.values())),
        )
        # Runtime panels: request throughput, error rates, Lambda duration.
        invocations_panel = sum_metric("AWS/Lambda", "Invocations", function_dim, Duration.minutes(5), label="Lambda invocations")
        api_requests = sum_metric("AWS/ApiGateway", "Count", api_dim, Duration.minutes(5), label="API requests")
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Oracle throughput", width=8, left=[invocations_panel, api_requests]),
            cw.GraphWidget(title="Oracle Lambda duration p50 / p95 (ms)", width=8, left=[
                cw.Metric(namespace="AWS/Lambda", metric_name="Duration", dimensions_map=function_dim, statistic=stat,
                          period=Duration.minutes(5), label=f"duration {stat}") for stat in ("p50", "p95")]),
            cw.GraphWidget(title="Oracle API errors", width=8, left=[
                sum_metric("AWS/ApiGateway", metric, api_dim, Duration.minutes(5), label=f"API {metric}") for metric in ("4xx", "5xx")]),
        )
        self.dashboard.add_widgets(
            cw.GraphWidget(title="Oracle API latency p95", width=12, left=[latency]),
            cw.GraphWidget(title="Oracle errors", width=12, left=[error_rate], right=[errors, throttles]),
        )

        # Audit trail: multi-region, validated, KMS, its own hardened bucket
        # with Object Lock (tamper-evidence is the point), CloudWatch Logs.
        lock = obs.audit_trail_object_lock
        lock_retention = (s3.ObjectLockRetention.compliance if lock.mode is ObjectLockMode.COMPLIANCE else s3.ObjectLockRetention.governance)(Duration.days(lock.days))
        self.trail_bucket = HardenedBucket(
            self, "TrailBucket", encryption_key=self.key.key,
            noncurrent_version_expiration=Duration.days(config.data.noncurrent_version_expiration_days),
            object_lock=lock_retention,
            bucket_props={"bucket_name": f"{config.resource_prefix}-audit-trail-{config.account}"},
        )
        Validations.of(self.trail_bucket.bucket).acknowledge(
            Acknowledgment(
                id="cdk-validator-cfnguard::s3_event_notifications_enabled_check",
                reason="CT.S3.PR.4: only CloudTrail writes here and nothing consumes per-object events; the same events reach the TrailLogs log group, and log-file validation detects any change.",
            )
        )
        self.trail_logs = encrypted_log_group(
            self, "TrailLogs", name=f"/aws/cloudtrail/{config.resource_prefix}", retention=retention_days(obs.log_retention_days),
            encryption_key=self.key.key,
        )
        self.trail = cloudtrail.Trail(
            self, "AuditTrail", trail_name=f"{config.resource_prefix}-audit", bucket=self.trail_bucket.bucket,
            encryption_key=self.key.key, enable_file_validation=True, is_multi_region_trail=True,
            include_global_service_events=True, send_to_cloud_watch_logs=True, cloud_watch_log_group=self.trail_logs,
        )
        require_trail_source_arn(self.trail_bucket.bucket, trail_name=f"{config.resource_prefix}-audit")
        self._data_events(config)
        CfnOutput(self, "AlertTopicArn", value=self.alerts.topic.topic_arn)
        CfnOutput(self, "DashboardName", value=self.dashboard.dashboard_name)
        CfnOutput(self, "TrailArn", value=self.trail.trail_arn)
        CfnOutput(self, "AlarmCount", value=str(len(self.monitoring.alarms)))

    def _data_events(self, config: AwsConfig) -> None:
        """Who read or wrote the evidence is auditable (docs/requirements.md#audit-trail).

        Advanced event selectors (DynamoDB data events exist only there): all
        management events, read and write (no ``readOnly`` field), plus data
        events on exactly the configured tables and the baselines bucket's
        objects. With advanced selectors the management events must be
        selected explicitly, or the trail stops logging them.
        """
        selectors = [{"Name": "Management events (read and write)", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}]
        tables = [self.format_arn(service="dynamodb", resource="table", resource_name=config.table_name(s.table))
                  for s in config.audit_data_events if s.table]
        if tables:
            selectors.append({"Name": "Oracle tables: data events", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]},
                {"Field": "resources.ARN", "Equals": tables},
            ]})
        if Store.BASELINES in config.audit_data_events:
            selectors.append({"Name": "Baselines bucket: object data events", "FieldSelectors": [
                {"Field": "eventCategory", "Equals": ["Data"]},
                {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
                {"Field": "resources.ARN", "StartsWith": [f"arn:{self.partition}:s3:::{config.resource_prefix}-baselines-{config.account}/"]},
            ]})
        cfn_trail = self.trail.node.default_child
        cfn_trail.add_property_override("AdvancedEventSelectors", selectors)
        # CDK writes an empty EventSelectors list; a trail takes one kind of selector only.
        cfn_trail.add_property_deletion_override("EventSelectors")
