"""pgAudit audits something; the apps get the Postgres and Redis server CAs through the contract."""

from __future__ import annotations


def _env(synth, path: str, job: bool = False) -> dict:
    body = synth.one("google_cloud_run_v2_job" if job else "google_cloud_run_v2_service", path)["template"]
    containers = body["template"]["containers"] if job else body["containers"]
    return {e["name"]: e.get("value") for e in containers[0]["env"]}


def test_pgaudit_logs_ddl_and_role_changes(synth):
    flags = {f["name"]: f["value"] for f in synth.one("google_sql_database_instance", "Data/Postgres/Instance")["settings"]["database_flags"]}
    assert flags["cloudsql.enable_pgaudit"] == "on"
    assert flags["pgaudit.log"] == "ddl,role"
    # One line per statement is cost, not signal: off.
    assert flags["log_duration"] == "off"


def test_services_and_job_get_the_server_cas_as_plain_values(synth):
    sql = synth.ref("google_sql_database_instance", "Data/Postgres/Instance", "server_ca_cert")
    redis_ref = synth.ref("google_redis_instance", "Data/Redis/Instance", "server_ca_certs")
    for service in ("Api", "Websocket", "Agent"):
        env = _env(synth, f"Runtime/{service}/Service")
        assert env["DB_PG_CA_CERT"] == sql[:-1] + "[0].cert}", service
        # Every CA during a rotation, concatenated.
        assert env["KV_REDIS_CA_CERT"] == '${join("", ' + redis_ref[2:-1] + '[*].cert)}', service
    job = _env(synth, "Runtime/Migrations/Job", job=True)
    assert job["DB_PG_CA_CERT"] == sql[:-1] + "[0].cert}"
    assert "KV_REDIS_CA_CERT" not in job


def test_contract_requires_the_ca_and_pool_variables():
    from envconfig.contract import default_contract

    for service in ("api", "websocket", "agent"):
        contract = default_contract().service(service)
        assert {"DB_PG_CA_CERT", "KV_REDIS_CA_CERT", "DB_PG_POOL_MAX"} <= contract.required
        assert not {"DB_PG_CA_CERT", "KV_REDIS_CA_CERT"} & contract.secrets  # public material
    assert {"DB_PG_CA_CERT", "DB_PG_POOL_MAX"} <= default_contract().service("migrations").required
