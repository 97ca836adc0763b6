"""Runtime concern: the Cloud Run services and the migrations job."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.cloud_run import CloudRunService, MigrationsJob
from constructs_lib.gcp.secrets import Secret
from envconfig.contract import EnvContract, default_contract
from envconfig.gcp import GcpConfig, Service
from stacks.gcp.data import Data

# every deployed environment runs the production build.
NODE_ENV = "production"
POSTGRES_PORT = "5432"


# OTLP signal -> (contract variable, roles its writer needs on the project).
# Google's Telemetry API checks telemetry.<signal>.write; roles/cloudtrace.agent
# carries telemetry.traces.write, the telemetry.* writer roles the others, and
# the classic writer roles cover the Cloud Monitoring / Logging side.
OTLP_SIGNALS = {
    "traces_url": ("OTLP_TRACE_EXPORTER_URL", ("roles/cloudtrace.agent",)),
    "metrics_url": ("OTLP_METRIC_EXPORTER_URL", ("roles/monitoring.metricWriter", "roles/telemetry.metricsWriter")),
    "logs_url": ("OTLP_LOG_EXPORTER_URL", ("roles/logging.logWriter", "roles/telemetry.logsWriter")),
}


def otlp_environment(config: GcpConfig) -> tuple[dict[str, str], tuple[str, ...]]:
    """The OTLP contract variables and the project roles their exporters need (none without ``otlp``)."""
    env: dict[str, str] = {}
    roles: list[str] = []
    if config.otlp is not None:
        for field, (variable, needed) in OTLP_SIGNALS.items():
            url = getattr(config.otlp, field)
            if url:
                env[variable] = url
                roles.extend(needed)
    return env, tuple(roles)


def service_name(config: GcpConfig, service: Service) -> str:
    return config.name(service.value)


def behind_edge(config: GcpConfig) -> set[Service]:
    """The public services the HTTPS edge serves (a custom domain each): load-balancer ingress only."""
    domains = {Service.API: config.domains.api, Service.WEBSOCKET: config.domains.websocket}
    return {s for s, host in domains.items() if host and config.services[s].public}


def migrations_job_name(config: GcpConfig) -> str:
    return config.name("migrations")


class Runtime(tf.Construct):
    """Attributes: ``services`` (Service -> CloudRunService), ``migrations``."""

    def __init__(self, scope: tf.Construct, id_: str, *, config: GcpConfig, data: Data, secrets: dict[str, Secret],
                 contract: EnvContract | None = None, livekit_url: str | None = None) -> None:
        super().__init__(scope, id_)
        contract = contract or default_contract()
        project, region = config.project_id, config.region.value
        network_id, subnet_id = data.network.network.id, data.network.subnet.id
        database = {
            "DB_PG_HOST": data.sql.instance.private_ip_address,
            "DB_PG_PORT": POSTGRES_PORT,
            "DB_PG_DATABASE": config.sql.database,
            "DB_PG_USER": config.sql.user,
            "DB_PG_SSL": "true",  # the instance accepts encrypted connections only
            # Public material: the server CAs, so the apps verify who they talk to.
            "DB_PG_CA_CERT": data.sql.server_ca_cert,
        }
        common = {"NODE_ENV": NODE_ENV, "APP_ENV": config.environment.value, "LOG_LEVEL": config.app.log_level}
        otlp_env, otlp_roles = otlp_environment(config)
        service_plain = {
            **common,
            **otlp_env,
            **database,
            "KV_REDIS_CA_CERT": data.redis.server_ca_certs,
            "BETTER_AUTH_URL": config.app.better_auth_url,
            "TRUSTED_ORIGINS": ",".join(config.app.trusted_origins),
        }
        service_secrets = {name: secrets[name] for name in ("BETTER_AUTH_SECRET", "KV_REDIS_URL", "KV_REDIS_PASSWORD", "DB_PG_PASSWORD")}
        # The agent joins LiveKit rooms (docs/requirements.md#env-contract): wss:// URL (TLS, like every client) and key pair.
        agent_plain, agent_secrets = {}, {}
        if livekit_url is not None:
            agent_plain = {"LIVEKIT_URL": livekit_url}
            agent_secrets = {name: secrets[name] for name in ("LIVEKIT_API_KEY", "LIVEKIT_API_SECRET")}

        self.services: dict[Service, CloudRunService] = {}
        for service, sc in config.services.items():
            self.services[service] = CloudRunService(
                self,
                service.value.title(),
                project=project,
                region=region,
                name=service_name(config, service),
                account_id=config.name(service.value),
                image=config.bootstrap_image,
                port=sc.port,
                cpu=sc.cpu,
                memory=sc.memory,
                min_instances=sc.min_instances,
                max_instances=sc.max_instances,
                public=sc.public,
                contract=contract.service(service.value),
                plain_env={**service_plain, "DB_PG_POOL_MAX": str(sc.pg_pool_max),
                           **(agent_plain if service is Service.AGENT else {})},
                secret_env={**service_secrets, **(agent_secrets if service is Service.AGENT else {})},
                network_id=network_id,
                subnet_id=subnet_id,
                deletion_protection=config.deletion_protection,
                timeout_seconds=sc.request_timeout_seconds,
                session_affinity=sc.session_affinity,
                cpu_always_allocated=sc.cpu_always_allocated,
                project_roles=otlp_roles,
                concurrency=sc.concurrency,
                behind_load_balancer=service in behind_edge(config),
            )
        self.migrations = MigrationsJob(
            self,
            "Migrations",
            project=project,
            region=region,
            name=migrations_job_name(config),
            account_id=config.name("migrations"),
            image=config.bootstrap_image,
            cpu=config.migrations.cpu,
            memory=config.migrations.memory,
            timeout_seconds=config.migrations.timeout_seconds,
            contract=contract.service("migrations"),
            plain_env={**common, **database, "DB_PG_POOL_MAX": str(config.migrations.pg_pool_max)},
            secret_env={"DB_PG_PASSWORD": secrets["DB_PG_PASSWORD"]},
            network_id=network_id,
            subnet_id=subnet_id,
            deletion_protection=config.deletion_protection,
        )
