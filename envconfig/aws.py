"""The AWS side's per-environment configuration.

One YAML file per environment (``config/aws/<env>.yaml``) is read strictly
(:func:`envconfig.reader.read_yaml`) and validated into a frozen
:class:`~envconfig.models.aws.AwsConfig`; the rules across its fields,
the production floors and the clouds' limits then run over the model. Every
violation is a :class:`~envconfig.errors.ConfigError` naming the file, the
field and the rule, before any construct is built.

``MD_CONFIG_DIR`` points at another directory holding ``aws/<env>.yaml`` (the
end-to-end tests use it to redeploy with a changed threshold without touching
the repository's files).
"""

from __future__ import annotations

from pathlib import Path

from envconfig import cross, limits, policy
from envconfig.errors import ConfigError
from envconfig.location import REPO_CONFIG_DIR, config_dir
from envconfig.models.aws import (  # noqa: F401 - the public names of the AWS configuration
    AWS_REGIONS, LOG_RETENTION_DAYS, NONCE_GRACE_MAX_SECONDS, AuditConfig, AwsConfig, AwsNaming, BudgetConfig, DataConfig, Environment,
    GitHubConfig, ObservabilityConfig, OracleConsumer, RecoveryConfig, RecoveryObjective, RuntimeConfig, SecretsConfig,
    Severity, Store, TableName, Threshold,
)
from envconfig.reader import read_yaml
from envconfig.validation import validate

__all__ = ["AwsConfig", "AwsNaming", "Environment", "REPO_CONFIG_DIR", "Severity", "Store", "TableName", "Threshold", "config_path",
           "load", "load_all"]


def config_path(env: Environment | str) -> Path:
    return config_dir() / "aws" / f"{Environment(env).value}.yaml"


def load(env: Environment | str, path: Path | None = None) -> AwsConfig:
    """Load and validate one environment's configuration."""
    try:
        expected = Environment(env)
    except ValueError:
        raise ConfigError(config_dir() / "aws", "<environment>", f"must be one of {[e.value for e in Environment]}, got {env!r}") from None
    path = path or config_path(expected)
    raw = read_yaml(path)
    _refuse_removed_github_keys(raw, path)
    config = validate(AwsConfig, raw, path, source=path)
    if config.name is not expected:
        raise ConfigError(path, "environment", f"file is for {expected.value!r} but says {config.name.value!r}")
    _check_fields(config)
    limits.check_aws(config)
    policy.check_aws(config)
    return config


# PITR restores lag the present by about five minutes (LatestRestorableDateTime),
# so no table can promise a smaller RPO.
MIN_TABLE_RPO_MINUTES = 5
MAX_OBJECTIVE_MINUTES = 7 * 24 * 60


def _refuse_removed_github_keys(raw: dict, path: Path) -> None:
    """Keys that used to exist, refused with what replaced them rather than "unknown"."""
    github = raw.get("github") if isinstance(raw.get("github"), dict) else {}
    if "repository" in github:
        raise ConfigError(path, "github.repository", "was renamed github.infrastructure_repository (the repository whose "
                                                     "workflows deploy; repositories that call the Oracle go in github.oracle_consumers)")
    if "allow_main_branch" in github:
        raise ConfigError(path, "github.allow_main_branch", "was removed: roles trust GitHub environments only, never a branch "
                                                            "(staging deploys from main run in the 'staging' environment)")


def _check_fields(config: AwsConfig) -> None:
    """The rules that join two fields of one file."""
    path, gh = config.source, config.github
    for consumer in config.oracle_consumers:
        if consumer.repository == gh.infrastructure_repository:
            raise ConfigError(path, f"github.oracle_consumers.{consumer.repository}",
                              f"is the infrastructure repository {consumer.repository!r}: its jobs use the roles of their purpose "
                              f"(docs/operations.md, trust table), a consumer is another repository")
    if gh.create_oidc_provider and gh.existing_oidc_provider_arn:
        raise ConfigError(path, "github.existing_oidc_provider_arn",
                          "must be empty when create_oidc_provider is true (only one GitHub OIDC provider may exist per account)")
    if not gh.create_oidc_provider and not gh.existing_oidc_provider_arn:
        raise ConfigError(path, "github.existing_oidc_provider_arn", "is required when create_oidc_provider is false")
    if gh.existing_oidc_provider_arn and f":{config.account}:" not in gh.existing_oidc_provider_arn:
        raise ConfigError(path, "github.existing_oidc_provider_arn", f"must belong to account {config.account}")
    if config.recovery.dr_region == config.region:
        raise ConfigError(path, "recovery.dr_region", f"must be a second region, not the primary region {config.region}")
    for store in Store:
        objective = config.recovery.objectives.get(store)
        field = f"recovery.objectives.{store.value}"
        if objective is None:
            raise ConfigError(path, field, "is required")
        floor = MIN_TABLE_RPO_MINUTES if store.table else 1
        if objective.rpo_minutes < floor:
            raise ConfigError(path, f"{field}.rpo_minutes", f"must be between {floor} and {MAX_OBJECTIVE_MINUTES}, got {objective.rpo_minutes}")


def load_all() -> dict[Environment, AwsConfig]:
    """Both environments, with the rules that span files (one GitHub OIDC provider per account),
    and, where the GCP files are beside them, the trust rules across clouds (one infrastructure
    repository, no subject shared by two purposes)."""
    configs = {env: load(env) for env in Environment}
    cross.check_aws(configs)
    if (config_dir() / "gcp").is_dir():
        from envconfig.gcp import load_all as load_all_gcp

        cross.check_trust(configs, load_all_gcp())
    return configs
