"""Typed, validated configuration of the GCP side (cdktf stack ``gcp-<env>``).

One YAML file per environment in ``config/gcp/`` (the ``*.tfvars`` of a
Terraform setup) is read strictly (:func:`envconfig.reader.read_yaml`) and
validated into a frozen :class:`~envconfig.models.gcp.GcpConfig`; the rules
across its fields, the production floors and the clouds' limits then run
over the model. Every rule a user can break stops synth with
``<file>: <field>: <rule>`` (:class:`ConfigError`) before a single construct
is built, never with a stack trace from inside jsii.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path

from envconfig import cross, limits, location, policy
from envconfig.errors import ConfigError
from envconfig.gcp_cost import check_idle_cost
from envconfig.models.gcp import (  # noqa: F401 - the public names of the GCP configuration
    MIN_WEBSOCKET_TIMEOUT_SECONDS, AppConfig, ArtifactRegistryConfig, BackendConfig, BudgetConfig, DomainsConfig, Environment,
    FrontendConfig, GcpConfig, GitHubConfig, LiveKitConfig, LoggingConfig, MigrationsConfig, ObservabilityConfig, NetworkConfig,
    OidcConfig, OtlpConfig, RedisConfig, RedisTier, Region, ServiceConfig, Service, SloConfig, SqlAvailability, SqlConfig,
    SqlTier, LIVEKIT_SETTINGS,
)
from envconfig.reader import read_yaml
from envconfig.validation import validate

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config" / "gcp"
# Basic roles grant everything in the project: the deploy identity never gets them.
FORBIDDEN_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


def _refuse_removed_github_keys(raw: dict, path: Path) -> None:
    """Keys that used to exist, refused with what replaced them rather than "unknown"."""
    github = raw.get("github") if isinstance(raw.get("github"), dict) else {}
    if "repository" in github:
        raise ConfigError(path, "github.repository",
                          "was renamed github.infrastructure_repository (the repository whose workflows plan, apply and release)")
    if "branch" in github:
        raise ConfigError(path, "github.branch", "was removed: the pool trusts GitHub environments, whose deployment branch "
                                                 "rules pin the branch (docs/operations.md, trust table)")


def _check_fields(config: GcpConfig) -> None:
    """The rules that join two fields of one file."""
    path = config.source
    if path.stem != config.environment.value:
        raise ConfigError(path, "environment", f"must match the file name ({path.stem!r}), got {config.environment.value!r}")
    if config.github.environment != f"gcp-{config.environment.value}":
        raise ConfigError(path, "github.environment",
                          f"must be 'gcp-{config.environment.value}': the GCP apply job has its own GitHub environment, "
                          f"never one an AWS role trusts (got {config.github.environment!r})")
    # The state bucket is created in this project by bin/gcp-bootstrap; naming
    # it after the project makes a copied file's bucket visibly wrong
    # (docs/requirements.md#gcp-state).
    if not config.backend.bucket.startswith(f"{config.project_id}-"):
        raise ConfigError(path, "backend.bucket",
                          f"must be named '{config.project_id}-<suffix>': each environment's Terraform state lives in its own "
                          f"bucket in its own project (got {config.backend.bucket!r})")
    for service in Service:
        if service not in config.services:
            raise ConfigError(path, f"services.{service.value}", "is required: every contract service is deployed in every environment")
        settings, field = config.services[service], f"services.{service.value}"
        if settings.max_instances < settings.min_instances:
            raise ConfigError(path, f"{field}.max_instances",
                              f"must be >= min_instances ({settings.min_instances}), got {settings.max_instances}")
        if service is Service.WEBSOCKET:
            # The request is the socket; sticky sessions (docs/requirements.md#gcp-connections).
            if settings.request_timeout_seconds < MIN_WEBSOCKET_TIMEOUT_SECONDS:
                raise ConfigError(path, f"{field}.request_timeout_seconds",
                                  f"must be at least {MIN_WEBSOCKET_TIMEOUT_SECONDS} for the WebSocket service (the request is "
                                  f"the socket), got {settings.request_timeout_seconds}")
            if not settings.session_affinity:
                raise ConfigError(path, f"{field}.session_affinity",
                                  "must be true for the WebSocket service (sticky sessions, docs/requirements.md#gcp-connections)")
    for index, role in enumerate(config.oidc.deploy_roles):
        if role in FORBIDDEN_ROLES:
            raise ConfigError(path, f"oidc.deploy_roles[{index}]",
                              f"basic role {role} is not allowed for the deploy identity: list the narrow roles it needs")
    # Every release image lives in the repository this stack creates.
    prefix = f"{config.region.value}-docker.pkg.dev/{config.project_id}/{config.artifact_registry.repository}/"
    images = {**{f"services.{svc.value}.image_repository": sc.image_repository for svc, sc in config.services.items()},
              "migrations.image_repository": config.migrations.image_repository}
    for field, image in images.items():
        if not image.startswith(prefix) or "/" in image[len(prefix):]:
            raise ConfigError(path, field, f"must be an image in the stack's repository, {prefix}<name>, got {image!r}")
    otlp = config.otlp
    if otlp is not None and not (otlp.traces_url or otlp.metrics_url or otlp.logs_url):
        raise ConfigError(path, "otlp.traces_url", "at least one of traces_url, metrics_url, logs_url is required when otlp is set")
    livekit = config.livekit
    if livekit is not None:
        for key in LIVEKIT_SETTINGS:
            if getattr(livekit, key) is None:
                raise ConfigError(path, f"livekit.{key}", "is required")
        if not livekit.zone.startswith(f"{config.region.value}-"):
            raise ConfigError(path, "livekit.zone", f"must be in the stack's region {config.region.value}, got {livekit.zone!r}")
        for index, cidr in enumerate(livekit.signalling_source_ranges):
            if not ipaddress.ip_network(cidr).is_private:
                raise ConfigError(path, f"livekit.signalling_source_ranges[{index}]",
                                  f"{cidr} would open plain signalling (TCP 7880, no TLS) to the internet; signalling is served "
                                  "over TLS at livekit.domain (docs/requirements.md#livekit); list private ranges only (a VPN)")
        if livekit.domain == livekit.turn_domain:
            raise ConfigError(path, "livekit.turn_domain",
                              f"must differ from livekit.domain ({livekit.domain}): TURN/TLS has its own address on 443")
    agent = config.services[Service.AGENT]
    if livekit is None and agent.cpu_always_allocated and agent.min_instances > 0:
        # docs/requirements.md#cost: 2 vCPU always allocated, around the clock, for nothing.
        raise ConfigError(path, "services.agent.cpu_always_allocated",
                          f"is true with min_instances {agent.min_instances} while livekit.enabled is false: the agent has no "
                          "rooms to join and would idle at full CPU; set min_instances 0 and cpu_always_allocated false, or enable LiveKit")
    _check_capacity(config)


def _check_capacity(config: GcpConfig) -> None:
    """The rules between sizes (docs/requirements.md#gcp-connections):

    - connection budget: sum over services of max_instances x pg_pool_max,
      plus ``sql.reserved_connections`` (the migrations job's pool and an
      operator), must fit in ``sql.max_connections``; the message names every
      service and its numbers;
    - the migrations job's pool fits in that reserve;
    - the connections alert fires below ``sql.max_connections``;
    - the WebSocket service holds more sockets (concurrency x max_instances)
      than ``monitoring.websocket_connections``: an alert above capacity can
      never fire, and the sockets beyond capacity are refused silently.
    """
    path, sql, monitoring = config.source, config.sql, config.monitoring
    parts = {svc.value: (config.services[svc].max_instances, config.services[svc].pg_pool_max) for svc in Service}
    total = sum(n * pool for n, pool in parts.values()) + sql.reserved_connections
    if total > sql.max_connections:
        detail = ", ".join(f"{name} {n} x {pool} = {n * pool}" for name, (n, pool) in parts.items())
        raise ConfigError(path, "sql.max_connections",
                          f"{sql.max_connections} is below what the services can open: {detail}, "
                          f"reserve {sql.reserved_connections} (migrations and admin) = {total}; lower "
                          "services.<name>.max_instances or pg_pool_max, or raise max_connections (within the tier's memory)")
    if config.migrations.pg_pool_max >= sql.reserved_connections:
        raise ConfigError(path, "migrations.pg_pool_max",
                          f"{config.migrations.pg_pool_max} must be below sql.reserved_connections ({sql.reserved_connections}): "
                          "the reserve also keeps one connection for an operator")
    if monitoring.sql_connections >= sql.max_connections:
        raise ConfigError(path, "monitoring.sql_connections",
                          f"{monitoring.sql_connections} must be below sql.max_connections ({sql.max_connections}): "
                          "the alert has to fire before connections run out")
    ws = config.services[Service.WEBSOCKET]
    capacity = ws.concurrency * ws.max_instances
    if capacity <= monitoring.websocket_connections:
        raise ConfigError(path, "services.websocket.concurrency",
                          f"capacity {ws.concurrency} x {ws.max_instances} instances = {capacity} sockets must exceed "
                          f"monitoring.websocket_connections ({monitoring.websocket_connections}): the alert fires below capacity")


def load_gcp_config(path: Path) -> GcpConfig:
    """Read and validate one environment file."""
    raw = read_yaml(path)
    _refuse_removed_github_keys(raw, path)
    config = validate(GcpConfig, raw, path, source=path)
    _check_fields(config)
    limits.check_gcp(config)
    policy.check_gcp(config)
    check_idle_cost(config)
    return config


def load_environment(environment: Environment | str, config_dir: Path | None = None) -> GcpConfig:
    """The configuration of one environment from ``<config dir>/gcp/<env>.yaml`` (``MD_CONFIG_DIR`` honoured)."""
    env = environment if isinstance(environment, Environment) else Environment(environment)
    return load_gcp_config((config_dir or location.config_dir() / "gcp") / f"{env.value}.yaml")


def load_all(config_dir: Path | None = None) -> dict[Environment, GcpConfig]:
    """Both environments, with the rules that span files (distinct projects and state)."""
    configs = {env: load_environment(env, config_dir) for env in Environment}
    cross.check_gcp(configs)
    return configs
