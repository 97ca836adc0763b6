"""Typed, validated configuration of the GCP side (cdktf stacks ``gcp-<env>``).

One YAML file per environment in ``config/gcp/`` (the seeds' ``*.tfvars``),
read into one frozen :class:`GcpConfig`. Every rule a user can break stops
synth with ``<file>: <field>: <rule>`` (:class:`ConfigError`) before a single
construct is built, never with a stack trace from inside jsii.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

from envconfig.errors import ConfigError
from envconfig import location, policy
from envconfig.gcp_cost import check_idle_cost
from envconfig.gcp_platform import (
    MIN_WEBSOCKET_TIMEOUT_SECONDS,
    SERVICE_ACCOUNT_EMAIL,
    ArtifactRegistryConfig,
    DomainsConfig,
    FrontendConfig,
    LiveKitConfig,
    LoggingConfig,
    OtlpConfig,
    RecoveryConfig,
    SloConfig,
    check_image_repositories,
    read_artifact_registry,
    read_domains,
    read_frontends,
    read_livekit,
    read_logging,
    read_otlp,
    read_recovery,
    read_slo,
)
from envconfig.patterns import EMAIL, GITHUB_REPO, GITHUB_REPO_RULE, ORIGIN
from envconfig.reader import Reader, load_yaml

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config" / "gcp"

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
PROJECT_ROLE = r"roles/[A-Za-z0-9_.]+"
# Basic roles grant everything in the project: the deploy identity never gets them.
FORBIDDEN_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


class Environment(Enum):
    STAGING = "staging"
    PRODUCTION = "production"


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
    """Cloud SQL machine tiers we size for (seed 002: db-f1-micro for staging)."""

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


@dataclass(frozen=True)
class BackendConfig:
    bucket: str
    prefix: str


@dataclass(frozen=True)
class GithubConfig:
    repository: str  # owner/name
    environment: str  # GitHub Actions environment allowed to deploy
    branch: str | None  # also pin the ref (staging: main); None where releases deploy from tags


@dataclass(frozen=True)
class NetworkConfig:
    subnet_cidr: str
    private_service_prefix_length: int


@dataclass(frozen=True)
class SqlConfig:
    tier: SqlTier
    availability: SqlAvailability
    disk_size_gb: int
    backups_retained: int
    transaction_log_days: int
    database: str
    user: str


@dataclass(frozen=True)
class RedisConfig:
    tier: RedisTier
    memory_size_gb: int


@dataclass(frozen=True)
class ServiceConfig:
    service: Service
    public: bool
    min_instances: int
    max_instances: int
    port: int
    cpu: str
    memory: str
    image_repository: str
    request_timeout_seconds: int = 300
    session_affinity: bool = False
    cpu_always_allocated: bool = False  # work outside requests (the agent): no CPU throttling


@dataclass(frozen=True)
class MigrationsConfig:
    image_repository: str
    timeout_seconds: int
    cpu: str
    memory: str


@dataclass(frozen=True)
class AppConfig:
    better_auth_url: str
    trusted_origins: tuple[str, ...]
    log_level: str


@dataclass(frozen=True)
class MonitoringConfig:
    emails: tuple[str, ...]
    error_ratio_percent: float
    latency_p95_ms: float
    sql_connections: int
    sql_disk_percent: float
    redis_memory_percent: float
    websocket_connections: int = 1000
    critical_emails: tuple[str, ...] = ()  # seed 002 Critical route (pager); Warning goes to `emails`


@dataclass(frozen=True)
class BudgetConfig:
    billing_account: str
    amount_usd: int
    alert_thresholds_usd: tuple[int, ...]
    # Why the estimated idle cost may exceed the first alert (envconfig/gcp_cost.py); None: it may not.
    idle_cost_reason: str | None = None


@dataclass(frozen=True)
class OidcConfig:
    deploy_roles: tuple[str, ...]
    # The admin identity the workflow's `cdktf deploy` runs as (created once
    # by an operator, see docs/gcp.md); the stack binds it to this pool.
    infra_service_account: str | None = None


@dataclass(frozen=True)
class GcpConfig:
    """Everything that differs between gcp-staging and gcp-production."""

    source: Path
    environment: Environment
    project_id: str
    region: Region
    name_prefix: str
    deletion_protection: bool
    backend: BackendConfig
    github: GithubConfig
    network: NetworkConfig
    sql: SqlConfig
    redis: RedisConfig
    services: Mapping[Service, ServiceConfig]
    migrations: MigrationsConfig
    bootstrap_image: str
    app: AppConfig
    monitoring: MonitoringConfig
    budget: BudgetConfig
    oidc: OidcConfig
    artifact_registry: ArtifactRegistryConfig
    logging: LoggingConfig
    slo: SloConfig
    otlp: OtlpConfig | None
    livekit: LiveKitConfig | None
    domains: DomainsConfig
    frontends: tuple[FrontendConfig, ...] = ()
    recovery: RecoveryConfig | None = None

    @property
    def stack_name(self) -> str:
        return f"gcp-{self.environment.value}"

    def name(self, suffix: str) -> str:
        """The one naming rule: ``<name_prefix>-<suffix>``."""
        return f"{self.name_prefix}-{suffix}"


def _usd_list(reader: Reader, key: str) -> tuple[int, ...]:
    """A strictly increasing list of whole USD amounts (the reader has no int list)."""
    raw = reader._get(key, None)  # the reader's own lookup, so finish() knows the key
    if not isinstance(raw, list) or not raw or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in raw):
        raise reader.error(key, "must be a non-empty list of whole USD amounts above 0")
    if sorted(set(raw)) != raw:
        raise reader.error(key, f"must be strictly increasing, got {raw}")
    return tuple(raw)


def _services(reader: Reader) -> Mapping[Service, ServiceConfig]:
    sections = reader.sections("services")
    known = [s.value for s in Service]
    for name in sections:
        if name not in known:
            raise reader.error(f"services.{name}", f"is not a Cloud Run service of the env contract (known: {known})")
    missing = [name for name in known if name not in sections]
    if missing:
        raise reader.error(f"services.{missing[0]}", "is required: every contract service is deployed in every environment")
    result: dict[Service, ServiceConfig] = {}
    for service in Service:
        s = sections[service.value]
        min_instances = s.int("min_instances", minimum=0, maximum=100)
        max_instances = s.int("max_instances", minimum=1, maximum=100)
        if max_instances < min_instances:
            raise s.error("max_instances", f"must be >= min_instances ({min_instances}), got {max_instances}")
        result[service] = ServiceConfig(
            service=service,
            public=s.bool("public"),
            min_instances=min_instances,
            max_instances=max_instances,
            port=s.int("port", minimum=1, maximum=65535),
            cpu=s.str("cpu", pattern=CPU, rule="must be one of 1, 2, 4, 6, 8 (Cloud Run vCPU)", default="1"),
            memory=s.str("memory", pattern=MEMORY, rule="must look like 512Mi or 2Gi", default="512Mi"),
            image_repository=s.str("image_repository", pattern=IMAGE, rule="must be an image path without tag, e.g. us-docker.pkg.dev/<project>/<repo>/<name>"),
            request_timeout_seconds=s.int("request_timeout_seconds", minimum=1, maximum=3600, default=300),
            session_affinity=s.bool("session_affinity", default=False),
            cpu_always_allocated=s.bool("cpu_always_allocated", default=False),
        )
        if service is Service.WEBSOCKET:
            ws = result[service]
            if ws.request_timeout_seconds < MIN_WEBSOCKET_TIMEOUT_SECONDS:
                raise s.error("request_timeout_seconds", f"must be at least {MIN_WEBSOCKET_TIMEOUT_SECONDS} for the WebSocket service (the request is the socket), got {ws.request_timeout_seconds}")
            if not ws.session_affinity:
                raise s.error("session_affinity", "must be true for the WebSocket service (seed 002 risk 4: sticky sessions)")
        s.finish()
    return MappingProxyType(result)


def load_gcp_config(path: Path) -> GcpConfig:
    """Read and validate one environment file."""
    r = load_yaml(path)
    environment = r.choice("environment", Environment)
    if path.stem != environment.value:
        raise r.error("environment", f"must match the file name ({path.stem!r}), got {environment.value!r}")
    project_id = r.str("project_id", pattern=PROJECT_ID, rule="must be a GCP project id: 6-30 lowercase letters, digits or hyphens, starting with a letter, not ending with a hyphen")
    region = r.choice("region", Region)
    name_prefix = r.str("name_prefix", pattern=NAME_PREFIX, rule="must be 3-15 lowercase letters, digits or hyphens (service account ids are <prefix>-<role>, at most 30 characters)")
    deletion_protection = r.bool("deletion_protection")
    if environment is Environment.PRODUCTION and not deletion_protection:
        raise r.error("deletion_protection", "must be true in production")

    b = r.section("backend")
    backend = BackendConfig(
        bucket=b.str("bucket", pattern=GCS_BUCKET, rule="must be a GCS bucket name (3-63 lowercase letters, digits, '-', '_', '.')"),
        prefix=b.str("prefix", pattern=r"[A-Za-z0-9._/-]+", rule="must be a state path prefix such as gcp-staging"),
    )
    b.finish()

    g = r.section("github")
    github = GithubConfig(
        repository=g.str("repository", pattern=GITHUB_REPO, rule=GITHUB_REPO_RULE),
        environment=g.str("environment", pattern=r"[A-Za-z0-9._-]+", rule="must be a GitHub environment name"),
        branch=g.optional_str("branch", pattern=r"[A-Za-z0-9._/-]+", rule="must be a branch name such as main"),
    )
    g.finish()

    n = r.section("network")
    cidr = n.str("subnet_cidr")
    try:
        net = ipaddress.ip_network(cidr)
    except ValueError:
        raise n.error("subnet_cidr", f"must be an IPv4 CIDR such as 10.10.0.0/24, got {cidr!r}") from None
    if not net.is_private or net.version != 4 or not 16 <= net.prefixlen <= 28:
        raise n.error("subnet_cidr", f"must be a private IPv4 range between /16 and /28 (Direct VPC egress needs at least /28), got {cidr}")
    network = NetworkConfig(subnet_cidr=cidr, private_service_prefix_length=n.int("private_service_prefix_length", minimum=16, maximum=24))
    n.finish()

    s = r.section("sql")
    sql = SqlConfig(
        tier=s.choice("tier", SqlTier),
        availability=s.choice("availability", SqlAvailability),
        disk_size_gb=s.int("disk_size_gb", minimum=10, maximum=65536),
        # Seed 002: daily backups kept 7 days; Cloud SQL allows 1-365 retained backups.
        backups_retained=s.int("backups_retained", minimum=7, maximum=365),
        # PostgreSQL PITR keeps write-ahead logs 1-7 days.
        transaction_log_days=s.int("transaction_log_days", minimum=1, maximum=7),
        database=s.str("database", pattern=r"[a-z][a-z0-9_]{0,62}", rule="must be a lowercase PostgreSQL identifier"),
        user=s.str("user", pattern=r"[a-z][a-z0-9_]{0,62}", rule="must be a lowercase PostgreSQL identifier"),
    )
    s.finish()
    if environment is Environment.PRODUCTION and sql.availability is not SqlAvailability.REGIONAL:
        raise ConfigError(path, "sql.availability", "must be REGIONAL in production (a zonal outage must not take the database down)")

    rd = r.section("redis")
    redis = RedisConfig(tier=rd.choice("tier", RedisTier), memory_size_gb=rd.int("memory_size_gb", minimum=1, maximum=300))
    rd.finish()

    services = _services(r)

    m = r.section("migrations")
    migrations = MigrationsConfig(
        image_repository=m.str("image_repository", pattern=IMAGE, rule="must be an image path without tag"),
        timeout_seconds=m.int("timeout_seconds", minimum=60, maximum=86400),
        cpu=m.str("cpu", pattern=CPU, rule="must be one of 1, 2, 4, 6, 8 (Cloud Run vCPU)", default="1"),
        memory=m.str("memory", pattern=MEMORY, rule="must look like 512Mi or 2Gi", default="512Mi"),
    )
    m.finish()
    bootstrap_image = r.str("bootstrap_image", pattern=IMAGE_WITH_TAG, rule="must be a full image reference with a tag or digest")

    a = r.section("app")
    app = AppConfig(
        better_auth_url=a.str("better_auth_url", pattern=URL, rule="must be an https:// URL"),
        trusted_origins=a.str_list("trusted_origins", pattern=ORIGIN, rule="must be an https:// origin (no wildcard: seed 003), scheme and host without a path", min_items=1),
        log_level=a.str("log_level", pattern=r"debug|info|warn|error", rule="must be one of debug, info, warn, error", default="info"),
    )
    a.finish()

    mo = r.section("monitoring")
    monitoring = MonitoringConfig(
        emails=mo.str_list("emails", pattern=EMAIL, rule="must be an e-mail address", min_items=1),
        error_ratio_percent=mo.number("error_ratio_percent", minimum=0, maximum=100),
        latency_p95_ms=mo.number("latency_p95_ms", minimum=0),
        sql_connections=mo.int("sql_connections", minimum=0),
        sql_disk_percent=mo.number("sql_disk_percent", minimum=0, maximum=100),
        redis_memory_percent=mo.number("redis_memory_percent", minimum=0, maximum=100),
        websocket_connections=mo.int("websocket_connections", minimum=1, default=1000),
        critical_emails=mo.str_list("critical_emails", pattern=EMAIL, rule="must be an e-mail address", default=[]),
    )
    mo.finish()

    bu = r.section("budget")
    amount = bu.int("amount_usd", minimum=1)
    thresholds = _usd_list(bu, "alert_thresholds_usd")
    budget = BudgetConfig(
        billing_account=bu.str("billing_account", pattern=BILLING_ACCOUNT, rule="must be a billing account id such as 012345-6789AB-CDEF01"),
        amount_usd=amount,
        alert_thresholds_usd=thresholds,
        idle_cost_reason=bu.optional_str("idle_cost_reason", pattern=r"\S.{9,}", rule="must say why in at least ten characters"),
    )
    bu.finish()

    o = r.section("oidc")
    roles = o.str_list("deploy_roles", pattern=PROJECT_ROLE, rule="must be a predefined or custom role such as roles/run.developer", min_items=1)
    for index, role in enumerate(roles):
        if role in FORBIDDEN_ROLES:
            raise ConfigError(path, f"oidc.deploy_roles[{index}]", f"basic role {role} is not allowed for the deploy identity: list the narrow roles it needs")
    oidc = OidcConfig(
        deploy_roles=roles,
        infra_service_account=o.optional_str("infra_service_account", pattern=SERVICE_ACCOUNT_EMAIL, rule="must be a service account e-mail such as infra-deploy@<project>.iam.gserviceaccount.com"),
    )
    o.finish()
    artifact_registry = read_artifact_registry(r)
    check_image_repositories(path, project_id=project_id, region=region.value, registry=artifact_registry, images={
        **{f"services.{svc.value}.image_repository": sc.image_repository for svc, sc in services.items()},
        "migrations.image_repository": migrations.image_repository,
    })
    logging = read_logging(r)
    slo = read_slo(r)
    otlp = read_otlp(r)
    livekit = read_livekit(r, region=region.value)
    domains = read_domains(r)
    frontends = read_frontends(r)
    recovery = read_recovery(r)
    r.finish()

    return check_idle_cost(policy.checked_gcp(GcpConfig(
        source=path,
        environment=environment,
        project_id=project_id,
        region=region,
        name_prefix=name_prefix,
        deletion_protection=deletion_protection,
        backend=backend,
        github=github,
        network=network,
        sql=sql,
        redis=redis,
        services=services,
        migrations=migrations,
        bootstrap_image=bootstrap_image,
        app=app,
        monitoring=monitoring,
        budget=budget,
        oidc=oidc,
        artifact_registry=artifact_registry,
        logging=logging,
        slo=slo,
        otlp=otlp,
        livekit=livekit,
        domains=domains,
        frontends=frontends,
        recovery=recovery,
    )))


def load_environment(environment: Environment | str, config_dir: Path | None = None) -> GcpConfig:
    """The configuration of one environment from ``<config dir>/gcp/<env>.yaml`` (``MD_CONFIG_DIR`` honoured)."""
    env = environment if isinstance(environment, Environment) else Environment(environment)
    return load_gcp_config((config_dir or location.config_dir() / "gcp") / f"{env.value}.yaml")


def load_all(config_dir: Path | None = None) -> dict[Environment, GcpConfig]:
    """Both environments, with the rules that span files (distinct projects and state)."""
    from envconfig.cross import check_gcp

    configs = {env: load_environment(env, config_dir) for env in Environment}
    check_gcp(configs)
    return configs
