"""The public HTTPS edge: custom domains for Cloud Run services behind a global load balancer."""

from __future__ import annotations

import hashlib
from typing import Iterable, Mapping

from constructs_lib.gcp import tf


def certificate_name(prefix: str, domains: Iterable[str]) -> str:
    """``<prefix>-edge-<8 hex of sha256(sorted domains)>``: a new name for every domain set.

    google provider 6.50 ``google_compute_managed_ssl_certificate``: ``name``
    and ``managed.domains`` are ForceNew, and with ``create_before_destroy``
    the replacement is created while the old one still exists, so a fixed
    name answers 409 "already exists" on any domain change. The provider's
    documentation recommends a name that changes with the domains for exactly
    this lifecycle (registry docs, resource compute_managed_ssl_certificate,
    "lifecycle { create_before_destroy = true }" example with a random suffix);
    a hash of the domains gives that without a random_id resource.
    """
    digest = hashlib.sha256(",".join(sorted(set(domains))).encode()).hexdigest()[:8]
    return f"{prefix}-edge-{digest}"


class HttpsEdge(tf.Construct):
    """A global external Application Load Balancer serving ``routes`` (host -> (key, Cloud Run service name)).

    Pass the service name as a reference to the service resource, so each
    serverless NEG is created after the service it points at.

    Defaults and why:
    - one static global IPv4 address (the operator points each host's DNS A
      record at it: output ``EdgeAddress``) and one Google-managed
      certificate for all hosts (it becomes ACTIVE once DNS resolves to the
      address);
    - per service a serverless NEG in ``region`` and an ``EXTERNAL_MANAGED``
      backend service with request logging at ``log_sample_rate``. Serverless NEGs
      take neither health checks nor a backend timeout: the Cloud Run
      service's own request timeout applies (3600 s for the WebSocket, which
      the load balancer keeps open for WebSockets), and Cloud Run's session
      affinity keeps reconnects on one instance;
    - TLS policy ``MODERN`` with TLS 1.2 minimum;
    - port 80 answers only with a 301 to HTTPS (a separate URL map with
      ``https_redirect``), never with content.

    Attributes: ``address``, ``certificate``, ``negs`` and ``backends`` (host -> resource),
    ``url_map``, ``ssl_policy``, ``https_proxy``, ``https_rule``, ``redirect_map``,
    ``http_proxy``, ``http_rule``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, region: str, name: str,
                 routes: Mapping[str, tuple[str, str]], static_hosts: Mapping[str, str] | None = None,
                 log_sample_rate: float = 0.1, path_routes: Mapping[str, Mapping[str, str]] | None = None) -> None:
        super().__init__(scope, id_)
        static_hosts = dict(static_hosts or {})
        path_routes = {h: dict(p) for h, p in (path_routes or {}).items() if p}
        if not routes and not static_hosts and not path_routes:
            raise ValueError(f"{self.node.path}: an edge needs at least one host")
        for a, b in ((routes, static_hosts), (routes, path_routes), (static_hosts, path_routes)):
            if set(a) & set(b):
                raise ValueError(f"{self.node.path}: a host is served one way (service, static site or paths): {sorted(set(a) & set(b))}")
        for host, paths in path_routes.items():
            for path in paths:
                if not (path.startswith("/") and path.endswith("/")):
                    raise ValueError(f"{self.node.path}: {host}: path {path!r} must start and end with '/' (e.g. /widget/)")
        hosts = sorted(routes)
        self.address = tf.compute_global_address.ComputeGlobalAddress(
            self, "Address", project=project, name=f"{name}-edge", address_type="EXTERNAL", ip_version="IPV4",
        )
        domains = sorted({*hosts, *static_hosts, *path_routes})
        self.certificate = tf.compute_managed_ssl_certificate.ComputeManagedSslCertificate(
            self, "Certificate", project=project, name=certificate_name(name, domains), type="MANAGED",
            managed=tf.compute_managed_ssl_certificate.ComputeManagedSslCertificateManaged(domains=domains),
            # A domain change creates a new certificate before the old one goes.
            lifecycle=tf.TerraformResourceLifecycle(create_before_destroy=True),
        )
        neg_mod, bs = tf.compute_region_network_endpoint_group, tf.compute_backend_service
        self.negs, self.backends = {}, {}
        for host in hosts:
            key, service = routes[host]
            self.negs[host] = neg_mod.ComputeRegionNetworkEndpointGroup(
                self, f"{key.title()}Neg", project=project, region=region, name=f"{name}-{key}-neg",
                network_endpoint_type="SERVERLESS",
                cloud_run=neg_mod.ComputeRegionNetworkEndpointGroupCloudRun(service=service),
            )
            self.backends[host] = bs.ComputeBackendService(
                self, f"{key.title()}Backend", project=project, name=f"{name}-{key}-backend",
                load_balancing_scheme="EXTERNAL_MANAGED", protocol="HTTPS",
                backend=[bs.ComputeBackendServiceBackend(group=self.negs[host].id)],
                # Cloud Run already logs every request it serves; the edge's log
                # adds the load balancer's view (TLS, its own 5xx), billed per
                # entry, so it is sampled (load balancing docs, "Logging and
                # monitoring", sampling: https://cloud.google.com/load-balancing/docs/https/https-logging-monitoring;
                # google provider 6.50 google_compute_backend_service log_config).
                log_config=bs.ComputeBackendServiceLogConfig(enable=True, sample_rate=log_sample_rate),
            )
        # Static sites (backend buckets with Cloud CDN, constructs_lib/gcp/frontend.py) by host.
        # A host shared by path (the widget SDK at cdn-<env>.<domain>/widget/...):
        # one path rule per prefix (google provider 6.50 google_compute_url_map
        # path_matcher.path_rule; "URL maps overview", path matching:
        # https://cloud.google.com/load-balancing/docs/url-map-concepts). The
        # host's default goes to its first prefix's bucket, which holds only
        # objects under that prefix: anything else is that bucket's 404.
        targets = {**{h: b.id for h, b in self.backends.items()}, **static_hosts,
                   **{h: paths[sorted(paths)[0]] for h, paths in path_routes.items()}}
        ordered = sorted(targets)
        um = tf.compute_url_map
        self.url_map = um.ComputeUrlMap(
            self, "UrlMap", project=project, name=f"{name}-edge",
            default_service=targets[ordered[0]],
            host_rule=[um.ComputeUrlMapHostRule(hosts=[h], path_matcher=f"m{i}") for i, h in enumerate(ordered)],
            path_matcher=[
                um.ComputeUrlMapPathMatcher(
                    name=f"m{i}", default_service=targets[h],
                    path_rule=[um.ComputeUrlMapPathMatcherPathRule(paths=[f"{p}*"], service=path_routes[h][p])
                               for p in sorted(path_routes[h])] if h in path_routes else None,
                )
                for i, h in enumerate(ordered)
            ],
        )
        self.ssl_policy = tf.compute_ssl_policy.ComputeSslPolicy(
            self, "TlsPolicy", project=project, name=f"{name}-edge-tls", profile="MODERN", min_tls_version="TLS_1_2",
        )
        self.https_proxy = tf.compute_target_https_proxy.ComputeTargetHttpsProxy(
            self, "HttpsProxy", project=project, name=f"{name}-edge-https", url_map=self.url_map.id,
            ssl_certificates=[self.certificate.id], ssl_policy=self.ssl_policy.id,
        )
        fr = tf.compute_global_forwarding_rule
        self.https_rule = fr.ComputeGlobalForwardingRule(
            self, "HttpsRule", project=project, name=f"{name}-edge-https", target=self.https_proxy.id,
            ip_address=self.address.address, port_range="443", ip_protocol="TCP", load_balancing_scheme="EXTERNAL_MANAGED",
        )
        self.redirect_map = um.ComputeUrlMap(
            self, "RedirectMap", project=project, name=f"{name}-edge-redirect",
            default_url_redirect=um.ComputeUrlMapDefaultUrlRedirect(
                https_redirect=True, strip_query=False, redirect_response_code="MOVED_PERMANENTLY_DEFAULT",
            ),
        )
        self.http_proxy = tf.compute_target_http_proxy.ComputeTargetHttpProxy(
            self, "HttpProxy", project=project, name=f"{name}-edge-http", url_map=self.redirect_map.id,
        )
        self.http_rule = fr.ComputeGlobalForwardingRule(
            self, "HttpRule", project=project, name=f"{name}-edge-http", target=self.http_proxy.id,
            ip_address=self.address.address, port_range="80", ip_protocol="TCP", load_balancing_scheme="EXTERNAL_MANAGED",
        )
