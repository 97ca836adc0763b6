"""LiveKit on Compute Engine (docs/requirements.md#livekit): config-gated, on in staging."""

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
    assert vm["machine_type"] == "e2-medium"
    assert vm["shielded_instance_config"] == {"enable_secure_boot": True, "enable_vtpm": True, "enable_integrity_monitoring": True}
    assert vm["metadata"]["enable-oslogin"] == "TRUE"
    assert vm["metadata"]["block-project-ssh-keys"] == "TRUE"
    assert vm["metadata"]["serial-port-enable"] == "FALSE"
    assert "ssh-keys" not in vm["metadata"]
    assert vm["service_account"]["email"] == staging.ref("google_service_account", "Media/Livekit/ServiceAccount", "email")
    assert "compute@developer" not in str(vm)
    nic = vm["network_interface"][0]
    assert nic["access_config"][0]["nat_ip"] == staging.ref("google_compute_address", "Media/Livekit/ExternalAddress", "address")
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


def test_firewall_opens_exactly_the_livekit_ports_to_the_livekit_tag_only(staging):
    rules = {r["name"]: r for r in staging.resources("google_compute_firewall").values() if "Media/Livekit" in r["//"]["metadata"]["path"]}
    assert set(rules) == {"md-staging-livekit-allow-load-balancer", "md-staging-livekit-allow-media"}
    for rule in rules.values():
        assert rule["target_tags"] == ["livekit"] and rule["direction"] == "INGRESS"
        assert rule["log_config"] == {"metadata": "INCLUDE_ALL_METADATA"}
        assert not rule.get("deny")
    allowed = lambda rule: {(a["protocol"], p) for a in rule["allow"] for p in a["ports"]}  # noqa: E731
    # Signalling (7880) and TURN (5349) only from Google's front ends and health checkers.
    lb = rules["md-staging-livekit-allow-load-balancer"]
    assert allowed(lb) == {("tcp", "7880"), ("tcp", "5349")}
    assert sorted(lb["source_ranges"]) == ["130.211.0.0/22", "35.191.0.0/16"]
    # Media: ICE/TCP and the single UDP port LiveKit uses with udp_port set; no 50000-60000.
    media = rules["md-staging-livekit-allow-media"]
    assert allowed(media) == {("tcp", "7881"), ("udp", "7882")}
    assert media["source_ranges"] == ["0.0.0.0/0"]
    vm = staging.one("google_compute_instance", "Media/Livekit/Instance")
    assert vm["tags"] == ["livekit"]


def test_boot_script_is_updatable_in_place_and_opens_exactly_its_ports_on_the_host(staging):
    import re

    vm = staging.one("google_compute_instance", "Media/Livekit/Instance")
    # metadata_startup_script forces a new VM (refused by deletion protection); the metadata key updates in place.
    assert "metadata_startup_script" not in vm
    script = vm["metadata"]["startup-script"]
    opened = set(re.findall(r"iptables -w -A INPUT -p (tcp|udp) --dport (\d+) -j ACCEPT", script))
    assert opened == {("tcp", "7880"), ("tcp", "7881"), ("udp", "7882"), ("tcp", "5349")}
    # Checked first, so a second run adds nothing.
    assert len(re.findall(r"iptables -w -C INPUT", script)) == 4
    # The firewall comes before the server starts.
    assert script.index("iptables") < script.index("docker run -d --name livekit")
    assert "udp_port: 7882" in script and "port_range_start" not in script and "port_range_end" not in script
    assert "external_tls: true" in script and "tls_port: 5349" in script and "domain: turn-staging.mirror-dissonance.dev" in script


def test_signalling_only_over_tls_through_the_edge_and_turn_tls_on_443(staging):
    doc = staging
    backend = doc.one("google_compute_backend_service", "Media/Livekit/SignalBackend")
    assert backend["protocol"] == "HTTP" and backend["port_name"] == "signal" and backend["load_balancing_scheme"] == "EXTERNAL_MANAGED"
    url_map = doc.one("google_compute_url_map", "Edge/UrlMap")
    matchers = {m["name"]: m["default_service"] for m in url_map["path_matcher"]}
    routed = {r["hosts"][0]: matchers[r["path_matcher"]] for r in url_map["host_rule"]}
    assert routed["livekit-staging.mirror-dissonance.dev"] == doc.ref("google_compute_backend_service", "Media/Livekit/SignalBackend")
    cert = doc.one("google_compute_managed_ssl_certificate", "Edge/Certificate")
    assert "livekit-staging.mirror-dissonance.dev" in cert["managed"]["domains"]
    group = doc.one("google_compute_instance_group", "Media/Livekit/InstanceGroup")
    assert {(p["name"], p["port"]) for p in group["named_port"]} == {("signal", 7880), ("turn", 5349)}
    # TURN over TLS: an SSL proxy on 443 with its own managed certificate and the edge's TLS policy.
    proxy = doc.one("google_compute_target_ssl_proxy", "Media/Livekit/TurnProxy")
    assert proxy["ssl_policy"] == doc.ref("google_compute_ssl_policy", "Edge/TlsPolicy")
    turn_cert = doc.one("google_compute_managed_ssl_certificate", "Media/Livekit/TurnCertificate")
    assert turn_cert["managed"]["domains"] == ["turn-staging.mirror-dissonance.dev"]
    rule = doc.one("google_compute_global_forwarding_rule", "Media/Livekit/TurnRule")
    assert rule["port_range"] == "443" and rule["target"] == doc.ref("google_compute_target_ssl_proxy", "Media/Livekit/TurnProxy")
    turn = doc.one("google_compute_backend_service", "Media/Livekit/TurnBackend")
    assert turn["protocol"] == "TCP" and turn["port_name"] == "turn"
    # No forwarding rule or firewall anywhere exposes 7880.
    for fr in doc.resources("google_compute_global_forwarding_rule").values():
        assert fr["port_range"] in ("80", "443")


def test_public_plain_signalling_is_refused_by_the_loader(tmp_path):
    from envconfig.errors import ConfigError
    from envconfig.gcp import CONFIG_DIR, load_gcp_config
    from tests.config_edit import set_field, write_edited

    path = write_edited(CONFIG_DIR / "staging.yaml", tmp_path / "staging.yaml",
                        set_field("livekit.signalling_source_ranges", ["0.0.0.0/0"]))
    with pytest.raises(ConfigError, match=r"livekit.signalling_source_ranges\[0\]: 0.0.0.0/0 would open plain signalling \(TCP 7880, no TLS\)"):
        load_gcp_config(path)


def test_public_plain_signalling_is_refused_by_the_construct(gcp_synth):
    from constructs_lib.gcp import tf
    from constructs_lib.gcp.kms import KeyRing, grant_encrypt_decrypt
    from constructs_lib.gcp.livekit import LiveKitServer
    from constructs_lib.gcp.secrets import Secret

    stack = tf.TerraformStack(tf.Testing.app(), "bare")
    keys = KeyRing(stack, "Kms", project="p-123456", location="us-central1", name="k", purposes=["secrets"])
    grant = grant_encrypt_decrypt(stack, "Grant", key=keys.key("secrets"), member="serviceAccount:x@y.iam.gserviceaccount.com")
    secrets = [Secret(stack, n, project="p-123456", location="us-central1", secret_id=n.lower(), kms_key=keys.key("secrets"),
                      key_grant=grant) for n in ("Key", "Secret")]
    for secret in secrets:
        secret.generate_value()
    with pytest.raises(ValueError, match=r"firewall rule 'signalling' opens plain signalling TCP 7880 to 0.0.0.0/0"):
        LiveKitServer(stack, "Livekit", project="p-123456", region="us-central1", zone="us-central1-a", name="lk",
                      machine_type="e2-medium", network_id="n", subnet_id="s", domain="lk.example.dev",
                      turn_domain="turn.example.dev", media_source_ranges=["0.0.0.0/0"], api_key=secrets[0],
                      api_secret=secrets[1], signalling_source_ranges=["0.0.0.0/0"])


def test_production_enables_livekit_by_configuration_only(tmp_path):
    from envconfig.gcp import CONFIG_DIR, load_gcp_config
    from tests.config_edit import set_field, write_edited

    path = write_edited(CONFIG_DIR / "production.yaml", tmp_path / "production.yaml", set_field("livekit.enabled", True))
    config = load_gcp_config(path)
    assert config.livekit is not None and config.livekit.domain == "livekit.mirror-dissonance.dev"


def test_agent_idling_at_full_cpu_without_livekit_is_refused(tmp_path):
    from envconfig.errors import ConfigError
    from envconfig.gcp import CONFIG_DIR, load_gcp_config
    from tests.config_edit import set_field, write_edited

    def mutate(data):
        set_field("services.agent.min_instances", 1)(data)
        set_field("services.agent.cpu_always_allocated", True)(data)
    path = write_edited(CONFIG_DIR / "production.yaml", tmp_path / "production.yaml", mutate)
    with pytest.raises(ConfigError, match=r"services.agent.cpu_always_allocated: is true with min_instances 1 while livekit.enabled is false"):
        load_gcp_config(path)


def test_keys_come_from_secret_manager_at_boot_never_from_code(staging):
    vm = staging.one("google_compute_instance", "Media/Livekit/Instance")
    script = vm["metadata"]["startup-script"]
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
    # Through TLS, as clients connect: 7880 is not reachable from the checkers.
    assert check["http_check"]["port"] == 443 and check["http_check"]["use_ssl"] is True
    assert check["monitored_resource"]["labels"]["host"] == "livekit-staging.mirror-dissonance.dev"
    alert = staging.one("google_monitoring_alert_policy", "Observability/Monitoring/LivekitDown")
    assert alert["severity"] == "CRITICAL"  # "LiveKit server down" is Critical
    assert staging.ref("google_monitoring_uptime_check_config", "Media/Livekit/Uptime", "uptime_check_id") in alert["conditions"][0]["condition_threshold"]["filter"]


def test_only_the_agent_gets_livekit_through_the_contract(staging):
    for service in ("Api", "Websocket", "Agent"):
        body = staging.one("google_cloud_run_v2_service", f"Runtime/{service}/Service")
        env = {e["name"]: e for e in body["template"]["containers"][0]["env"]}
        if service != "Agent":
            assert not {"LIVEKIT_URL", "LIVEKIT_API_KEY", "LIVEKIT_API_SECRET"} & set(env), service
            continue
        assert env["LIVEKIT_URL"]["value"] == "wss://livekit-staging.mirror-dissonance.dev"
        for name, part in (("LIVEKIT_API_KEY", "LivekitApiKey"), ("LIVEKIT_API_SECRET", "LivekitApiSecret")):
            assert env[name]["value_source"]["secret_key_ref"]["secret"] == staging.ref("google_secret_manager_secret", f"Secrets/{part}", "secret_id")
