"""Observability facade: channels, alert policies, uptime checks, dashboard."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from enum import Enum
from typing import Mapping, Sequence

from constructs_lib.gcp import tf


class Severity(Enum):
    """The two alert routes (docs/requirements.md#gcp-alerts); every policy carries one.

    Critical pages (the ``critical_emails`` channels, e.g. a PagerDuty
    e-mail integration, plus the team's e-mails); Warning goes to the team's
    e-mails only. Cloud Monitoring's ``severity`` field carries the same
    value, so incident views and integrations can filter on it.
    """

    CRITICAL = "CRITICAL"
    WARNING = "WARNING"


# Memorystore's documented memory-pressure line (see the RedisOutOfMemory alert).
REDIS_SYSTEM_MEMORY_PRESSURE = 0.8


@dataclass(frozen=True)
class AlertThresholds:
    """Observability thresholds (docs/requirements.md#gcp-alerts), from configuration."""

    error_ratio_percent: float = 5.0
    latency_p95_ms: float = 500.0
    sql_connections: int = 80
    sql_disk_percent: float = 80.0
    redis_memory_percent: float = 75.0
    websocket_connections: int = 1000
    error_log_entries_per_minute: float = 10.0


@dataclass(frozen=True)
class _Alert:
    key: str
    title: str
    severity: Severity
    filter: str
    threshold: float
    aligner: str
    reducer: str | None = None
    denominator_filter: str | None = None
    duration: str = "300s"
    group_by: tuple[str, ...] = ()


def _alerts(*, thresholds: AlertThresholds, run_services: Sequence[str], sql_id: str, redis_id: str,
            job_name: str, websocket_service: str | None = None) -> list[_Alert]:
    """The threshold alerts, with their routing (docs/requirements.md#gcp-alerts): Critical = error rate, database
    connections exhausted, migrations failed (docs/requirements.md#gcp-alerts); Warning = p95 latency, disk,
    Redis memory, WebSocket connections."""
    services = " OR ".join(f'resource.labels.service_name = "{s}"' for s in run_services)
    run = f'resource.type = "cloud_run_revision" AND ({services})'
    extra = []
    if websocket_service:
        # Each open WebSocket is one in-flight request: the sum over instances
        # of each instance's peak concurrent requests is the number of open
        # sockets (Cloud Run has no connection-count metric of its own).
        extra.append(_Alert(
            "WebsocketConnections", "WebSocket connections", Severity.WARNING,
            f'resource.type = "cloud_run_revision" AND resource.labels.service_name = "{websocket_service}" '
            'AND metric.type = "run.googleapis.com/container/max_request_concurrencies"',
            thresholds.websocket_connections, "ALIGN_PERCENTILE_99", "REDUCE_SUM",
        ))
    return extra + [
        _Alert(
            "ErrorRatio", "Cloud Run 5xx ratio", Severity.CRITICAL,
            f'{run} AND metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = "5xx"',
            thresholds.error_ratio_percent / 100, "ALIGN_RATE", "REDUCE_SUM",
            denominator_filter=f'{run} AND metric.type = "run.googleapis.com/request_count"',
            group_by=("resource.labels.service_name",),
        ),
        _Alert(
            "LatencyP95", "Cloud Run p95 latency", Severity.WARNING,
            f'{run} AND metric.type = "run.googleapis.com/request_latencies"',
            thresholds.latency_p95_ms, "ALIGN_PERCENTILE_95",
        ),
        _Alert(
            "SqlConnections", "Cloud SQL connections", Severity.CRITICAL,
            f'resource.type = "cloudsql_database" AND resource.labels.database_id = "{sql_id}" '
            'AND metric.type = "cloudsql.googleapis.com/database/postgresql/num_backends"',
            thresholds.sql_connections, "ALIGN_MEAN", "REDUCE_SUM",
        ),
        _Alert(
            "SqlDisk", "Cloud SQL disk utilization", Severity.WARNING,
            f'resource.type = "cloudsql_database" AND resource.labels.database_id = "{sql_id}" '
            'AND metric.type = "cloudsql.googleapis.com/database/disk/utilization"',
            thresholds.sql_disk_percent / 100, "ALIGN_MEAN",
        ),
        _Alert(
            "RedisMemory", "Memorystore memory usage", Severity.WARNING,
            f'resource.type = "redis_instance" AND resource.labels.instance_id = "{redis_id}" '
            'AND metric.type = "redis.googleapis.com/stats/memory/usage_ratio"',
            thresholds.redis_memory_percent / 100, "ALIGN_MEAN",
        ),
        # Critical "Redis out of memory". Memorystore: a system memory
        # usage ratio above 80 % is memory pressure, and if it keeps growing the
        # instance can crash out of memory
        # (https://cloud.google.com/memorystore/docs/redis/memory-management-best-practices).
        _Alert(
            "RedisOutOfMemory", "Memorystore system memory pressure (out of memory risk)", Severity.CRITICAL,
            f'resource.type = "redis_instance" AND resource.labels.instance_id = "{redis_id}" '
            'AND metric.type = "redis.googleapis.com/stats/memory/system_memory_usage_ratio"',
            REDIS_SYSTEM_MEMORY_PRESSURE, "ALIGN_MEAN",
        ),
        # Session failures: sessions live in
        # Redis, so a client Memorystore turns away (maxclients) is a failed
        # login or a dropped session. Any rejection in five minutes pages.
        _Alert(
            "RedisRejectedConnections", "Memorystore rejected connections (session failures)", Severity.CRITICAL,
            f'resource.type = "redis_instance" AND resource.labels.instance_id = "{redis_id}" '
            'AND metric.type = "redis.googleapis.com/stats/reject_connections_count"',
            0, "ALIGN_DELTA", "REDUCE_SUM",
        ),
        # Migrations failures: any failed execution pages.
        _Alert(
            "MigrationsFailed", "Migrations job failed", Severity.CRITICAL,
            f'resource.type = "cloud_run_job" AND resource.labels.job_name = "{job_name}" '
            'AND metric.type = "run.googleapis.com/job/completed_execution_count" AND metric.labels.result = "failed"',
            0, "ALIGN_DELTA", "REDUCE_SUM", duration="0s",
        ),
    ]


def _dashboard(*, title: str, run_services: Sequence[str], sql_id: str, redis_id: str, error_metric: str) -> str:
    """The dashboard JSON as Cloud Monitoring stores it.

    The API drops default values from what it returns: empty lists
    (``groupByFields: []``), enum defaults (``crossSeriesReducer:
    REDUCE_NONE``) and zero integers (``xPos: 0``, ``yPos: 0``). Writing them
    makes google provider 6.50's google_monitoring_dashboard show a diff on
    every plan (its ``dashboard_json`` comparison is a JSON diff against what
    the API returns; registry docs for the resource note the API's
    normalisation), which a scheduled drift run would report forever. So
    none of them is ever written.
    """
    def chart(name: str, flt: str, aligner: str, reducer: str | None = None, group: Sequence[str] = ()) -> dict:
        aggregation = {"alignmentPeriod": "60s", "perSeriesAligner": aligner}
        if reducer:
            aggregation["crossSeriesReducer"] = reducer
        if group:
            aggregation["groupByFields"] = list(group)
        return {
            "title": name,
            "xyChart": {
                "dataSets": [{
                    "plotType": "LINE",
                    "timeSeriesQuery": {"timeSeriesFilter": {"filter": flt, "aggregation": aggregation}},
                }],
            },
        }

    services = " OR ".join(f'resource.labels.service_name = "{s}"' for s in run_services)
    run = f'resource.type = "cloud_run_revision" AND ({services})'
    sql = f'resource.type = "cloudsql_database" AND resource.labels.database_id = "{sql_id}"'
    redis = f'resource.type = "redis_instance" AND resource.labels.instance_id = "{redis_id}"'
    by_service = ["resource.labels.service_name"]
    tiles = [
        chart("Requests by service", f'{run} AND metric.type = "run.googleapis.com/request_count"', "ALIGN_RATE", "REDUCE_SUM", by_service),
        chart("5xx by service", f'{run} AND metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = "5xx"', "ALIGN_RATE", "REDUCE_SUM", by_service),
        chart("p95 latency (ms)", f'{run} AND metric.type = "run.googleapis.com/request_latencies"', "ALIGN_PERCENTILE_95"),
        chart("Instances", f'{run} AND metric.type = "run.googleapis.com/container/instance_count"', "ALIGN_MEAN", "REDUCE_SUM", by_service),
        chart("Cloud SQL CPU", f'{sql} AND metric.type = "cloudsql.googleapis.com/database/cpu/utilization"', "ALIGN_MEAN"),
        chart("Cloud SQL connections", f'{sql} AND metric.type = "cloudsql.googleapis.com/database/postgresql/num_backends"', "ALIGN_MEAN", "REDUCE_SUM"),
        chart("Cloud SQL disk", f'{sql} AND metric.type = "cloudsql.googleapis.com/database/disk/utilization"', "ALIGN_MEAN"),
        chart("Redis memory ratio", f'{redis} AND metric.type = "redis.googleapis.com/stats/memory/usage_ratio"', "ALIGN_MEAN"),
        chart("Redis connected clients", f'{redis} AND metric.type = "redis.googleapis.com/clients/connected"', "ALIGN_MEAN"),
        # Per service: which one is CPU- or memory-bound (distributions over instances, p95).
        chart("Cloud Run CPU utilization by service (p95)", f'{run} AND metric.type = "run.googleapis.com/container/cpu/utilizations"',
              "ALIGN_PERCENTILE_95", "REDUCE_MAX", by_service),
        chart("Cloud Run memory utilization by service (p95)", f'{run} AND metric.type = "run.googleapis.com/container/memory/utilizations"',
              "ALIGN_PERCENTILE_95", "REDUCE_MAX", by_service),
        # Evictions mean the cache (and the sessions in it) is too small; the hit ratio shows whether it still helps.
        chart("Redis evicted keys per second", f'{redis} AND metric.type = "redis.googleapis.com/stats/evicted_keys"', "ALIGN_RATE"),
        chart("Redis cache hit ratio", f'{redis} AND metric.type = "redis.googleapis.com/stats/cache_hit_ratio"', "ALIGN_MEAN"),
        chart("Error log entries by service",
              f'resource.type = "cloud_run_revision" AND metric.type = "logging.googleapis.com/user/{error_metric}"',
              "ALIGN_RATE", "REDUCE_SUM", ["metric.label.service_name"]),
    ]

    def position(i: int) -> dict:
        pos = {"width": 6, "height": 4}
        if i % 2:
            pos["xPos"] = 6
        if i // 2:
            pos["yPos"] = (i // 2) * 4
        return pos

    return json.dumps({"displayName": title, "mosaicLayout": {"columns": 12, "tiles": [
        {**position(i), "widget": w} for i, w in enumerate(tiles)
    ]}}, sort_keys=True)


def _host(uri: str) -> str:
    """The host of an https:// URI: in Python for a literal (a custom domain), in Terraform for a reference."""
    if tf.Token.is_unresolved(uri):
        return tf.Fn.replace(uri, "https://", "")
    return uri.removeprefix("https://").split("/", 1)[0]


RUNBOOK = "docs/runbooks/gcp.md"


def runbook_slug(text: str) -> str:
    """The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", text.strip().lower()).replace(" ", "-")


def runbook_anchor(title: str, severity: "Severity", service_prefix: str) -> str:
    """The runbook section of an alert (docs/requirements.md#gcp-alerts): one per alert, the same in every environment.

    Service names lose the environment's prefix (``md-staging-api`` -> ``api``).
    SLO burn-rate alerts are named by SLO kind and speed, not by their windows,
    so a change of window keeps its runbook; the fast burn pages (Critical),
    the slow burn opens a ticket.
    """
    short = title.replace(service_prefix, "") if service_prefix else title
    burn = re.match(r"^\S+ (availability|latency) SLO burning", short)
    if burn:
        return f"slo-{burn.group(1)}-{'fast' if severity is Severity.CRITICAL else 'slow'}-burn"
    return runbook_slug(short)


class PlatformMonitoring(tf.Construct):
    """E-mail channels, the alert policies (docs/requirements.md#gcp-alerts), uptime checks, one dashboard.

    ``public_services`` maps a construct-id-safe name to a Cloud Run service
    URI; each gets an HTTPS uptime check on ``health_path`` and an alert when
    it fails from two or more regions. Every alert policy has a severity,
    documentation and all e-mail channels.

    Resource ids of Cloud SQL / Redis are the ``project:name`` and
    ``projects/<p>/locations/<r>/instances/<name>`` the metrics carry.

    Attributes: ``channels``, ``alert_policies`` (key -> policy),
    ``uptime_checks`` and ``uptime_alerts`` (service -> resource),
    ``dashboard``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, name: str, emails: Sequence[str],
                 thresholds: AlertThresholds, run_services: Sequence[str], public_services: Mapping[str, str],
                 sql_database_id: str, redis_instance_id: str, migrations_job_name: str,
                 health_path: str = "/health", critical_emails: Sequence[str] = (),
                 websocket_service: str | None = None, slack_channel: str | None = None,
                 slack_token_secret: str | None = None) -> None:
        super().__init__(scope, id_)
        if not emails:
            raise ValueError(f"{self.node.path}: at least one e-mail channel is required")
        mon = tf.monitoring_alert_policy
        self.channels = [
            tf.monitoring_notification_channel.MonitoringNotificationChannel(
                self, f"Email{index}", project=project, type="email", display_name=f"{name} {email}",
                labels={"email_address": email},
            )
            for index, email in enumerate(emails)
        ]
        self.critical_channels = [
            tf.monitoring_notification_channel.MonitoringNotificationChannel(
                self, f"Critical{index}", project=project, type="email", display_name=f"{name} critical {email}",
                labels={"email_address": email},
            )
            for index, email in enumerate(critical_emails)
        ]
        # Slack (off unless configured): a channel of type "slack" whose OAuth token
        # is read from Secret Manager at plan time (google provider 6.50
        # google_monitoring_notification_channel, sensitive_labels.auth_token; Cloud
        # Monitoring "Create and manage notification channels", Slack). The provider
        # has no write-only form of auth_token, so the token reaches the state as a
        # sensitive value (docs/gcp.md). Slack is a team channel: both severities.
        self.slack_channel = None
        if (slack_channel is None) != (slack_token_secret is None):
            raise ValueError(f"{self.node.path}: Slack needs both a channel and the secret holding its token")
        if slack_channel is not None:
            token = tf.data_google_secret_manager_secret_version.DataGoogleSecretManagerSecretVersion(
                self, "SlackToken", project=project, secret=slack_token_secret,
            )
            self.slack_channel = tf.monitoring_notification_channel.MonitoringNotificationChannel(
                self, "Slack", project=project, type="slack", display_name=f"{name} Slack {slack_channel}",
                labels={"channel_name": slack_channel},
                sensitive_labels=tf.monitoring_notification_channel.MonitoringNotificationChannelSensitiveLabels(
                    auth_token=token.secret_data),
            )
        team = self.channels + ([self.slack_channel] if self.slack_channel is not None else [])
        self.routing = {
            Severity.CRITICAL: [c.id for c in team + self.critical_channels],
            Severity.WARNING: [c.id for c in team],
        }
        self._project, self._name = project, name
        policy = self.add_policy

        self.alert_policies: dict[str, mon.MonitoringAlertPolicy] = {}
        for alert in _alerts(thresholds=thresholds, run_services=run_services, sql_id=sql_database_id,
                             redis_id=redis_instance_id, job_name=migrations_job_name,
                             websocket_service=websocket_service):
            self.alert_policies[alert.key] = self._threshold_policy(alert)

        # Log-based error metric (google provider 6.50 google_logging_metric; Cloud
        # Logging "Log-based metrics", https://cloud.google.com/logging/docs/logs-based-metrics):
        # entries of severity ERROR or worse from our services, counted per
        # service. It catches what the 5xx ratio does not: errors the app
        # logs while answering 200, and the agent, which serves no users.
        services_in = " OR ".join(f'"{s}"' for s in run_services)
        lm = tf.logging_metric
        self.error_log_metric = lm.LoggingMetric(
            self, "ErrorLogMetric", project=project, name=f"{name}-error-logs",
            description="Cloud Run log entries with severity ERROR or worse, per service",
            filter=f'resource.type="cloud_run_revision" AND severity>=ERROR AND resource.labels.service_name=({services_in})',
            metric_descriptor=lm.LoggingMetricMetricDescriptor(
                metric_kind="DELTA", value_type="INT64", unit="1",
                labels=[lm.LoggingMetricMetricDescriptorLabels(key="service_name", value_type="STRING",
                                                               description="Cloud Run service")],
            ),
            label_extractors={"service_name": "EXTRACT(resource.labels.service_name)"},
        )
        # The policy references the metric's name, so it is created after the metric exists.
        self.alert_policies["ErrorLogs"] = self._threshold_policy(_Alert(
            "ErrorLogs", "Cloud Run error log entries", Severity.WARNING,
            f'resource.type = "cloud_run_revision" AND metric.type = "logging.googleapis.com/user/{self.error_log_metric.name}"',
            thresholds.error_log_entries_per_minute, "ALIGN_DELTA", "REDUCE_SUM", group_by=("metric.label.service_name",),
        ))

        up = tf.monitoring_uptime_check_config
        self.uptime_checks: dict[str, up.MonitoringUptimeCheckConfig] = {}
        self.uptime_alerts: dict[str, mon.MonitoringAlertPolicy] = {}
        for service, uri in public_services.items():
            key = service.title().replace("-", "")
            check = up.MonitoringUptimeCheckConfig(
                self, f"{key}Uptime", project=project, display_name=f"{name} {service} {health_path}",
                timeout="10s", period="60s",
                http_check=up.MonitoringUptimeCheckConfigHttpCheck(path=health_path, port=443, use_ssl=True, validate_ssl=True),
                monitored_resource=up.MonitoringUptimeCheckConfigMonitoredResource(
                    type="uptime_url", labels={"project_id": project, "host": _host(uri)}
                ),
            )
            self.uptime_checks[service] = check
            self.uptime_alerts[service] = policy(
                f"{key}UptimeFailing", f"{service} uptime check failing", Severity.CRITICAL,
                mon.MonitoringAlertPolicyConditions(
                    display_name=f"{service} uptime",
                    condition_threshold=mon.MonitoringAlertPolicyConditionsConditionThreshold(
                        filter=(f'resource.type = "uptime_url" AND metric.type = "monitoring.googleapis.com/uptime_check/check_passed" '
                                f'AND metric.labels.check_id = "{check.uptime_check_id}"'),
                        comparison="COMPARISON_GT", threshold_value=1, duration="300s",
                        aggregations=[mon.MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                            alignment_period="60s", per_series_aligner="ALIGN_NEXT_OLDER",
                            cross_series_reducer="REDUCE_COUNT_FALSE", group_by_fields=["resource.labels.host"],
                        )],
                        trigger=mon.MonitoringAlertPolicyConditionsConditionThresholdTrigger(count=1),
                    ),
                ),
            )

        self.dashboard = tf.monitoring_dashboard.MonitoringDashboard(
            self, "Dashboard", project=project,
            dashboard_json=_dashboard(title=name, run_services=run_services, sql_id=sql_database_id, redis_id=redis_instance_id,
                                      error_metric=f"{name}-error-logs"),
        )

    def _threshold_policy(self, alert: _Alert) -> tf.monitoring_alert_policy.MonitoringAlertPolicy:
        """One threshold condition from an :class:`_Alert`, routed by its severity."""
        mon = tf.monitoring_alert_policy
        aggregation = dict(alignment_period="60s", per_series_aligner=alert.aligner)
        if alert.reducer:
            aggregation.update(cross_series_reducer=alert.reducer, group_by_fields=list(alert.group_by))
        threshold = mon.MonitoringAlertPolicyConditionsConditionThreshold(
            filter=alert.filter, comparison="COMPARISON_GT", threshold_value=alert.threshold,
            duration=alert.duration,
            aggregations=[mon.MonitoringAlertPolicyConditionsConditionThresholdAggregations(**aggregation)],
            denominator_filter=alert.denominator_filter,
            denominator_aggregations=(
                [mon.MonitoringAlertPolicyConditionsConditionThresholdDenominatorAggregations(**aggregation)]
                if alert.denominator_filter else None
            ),
            trigger=mon.MonitoringAlertPolicyConditionsConditionThresholdTrigger(count=1),
        )
        return self.add_policy(
            alert.key, alert.title, alert.severity,
            mon.MonitoringAlertPolicyConditions(display_name=alert.title, condition_threshold=threshold),
        )

    def add_policy(self, id_: str, title: str, severity: Severity,
                   condition: tf.monitoring_alert_policy.MonitoringAlertPolicyConditions
                   | Sequence[tf.monitoring_alert_policy.MonitoringAlertPolicyConditions],
                   combiner: str = "OR",
                   ) -> tf.monitoring_alert_policy.MonitoringAlertPolicy:
        """An alert policy routed by ``severity`` (see :class:`Severity`), with documentation.

        ``condition`` is one condition or several joined by ``combiner``
        ("AND" for the multiwindow burn-rate alerts, constructs_lib/gcp/slo.py).
        """
        mon = tf.monitoring_alert_policy
        name = self._name
        conditions = list(condition) if isinstance(condition, (list, tuple)) else [condition]


        # "md-staging-platform" -> "md-staging-": the services are "<name_prefix>-<service>".
        anchor = runbook_anchor(title, severity, name.rsplit("-", 1)[0] + "-")
        return mon.MonitoringAlertPolicy(
            self, id_, project=self._project, display_name=f"{name}: {title}", combiner=combiner,
            severity=severity.value, notification_channels=self.routing[severity], conditions=conditions,
            user_labels={"severity": severity.value.lower()},
            documentation=mon.MonitoringAlertPolicyDocumentation(
                mime_type="text/markdown", subject=f"[{severity.value}] {name}: {title}",
                content=(f"{title} crossed its threshold in {name}.\n\n"
                         f"Runbook: {RUNBOOK}#{anchor} (what it means, first checks, mitigation, escalation)."),
            ),
            alert_strategy=mon.MonitoringAlertPolicyAlertStrategy(auto_close="1800s"),
        )
