"""Observability concern: channels, alert policies, uptime checks, dashboard, budget."""

from __future__ import annotations

import json

import pytest

from envconfig.gcp import Environment


def _policy(synth, key: str) -> dict:
    return synth.one("google_monitoring_alert_policy", f"Observability/Monitoring/{key}")


def test_one_email_channel_per_configured_address(synth):
    channels = synth.resources("google_monitoring_notification_channel")
    m = synth.config.monitoring
    assert sorted(c["labels"]["email_address"] for c in channels.values()) == sorted(m.emails + m.critical_emails)
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
        ("RedisRejectedConnections", "redis.googleapis.com/stats/reject_connections_count", lambda m: 0),
    ],
)
def test_alert_policy_thresholds_and_routing(synth, key, metric, threshold):
    policy = _policy(synth, key)
    condition = policy["conditions"][0]["condition_threshold"]
    assert f'metric.type = "{metric}"' in condition["filter"]
    assert condition["comparison"] == "COMPARISON_GT"
    assert condition["threshold_value"] == pytest.approx(threshold(synth.config.monitoring))
    assert policy["severity"] == SEVERITY_ROUTE[key]
    assert policy["documentation"]["content"]


# Critical (paged) = API error rate > 5 %, database
# connections exhausted, Redis out of memory, LiveKit down; Warning (e-mail) = p95 latency > 500 ms,
# disk > 80 %, Redis memory > 75 %, WebSocket connections > 1000. docs/requirements.md#gcp-alerts adds
# migrations failures (they block a deploy: Critical); uptime failures page.
SEVERITY_ROUTE = {
    "ErrorRatio": "CRITICAL",
    "SqlConnections": "CRITICAL",
    "RedisOutOfMemory": "CRITICAL",
    "MigrationsFailed": "CRITICAL",
    "RedisRejectedConnections": "CRITICAL",  # auth/redis session failures
    "LatencyP95": "WARNING",
    "SqlDisk": "WARNING",
    "RedisMemory": "WARNING",
    "WebsocketConnections": "WARNING",
    "ApiUptimeFailing": "CRITICAL",
    "WebsocketUptimeFailing": "CRITICAL",
}


def test_every_policy_is_critical_or_warning_and_routed_by_it(synth):
    channels = synth.resources("google_monitoring_notification_channel")
    pager = {f"${{google_monitoring_notification_channel.{n}.id}}" for n, c in channels.items() if "/Critical" in c["//"]["metadata"]["path"]}
    team = {f"${{google_monitoring_notification_channel.{n}.id}}" for n, c in channels.items() if "/Email" in c["//"]["metadata"]["path"]}
    assert pager and team and not pager & team
    policies = synth.resources("google_monitoring_alert_policy")
    for key, severity in SEVERITY_ROUTE.items():
        assert _policy(synth, key)["severity"] == severity, key
    for name, policy in policies.items():
        assert policy["severity"] in ("CRITICAL", "WARNING"), name
        assert policy["user_labels"] == {"severity": policy["severity"].lower()}, name
        routed = set(policy["notification_channels"])
        assert routed == (team | pager if policy["severity"] == "CRITICAL" else team), name


def test_redis_out_of_memory_pages_at_memorystore_pressure_line(synth):
    condition = _policy(synth, "RedisOutOfMemory")["conditions"][0]["condition_threshold"]
    assert 'metric.type = "redis.googleapis.com/stats/memory/system_memory_usage_ratio"' in condition["filter"]
    assert condition["threshold_value"] == pytest.approx(0.8) and condition["comparison"] == "COMPARISON_GT"


def test_websocket_connections_warn_above_1000(synth):
    condition = _policy(synth, "WebsocketConnections")["conditions"][0]["condition_threshold"]
    assert condition["threshold_value"] == 1000
    assert condition["comparison"] == "COMPARISON_GT"
    assert f'resource.labels.service_name = "{synth.config.name("websocket")}"' in condition["filter"]
    assert condition["aggregations"][0]["cross_series_reducer"] == "REDUCE_SUM"


def test_slos_with_burn_rate_alerts_for_each_public_service(synth):
    slos = synth.resources("google_monitoring_slo")
    # api: availability and latency; websocket: availability (its requests are sessions)
    assert len(slos) == 3
    api = synth.one("google_monitoring_slo", "Observability/ApiSlo/Latency")
    assert api["request_based_sli"]["distribution_cut"]["range"] == {"max": 500}  # 500 ms
    for name, slo in slos.items():
        assert 0.9 <= slo["goal"] < 1 and slo["rolling_period_days"] == 28, name
        ref = f"${{google_monitoring_slo.{name}.name}}"
        burns = {
            tuple(sorted((c["condition_threshold"]["filter"], c["condition_threshold"]["threshold_value"],
                          c["condition_threshold"]["duration"]) for c in p["conditions"])) + (p["combiner"], p["severity"])
            for p in synth.resources("google_monitoring_alert_policy").values()
            if any(ref in c["condition_threshold"]["filter"] for c in p["conditions"])
        }
        # The SRE workbook's multiwindow, multi-burn-rate alerts ("Alerting on
        # SLOs", recommended parameters): page at 14.4x over 1 h AND 5 min,
        # warn at 6x over 6 h AND 30 min. The short window resets the alert
        # minutes after recovery; no duration on top (it would only delay).
        assert burns == {
            ((f'select_slo_burn_rate("{ref}", "300s")', 14.4, "0s"),
             (f'select_slo_burn_rate("{ref}", "3600s")', 14.4, "0s"), "AND", "CRITICAL"),
            ((f'select_slo_burn_rate("{ref}", "1800s")', 6.0, "0s"),
             (f'select_slo_burn_rate("{ref}", "21600s")', 6.0, "0s"), "AND", "WARNING"),
        }, name
    availability = synth.one("google_monitoring_slo", "Observability/ApiSlo/Availability")["request_based_sli"]["good_total_ratio"]
    assert 'metric.label."response_code_class"="5xx"' in availability["bad_service_filter"]


def test_data_access_audit_logs_for_secrets_sql_and_storage(synth):
    configs = synth.resources("google_project_iam_audit_config")
    assert {c["service"] for c in configs.values()} == {"secretmanager.googleapis.com", "cloudsql.googleapis.com", "storage.googleapis.com"}
    for name, config in configs.items():
        assert sorted(c["log_type"] for c in config["audit_log_config"]) == ["ADMIN_READ", "DATA_READ", "DATA_WRITE"], name
        assert not any(c.get("exempted_members") for c in config["audit_log_config"]), name


def test_log_bucket_keeps_logs_at_least_30_days(synth):
    bucket = synth.one("google_logging_project_bucket_config", "Observability/AuditLogs")
    assert bucket["bucket_id"] == "_Default" and bucket["location"] == "global"
    assert bucket["retention_days"] >= 30


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
    checks = {n: c for n, c in synth.resources("google_monitoring_uptime_check_config").items() if "/Observability/" in c["//"]["metadata"]["path"]}
    assert len(checks) == len(public)
    for service in public:
        check = synth.one("google_monitoring_uptime_check_config", f"Observability/Monitoring/{service.title()}Uptime")
        assert check["http_check"]["use_ssl"] is True and check["http_check"]["path"] == "/health"
        host = check["monitored_resource"]["labels"]["host"]
        # Through the edge's custom domain: the run.app URL refuses outside callers (load-balancer ingress).
        assert host == getattr(synth.config.domains, service)
        alert = _policy(synth, f"{service.title()}UptimeFailing")
        assert "uptime_check/check_passed" in alert["conditions"][0]["condition_threshold"]["filter"]


def test_dashboard_has_service_database_and_redis_panels(synth):
    dashboard = json.loads(synth.one("google_monitoring_dashboard", "Observability/Monitoring")["dashboard_json"])
    titles = {t["widget"]["title"] for t in dashboard["mosaicLayout"]["tiles"]}
    assert {"Requests by service", "5xx by service", "p95 latency (ms)", "Cloud SQL connections", "Cloud SQL disk",
            "Redis memory ratio"} <= titles


def test_budget_alerts_at_the_required_amounts_in_staging(gcp_synth):
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


def _tiles(synth) -> dict[str, dict]:
    dashboard = json.loads(synth.one("google_monitoring_dashboard", "Observability/Monitoring")["dashboard_json"])
    return {t["widget"]["title"]: t for t in dashboard["mosaicLayout"]["tiles"]}


def test_dashboard_panels_for_cpu_memory_redis_and_error_logs(synth):
    tiles = _tiles(synth)
    wanted = {
        "Cloud Run CPU utilization by service (p95)": "run.googleapis.com/container/cpu/utilizations",
        "Cloud Run memory utilization by service (p95)": "run.googleapis.com/container/memory/utilizations",
        "Redis evicted keys per second": "redis.googleapis.com/stats/evicted_keys",
        "Redis cache hit ratio": "redis.googleapis.com/stats/cache_hit_ratio",
        "Error log entries by service": f"logging.googleapis.com/user/{synth.config.name_prefix}-platform-error-logs",
    }
    for title, metric in wanted.items():
        assert title in tiles, title
        query = tiles[title]["widget"]["xyChart"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]
        assert f'metric.type = "{metric}"' in query["filter"], title
    for title in ("Cloud Run CPU utilization by service (p95)", "Cloud Run memory utilization by service (p95)"):
        aggregation = tiles[title]["widget"]["xyChart"]["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["aggregation"]
        assert aggregation["groupByFields"] == ["resource.labels.service_name"], title


def test_dashboard_json_has_nothing_the_api_drops(synth):
    """Cloud Monitoring drops empty lists, REDUCE_NONE and zero positions from the stored
    dashboard; any of them in the JSON is a diff on every plan (and in every drift run)."""
    raw = synth.one("google_monitoring_dashboard", "Observability/Monitoring")["dashboard_json"]
    assert '"groupByFields": []' not in raw and "REDUCE_NONE" not in raw
    assert '"xPos": 0' not in raw and '"yPos": 0' not in raw
    assert len(_tiles(synth)) >= 14


def test_error_log_metric_counts_severity_error_and_above_per_service(synth):
    metric = synth.one("google_logging_metric", "Observability/Monitoring/ErrorLogMetric")
    assert metric["name"] == f"{synth.config.name_prefix}-platform-error-logs"
    assert "severity>=ERROR" in metric["filter"].replace(" ", "")
    assert 'resource.type="cloud_run_revision"' in metric["filter"].replace(" ", "")
    for service in ("api", "websocket", "agent"):
        assert f'"{synth.config.name(service)}"' in metric["filter"]
    assert metric["metric_descriptor"]["metric_kind"] == "DELTA" and metric["metric_descriptor"]["value_type"] == "INT64"
    assert metric["label_extractors"] == {"service_name": "EXTRACT(resource.labels.service_name)"}


def test_error_log_alert_fires_per_service_above_ten_a_minute(synth):
    policy = _policy(synth, "ErrorLogs")
    condition = policy["conditions"][0]["condition_threshold"]
    metric = synth.ref("google_logging_metric", "Observability/Monitoring/ErrorLogMetric", "name")
    assert f'metric.type = "logging.googleapis.com/user/{metric}"' in condition["filter"]
    assert condition["threshold_value"] == 10 and condition["comparison"] == "COMPARISON_GT"
    aggregation = condition["aggregations"][0]
    assert aggregation["per_series_aligner"] == "ALIGN_DELTA" and aggregation["alignment_period"] == "60s"
    assert aggregation["group_by_fields"] == ["metric.label.service_name"]
    assert policy["severity"] == "WARNING"


def test_slack_is_off_by_default(synth):
    assert synth.config.monitoring.slack is None
    assert not [c for c in synth.resources("google_monitoring_notification_channel").values() if c["type"] == "slack"]


def test_slack_routing_by_configuration_gets_both_severities_and_a_secret_token(gcp_synth, tmp_path):
    from constructs_lib.gcp import tf
    from envconfig.gcp import CONFIG_DIR, load_gcp_config
    from stacks.gcp.platform import GcpPlatformStack
    from tests.config_edit import set_field, write_edited

    path = write_edited(CONFIG_DIR / "staging.yaml", tmp_path / "staging.yaml", set_field(
        "monitoring.slack", {"channel": "#platform-alerts", "auth_token_secret": "md-staging-slack-token"}))
    outdir = tmp_path / "out"
    app = tf.App(outdir=str(outdir))
    GcpPlatformStack(app, config=load_gcp_config(path))
    app.synth()
    doc = json.loads((outdir / "stacks" / "gcp-staging" / "cdk.tf.json").read_text())
    [(name, slack)] = [(n, c) for n, c in doc["resource"]["google_monitoring_notification_channel"].items() if c["type"] == "slack"]
    assert slack["labels"] == {"channel_name": "#platform-alerts"}
    [(token_name, token)] = doc["data"]["google_secret_manager_secret_version"].items()
    assert token["secret"] == "md-staging-slack-token"
    assert slack["sensitive_labels"]["auth_token"] == f"${{data.google_secret_manager_secret_version.{token_name}.secret_data}}"
    ref = f"${{google_monitoring_notification_channel.{name}.id}}"
    for policy in doc["resource"]["google_monitoring_alert_policy"].values():
        assert ref in policy["notification_channels"], policy["display_name"]
