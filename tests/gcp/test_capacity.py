"""Sizes that must agree: the Postgres connection budget and the WebSocket capacity against its alert."""

from __future__ import annotations

from pathlib import Path

import pytest

from envconfig.errors import ConfigError
from envconfig.gcp import CONFIG_DIR, Environment, load_gcp_config
from tests.config_edit import set_field, write_edited


def _edited(tmp_path: Path, env: str, *edits) -> Path:
    def mutate(data):
        for edit in edits:
            edit(data)
    return write_edited(CONFIG_DIR / f"{env}.yaml", tmp_path / f"{env}.yaml", mutate)


def test_pools_beyond_max_connections_are_refused_naming_each_service(tmp_path):
    # Staging: db-f1-micro, max_connections 25. Ten API instances with a pool of 2 do not fit.
    path = _edited(tmp_path, "staging", set_field("services.api.max_instances", 10))
    with pytest.raises(ConfigError) as error:
        load_gcp_config(path)
    message = str(error.value)
    assert "sql.max_connections: 25 is below what the services can open" in message
    assert "api 10 x 2 = 20, websocket 3 x 2 = 6, agent 2 x 1 = 2, reserve 5 (migrations and admin) = 33" in message


def test_connections_alert_must_fire_below_max_connections(tmp_path):
    path = _edited(tmp_path, "staging", set_field("monitoring.sql_connections", 25))
    with pytest.raises(ConfigError, match=r"monitoring.sql_connections: 25 must be below sql.max_connections \(25\)"):
        load_gcp_config(path)


def test_migrations_pool_fits_in_the_reserve(tmp_path):
    path = _edited(tmp_path, "staging", set_field("migrations.pg_pool_max", 5))
    with pytest.raises(ConfigError, match=r"migrations.pg_pool_max: 5 must be below sql.reserved_connections \(5\)"):
        load_gcp_config(path)


def test_websocket_capacity_at_or_below_the_alert_is_refused(tmp_path):
    # Cloud Run's default concurrency (80) x 10 instances = 800 sockets: a 1000-socket alert never fires.
    path = _edited(tmp_path, "staging", set_field("services.websocket.concurrency", 80),
                   set_field("services.websocket.max_instances", 10), set_field("services.websocket.pg_pool_max", 1))
    with pytest.raises(ConfigError, match=r"services.websocket.concurrency: capacity 80 x 10 instances = 800 sockets "
                                          r"must exceed monitoring.websocket_connections \(1000\)"):
        load_gcp_config(path)


def test_stack_sets_max_connections_and_each_service_gets_its_pool(synth):
    expected = {Environment.STAGING: ("25", {"Api": "2", "Websocket": "2", "Agent": "1"}, "2"),
                Environment.PRODUCTION: ("200", {"Api": "5", "Websocket": "5", "Agent": "2"}, "5")}
    max_connections, pools, migrations = expected[synth.config.environment]
    flags = {f["name"]: f["value"] for f in synth.one("google_sql_database_instance", "Data/Postgres/Instance")["settings"]["database_flags"]}
    assert flags["max_connections"] == max_connections
    for service, pool in pools.items():
        env = {e["name"]: e.get("value") for e in synth.one("google_cloud_run_v2_service", f"Runtime/{service}/Service")["template"]["containers"][0]["env"]}
        assert env["DB_PG_POOL_MAX"] == pool, service
    job = synth.one("google_cloud_run_v2_job", "Runtime/Migrations/Job")
    assert {e["name"]: e.get("value") for e in job["template"]["template"]["containers"][0]["env"]}["DB_PG_POOL_MAX"] == migrations


def test_socket_alert_fires_below_websocket_capacity(synth):
    """The WebSocket alert fires at 1000 open sockets (Warning); capacity is above it."""
    service = synth.one("google_cloud_run_v2_service", "Runtime/Websocket/Service")["template"]
    capacity = service["max_instance_request_concurrency"] * service["scaling"]["max_instance_count"]
    alert = synth.one("google_monitoring_alert_policy", "Observability/Monitoring/WebsocketConnections")
    assert alert["conditions"][0]["condition_threshold"]["threshold_value"] == 1000
    assert capacity > 1000
