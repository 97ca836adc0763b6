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

from pathlib import Path

from envconfig import cross, limits, location, policy
from envconfig.errors import ConfigError
from envconfig.models.gcp import (  # noqa: F401 - the public names of the GCP configuration
    MIN_WEBSOCKET_TIMEOUT_SECONDS, AppConfig, ArtifactRegistryConfig, BackendConfig, BudgetConfig, DomainsConfig, Environment,
    FrontendConfig, GcpConfig, GithubConfig, LiveKitConfig, LoggingConfig, MigrationsConfig, MonitoringConfig, NetworkConfig,
    OidcConfig, OtlpConfig, RedisConfig, RedisTier, Region, ServiceConfig, Service, SloConfig, SqlAvailability, SqlConfig,
    SqlTier, LIVEKIT_SETTINGS,
)
from envconfig.reader import read_yaml
from envconfig.validation import validate

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config" / "gcp"
# Basic roles grant everything in the project: the deploy identity never gets them.
FORBIDDEN_ROLES = ("roles/owner", "roles/editor", "roles/viewer")


def _check_fields(config: GcpConfig) -> None:
    """The rules that join two fields of one file."""
    path = config.source
    if path.stem != config.environment.value:
        raise ConfigError(path, "environment", f"must match the file name ({path.stem!r}), got {config.environment.value!r}")
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


def load_gcp_config(path: Path) -> GcpConfig:
    """Read and validate one environment file."""
    config = validate(GcpConfig, read_yaml(path), path, source=path)
    _check_fields(config)
    limits.check_gcp(config)
    policy.check_gcp(config)
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
