"""Policy, not echo: values the requirements fix are refused by the loader,
so a wrong value in a configuration file stops synth instead of becoming
"correct" by construction (docs/requirements.md#configuration).

Each bound below names its source. The tests state the same values
independently (tests/test_policy_floors.py).
"""

from __future__ import annotations

from envconfig.audit_trail import PRODUCTION_MIN_LOCK_DAYS, ObjectLockMode
from envconfig.errors import ConfigError
from envconfig.models.aws import AwsConfig, Store
from envconfig.models.gcp import Environment, GcpConfig, RedisTier, Service, SqlAvailability

# A year of logs in production (Control Tower CT.CLOUDWATCH.PR.2).
PRODUCTION_MIN_LOG_RETENTION_DAYS = 365

# CloudWatch Logs retention of at least 30 days (docs/requirements.md#retention).
MIN_LOG_RETENTION_DAYS = 30
# Daily backups kept at least 7 days (docs/requirements.md#retention).
MIN_BACKUP_RETENTION_DAYS = 7
# Alarm ceilings (an alarm may be stricter, never laxer; docs/requirements.md#alarms):
# throttles > 10 / 5 min, SSMParameterFailures > 5 / 5 min,
# CircuitBreakerTriggers > 0 / 5 min, Lambda error rate > 1 %, API p95 > 500 ms.
AWS_THRESHOLD_CEILINGS = {
    "table_throttle": 10,
    "ssm_parameter_failures": 5,
    "circuit_breaker_triggers": 0,
    "lambda_error_rate_percent": 1,
    "api_latency_p95_ms": 500,
}
MAX_ALARM_PERIOD_MINUTES = 5  # every count is "/ 5 min" (docs/requirements.md#alarms)
# GCP alerts (docs/requirements.md#gcp-alerts): error rate > 5 %, p95 > 500 ms, disk > 80 %, Redis memory > 75 %.
GCP_MONITORING_CEILINGS = {"error_ratio_percent": 5, "latency_p95_ms": 500, "sql_disk_percent": 80, "redis_memory_percent": 75}
# Billing alerts at 100 / 150 / 200 USD (docs/requirements.md#cost).
REQUIRED_BUDGET_ALERTS_USD = (100, 150, 200)
# The GitHub deploy identity rolls out revisions and runs the migrations job
# (config/gcp/*.yaml); these are the predefined roles that job can need.
# Anything broader (basic roles, *.admin, IAM or KMS administration) is refused.
GCP_DEPLOY_ROLE_ALLOWLIST = frozenset({
    "roles/run.developer",
    "roles/run.invoker",
    "roles/run.viewer",
    "roles/iam.serviceAccountUser",
    "roles/artifactregistry.reader",
    "roles/artifactregistry.writer",
    "roles/logging.viewer",
})


def check_aws_production(config: AwsConfig) -> None:
    """What production must be, beyond what any environment may be."""
    if not config.is_production:
        return
    source = config.source
    for consumer in config.oracle_consumers:
        if consumer.environment != "production":
            raise ConfigError(source, f"github.oracle_consumers.{consumer.repository}.environments",
                              f"production roles trust only the GitHub environment 'production', got {consumer.environment!r}")
    if not config.data.deletion_protection:
        raise ConfigError(source, "data.deletion_protection", "must be true in production (stateful resources are never deletable there)")
    retention = config.observability.log_retention_days
    if retention < PRODUCTION_MIN_LOG_RETENTION_DAYS:
        raise ConfigError(source, "observability.log_retention_days",
                          f"must be at least 365 in production (a year of logs, Control Tower CT.CLOUDWATCH.PR.2), got {retention}")
    lock = config.observability.audit_trail_object_lock
    if lock.mode is not ObjectLockMode.COMPLIANCE:
        raise ConfigError(source, "observability.audit_trail_object_lock.mode",
                          "must be compliance in production (a governance lock can be lifted by the deploy pipeline's "
                          "execution role, whose actions the trail records)")
    if lock.days < PRODUCTION_MIN_LOCK_DAYS:
        raise ConfigError(source, "observability.audit_trail_object_lock.days",
                          f"must be at least {PRODUCTION_MIN_LOCK_DAYS} in production (a year of audit logs), got {lock.days}")
    if config.recovery.dr_region is None:
        raise ConfigError(source, "recovery.dr_region", "is required in production (backups are copied out of the primary region)")
    if set(config.audit_data_events) != set(Store):
        raise ConfigError(source, "audit.data_event_stores",
                          "must list every store in production (who read the evidence must be auditable, docs/requirements.md#audit-trail)")


def check_aws(config: AwsConfig) -> None:
    check_aws_production(config)
    source = config.source
    if config.observability.log_retention_days < MIN_LOG_RETENTION_DAYS:
        raise ConfigError(source, "observability.log_retention_days",
                          f"must be at least {MIN_LOG_RETENTION_DAYS} days (docs/requirements.md#retention), got {config.observability.log_retention_days}")
    if config.data.backup_retention_days < MIN_BACKUP_RETENTION_DAYS:
        raise ConfigError(source, "data.backup_retention_days",
                          f"must be at least {MIN_BACKUP_RETENTION_DAYS} days (docs/requirements.md#retention), got {config.data.backup_retention_days}")
    for name, ceiling in AWS_THRESHOLD_CEILINGS.items():
        threshold = getattr(config.observability, name)
        field = f"observability.thresholds.{name}"
        if threshold.value > ceiling:
            raise ConfigError(source, f"{field}.threshold",
                              f"must be at most {ceiling} (docs/requirements.md#alarms: the alarm fires above {ceiling}), got {threshold.value:g}")
        if threshold.period_minutes > MAX_ALARM_PERIOD_MINUTES:
            raise ConfigError(source, f"{field}.period_minutes",
                              f"must be at most {MAX_ALARM_PERIOD_MINUTES} (docs/requirements.md#alarms: counts per 5 minutes), got {threshold.period_minutes}")


def check_gcp(config: GcpConfig) -> None:
    source = config.source
    production = config.environment is Environment.PRODUCTION
    if production and not config.deletion_protection:
        raise ConfigError(source, "deletion_protection", "must be true in production")
    if production and config.sql.availability is not SqlAvailability.REGIONAL:
        raise ConfigError(source, "sql.availability", "must be REGIONAL in production (a zonal outage must not take the database down)")
    if config.services[Service.AGENT].public:
        raise ConfigError(source, "services.agent.public", "must be false: the agent service is internal (docs/requirements.md#least-privilege)")
    if production and config.redis.tier is not RedisTier.STANDARD_HA:
        raise ConfigError(source, "redis.tier", f"must be STANDARD_HA in production (a zonal failure must not lose the cache), got {config.redis.tier.value}")
    for index, role in enumerate(config.oidc.deploy_roles):
        if role not in GCP_DEPLOY_ROLE_ALLOWLIST:
            raise ConfigError(source, f"oidc.deploy_roles[{index}]",
                              f"{role} is not on the deploy identity's allow-list {sorted(GCP_DEPLOY_ROLE_ALLOWLIST)} (envconfig/policy.py)")
    for name, ceiling in GCP_MONITORING_CEILINGS.items():
        value = getattr(config.monitoring, name)
        if value > ceiling:
            raise ConfigError(source, f"monitoring.{name}", f"must be at most {ceiling} (docs/requirements.md#gcp-alerts), got {value:g}")
    missing = [usd for usd in REQUIRED_BUDGET_ALERTS_USD if usd not in config.budget.alert_thresholds_usd]
    if missing:
        raise ConfigError(source, "budget.alert_thresholds_usd", f"must include the alerts at 100, 150 and 200 USD (docs/requirements.md#cost), missing {missing}")
