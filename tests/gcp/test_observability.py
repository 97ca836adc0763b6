"""Observability concern: channels, alert policies, uptime checks, dashboard, budget."""

from __future__ import annotations

import json

import pytest

from envconfig.gcp import Environment


def _policy(synth, key: str) -> dict:
    return synth.one("google_monitoring_alert_policy", f"Observability/Monitoring/{key}")


def test_one_email_channel_per_configured_address(synth):
    channels = synth.resources("google_monitoring_notification_channel")
    assert sorted(c["labels"]["email_address"] for c in channels.values()) == sorted(synth.config.monitoring.emails)
    assert all(c["type"] == "email" for c in channels.values())


@pytest.mark.parametrize(
    ("key", "metric", "threshold"),
    [
        ("ErrorRatio", "run.googleapis.com/request_count", lambda m: m.error_ratio_percent / 100),
        ("LatencyP95", "run.googleapis.com/request_latencies", lambda m: m.latency_p95_ms),
        ("SqlConnections", "cloudsql.googleapis.com/database/postgresql/num_backends", lambda m: m.sql_connections),
        ("SqlDisk", "cloudsql.googleapis.com/database/disk/utilization", lambda m: m.sql_disk_percent / 100),
        ("RedisMemory", "redis.googleapis.com/stats/memory/usage_ratio", lambda m: m.redis_memory_percent / 100),
        ("MigrationsFailed", "run.googleapis.com/job/completed_execution_count", lambda m: 0),
    ],
)
def test_alert_policy_thresholds_and_routing(synth, key, metric, threshold):
    policy = _policy(synth, key)
    condition = policy["conditions"][0]["condition_threshold"]
    assert f'metric.type = "{metric}"' in condition["filter"]
    assert condition["comparison"] == "COMPARISON_GT"
    assert condition["threshold_value"] == pytest.approx(threshold(synth.config.monitoring))
    assert len(policy["notification_channels"]) == len(synth.config.monitoring.emails)
    assert policy["severity"] in ("CRITICAL", "ERROR", "WARNING")
    assert policy["documentation"]["content"]


def test_spec_thresholds_in_both_environments(gcp_synth):
    for env in Environment:
        synth = gcp_synth[env]
        assert _policy(synth, "ErrorRatio")["conditions"][0]["condition_threshold"]["threshold_value"] == pytest.approx(0.05)
        assert _policy(synth, "LatencyP95")["conditions"][0]["condition_threshold"]["threshold_value"] == 500
        assert _policy(synth, "SqlDisk")["conditions"][0]["condition_threshold"]["threshold_value"] == pytest.approx(0.8)
        assert _policy(synth, "RedisMemory")["conditions"][0]["condition_threshold"]["threshold_value"] == pytest.approx(0.75)


def test_error_ratio_is_a_ratio_of_5xx_to_all_requests(synth):
    condition = _policy(synth, "ErrorRatio")["conditions"][0]["condition_threshold"]
    assert 'response_code_class = "5xx"' in condition["filter"]
    assert "5xx" not in condition["denominator_filter"]
    assert condition["denominator_aggregations"] == condition["aggregations"]


def test_latency_uses_p95(synth):
    condition = _policy(synth, "LatencyP95")["conditions"][0]["condition_threshold"]
    assert condition["aggregations"][0]["per_series_aligner"] == "ALIGN_PERCENTILE_95"


def test_uptime_check_and_alert_for_each_public_service(synth):
    public = sorted(s.value for s, c in synth.config.services.items() if c.public)
    checks = synth.resources("google_monitoring_uptime_check_config")
    assert len(checks) == len(public)
    for service in public:
        check = synth.one("google_monitoring_uptime_check_config", f"Observability/Monitoring/{service.title()}Uptime")
        assert check["http_check"]["use_ssl"] is True and check["http_check"]["path"] == "/health"
        host = check["monitored_resource"]["labels"]["host"]
        assert synth.ref("google_cloud_run_v2_service", f"Runtime/{service.title()}/Service", "uri").strip("${}") in host
        alert = _policy(synth, f"{service.title()}UptimeFailing")
        assert "uptime_check/check_passed" in alert["conditions"][0]["condition_threshold"]["filter"]


def test_dashboard_has_service_database_and_redis_panels(synth):
    dashboard = json.loads(synth.one("google_monitoring_dashboard", "Observability/Monitoring")["dashboard_json"])
    titles = {t["widget"]["title"] for t in dashboard["mosaicLayout"]["tiles"]}
    assert {"Requests by service", "5xx by service", "p95 latency (ms)", "Cloud SQL connections", "Cloud SQL disk",
            "Redis memory ratio"} <= titles


def test_budget_alerts_at_seed_002_amounts_in_staging(gcp_synth):
    budget = gcp_synth[Environment.STAGING].one("google_billing_budget", "Observability/Budget")
    assert budget["amount"]["specified_amount"] == {"currency_code": "USD", "units": "200"}
    spend = [round(r["threshold_percent"] * 200) for r in budget["threshold_rules"]]
    assert spend == [100, 150, 200]


def test_budget_is_scoped_to_the_project_and_routed(synth):
    budget = synth.one("google_billing_budget", "Observability/Budget")
    assert budget["billing_account"] == synth.config.budget.billing_account
    assert budget["budget_filter"]["projects"] == ["projects/${data.google_project.Project.number}"]
    assert len(budget["all_updates_rule"]["monitoring_notification_channels"]) == len(synth.config.monitoring.emails)
    amounts = [round(r["threshold_percent"] * synth.config.budget.amount_usd) for r in budget["threshold_rules"]]
    assert amounts == list(synth.config.budget.alert_thresholds_usd)
