"""Self-hosted LiveKit media server on Compute Engine (seed 002 Day 3-4)."""

from __future__ import annotations

from typing import Sequence

from constructs_lib.gcp import tf
from constructs_lib.gcp.monitoring import PlatformMonitoring, Severity
from constructs_lib.gcp.secrets import Secret

# Pinned, never `latest` (seed 002's compose file uses latest): a restart must
# not silently upgrade the media server.
LIVEKIT_IMAGE = "livekit/livekit-server:v1.8.4"
CLOUD_SDK_IMAGE = "gcr.io/google.com/cloudsdktool/google-cloud-cli:slim"
SIGNAL_PORT = 7880  # HTTP / WebSocket signalling
RTC_TCP_PORT = 7881  # ICE over TCP
RTC_UDP_PORT = 7882  # ICE over a single UDP port (seed 002 "TURN")
MEDIA_PORTS = "50000-60000"  # rtc.port_range_start..end (seed 002 livekit.yaml)
# Only what the VM itself writes: its logs (Docker's gcplogs driver) and metrics.
VM_ROLES = ("roles/logging.logWriter", "roles/monitoring.metricWriter")
NETWORK_TAG = "livekit"


def startup_script(*, project: str, key_secret: str, secret_secret: str) -> str:
    """Container-Optimized OS boot: read the keys from Secret Manager, run LiveKit.

    COS has Docker but no gcloud: the keys are read with the Cloud SDK image
    using the VM's own service account (metadata server credentials). They
    reach LiveKit as ``LIVEKIT_KEYS`` in the container's environment, never
    in metadata, a disk image or Terraform.
    """
    access = (f"docker run --rm {CLOUD_SDK_IMAGE} gcloud secrets versions access latest "
              f"--project={project} --secret=")
    config = (f"port: {SIGNAL_PORT}\\nrtc:\\n  tcp_port: {RTC_TCP_PORT}\\n  udp_port: {RTC_UDP_PORT}\\n"
              f"  port_range_start: {MEDIA_PORTS.split('-')[0]}\\n  port_range_end: {MEDIA_PORTS.split('-')[1]}\\n"
              "  use_external_ip: true\\nlogging:\\n  json: true\\n  level: info\\n")
    return "\n".join([
        "#!/bin/bash",
        "set -euo pipefail",
        f"KEY=$({access}{key_secret})",
        f"SECRET=$({access}{secret_secret})",
        "docker rm -f livekit 2>/dev/null || true",
        "docker run -d --name livekit --restart unless-stopped --network host --log-driver gcplogs "
        f"-e LIVEKIT_KEYS=\"$KEY: $SECRET\" -e LIVEKIT_CONFIG=\"$(printf '{config}')\" {LIVEKIT_IMAGE}",
        "",
    ])


class LiveKitServer(tf.Construct):
    """One LiveKit VM with a static address, its firewall, identity, uptime check and alert.

    Defaults and why:
    - Container-Optimized OS (read-only root, automatic updates) on a
      shielded VM: secure boot, vTPM, integrity monitoring;
    - OS Login on, project-wide SSH keys blocked, no serial port: SSH access
      is IAM (``roles/compute.osAdminLogin``), audited, never a key in metadata;
    - its own service account with ``VM_ROLES`` only and accessor bindings on
      exactly the two key secrets; never the default compute account (Editor);
    - a static external address (clients and ICE candidates need a stable
      IP) and a static internal one, which the agent uses through Direct VPC
      egress (``url`` is ``ws://<internal>:7880``);
    - firewall, logged, on the ``livekit`` tag only: signalling TCP 7880-7881
      from ``signalling_source_ranges``, UDP 7882 and 50000-60000 from
      ``media_source_ranges``, TCP 7880 from ``internal_source_range`` (the
      agent's subnet);
    - an HTTP uptime check on the signalling port; :meth:`add_down_alert`
      adds the Critical "LiveKit down" alert (seed 002) to the platform's
      monitoring (built later in the stack, after the services);
    - the VM waits for its secrets' versions and its grants (it reads the
      keys at boot).

    Attributes: ``service_account``, ``external_address``, ``internal_address``,
    ``instance``, ``firewall_rules``, ``uptime_check``, ``down_alert``, ``url``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, region: str, zone: str, name: str,
                 machine_type: str, network_id: str, subnet_id: str, internal_source_range: str,
                 signalling_source_ranges: Sequence[str], media_source_ranges: Sequence[str],
                 api_key: Secret, api_secret: Secret, deletion_protection: bool = True) -> None:
        super().__init__(scope, id_)
        for secret in (api_key, api_secret):
            if secret.version is None:
                raise ValueError(f"{self.node.path}: the LiveKit key secrets need a Terraform-managed version")
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
        self.internal_address = tf.compute_address.ComputeAddress(
            self, "InternalAddress", project=project, region=region, name=f"{name}-internal", address_type="INTERNAL",
            subnetwork=subnet_id,
        )
        fw = tf.compute_firewall
        log = fw.ComputeFirewallLogConfig(metadata="INCLUDE_ALL_METADATA")
        self.firewall_rules = {
            "signalling": fw.ComputeFirewall(
                self, "AllowSignalling", project=project, name=f"{name}-allow-signalling", network=network_id,
                direction="INGRESS", priority=1000, target_tags=[NETWORK_TAG], source_ranges=list(signalling_source_ranges),
                allow=[fw.ComputeFirewallAllow(protocol="tcp", ports=[f"{SIGNAL_PORT}-{RTC_TCP_PORT}"])], log_config=log,
            ),
            "media": fw.ComputeFirewall(
                self, "AllowMedia", project=project, name=f"{name}-allow-media", network=network_id,
                direction="INGRESS", priority=1000, target_tags=[NETWORK_TAG], source_ranges=list(media_source_ranges),
                allow=[fw.ComputeFirewallAllow(protocol="udp", ports=[str(RTC_UDP_PORT), MEDIA_PORTS])], log_config=log,
            ),
            "agent": fw.ComputeFirewall(
                self, "AllowAgent", project=project, name=f"{name}-allow-agent", network=network_id,
                direction="INGRESS", priority=1000, target_tags=[NETWORK_TAG], source_ranges=[internal_source_range],
                allow=[fw.ComputeFirewallAllow(protocol="tcp", ports=[str(SIGNAL_PORT)])], log_config=log,
            ),
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
                subnetwork=subnet_id, network_ip=self.internal_address.address,
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
            },
            metadata_startup_script=startup_script(project=project, key_secret=api_key.secret_id,
                                                   secret_secret=api_secret.secret_id),
            depends_on=[*self.roles, *self.secret_bindings, api_key.version, api_secret.version],
        )
        self.url = f"ws://{self.internal_address.address}:{SIGNAL_PORT}"
        up = tf.monitoring_uptime_check_config
        self.uptime_check = up.MonitoringUptimeCheckConfig(
            self, "Uptime", project=project, display_name=f"{name} signalling", timeout="10s", period="60s",
            http_check=up.MonitoringUptimeCheckConfigHttpCheck(path="/", port=SIGNAL_PORT, use_ssl=False),
            monitored_resource=up.MonitoringUptimeCheckConfigMonitoredResource(
                type="uptime_url", labels={"project_id": project, "host": self.external_address.address},
            ),
        )
        self.down_alert = None

    def add_down_alert(self, monitoring: PlatformMonitoring) -> tf.monitoring_alert_policy.MonitoringAlertPolicy:
        """Seed 002 Critical: "LiveKit server down" (the uptime check fails from two or more regions)."""
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
