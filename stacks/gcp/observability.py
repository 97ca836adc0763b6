"""Observability concern: alerting, SLOs, uptime checks, the dashboard, audit logs, the budget."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.audit_logs import AuditLogging
from constructs_lib.gcp.budget import BudgetAlerts
from constructs_lib.gcp.monitoring import AlertThresholds, PlatformMonitoring
from constructs_lib.gcp.slo import ServiceSlos
from envconfig.gcp import GcpConfig, Service
from stacks.gcp.runtime import Runtime, behind_edge, migrations_job_name, service_name


class Observability(tf.Construct):
    """Attributes: ``monitoring``, ``slos`` (Service -> ServiceSlos), ``audit``, ``budget``."""

    def __init__(self, scope: tf.Construct, id_: str, *, config: GcpConfig, runtime: Runtime, project_number: str) -> None:
        super().__init__(scope, id_)
        m = config.monitoring
        edge_hosts = {s: h for s, h in ((Service.API, config.domains.api), (Service.WEBSOCKET, config.domains.websocket))
                      if s in behind_edge(config)}
        self.monitoring = PlatformMonitoring(
            self,
            "Monitoring",
            project=config.project_id,
            name=config.name("platform"),
            emails=m.emails,
            thresholds=AlertThresholds(
                error_ratio_percent=m.error_ratio_percent,
                latency_p95_ms=m.latency_p95_ms,
                sql_connections=m.sql_connections,
                sql_disk_percent=m.sql_disk_percent,
                redis_memory_percent=m.redis_memory_percent,
                websocket_connections=m.websocket_connections,
                error_log_entries_per_minute=m.error_log_entries_per_minute,
            ),
            critical_emails=m.critical_emails,
            slack_channel=m.slack.channel if m.slack else None,
            slack_token_secret=m.slack.auth_token_secret if m.slack else None,
            websocket_service=service_name(config, Service.WEBSOCKET),
            run_services=[service_name(config, s) for s in runtime.services],
            # Behind the edge the *.run.app URL refuses outside callers (load-balancer
            # ingress): the uptime checks go through the custom domain, as users do.
            public_services={s.value: (f"https://{edge_hosts[s]}" if s in edge_hosts else svc.service.uri)
                             for s, svc in runtime.services.items() if svc.public_invoker is not None},
            # The ids Cloud Monitoring labels these resources with.
            sql_database_id=f"{config.project_id}:{config.name('pg')}",
            redis_instance_id=f"projects/{config.project_id}/locations/{config.region.value}/instances/{config.name('redis')}",
            migrations_job_name=migrations_job_name(config),
        )
        slo = config.slo
        self.slos = {}
        for service, svc in runtime.services.items():
            if svc.public_invoker is None:
                continue
            # The WebSocket's "request" is a session: no latency objective (constructs_lib/gcp/slo.py).
            latency = service is not Service.WEBSOCKET
            self.slos[service] = ServiceSlos(
                self, f"{service.value.title()}Slo", project=config.project_id, service_name=service_name(config, service),
                monitoring=self.monitoring, availability_goal=slo.availability_percent / 100, window_days=slo.window_days,
                latency_goal=slo.latency_percent / 100 if latency else None,
                latency_threshold_ms=slo.latency_threshold_ms if latency else None,
            )
        self.audit = AuditLogging(self, "AuditLogs", project=config.project_id, retention_days=config.logging.retention_days)
        self.budget = BudgetAlerts(
            self,
            "Budget",
            billing_account=config.budget.billing_account,
            project_number=project_number,
            display_name=f"{config.project_id} monthly",
            amount_usd=config.budget.amount_usd,
            thresholds_usd=config.budget.alert_thresholds_usd,
            notification_channels=[c.id for c in self.monitoring.channels],
        )
