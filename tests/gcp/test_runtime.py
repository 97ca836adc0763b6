"""Runtime concern: Cloud Run services and the migrations job."""

from __future__ import annotations

import pytest

from constructs_lib.gcp.cloud_run import JOB_ROLLOUT_OWNED_FIELDS, ROLLOUT_OWNED_FIELDS
from envconfig.contract import default_contract
from envconfig.gcp import Service


def _env(container: dict) -> tuple[dict[str, str], dict[str, dict]]:
    plain = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    secret = {e["name"]: e["value_source"]["secret_key_ref"] for e in container["env"] if "value_source" in e}
    return plain, secret


@pytest.mark.parametrize("service", list(Service), ids=lambda s: s.value)
def test_service_scaling_ingress_identity_and_vpc(synth, service):
    sc = synth.config.services[service]
    body = synth.one("google_cloud_run_v2_service", f"Runtime/{service.value.title()}/Service")
    template = body["template"]
    assert body["name"] == synth.config.name(service.value)
    assert template["scaling"] == {"min_instance_count": sc.min_instances, "max_instance_count": sc.max_instances}
    # Public services are behind the edge in both environments (tests/gcp/test_edge.py).
    assert body["ingress"] == ("INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER" if sc.public else "INGRESS_TRAFFIC_INTERNAL_ONLY")
    assert template["service_account"] == synth.ref("google_service_account", f"Runtime/{service.value.title()}/Identity", "email")
    assert template["vpc_access"]["egress"] == "PRIVATE_RANGES_ONLY"
    assert template["vpc_access"]["network_interfaces"][0]["subnetwork"] == synth.ref("google_compute_subnetwork", "Data/Network/Subnet")
    assert body["deletion_protection"] is True
    assert body["lifecycle"]["ignore_changes"] == ROLLOUT_OWNED_FIELDS
    container = template["containers"][0]
    assert container["ports"] == {"container_port": sc.port}
    assert container["resources"]["limits"] == {"cpu": sc.cpu, "memory": sc.memory}


@pytest.mark.parametrize("service", list(Service), ids=lambda s: s.value)
def test_service_environment_matches_contract_and_secrets_are_references(synth, service):
    contract = default_contract().service(service.value)
    body = synth.one("google_cloud_run_v2_service", f"Runtime/{service.value.title()}/Service")
    plain, secret = _env(body["template"]["containers"][0])
    names = set(plain) | set(secret)
    assert names <= set(contract.variables), names - set(contract.variables)
    assert contract.required <= names, contract.required - names
    assert set(secret) == contract.secrets & names
    assert not set(plain) & contract.secrets
    for name, ref in secret.items():
        assert ref["version"] == "latest"
        assert ref["secret"].startswith("${google_secret_manager_secret.") and ref["secret"].endswith(".secret_id}"), name
    # the schema's names, never the legacy ones.
    assert {"BETTER_AUTH_SECRET", "KV_REDIS_URL", "KV_REDIS_PASSWORD"} <= set(secret)
    assert not {"AUTH_SECRET", "REDIS_URL", "DATABASE_URL"} & names
    assert plain["NODE_ENV"] == "production" and plain["APP_ENV"] == synth.config.environment.value
    assert plain["DB_PG_HOST"].endswith(".private_ip_address}")


def test_only_public_services_have_a_public_invoker(synth):
    invokers = synth.resources("google_cloud_run_v2_service_iam_member")
    public = {s for s, c in synth.config.services.items() if c.public}
    assert len(invokers) == len(public)
    for service in public:
        invoker = synth.one("google_cloud_run_v2_service_iam_member", f"Runtime/{service.value.title()}/PublicInvoker")
        assert invoker["role"] == "roles/run.invoker" and invoker["member"] == "allUsers"


def test_every_runtime_has_its_own_service_account(synth):
    accounts = [
        synth.one("google_cloud_run_v2_service", f"Runtime/{s.value.title()}/Service")["template"]["service_account"] for s in Service
    ] + [synth.one("google_cloud_run_v2_job", "Runtime/Migrations")["template"]["template"]["service_account"]]
    assert len(set(accounts)) == len(accounts)
    assert all(a.startswith("${google_service_account.") for a in accounts)


def test_services_wait_for_their_secret_access(synth):
    body = synth.one("google_cloud_run_v2_service", "Runtime/Api/Service")
    accessors = [d for d in body["depends_on"] if d.startswith("google_secret_manager_secret_iam_member.")]
    assert len(accessors) == 4


def test_migrations_job_is_serialized_not_retried_and_contract_checked(synth):
    job = synth.one("google_cloud_run_v2_job", "Runtime/Migrations")
    assert job["name"] == synth.config.name("migrations")
    assert job["template"]["task_count"] == 1 and job["template"]["parallelism"] == 1
    inner = job["template"]["template"]
    assert inner["max_retries"] == 0
    assert inner["timeout"] == f"{synth.config.migrations.timeout_seconds}s"
    assert inner["vpc_access"]["network_interfaces"][0]["subnetwork"] == synth.ref("google_compute_subnetwork", "Data/Network/Subnet")
    assert job["lifecycle"]["ignore_changes"] == JOB_ROLLOUT_OWNED_FIELDS
    assert job["deletion_protection"] is True
    plain, secret = _env(inner["containers"][0])
    contract = default_contract().service("migrations")
    assert contract.required <= set(plain) | set(secret) <= set(contract.variables)
    assert set(secret) == {"DB_PG_PASSWORD"}


def test_websocket_keeps_sockets_an_hour_and_sticks_to_an_instance(synth):
    """Cloud Run's default 300 s timeout would cut every socket."""
    ws = synth.one("google_cloud_run_v2_service", "Runtime/Websocket/Service")["template"]
    assert int(ws["timeout"].rstrip("s")) >= 3600
    assert ws["session_affinity"] is True


def test_agent_cpu_is_not_throttled_between_requests_and_the_others_are(synth):
    # Production has no LiveKit: its agent is throttled and scales to zero (cost), staging's is not.
    agent_throttled = synth.config.environment.value == "production"
    for service, throttled in ((Service.AGENT, agent_throttled), (Service.API, True), (Service.WEBSOCKET, True)):
        body = synth.one("google_cloud_run_v2_service", f"Runtime/{service.value.title()}/Service")
        assert body["template"]["containers"][0]["resources"]["cpu_idle"] is throttled, service


# traces and metrics over OTLP; the writers each signal needs.
OTLP_ROLES = {"roles/cloudtrace.agent", "roles/monitoring.metricWriter", "roles/telemetry.metricsWriter"}


@pytest.mark.parametrize("service", list(Service), ids=lambda s: s.value)
def test_otlp_goes_through_the_contract_with_the_roles_it_needs(synth, service):
    body = synth.one("google_cloud_run_v2_service", f"Runtime/{service.value.title()}/Service")
    plain, _ = _env(body["template"]["containers"][0])
    assert plain["OTLP_TRACE_EXPORTER_URL"] == "https://telemetry.googleapis.com/v1/traces"
    assert plain["OTLP_METRIC_EXPORTER_URL"] == "https://telemetry.googleapis.com/v1/metrics"
    roles = {m["role"] for m in synth.resources("google_project_iam_member").values() if m["member"] == f"serviceAccount:{body['template']['service_account']}"}
    assert roles == OTLP_ROLES, roles


def test_migrations_job_gets_no_project_roles(synth):
    job = synth.one("google_cloud_run_v2_job", "Runtime/Migrations")
    member = f"serviceAccount:{job['template']['template']['service_account']}"
    assert not [m for m in synth.resources("google_project_iam_member").values() if m["member"] == member]
