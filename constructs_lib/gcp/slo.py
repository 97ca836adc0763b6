"""Service level objectives for the public Cloud Run services, with burn-rate alerts (docs/requirements.md#gcp-alerts)."""

from __future__ import annotations

from dataclasses import dataclass

from constructs_lib.gcp import tf
from constructs_lib.gcp.monitoring import PlatformMonitoring, Severity


@dataclass(frozen=True)
class BurnRate:
    """A multiwindow, multi-burn-rate alert (Google SRE workbook, "Alerting on
    SLOs", recommended parameters; https://sre.google/workbook/alerting-on-slos/).

    ``rate`` times the sustainable error rate over ``window_seconds`` AND over
    ``short_window_seconds`` (1/12 of it): 14.4 over 1 h spends 2 % of a
    30-day budget in an hour (page); 6 over 6 h spends 5 % in six hours
    (ticket). The long window alone keeps the alert firing for up to an hour
    after recovery; the short window ends it minutes after the errors stop.
    Cloud Monitoring: one policy, two ``select_slo_burn_rate`` conditions,
    combiner AND ("Alerting on your burn rate",
    https://cloud.google.com/stackdriver/docs/solutions/slo-monitoring/alerting-on-budget-burn-rate).
    """

    key: str
    window_seconds: int
    short_window_seconds: int
    rate: float
    severity: Severity


BURN_RATES = (
    BurnRate("FastBurn", 3600, 300, 14.4, Severity.CRITICAL),
    BurnRate("SlowBurn", 21600, 1800, 6.0, Severity.WARNING),
)


def _run_filter(service_name: str, metric: str) -> str:
    return (f'metric.type="{metric}" resource.type="cloud_run_revision" '
            f'resource.label."service_name"="{service_name}"')


class ServiceSlos(tf.Construct):
    """A custom Monitoring service for one Cloud Run service, its SLOs and their burn-rate alerts.

    Defaults and why:
    - availability: request-based, good/total with 5xx as bad (4xx are the
      caller's errors, not the service's);
    - latency (when ``latency_threshold_ms`` is given): request-based
      distribution cut, requests served within the threshold count as good.
      Not for the WebSocket service, whose "request" is a socket that stays
      open up to an hour: its latency distribution measures session length;
    - a rolling window of ``window_days``;
    - two burn-rate alerts per SLO (:data:`BURN_RATES`), routed by severity
      through ``monitoring``.

    Attributes: ``service``, ``slos`` (kind -> MonitoringSlo), ``alerts`` (id -> policy).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, service_name: str,
                 monitoring: PlatformMonitoring, availability_goal: float, window_days: int,
                 latency_goal: float | None = None, latency_threshold_ms: int | None = None) -> None:
        super().__init__(scope, id_)
        if not 0 < availability_goal < 1 or (latency_goal is not None and not 0 < latency_goal < 1):
            raise ValueError(f"{self.node.path}: SLO goals are fractions between 0 and 1")
        slo = tf.monitoring_slo
        self.service = tf.monitoring_custom_service.MonitoringCustomService(
            self, "Service", project=project, service_id=service_name, display_name=f"Cloud Run {service_name}",
        )
        requests = "run.googleapis.com/request_count"
        self.slos: dict[str, tf.monitoring_slo.MonitoringSlo] = {
            "availability": slo.MonitoringSlo(
                self, "Availability", project=project, service=self.service.service_id,
                slo_id=f"{service_name}-availability", display_name=f"{service_name}: {availability_goal:.2%} of requests without 5xx",
                goal=availability_goal, rolling_period_days=window_days,
                request_based_sli=slo.MonitoringSloRequestBasedSli(
                    good_total_ratio=slo.MonitoringSloRequestBasedSliGoodTotalRatio(
                        total_service_filter=_run_filter(service_name, requests),
                        bad_service_filter=f'{_run_filter(service_name, requests)} metric.label."response_code_class"="5xx"',
                    )
                ),
            )
        }
        if latency_goal is not None and latency_threshold_ms is not None:
            self.slos["latency"] = slo.MonitoringSlo(
                self, "Latency", project=project, service=self.service.service_id,
                slo_id=f"{service_name}-latency",
                display_name=f"{service_name}: {latency_goal:.0%} of requests within {latency_threshold_ms} ms",
                goal=latency_goal, rolling_period_days=window_days,
                request_based_sli=slo.MonitoringSloRequestBasedSli(
                    distribution_cut=slo.MonitoringSloRequestBasedSliDistributionCut(
                        distribution_filter=_run_filter(service_name, "run.googleapis.com/request_latencies"),
                        range=slo.MonitoringSloRequestBasedSliDistributionCutRange(max=latency_threshold_ms),
                    )
                ),
            )
        mon = tf.monitoring_alert_policy
        self.alerts: dict[str, mon.MonitoringAlertPolicy] = {}
        for kind, objective in self.slos.items():
            for burn in BURN_RATES:
                key = f"{kind.title()}{burn.key}"
                title = f"{service_name} {kind} SLO burning {burn.rate}x over {burn.window_seconds // 3600} h"
                conditions = [
                    mon.MonitoringAlertPolicyConditions(
                        display_name=f"{title} ({label} window)",
                        condition_threshold=mon.MonitoringAlertPolicyConditionsConditionThreshold(
                            filter=f'select_slo_burn_rate("{objective.name}", "{window}s")',
                            comparison="COMPARISON_GT", threshold_value=burn.rate, duration="0s",
                        ),
                    )
                    for label, window in (("long", burn.window_seconds), ("short", burn.short_window_seconds))
                ]
                self.alerts[key] = monitoring.add_policy(f"{id_}{key}", title, burn.severity, conditions, combiner="AND")
