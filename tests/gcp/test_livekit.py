"""LiveKit on Compute Engine (seed 002 Day 3-4): config-gated, on in staging."""

from __future__ import annotations

import pytest

from envconfig.gcp import Environment
from tests.gcp.test_first_apply import Graph


@pytest.fixture
def staging(gcp_synth):
    return gcp_synth[Environment.STAGING]


def test_livekit_is_on_in_staging_and_off_in_production(gcp_synth):
    assert len(gcp_synth[Environment.STAGING].resources("google_compute_instance")) == 1
    assert not gcp_synth[Environment.PRODUCTION].resources("google_compute_instance")
    assert not gcp_synth[Environment.PRODUCTION].resources("google_compute_address")


def test_vm_is_shielded_os_login_and_runs_as_its_own_account(staging):
    vm = staging.one("google_compute_instance", "Media/Livekit/Instance")
    assert vm["machine_type"] == "e2-medium"  # seed 002
    assert vm["shielded_instance_config"] == {"enable_secure_boot": True, "enable_vtpm": True, "enable_integrity_monitoring": True}
    assert vm["metadata"]["enable-oslogin"] == "TRUE"
    assert vm["metadata"]["block-project-ssh-keys"] == "TRUE"
    assert vm["metadata"]["serial-port-enable"] == "FALSE"
    assert "ssh-keys" not in vm["metadata"]
    assert vm["service_account"]["email"] == staging.ref("google_service_account", "Media/Livekit/ServiceAccount", "email")
    assert "compute@developer" not in str(vm)
    nic = vm["network_interface"][0]
    assert nic["access_config"][0]["nat_ip"] == staging.ref("google_compute_address", "Media/Livekit/ExternalAddress", "address")
    assert nic["network_ip"] == staging.ref("google_compute_address", "Media/Livekit/InternalAddress", "address")
    external = staging.one("google_compute_address", "Media/Livekit/ExternalAddress")
    assert external["address_type"] == "EXTERNAL"
    assert vm["deletion_protection"] is True


def test_vm_account_has_only_logging_and_metrics_and_reads_only_the_livekit_keys(staging):
    member = "serviceAccount:" + staging.ref("google_service_account", "Media/Livekit/ServiceAccount", "email")
    roles = sorted(m["role"] for m in staging.resources("google_project_iam_member").values() if m["member"] == member)
    assert roles == ["roles/logging.logWriter", "roles/monitoring.metricWriter"]
    secrets = {a["secret_id"] for a in staging.resources("google_secret_manager_secret_iam_member").values() if a["member"] == member}
    assert secrets == {
        staging.ref("google_secret_manager_secret", "Secrets/LivekitApiKey", "secret_id"),
        staging.ref("google_secret_manager_secret", "Secrets/LivekitApiSecret", "secret_id"),
    }


def test_firewall_opens_seed_002_ports_to_the_livekit_tag_only(staging):
    rules = {r["name"]: r for r in staging.resources("google_compute_firewall").values() if "Media/Livekit" in r["//"]["metadata"]["path"]}
    assert len(rules) == 3
    for rule in rules.values():
        assert rule["target_tags"] == ["livekit"] and rule["direction"] == "INGRESS"
        assert rule["log_config"] == {"metadata": "INCLUDE_ALL_METADATA"}
        assert not rule.get("deny")
    allowed = {(a["protocol"], p) for r in rules.values() for a in r["allow"] for p in a["ports"]}
    assert allowed == {("tcp", "7880-7881"), ("udp", "7882"), ("udp", "50000-60000"), ("tcp", "7880")}
    agent = rules["md-staging-livekit-allow-agent"]
    assert agent["source_ranges"] == ["10.10.0.0/24"]  # only the platform subnet reaches the agent port privately
    vm = staging.one("google_compute_instance", "Media/Livekit/Instance")
    assert vm["tags"] == ["livekit"]


def test_keys_come_from_secret_manager_at_boot_never_from_code(staging):
    vm = staging.one("google_compute_instance", "Media/Livekit/Instance")
    script = vm["metadata_startup_script"]
    assert "gcloud secrets versions access latest --project=mirror-dissonance-stg --secret=md-staging-livekit-api-key" in script
    assert "--secret=md-staging-livekit-api-secret" in script
    assert "livekit/livekit-server:v" in script and ":latest" not in script, "the media server image is pinned"
    graph = Graph(staging.doc)
    address = "google_compute_instance." + next(iter(staging.resources("google_compute_instance")))
    reach = graph.reachable(address)
    versions = [a for a, b in graph.of_type("google_secret_manager_secret_version").items() if "Livekit" in b["//"]["metadata"]["path"]]
    assert len(versions) == 2 and set(versions) <= reach, "the VM reads the keys at boot: versions first"
    for version in versions:
        local = graph.bodies[version]["secret_data_wo"]  # write-only: never in a plan or the state
        assert local.startswith("${local.") and "uuid()" in staging.doc["locals"][local[len("${local."):-1]]


def test_livekit_down_is_critical_and_checked_from_outside(staging):
    check = staging.one("google_monitoring_uptime_check_config", "Media/Livekit/Uptime")
    assert check["http_check"]["port"] == 7880
    assert check["monitored_resource"]["labels"]["host"] == staging.ref("google_compute_address", "Media/Livekit/ExternalAddress", "address")
    alert = staging.one("google_monitoring_alert_policy", "Observability/Monitoring/LivekitDown")
    assert alert["severity"] == "CRITICAL"  # seed 002: "LiveKit server down" is Critical
    assert staging.ref("google_monitoring_uptime_check_config", "Media/Livekit/Uptime", "uptime_check_id") in alert["conditions"][0]["condition_threshold"]["filter"]


def test_only_the_agent_gets_livekit_through_the_contract(staging):
    for service in ("Api", "Websocket", "Agent"):
        body = staging.one("google_cloud_run_v2_service", f"Runtime/{service}/Service")
        env = {e["name"]: e for e in body["template"]["containers"][0]["env"]}
        if service != "Agent":
            assert not {"LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"} & set(env), service
            continue
        internal = staging.ref("google_compute_address", "Media/Livekit/InternalAddress", "address")
        assert env["LIVEKIT_URL"]["value"] == f"ws://{internal}:7880"
        for name, part in (("LIVEKIT_API_KEY", "LivekitApiKey"), ("LIVEKIT_API_SECRET", "LivekitApiSecret")):
            assert env[name]["value_source"]["secret_key_ref"]["secret"] == staging.ref("google_secret_manager_secret", f"Secrets/{part}", "secret_id")
