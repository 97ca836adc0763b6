"""Platform sections of the GCP configuration (issue 11): images, logging, SLOs, OTLP, LiveKit, frontends.

Kept apart from ``envconfig/gcp.py`` so the core loader stays small; each
``read_*`` takes the top-level :class:`Reader` and is called from
``load_gcp_config``. Same rules: every field validated, unknown keys refused,
policy floors enforced here (a config that breaks policy never synthesizes).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from envconfig.errors import ConfigError
from envconfig.reader import Reader

# Artifact Registry repository ids: lowercase letters, digits, hyphens, 1-63, starting with a letter.
REPOSITORY_ID = r"[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?"
SERVICE_ACCOUNT_EMAIL = r"[a-z][a-z0-9-]{4,28}[a-z0-9]@[a-z][a-z0-9-]{4,28}[a-z0-9]\.iam\.gserviceaccount\.com"
HOSTNAME = r"(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
OTLP_URL = r"https://[A-Za-z0-9.-]+(?::[0-9]+)?(?:/[^\s]*)?"
ZONE = r"[a-z]+-[a-z]+[0-9]-[a-f]"
MACHINE_TYPE = r"[a-z][a-z0-9]*-[a-z0-9-]+"
APP_NAME = r"[a-z][a-z0-9-]{0,19}"

# Seed 003 "who accessed evidence": audit logs must outlive an investigation;
# 30 days is Cloud Logging's default and the floor we accept.
MIN_LOG_RETENTION_DAYS = 30
# Seed 002 risk 4 / issue 11: Cloud Run's default 300 s request timeout drops
# WebSocket connections; a socket may stay open an hour.
MIN_WEBSOCKET_TIMEOUT_SECONDS = 3600


@dataclass(frozen=True)
class ArtifactRegistryConfig:
    repository: str
    keep_recent_versions: int
    untagged_retention_days: int


@dataclass(frozen=True)
class LoggingConfig:
    retention_days: int


@dataclass(frozen=True)
class SloConfig:
    availability_percent: float
    latency_percent: float
    latency_threshold_ms: int
    window_days: int


@dataclass(frozen=True)
class OtlpConfig:
    traces_url: str | None
    metrics_url: str | None
    logs_url: str | None


@dataclass(frozen=True)
class LiveKitConfig:
    zone: str
    machine_type: str
    # Firewall: who may reach the signalling ports and the media range.
    signalling_source_ranges: tuple[str, ...]
    media_source_ranges: tuple[str, ...]


@dataclass(frozen=True)
class FrontendConfig:
    name: str
    domain: str


@dataclass(frozen=True)
class DomainsConfig:
    api: str | None
    websocket: str | None


def read_artifact_registry(r: Reader) -> ArtifactRegistryConfig:
    a = r.section("artifact_registry")
    result = ArtifactRegistryConfig(
        repository=a.str("repository", pattern=REPOSITORY_ID, rule="must be an Artifact Registry repository id (lowercase letters, digits, hyphens)"),
        keep_recent_versions=a.int("keep_recent_versions", minimum=1, maximum=1000),
        untagged_retention_days=a.int("untagged_retention_days", minimum=1, maximum=3650),
    )
    a.finish()
    return result


def check_image_repositories(path, *, project_id: str, region: str, registry: ArtifactRegistryConfig,
                             images: dict[str, str]) -> None:
    """Every release image lives in the repository this stack creates (issue 11)."""
    prefix = f"{region}-docker.pkg.dev/{project_id}/{registry.repository}/"
    for field, image in images.items():
        if not image.startswith(prefix) or "/" in image[len(prefix):]:
            raise ConfigError(path, field, f"must be an image in the stack's repository, {prefix}<name>, got {image!r}")


def read_logging(r: Reader) -> LoggingConfig:
    lg = r.section("logging")
    result = LoggingConfig(retention_days=lg.int("retention_days", minimum=MIN_LOG_RETENTION_DAYS, maximum=3650))
    lg.finish()
    return result


def read_slo(r: Reader) -> SloConfig:
    s = r.section("slo")
    result = SloConfig(
        # Below 90 % an SLO stops meaning anything; 99.99 % is beyond what a single-region Cloud Run service promises.
        availability_percent=s.number("availability_percent", minimum=90, maximum=99.99),
        latency_percent=s.number("latency_percent", minimum=50, maximum=99.99),
        latency_threshold_ms=s.int("latency_threshold_ms", minimum=1, maximum=60000),
        # Cloud Monitoring rolling periods: 1 to 30 days.
        window_days=s.int("window_days", minimum=1, maximum=30),
    )
    s.finish()
    return result


def read_otlp(r: Reader) -> OtlpConfig | None:
    if r._data.get("otlp") is None:  # absent: no exporter variables, no telemetry roles
        r._seen.add("otlp")
        return None
    o = r.section("otlp")
    rule = "must be an https:// OTLP endpoint URL"
    result = OtlpConfig(
        traces_url=o.optional_str("traces_url", pattern=OTLP_URL, rule=rule),
        metrics_url=o.optional_str("metrics_url", pattern=OTLP_URL, rule=rule),
        logs_url=o.optional_str("logs_url", pattern=OTLP_URL, rule=rule),
    )
    o.finish()
    if not (result.traces_url or result.metrics_url or result.logs_url):
        raise o.error("traces_url", "at least one of traces_url, metrics_url, logs_url is required when otlp is set")
    return result


def _cidrs(reader: Reader, key: str) -> tuple[str, ...]:
    values = reader.str_list(key, min_items=1)
    for index, value in enumerate(values):
        try:
            ipaddress.ip_network(value)
        except ValueError:
            raise ConfigError(reader.path, f"{reader.field_name(key)}[{index}]", f"must be a CIDR such as 0.0.0.0/0, got {value!r}") from None
    return values


def read_livekit(r: Reader, *, region: str) -> LiveKitConfig | None:
    """``livekit: {enabled: false}`` or the full section."""
    lk = r.section("livekit")
    if not lk.bool("enabled"):
        lk._seen.update(lk._data)  # settings kept for later are allowed while disabled
        return None
    zone = lk.str("zone", pattern=ZONE, rule="must be a zone such as us-central1-a")
    if not zone.startswith(f"{region}-"):
        raise lk.error("zone", f"must be in the stack's region {region}, got {zone!r}")
    result = LiveKitConfig(
        zone=zone,
        machine_type=lk.str("machine_type", pattern=MACHINE_TYPE, rule="must be a machine type such as e2-medium"),
        signalling_source_ranges=_cidrs(lk, "signalling_source_ranges"),
        media_source_ranges=_cidrs(lk, "media_source_ranges"),
    )
    if lk._schema is not None:
        # Recording the JSON Schema: the settings are required only when LiveKit is on
        # (``{enabled: false}`` alone is a valid section).
        needed = [k for k in lk._schema.get("required", []) if k != "enabled"]
        lk._schema["required"] = ["enabled"]
        lk._schema["if"] = {"properties": {"enabled": {"const": True}}}
        lk._schema["then"] = {"required": needed}
    lk.finish()
    return result


def read_frontends(r: Reader) -> tuple[FrontendConfig, ...]:
    """``frontends: {landing: {domain: www-staging.example.dev}, ...}``; empty or absent: none."""
    raw = r._get("frontends", {})
    if not raw:
        return ()
    result = []
    for name, section in r.sections("frontends").items():
        if not re.fullmatch(APP_NAME, name):
            raise ConfigError(r.path, f"frontends.{name}", "must be an app name: 1-20 lowercase letters, digits, hyphens")
        result.append(FrontendConfig(name=name, domain=section.str("domain", pattern=HOSTNAME, rule="must be a DNS name such as www-staging.example.dev")))
        section.finish()
    return tuple(result)


def read_domains(r: Reader) -> DomainsConfig:
    d = r.section("domains", default={})
    result = DomainsConfig(
        api=d.optional_str("api", pattern=HOSTNAME, rule="must be a DNS name such as api-staging.example.dev"),
        websocket=d.optional_str("websocket", pattern=HOSTNAME, rule="must be a DNS name such as ws-staging.example.dev"),
    )
    d.finish()
    return result


@dataclass(frozen=True)
class StoreObjectives:
    """Recovery point and time objectives of one data store (docs/requirements.md#recovery-objectives)."""
    rpo_minutes: int
    rto_minutes: int


@dataclass(frozen=True)
class RecoveryConfig:
    cloud_sql: StoreObjectives
    firestore: StoreObjectives
    redis: StoreObjectives
    # Firestore scheduled daily backups kept this many days (a daily schedule keeps at most 7 days).
    firestore_backup_days: int


RECOVERY_STORES = ("cloud_sql", "firestore", "redis")


def read_recovery(r: Reader) -> RecoveryConfig:
    """``recovery``: RPO / RTO per store, read by bin/gcp-restore-drill and docs/runbooks/gcp.md."""
    rec = r.section("recovery")
    stores = {}
    for name in RECOVERY_STORES:
        s = rec.section(name)
        # RPO 0 is allowed only as a statement (nothing may be lost); a week is the longest any store keeps history.
        stores[name] = StoreObjectives(rpo_minutes=s.int("rpo_minutes", minimum=0, maximum=10080),
                                       rto_minutes=s.int("rto_minutes", minimum=1, maximum=10080))
        s.finish()
    result = RecoveryConfig(**stores, firestore_backup_days=rec.int("firestore_backup_days", minimum=1, maximum=7))
    rec.finish()
    return result
