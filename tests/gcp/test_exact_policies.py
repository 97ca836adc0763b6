"""GCP values docs/requirements.md fixes, stated here (not read from config/gcp/*.yaml):
every alert policy enabled, comparing "greater than" with a threshold no laxer
than docs/requirements.md#gcp-alerts, with a notification channel; Cloud SQL's logging flags exactly."""

from __future__ import annotations

# GCP observability: 5xx ratio > 5 %, p95 > 500 ms, Redis memory > 75 %, disk > 80 % (docs/requirements.md#gcp-alerts).
ALERT_CEILINGS = {"Cloud Run 5xx ratio": 0.05, "Cloud Run p95 latency": 500, "Memorystore memory usage": 0.75,
                  "Cloud SQL disk utilization": 0.8}
# CIS Google Cloud PostgreSQL benchmark flags; statement text is not logged
# beyond DDL (docs/requirements.md#gcp-alerts: no PII in logs); pgaudit for the audit trail.
SQL_FLAGS = {
    "log_checkpoints": "on", "log_connections": "on", "log_disconnections": "on", "log_duration": "off",
    "log_lock_waits": "on", "log_hostname": "on", "log_min_messages": "error", "log_min_error_statement": "error",
    "log_temp_files": "0", "log_min_duration_statement": "-1", "log_statement": "ddl", "cloudsql.enable_pgaudit": "on",
    "pgaudit.log": "ddl,role",
}


def test_every_alert_policy_is_enabled_routed_and_no_laxer_than_spec(synth):
    policies = synth.resources("google_monitoring_alert_policy")
    assert policies
    seen = set()
    for name, policy in policies.items():
        # absent means the provider default, true; false would silence it
        assert policy.get("enabled", True) is True, name
        assert policy.get("notification_channels"), f"{name}: no notification channel"
        for condition in policy["conditions"]:
            threshold = condition.get("condition_threshold")
            if threshold is None:
                continue
            assert threshold["comparison"] == "COMPARISON_GT", name
            for label, ceiling in ALERT_CEILINGS.items():
                if policy["display_name"].endswith(label):
                    seen.add(label)
                    assert 0 <= threshold["threshold_value"] <= ceiling, f"{name}: {threshold['threshold_value']} above the requirements {ceiling}"
    assert seen == set(ALERT_CEILINGS)


def test_cloud_sql_logging_flags_are_exactly_these(synth):
    [instance] = synth.resources("google_sql_database_instance").values()
    flags = {f["name"]: f["value"] for f in instance["settings"]["database_flags"]}
    max_connections = {"staging": "25", "production": "200"}[synth.config.environment.value]
    assert flags == {**SQL_FLAGS, "max_connections": max_connections}
