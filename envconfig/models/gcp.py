"""The GCP environment file (``config/gcp/<env>.yaml``), one model per section.

Bounds a value can break alone live next to the field; the rules across
fields, the production floors and the rules across files are functions over
these models (:mod:`envconfig.gcp`, :mod:`envconfig.policy`,
:mod:`envconfig.limits`, :mod:`envconfig.cross`).
"""

from __future__ import annotations

import ipaddress
from enum import Enum
from pathlib import Path
from typing import Annotated, Optional

from pydantic import BeforeValidator, ConfigDict, Field
from pydantic.dataclasses import dataclass
from pydantic.json_schema import SkipJsonSchema

from envconfig.models.common import Environment
from envconfig.models.fields import (
    MODEL_CONFIG, Bool, Choice, IncreasingNumbers, Int, Number, OptStr, Section, Str, StrList, fail,
)
from envconfig.patterns import EMAIL, GITHUB_REPO, GITHUB_REPO_RULE, ORIGIN

# https://cloud.google.com/resource-manager/docs/creating-managing-projects#before_you_begin
PROJECT_ID = r"[a-z][a-z0-9-]{4,28}[a-z0-9]"
# Short because service account ids (6-30 chars) are "<prefix>-<role>".
NAME_PREFIX = r"[a-z][a-z0-9-]{1,13}[a-z0-9]"
BILLING_ACCOUNT = r"[0-9A-F]{6}-[0-9A-F]{6}-[0-9A-F]{6}"
GCS_BUCKET = r"[a-z0-9][a-z0-9._-]{1,61}[a-z0-9]"
IMAGE = r"[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+"
IMAGE_WITH_TAG = r"[a-z0-9.-]+(?::[0-9]+)?/[a-z0-9._/-]+(?::[A-Za-z0-9._-]+|@sha256:[a-f0-9]{64})"
URL = r"https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[^\s]*)?"
MEMORY = r"[1-9][0-9]*(?:Mi|Gi)"
CPU = r"(?:1|2|4|6|8)"
CPU_RULE = "must be one of 1, 2, 4, 6, 8 (Cloud Run vCPU)"
MEMORY_RULE = "must look like 512Mi or 2Gi"
PROJECT_ROLE = r"roles/[A-Za-z0-9_.]+"
# Artifact Registry repository ids: lowercase letters, digits, hyphens, 1-63, starting with a letter.
REPOSITORY_ID = r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
SERVICE_ACCOUNT_EMAIL = r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com"
HOSTNAME = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
OTLP_URL = r"https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[^\s]*)?"
ZONE = r"[a-z]+-[a-z]+[0-9]-[a-f]"
MACHINE_TYPE = r"[a-z][a-z0-9]*-[a-z0-9-]+"
APP_NAME = r"[a-z][a-z0-9-]{0,19}"
POSTGRES_IDENTIFIER = r"[a-z][a-z0-9_]{0,62}"

# Audit logs must outlive an investigation (docs/requirements.md#retention);
# 30 days is Cloud Logging's default and the floor we accept.
MIN_LOG_RETENTION_DAYS = 30
# Cloud Run's default 300 s request timeout drops WebSocket connections; a
# socket may stay open an hour (docs/requirements.md#gcp-connections).
MIN_WEBSOCKET_TIMEOUT_SECONDS = 3600




class Region(Enum):
    """Regions that offer every service we use (Cloud Run v2 jobs, Memorystore Redis 7, Cloud SQL PG16, Firestore)."""

    US_CENTRAL1 = "us-central1"
    US_EAST1 = "us-east1"
    US_EAST4 = "us-east4"
    US_WEST1 = "us-west1"
    EUROPE_WEST1 = "europe-west1"
    EUROPE_WEST3 = "europe-west3"
    EUROPE_WEST4 = "europe-west4"
    ASIA_NORTHEAST1 = "asia-northeast1"
    ASIA_SOUTHEAST1 = "asia-southeast1"


class SqlTier(Enum):
    """Cloud SQL machine tiers we size for (db-f1-micro for staging)."""

    F1_MICRO = "db-f1-micro"
    G1_SMALL = "db-g1-small"
    CUSTOM_1_3840 = "db-custom-1-3840"
    CUSTOM_2_7680 = "db-custom-2-7680"
    CUSTOM_4_15360 = "db-custom-4-15360"


class SqlAvailability(Enum):
    ZONAL = "ZONAL"
    REGIONAL = "REGIONAL"


class RedisTier(Enum):
    BASIC = "BASIC"
    STANDARD_HA = "STANDARD_HA"


class Service(Enum):
    """The Cloud Run services of the env contract (config/env_contract.yaml)."""

    API = "api"
    WEBSOCKET = "websocket"
    AGENT = "agent"


def _service_name(value):
    known = [s.value for s in Service]
    if isinstance(value, Service):
        return value
    if value not in known:
        raise fail(f"is not a Cloud Run service of the env contract (known: {known})")
    return Service(value)


def _check_subnet(cidr: str) -> None:
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError:
        raise fail(f"must be an IPv4 CIDR such as 10.10.0.0/24, got {cidr!r}") from None
    if not net.is_private or net.version != 4 or not 16 <= net.prefixlen <= 28:
        raise fail(f"must be a private IPv4 range between /16 and /28 (Direct VPC egress needs at least /28), got {cidr}")


def _check_cidr(value: str) -> None:
    try:
        ipaddress.ip_network(value)
    except ValueError:
        raise fail(f"must be a CIDR such as 0.0.0.0/0, got {value!r}") from None


@dataclass(frozen=True, config=MODEL_CONFIG)
class BackendConfig:
    bucket: Str(GCS_BUCKET, "must be a GCS bucket name (3-63 lowercase letters, digits, '-', '_', '.')")
    prefix: Str(r"[A-Za-z0-9._/-]+", "must be a state path prefix such as gcp-staging")


@dataclass(frozen=True, config=MODEL_CONFIG)
class GitHubConfig:
    # owner/name of the repository whose workflows plan, apply and release
    # (the same value as the AWS files': docs/requirements.md#trust).
    infrastructure_repository: Str(GITHUB_REPO, GITHUB_REPO_RULE)
    # GitHub environment of the apply job: gcp-<env>, never one an AWS role trusts.
    environment: Str(r"[A-Za-z0-9._-]+", "must be a GitHub environment name")

    @property
    def repository(self) -> str:
        """The former name of :attr:`infrastructure_repository`, kept for callers."""
        return self.infrastructure_repository

    @property
    def branch(self) -> None:
        """Removed: trust goes to GitHub environments (their branch rules), never to a ref."""
        return None


@dataclass(frozen=True, config=MODEL_CONFIG)
class NetworkConfig:
    subnet_cidr: Str(check=_check_subnet)
    private_service_prefix_length: Int(16, 24)


@dataclass(frozen=True, config=MODEL_CONFIG)
class SqlConfig:
    tier: Choice(SqlTier)
    availability: Choice(SqlAvailability)
    disk_size_gb: Int(10, 65536)
    # Daily backups kept 7 days (docs/requirements.md#restore); Cloud SQL allows 1-365 retained backups.
    backups_retained: Int(7, 365)
    # PostgreSQL PITR keeps write-ahead logs 1-7 days.
    transaction_log_days: Int(1, 7)
    database: Str(POSTGRES_IDENTIFIER, "must be a lowercase PostgreSQL identifier")
    user: Str(POSTGRES_IDENTIFIER, "must be a lowercase PostgreSQL identifier")
    # Set on the instance (flag max_connections), never the tier's default; the
    # loader fits the services' pools in it (docs/requirements.md#gcp-connections).
    # Cloud SQL for PostgreSQL accepts 14-262143.
    max_connections: Int(14, 262143)
    # Kept free of the services' pools: the migrations job's pool and an operator.
    reserved_connections: Int(3, 1000)


@dataclass(frozen=True, config=MODEL_CONFIG)
class RedisConfig:
    tier: Choice(RedisTier)
    memory_size_gb: Int(1, 300)


@dataclass(frozen=True, config=MODEL_CONFIG)
class ServiceConfig:
    public: Bool
    min_instances: Int(0, 100)
    max_instances: Int(1, 100)
    port: Int(1, 65535)
    image_repository: Str(IMAGE, "must be an image path without tag, e.g. us-docker.pkg.dev/<project>/<repo>/<name>")
    pg_pool_max: Int(1, 100)  # DB_PG_POOL_MAX: the app's Postgres pool per instance
    cpu: Str(CPU, CPU_RULE) = "1"
    memory: Str(MEMORY, MEMORY_RULE) = "512Mi"
    request_timeout_seconds: Int(1, 3600) = 300
    session_affinity: Bool = False
    cpu_always_allocated: Bool = False  # work outside requests (the agent): no CPU throttling
    # Requests (for the WebSocket: open sockets) per instance; Cloud Run allows 1-1000, default 80.
    concurrency: Int(1, 1000) = 80


@dataclass(frozen=True, config=MODEL_CONFIG)
class MigrationsConfig:
    image_repository: Str(IMAGE, "must be an image path without tag")
    timeout_seconds: Int(60, 86400)
    pg_pool_max: Int(1, 100)  # DB_PG_POOL_MAX of the job; counted in sql.reserved_connections
    cpu: Str(CPU, CPU_RULE) = "1"
    memory: Str(MEMORY, MEMORY_RULE) = "512Mi"


@dataclass(frozen=True, config=MODEL_CONFIG)
class AppConfig:
    better_auth_url: Str(URL, "must be an https:// URL")
    trusted_origins: StrList(ORIGIN, "must be an https:// origin (no wildcard), scheme and host without a path", min_items=1)
    log_level: Str(r"debug|info|warn|error", "must be one of debug, info, warn, error") = "info"


@dataclass(frozen=True, config=MODEL_CONFIG)
class SlackConfig:
    """A Slack notification channel for both severities (off unless configured)."""

    channel: Str(r"#[a-z0-9][a-z0-9._-]{0,79}", "must be a Slack channel name such as #platform-alerts")
    # Secret Manager secret id holding the Slack app's OAuth token (created by an
    # operator, docs/gcp.md); Terraform reads it, the configuration never holds it.
    auth_token_secret: Str(r"[A-Za-z0-9_-]{1,255}", "must be a Secret Manager secret id such as md-staging-slack-token")


@dataclass(frozen=True, config=MODEL_CONFIG)
class ObservabilityConfig:
    emails: StrList(EMAIL, "must be an e-mail address", min_items=1)
    error_ratio_percent: Number(0, 100)
    latency_p95_ms: Number(0)
    sql_connections: Int(0)
    sql_disk_percent: Number(0, 100)
    redis_memory_percent: Number(0, 100)
    websocket_connections: Int(1) = 1000
    # The Critical route (pager); Warning goes to `emails` (docs/requirements.md#gcp-alerts).
    critical_emails: StrList(EMAIL, "must be an e-mail address") = ()
    # Per service, log entries of severity ERROR or worse (the log-based metric's alert).
    error_log_entries_per_minute: Number(1) = 10
    # Slack routing, off by default (docs/requirements.md#gcp-alerts).
    slack: Optional[SlackConfig] = None


@dataclass(frozen=True, config=MODEL_CONFIG)
class BudgetConfig:
    billing_account: Str(BILLING_ACCOUNT, "must be a billing account id such as 012345-6789AB-CDEF01")
    amount_usd: Int(1)
    alert_thresholds_usd: IncreasingNumbers(whole=True, low=0, high=None, rule="must be a non-empty list of whole USD amounts above 0",
                                            order_rule="must be strictly increasing")
    # Why the estimated idle cost may exceed the first alert (envconfig/gcp_cost.py, docs/requirements.md#cost);
    # None: it may not.
    idle_cost_reason: OptStr(r"\S.{9,}", "must say why in at least ten characters") = None


@dataclass(frozen=True, config=MODEL_CONFIG)
class OidcConfig:
    deploy_roles: StrList(PROJECT_ROLE, "must be a predefined or custom role such as roles/run.developer", min_items=1)
    # The admin identity the workflow's `cdktf deploy` runs as (created once
    # by an operator, see docs/gcp.md); the stack binds it to this pool.
    infra_service_account: OptStr(SERVICE_ACCOUNT_EMAIL,
                                  "must be a service account e-mail such as infra-deploy@<project>.iam.gserviceaccount.com") = None


@dataclass(frozen=True, config=MODEL_CONFIG)
class ArtifactRegistryConfig:
    repository: Str(REPOSITORY_ID, "must be an Artifact Registry repository id (lowercase letters, digits, hyphens)")
    keep_recent_versions: Int(1, 1000)
    untagged_retention_days: Int(1, 3650)
    # Release images older than this are deleted, except the keep_recent_versions newest.
    tagged_retention_days: Int(7, 3650)


@dataclass(frozen=True, config=MODEL_CONFIG)
class LoggingConfig:
    retention_days: Int(MIN_LOG_RETENTION_DAYS, 3650)
    # Cost levers (docs/requirements.md#cost), raised during an investigation;
    # above 0 so logging stays on: share of VPC flows and of edge requests logged.
    flow_log_sampling: Number(0.01, 1) = 0.1
    load_balancer_log_sample_rate: Number(0.01, 1) = 0.1


@dataclass(frozen=True, config=MODEL_CONFIG)
class SloConfig:
    # Below 90 % an SLO stops meaning anything; 99.99 % is beyond what a single-region Cloud Run service promises.
    availability_percent: Number(90, 99.99)
    latency_percent: Number(50, 99.99)
    latency_threshold_ms: Int(1, 60000)
    # Cloud Monitoring rolling periods: 1 to 30 days.
    window_days: Int(1, 30)


_OTLP_RULE = "must be an https:// OTLP endpoint URL"


@dataclass(frozen=True, config=MODEL_CONFIG)
class OtlpConfig:
    """Absent: no exporter variables, no telemetry roles. Present: at least one URL (checked by the loader)."""

    traces_url: OptStr(OTLP_URL, _OTLP_RULE) = None
    metrics_url: OptStr(OTLP_URL, _OTLP_RULE) = None
    logs_url: OptStr(OTLP_URL, _OTLP_RULE) = None


_CIDRS = StrList(min_items=1)
LIVEKIT_SETTINGS = ("zone", "machine_type", "domain", "turn_domain", "media_source_ranges")


@dataclass(frozen=True, config=ConfigDict(
    **MODEL_CONFIG,
    # The settings are required only when LiveKit is on ({enabled: false} alone is a valid section).
    json_schema_extra={"if": {"properties": {"enabled": {"const": True}}}, "then": {"required": list(LIVEKIT_SETTINGS)}}))
class LiveKitConfig:
    """``livekit: {enabled: false}`` or the full section (the loader requires the settings when enabled)."""

    enabled: Bool
    zone: OptStr(ZONE, "must be a zone such as us-central1-a") = None
    machine_type: OptStr(MACHINE_TYPE, "must be a machine type such as e2-medium") = None
    # Signalling over TLS (wss://<domain> on the edge's managed certificate) and
    # TURN over TLS on 443 of turn_domain (docs/requirements.md#livekit).
    domain: OptStr(HOSTNAME, "must be a DNS name such as livekit-staging.example.dev") = None
    turn_domain: OptStr(HOSTNAME, "must be a DNS name such as turn-staging.example.dev") = None
    # Firewall: who may send media (ICE/TCP 7881, UDP 7882).
    media_source_ranges: Optional[tuple[Str(check=_check_cidr), ...]] = Field(default=None, json_schema_extra={"minItems": 1})
    # Optional direct plain signalling (TCP 7880) from private ranges only (a VPN); the loader refuses public ones.
    signalling_source_ranges: tuple[Str(check=_check_cidr), ...] = ()


@dataclass(frozen=True, config=MODEL_CONFIG)
class FrontendSettings:
    domain: Str(HOSTNAME, "must be a DNS name such as www-staging.example.dev")
    # Served under this prefix of the host (the widget SDK: /widget/), by a path rule on the URL map.
    path: OptStr(r"/(?:[a-z0-9-]+/)+", "must be a path prefix such as /widget/ (starts and ends with /)") = None


@dataclass(frozen=True, config=MODEL_CONFIG)
class FrontendConfig:
    name: str
    domain: str
    path: str | None = None


@dataclass(frozen=True, config=MODEL_CONFIG)
class DomainsConfig:
    api: OptStr(HOSTNAME, "must be a DNS name such as api-staging.example.dev") = None
    websocket: OptStr(HOSTNAME, "must be a DNS name such as ws-staging.example.dev") = None


@dataclass(frozen=True, config=MODEL_CONFIG)
class StoreObjectives:
    """Recovery point and time objectives of one data store (docs/requirements.md#recovery-objectives)."""

    # 0 is a statement (nothing may be lost); a week is the longest any store here keeps history.
    rpo_minutes: Int(0, 10080)
    rto_minutes: Int(1, 10080)


@dataclass(frozen=True, config=MODEL_CONFIG)
class RecoveryConfig:
    """RPO / RTO per store, read by bin/gcp-restore-drill and docs/runbooks/gcp.md (docs/requirements.md#gcp-restore)."""

    cloud_sql: StoreObjectives
    firestore: StoreObjectives
    redis: StoreObjectives
    # Firestore scheduled daily backups kept this many days (a daily schedule keeps at most 7 days).
    firestore_backup_days: Int(1, 7)


@dataclass(frozen=True, config=MODEL_CONFIG)
class GcpConfig:
    """Everything that differs between gcp-staging and gcp-production."""

    environment: Choice(Environment)
    project_id: Str(PROJECT_ID, "must be a GCP project id: 6-30 lowercase letters, digits or hyphens, starting with a letter, "
                                "not ending with a hyphen")
    region: Choice(Region)
    name_prefix: Str(NAME_PREFIX, "must be 3-15 lowercase letters, digits or hyphens (service account ids are <prefix>-<role>, "
                                  "at most 30 characters)")
    deletion_protection: Bool
    backend: BackendConfig
    github: GitHubConfig
    network: NetworkConfig
    sql: SqlConfig
    redis: RedisConfig
    services: Section(ServiceConfig, key=Annotated[Service, BeforeValidator(_service_name)], non_empty_names=True)
    migrations: MigrationsConfig
    bootstrap_image: Str(IMAGE_WITH_TAG, "must be a full image reference with a tag or digest")
    app: AppConfig
    monitoring: ObservabilityConfig
    budget: BudgetConfig
    oidc: OidcConfig
    artifact_registry: ArtifactRegistryConfig
    logging: LoggingConfig
    slo: SloConfig
    recovery: RecoveryConfig
    livekit_section: LiveKitConfig = Field(alias="livekit")
    otlp: Optional[OtlpConfig] = None
    domains: DomainsConfig = Field(default_factory=DomainsConfig)
    frontend_sections: Section(FrontendSettings, key=Str(APP_NAME, "must be an app name: 1-20 lowercase letters, digits, hyphens")) \
        = Field(default_factory=dict, alias="frontends")
    # The file it was read from (the loader's, never a setting of the file).
    source: SkipJsonSchema[Path] = Field(default=Path(), exclude=True)

    @property
    def livekit(self) -> LiveKitConfig | None:
        """The LiveKit settings, or None when ``livekit.enabled`` is false."""
        return self.livekit_section if self.livekit_section.enabled else None

    @property
    def frontends(self) -> tuple[FrontendConfig, ...]:
        return tuple(FrontendConfig(name, settings.domain, settings.path) for name, settings in self.frontend_sections.items())

    @property
    def stack_name(self) -> str:
        return f"gcp-{self.environment.value}"

    def name(self, suffix: str) -> str:
        """The one naming rule: ``<name_prefix>-<suffix>``."""
        return f"{self.name_prefix}-{suffix}"

    def github_environment_subject(self, environment: str) -> str:
        return f"repo:{self.github.infrastructure_repository}:environment:{environment}"

    @property
    def role_subjects(self) -> dict[str, tuple[str, ...]]:
        """Purpose -> the one GitHub subject its identity trusts (docs/operations.md, trust table).

        gcp-apply: ``cdktf deploy`` as the infrastructure service account (``gcp-<env>``);
        gcp-plan: the read-only plan identity (``gcp-<env>-plan``);
        gcp-release: the deploy service account that rolls out images (``gcp-<env>-release``).
        """
        apply = self.github.environment
        return {"gcp-apply": (self.github_environment_subject(apply),),
                "gcp-plan": (self.github_environment_subject(f"{apply}-plan"),),
                "gcp-release": (self.github_environment_subject(f"{apply}-release"),)}

