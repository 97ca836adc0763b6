"""Media concern: the self-hosted LiveKit server (config-gated)."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.livekit import LiveKitServer
from constructs_lib.gcp.secrets import Secret
from envconfig.gcp import GcpConfig
from stacks.gcp.data import Data


class Media(tf.Construct):
    """Attributes: ``livekit`` (LiveKitServer)."""

    def __init__(self, scope: tf.Construct, id_: str, *, config: GcpConfig, data: Data, secrets: dict[str, Secret]) -> None:
        super().__init__(scope, id_)
        lk = config.livekit
        if lk is None:
            raise ValueError(f"{self.node.path}: build Media only when livekit.enabled is true")
        self.livekit = LiveKitServer(
            self, "Livekit", project=config.project_id, region=config.region.value, zone=lk.zone,
            name=config.name("livekit"), machine_type=lk.machine_type,
            network_id=data.network.network.id, subnet_id=data.network.subnet.id,
            domain=lk.domain, turn_domain=lk.turn_domain,
            signalling_source_ranges=lk.signalling_source_ranges, media_source_ranges=lk.media_source_ranges,
            api_key=secrets["LIVEKIT_API_KEY"], api_secret=secrets["LIVEKIT_API_SECRET"],
            deletion_protection=config.deletion_protection,
            log_sample_rate=config.logging.load_balancer_log_sample_rate,
        )
