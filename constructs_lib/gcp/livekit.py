"""Self-hosted LiveKit media server on Compute Engine (docs/requirements.md#livekit)."""

from __future__ import annotations

import ipaddress
from typing import Mapping, Sequence

from constructs_lib.gcp import tf
from constructs_lib.gcp.monitoring import PlatformMonitoring, Severity
from constructs_lib.gcp.secrets import Secret

# Pinned, never `latest` (the upstream compose example uses latest): a restart must
# not silently upgrade the media server.
LIVEKIT_IMAGE = "livekit/livekit-server:v1.8.4"
CLOUD_SDK_IMAGE = "gcr.io/google.com/cloudsdktool/google-cloud-cli:slim"
SIGNAL_PORT = 7880  # HTTP / WebSocket signalling, plain: reached only through the TLS load balancer
RTC_TCP_PORT = 7881  # ICE over TCP
# ICE over one UDP port. LiveKit (rtc.udp_port, "Ports and firewall":
# https://docs.livekit.io/home/self-hosting/ports-firewall/): with udp_port
# set the server multiplexes every peer on that port and never uses a
# port range, so the range is neither configured nor opened.
RTC_UDP_PORT = 7882
# TURN over TLS: the global SSL proxy terminates TLS on 443 with a managed
# certificate and forwards plain TCP here (LiveKit turn.external_tls).
TURN_TLS_PORT = 5349
# The ports the host accepts, and nothing else (COS allows only SSH by default).
HOST_PORTS = (("tcp", SIGNAL_PORT), ("tcp", RTC_TCP_PORT), ("udp", RTC_UDP_PORT), ("tcp", TURN_TLS_PORT))
# Google Front Ends and health checkers: the only sources of the load-balanced
# ports (Cloud Load Balancing docs, "Firewall rules":
# https://cloud.google.com/load-balancing/docs/firewall-rules).
GOOGLE_FRONT_END_RANGES = ("130.211.0.0/22", "35.191.0.0/16")
# Only what the VM itself writes: its logs (Docker's gcplogs driver) and metrics.
VM_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
NETWORK_TAG = "livekit"


def livekit_config(*, turn_domain: str) -> str:
    """LiveKit's YAML: one UDP port, ICE/TCP, TURN/TLS behind the proxy, JSON logs."""
    return (f"port: {SIGNAL_PORT}\nrtc:\n  tcp_port: {RTC_TCP_PORT}\n  udp_port: {RTC_UDP_PORT}\n"
            "  use_external_ip: true\n"
            f"turn:\n  enabled: true\n  domain: {turn_domain}\n  tls_port: {TURN_TLS_PORT}\n  external_tls: true\n"
            "logging:\n  json: true\n  level: info\n")


def startup_script(*, project: str, key_secret: str, secret_secret: str, turn_domain: str) -> str:
    """Container-Optimized OS boot: open the host firewall, read the keys, run LiveKit.

    COS's host firewall accepts only SSH, and with ``--network host`` Docker
    opens nothing: the script accepts exactly ``HOST_PORTS`` with iptables
    on every boot (rules do not persist across reboots; ``-C`` first keeps a
    re-run idempotent). Container-Optimized OS docs, "Configuring the host
    firewall": https://cloud.google.com/container-optimized-os/docs/how-to/firewall.

    COS has Docker but no gcloud: the keys are read with the Cloud SDK image
    using the VM's own service account (metadata server credentials). They
    reach LiveKit as ``LIVEKIT_KEYS`` in the container's environment, never
    in metadata, a disk image or Terraform.
    """
    access = (f"docker run --rm {CLOUD_SDK_IMAGE} gcloud secrets versions access latest "
              f"--project={project} --secret=")
    firewall = [f"iptables -w -C INPUT -p {proto} --dport {port} -j ACCEPT 2>/dev/null || "
                f"iptables -w -A INPUT -p {proto} --dport {port} -j ACCEPT" for proto, port in HOST_PORTS]
    return "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        *firewall,
        f"KEY=$({access}{key_secret})",
        f"SECRET=$({access}{secret_secret})",
        "docker rm -f livekit 2>/dev/null || true",
        "docker run -d --name livekit --restart unless-stopped --network host --log-driver gcplogs "
        f"-e LIVEKIT_KEYS=\"$KEY: $SECRET\" -e LIVEKIT_CONFIG=\"$(printf '{livekit_config(turn_domain=turn_domain)}')\" {LIVEKIT_IMAGE}",
        "",
    ])


def refuse_public_signalling(path: str, rules: Mapping[str, tuple[Sequence[tuple[str, str]], Sequence[str]]]) -> None:
    """Plain signalling (TCP 7880, no TLS) never opens to the internet: only
    Google's front ends (the TLS load balancer) and private ranges reach it.

    ``rules``: key -> ((protocol, ports), source ranges), what the firewall
    rules will allow; checked before any is built.
    """
    for key, (allowed, sources) in rules.items():
        if not any(proto == "tcp" and _covers(ports, SIGNAL_PORT) for proto, ports in allowed):
            continue
        for cidr in sources:
            net = ipaddress.ip_network(cidr)
            if not (net.is_private or cidr in GOOGLE_FRONT_END_RANGES):
                raise ValueError(f"{path}: firewall rule {key!r} opens plain signalling TCP {SIGNAL_PORT} to {cidr}; "
                                 "signalling is served over TLS through the load balancer (docs/requirements.md#livekit)")


def _covers(ports: str, port: int) -> bool:
    low, _, high = ports.partition("-")
    return int(low) <= port <= int(high or low)


class LiveKitServer(tf.Construct):
    """One LiveKit VM with a static address, its firewall, identity, TLS front ends, uptime check and alert.

    Defaults and why:
    - Container-Optimized OS (read-only root, automatic updates) on a
      shielded VM: secure boot, vTPM, integrity monitoring;
    - OS Login on, project-wide SSH keys blocked, no serial port: SSH access
      is IAM (``roles/compute.osAdminLogin``), audited, never a key in metadata;
    - its own service account with ``VM_ROLES`` only and accessor bindings on
      exactly the two key secrets; never the default compute account (Editor);
    - the boot script in the ``startup-script`` metadata key, updated in
      place: google provider 6.50 google_compute_instance documents that
      ``metadata_startup_script`` forces a new instance on change, which
      deletion protection refuses (a script or image change could never be
      applied). A changed script runs at the next boot (or
      ``sudo google_metadata_script_runner startup``, docs/gcp.md);
    - a static external address for media (ICE candidates need a stable IP);
    - signalling only over TLS: ``domain`` on the platform's HTTPS edge
      (managed certificate, ``wss://<domain>``) to a backend service on an
      unmanaged instance group (named port ``signal`` = 7880, WebSocket
      lifetime 3600 s); TURN over TLS on 443 of ``turn_domain`` through a
      global SSL proxy (:meth:`add_turn_tls`) to LiveKit's TURN on 5349
      (``external_tls``). Plain 7880 is reached only from Google's front
      ends (:data:`GOOGLE_FRONT_END_RANGES`) and, if configured, private
      ``signalling_source_ranges``; anything public is refused
      (:func:`refuse_public_signalling`);
    - media: TCP 7881 (ICE/TCP) and the single UDP port 7882 from
      ``media_source_ranges``; the boot script opens exactly
      :data:`HOST_PORTS` on the host;
    - an HTTPS uptime check on ``domain``; :meth:`add_down_alert` adds the
      Critical "LiveKit down" alert (docs/requirements.md#livekit) to the platform's monitoring;
    - the VM waits for its secrets' versions and its grants (it reads the
      keys at boot).

    Attributes: ``service_account``, ``external_address``, ``instance``,
    ``firewall_rules``, ``instance_group``, ``health_check``,
    ``signal_backend``, ``turn_backend``, ``uptime_check``, ``down_alert``,
    ``url`` (``wss://<domain>``), ``domain``; after :meth:`add_turn_tls`:
    ``turn_address``, ``turn_certificate``, ``turn_proxy``, ``turn_rule``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, region: str, zone: str, name: str,
                 machine_type: str, network_id: str, subnet_id: str, domain: str, turn_domain: str,
                 media_source_ranges: Sequence[str], api_key: Secret, api_secret: Secret,
                 signalling_source_ranges: Sequence[str] = (), deletion_protection: bool = True,
                 log_sample_rate: float = 0.1) -> None:
        super().__init__(scope, id_)
        for secret in (api_key, api_secret):
            if secret.version is None:
                raise ValueError(f"{self.node.path}: the LiveKit key secrets need a Terraform-managed version")
        rules = {
            "load-balancer": ([("tcp", str(SIGNAL_PORT)), ("tcp", str(TURN_TLS_PORT))], list(GOOGLE_FRONT_END_RANGES)),
            "media": ([("tcp", str(RTC_TCP_PORT)), ("udp", str(RTC_UDP_PORT))], list(media_source_ranges)),
        }
        if signalling_source_ranges:
            rules["signalling"] = ([("tcp", str(SIGNAL_PORT))], list(signalling_source_ranges))
        refuse_public_signalling(self.node.path, rules)
        self.domain, self.turn_domain, self._name, self._project = domain, turn_domain, name, project
        ci = tf.compute_instance
        self.service_account = tf.service_account.ServiceAccount(
            self, "ServiceAccount", project=project, account_id=name, display_name=f"LiveKit VM {name}",
        )
        member = f"serviceAccount:{self.service_account.email}"
        self.roles = [
            tf.project_iam_member.ProjectIamMember(
                self, role.split("/")[-1].replace(".", " ").title().replace(" ", ""), project=project, role=role, member=member
            )
            for role in VM_ROLES
        ]
        self.secret_bindings = [secret.grant_access(id_, member) for secret in (api_key, api_secret)]
        self.external_address = tf.compute_address.ComputeAddress(
            self, "ExternalAddress", project=project, region=region, name=f"{name}-external", address_type="EXTERNAL",
            network_tier="PREMIUM",
        )
        fw = tf.compute_firewall
        log = fw.ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA")
        self.firewall_rules = {
            key: fw.ComputeFirewall(
                self, "Allow" + key.title().replace("-", ""), project=project, name=f"{name}-allow-{key}", network=network_id,
                direction="INGRESS", priority=1000, target_tags=[NETWORK_TAG], source_ranges=sources,
                allow=[fw.ComputeFirewallAllow(protocol=proto, ports=[port]) for proto, port in allowed], log_config=log,
            )
            for key, (allowed, sources) in rules.items()
        }
        self.instance = ci.ComputeInstance(
            self,
            "Instance",
            project=project,
            zone=zone,
            name=name,
            machine_type=machine_type,
            tags=[NETWORK_TAG],
            deletion_protection=deletion_protection,
            allow_stopping_for_update=True,
            boot_disk=ci.ComputeInstanceBootDisk(
                initialize_params=ci.ComputeInstanceBootDiskInitializeParams(image="cos-cloud/cos-stable", size=20, type="pd-balanced"),
            ),
            network_interface=[ci.ComputeInstanceNetworkInterface(
                subnetwork=subnet_id,
                access_config=[ci.ComputeInstanceNetworkInterfaceAccessConfig(nat_ip=self.external_address.address, network_tier="PREMIUM")],
            )],
            service_account=ci.ComputeInstanceServiceAccount(email=self.service_account.email, scopes=["cloud-platform"]),
            shielded_instance_config=ci.ComputeInstanceShieldedInstanceConfig(
                enable_secure_boot=True, enable_vtpm=True, enable_integrity_monitoring=True,
            ),
            scheduling=ci.ComputeInstanceScheduling(automatic_restart=True, on_host_maintenance="MIGRATE"),
            metadata={
                "enable-oslogin": "TRUE",
                "block-project-ssh-keys": "TRUE",
                "serial-port-enable": "FALSE",
                "google-logging-enabled": "true",
                "google-monitoring-enabled": "true",
                "startup-script": startup_script(project=project, key_secret=api_key.secret_id,
                                                 secret_secret=api_secret.secret_id, turn_domain=turn_domain),
            },
            depends_on=[*self.roles, *self.secret_bindings, api_key.version, api_secret.version],
        )
        # The load balancers reach the VM through an unmanaged instance group (google
        # provider 6.50 google_compute_instance_group, named ports per backend).
        ig = tf.compute_instance_group
        self.instance_group = ig.ComputeInstanceGroup(
            self, "InstanceGroup", project=project, zone=zone, name=name, network=network_id,
            instances=[self.instance.self_link],
            named_port=[ig.ComputeInstanceGroupNamedPort(name="signal", port=SIGNAL_PORT),
                        ig.ComputeInstanceGroupNamedPort(name="turn", port=TURN_TLS_PORT)],
        )
        hc = tf.compute_health_check
        self.health_check = hc.ComputeHealthCheck(
            self, "HealthCheck", project=project, name=f"{name}-signal", check_interval_sec=10, timeout_sec=5,
            http_health_check=hc.ComputeHealthCheckHttpHealthCheck(port=SIGNAL_PORT, request_path="/"),
            log_config=hc.ComputeHealthCheckLogConfig(enable=False),
        )
        bs = tf.compute_backend_service
        self.signal_backend = bs.ComputeBackendService(
            self, "SignalBackend", project=project, name=f"{name}-signal", load_balancing_scheme="EXTERNAL_MANAGED",
            protocol="HTTP", port_name="signal", health_checks=[self.health_check.id],
            # For instance-group backends the timeout is a WebSocket's maximum
            # lifetime (load balancing docs, "Backend service timeout"): a room
            # may last an hour, like the platform's own WebSocket.
            timeout_sec=3600,
            backend=[bs.ComputeBackendServiceBackend(group=self.instance_group.self_link, balancing_mode="UTILIZATION")],
            log_config=bs.ComputeBackendServiceLogConfig(enable=True, sample_rate=log_sample_rate),
        )
        self.turn_backend = bs.ComputeBackendService(
            self, "TurnBackend", project=project, name=f"{name}-turn", load_balancing_scheme="EXTERNAL_MANAGED",
            protocol="TCP", port_name="turn", health_checks=[self.health_check.id], timeout_sec=3600,
            backend=[bs.ComputeBackendServiceBackend(group=self.instance_group.self_link, balancing_mode="UTILIZATION")],
        )
        self.url = f"wss://{domain}"
        up = tf.monitoring_uptime_check_config
        self.uptime_check = up.MonitoringUptimeCheckConfig(
            self, "Uptime", project=project, display_name=f"{name} signalling", timeout="10s", period="60s",
            http_check=up.MonitoringUptimeCheckConfigHttpCheck(path="/", port=443, use_ssl=True, validate_ssl=True),
            monitored_resource=up.MonitoringUptimeCheckConfigMonitoredResource(
                type="uptime_url", labels={"project_id": project, "host": domain},
            ),
        )
        self.down_alert = None
        self.turn_address = self.turn_certificate = self.turn_proxy = self.turn_rule = None

    def add_turn_tls(self, ssl_policy: str) -> None:
        """TURN over TLS on 443 of ``turn_domain``: a global SSL proxy with a
        managed certificate (named from its domain, like the edge's) and the
        platform's TLS policy, forwarding plain TCP to LiveKit's TURN port
        (google provider 6.50 google_compute_target_ssl_proxy; LiveKit
        "Configuring TURN", turn.external_tls)."""
        from constructs_lib.gcp.edge import certificate_name

        name, project = self._name, self._project
        self.turn_address = tf.compute_global_address.ComputeGlobalAddress(
            self, "TurnAddress", project=project, name=f"{name}-turn", address_type="EXTERNAL", ip_version="IPV4",
        )
        self.turn_certificate = tf.compute_managed_ssl_certificate.ComputeManagedSslCertificate(
            self, "TurnCertificate", project=project, name=certificate_name(f"{name}-turn", [self.turn_domain]), type="MANAGED",
            managed=tf.compute_managed_ssl_certificate.ComputeManagedSslCertificateManaged(domains=[self.turn_domain]),
            lifecycle=tf.TerraformResourceLifecycle(create_before_destroy=True),
        )
        self.turn_proxy = tf.compute_target_ssl_proxy.ComputeTargetSslProxy(
            self, "TurnProxy", project=project, name=f"{name}-turn", backend_service=self.turn_backend.id,
            ssl_certificates=[self.turn_certificate.id], ssl_policy=ssl_policy,
        )
        self.turn_rule = tf.compute_global_forwarding_rule.ComputeGlobalForwardingRule(
            self, "TurnRule", project=project, name=f"{name}-turn", target=self.turn_proxy.id,
            ip_address=self.turn_address.address, port_range="443", ip_protocol="TCP",
            load_balancing_scheme="EXTERNAL_MANAGED",
        )

    def add_down_alert(self, monitoring: PlatformMonitoring) -> tf.monitoring_alert_policy.MonitoringAlertPolicy:
        """Critical "LiveKit server down" (docs/requirements.md#livekit) (the uptime check fails from two or more regions)."""
        mon = tf.monitoring_alert_policy
        self.down_alert = monitoring.add_policy(
            "LivekitDown", "LiveKit server down", Severity.CRITICAL,
            mon.MonitoringAlertPolicyConditions(
                display_name="LiveKit uptime",
                condition_threshold=mon.MonitoringAlertPolicyConditionsConditionThreshold(
                    filter=(f'resource.type = "uptime_url" AND metric.type = "monitoring.googleapis.com/uptime_check/check_passed" '
                            f'AND metric.labels.check_id = "{self.uptime_check.uptime_check_id}"'),
                    comparison="COMPARISON_GT", threshold_value=1, duration="300s",
                    aggregations=[mon.MonitoringAlertPolicyConditionsConditionThresholdAggregations(
                        alignment_period="60s", per_series_aligner="ALIGN_NEXT_OLDER",
                        cross_series_reducer="REDUCE_COUNT_FALSE", group_by_fields=["resource.labels.host"],
                    )],
                    trigger=mon.MonitoringAlertPolicyConditionsConditionThresholdTrigger(count=1),
                ),
            ),
        )
        return self.down_alert
