"""Custom domains for the API and WebSocket (docs/requirements.md#gcp-tls): global HTTPS load balancer, managed certificate."""

from __future__ import annotations

from tests.gcp.test_first_apply import Graph


def test_each_custom_domain_routes_to_its_cloud_run_service(synth):
    d = synth.config.domains
    cert = synth.one("google_compute_managed_ssl_certificate", "Edge/Certificate")
    # With LiveKit on, its signalling domain shares the edge (wss://, tests/gcp/test_livekit.py).
    livekit = [synth.config.livekit.domain] if synth.config.livekit else []
    frontends = {f.domain for f in synth.config.frontends}
    assert cert["type"] == "MANAGED" and sorted(cert["managed"]["domains"]) == sorted({d.api, d.websocket, *livekit, *frontends})
    url_map = synth.one("google_compute_url_map", "Edge/UrlMap")
    matchers = {m["name"]: m["default_service"] for m in url_map["path_matcher"]}
    routed = {rule["hosts"][0]: matchers[rule["path_matcher"]] for rule in url_map["host_rule"]}
    for host, service in ((d.api, "Api"), (d.websocket, "Websocket")):
        backend = synth.one("google_compute_backend_service", f"Edge/{service}Backend")
        assert routed[host] == synth.ref("google_compute_backend_service", f"Edge/{service}Backend")
        assert backend["load_balancing_scheme"] == "EXTERNAL_MANAGED" and backend["protocol"] == "HTTPS"
        # Cost lever: Cloud Run logs every request itself; the edge's log is sampled.
        assert backend["log_config"] == {"enable": True, "sample_rate": 0.1}
        # Serverless NEGs take no backend timeout: Cloud Run's (3600 s for the WebSocket) applies.
        assert "timeout_sec" not in backend
        neg = synth.one("google_compute_region_network_endpoint_group", f"Edge/{service}Neg")
        assert neg["network_endpoint_type"] == "SERVERLESS"
        assert neg["cloud_run"]["service"] == synth.ref("google_cloud_run_v2_service", f"Runtime/{service}/Service", "name")


def test_https_only_with_a_modern_tls_policy_and_http_redirects(synth):
    policy = synth.one("google_compute_ssl_policy", "Edge/TlsPolicy")
    assert policy["profile"] == "MODERN" and policy["min_tls_version"] == "TLS_1_2"
    https = synth.one("google_compute_target_https_proxy", "Edge/HttpsProxy")
    assert https["ssl_policy"] == synth.ref("google_compute_ssl_policy", "Edge/TlsPolicy")
    rules = {r["port_range"]: r for r in synth.resources("google_compute_global_forwarding_rule").values()
             if "/Edge/" in r["//"]["metadata"]["path"]}
    assert set(rules) == {"443", "80"}
    address = synth.ref("google_compute_global_address", "Edge/Address", "address")
    assert rules["443"]["ip_address"] == rules["80"]["ip_address"] == address
    assert rules["443"]["target"] == synth.ref("google_compute_target_https_proxy", "Edge/HttpsProxy")
    redirect = synth.one("google_compute_url_map", "Edge/RedirectMap")
    assert redirect["default_url_redirect"] == {"https_redirect": True, "strip_query": False, "redirect_response_code": "MOVED_PERMANENTLY_DEFAULT"}
    http_proxy = synth.one("google_compute_target_http_proxy", "Edge/HttpProxy")
    assert http_proxy["url_map"] == synth.ref("google_compute_url_map", "Edge/RedirectMap")
    assert rules["80"]["target"] == synth.ref("google_compute_target_http_proxy", "Edge/HttpProxy")
    assert "EdgeAddress" in synth.doc["output"]


def test_negs_are_created_after_their_services(synth):
    graph = Graph(synth.doc)
    for address, body in graph.of_type("google_compute_region_network_endpoint_group").items():
        service = body["cloud_run"]["service"].strip("${}").rsplit(".", 1)[0]
        assert service.startswith("google_cloud_run_v2_service.") and service in graph.reachable(address)


def test_certificate_name_changes_with_its_domains(synth):
    """A fixed name with create_before_destroy answers 409 on a domain change (ForceNew domains)."""
    import hashlib

    cert = synth.one("google_compute_managed_ssl_certificate", "Edge/Certificate")
    domains = sorted(cert["managed"]["domains"])
    expected = hashlib.sha256(",".join(domains).encode()).hexdigest()[:8]
    assert cert["name"] == f"{synth.config.name_prefix}-edge-{expected}"
    assert cert["lifecycle"]["create_before_destroy"] is True

    from constructs_lib.gcp.edge import certificate_name

    one = certificate_name("md-staging", ["api-staging.example.dev"])
    two = certificate_name("md-staging", ["api-staging.example.dev", "ws-staging.example.dev"])
    assert one != two and one.startswith("md-staging-edge-") and len(one) <= 63
    # Order does not matter: the same set keeps its certificate.
    assert two == certificate_name("md-staging", ["ws-staging.example.dev", "api-staging.example.dev"])


def test_services_behind_the_load_balancer_take_no_run_app_traffic(synth):
    """Both environments serve the API and WebSocket through the edge: ingress is
    internal + load balancer, so *.run.app cannot bypass its TLS policy and logs."""
    for service in ("Api", "Websocket"):
        run = synth.one("google_cloud_run_v2_service", f"Runtime/{service}/Service")
        assert run["ingress"] == "INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER", service
    assert synth.one("google_cloud_run_v2_service", "Runtime/Agent/Service")["ingress"] == "INGRESS_TRAFFIC_INTERNAL_ONLY"
    assert not [n for n, r in synth.resources("google_cloud_run_v2_service").items() if r["ingress"] == "INGRESS_TRAFFIC_ALL"]
    # The uptime checks call the custom domains (the run.app URL would refuse them).
    d = synth.config.domains
    hosts = {c["monitored_resource"]["labels"]["host"] for c in synth.resources("google_monitoring_uptime_check_config").values()
             if "Observability/Monitoring" in c["//"]["metadata"]["path"]}
    assert {d.api, d.websocket} <= hosts and not any("run.app" in h or "${" in h for h in hosts)
