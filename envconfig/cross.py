"""Rules that span configuration files: each file can be valid alone and the
pair still be wrong (two stacks on one Terraform state, both environments in
one GCP project, two GitHub OIDC providers in one AWS account)."""

from __future__ import annotations

from typing import Mapping

from envconfig.errors import ConfigError
from envconfig.models.aws import AwsConfig, Environment
from envconfig.models.gcp import Environment, GcpConfig


def check_aws(configs: Mapping[Environment, AwsConfig]) -> None:
    envs = sorted(configs.values(), key=lambda c: c.name.value != "staging")  # staging first: report on the later file
    for index, later in enumerate(envs):
        for earlier in envs[:index]:
            if later.account == earlier.account and later.github.create_oidc_provider and earlier.github.create_oidc_provider:
                raise ConfigError(
                    later.source, "github.create_oidc_provider",
                    f"{earlier.source.name} already creates the GitHub OIDC provider in account {later.account} "
                    f"(IAM allows one per account): set create_oidc_provider: false and existing_oidc_provider_arn")


def check_gcp(configs: Mapping[Environment, GcpConfig]) -> None:
    envs = sorted(configs.values(), key=lambda c: c.environment.value != "staging")
    for index, later in enumerate(envs):
        for earlier in envs[:index]:
            if later.project_id == earlier.project_id:
                raise ConfigError(later.source, "project_id",
                                  f"is also {earlier.source.name}'s project {later.project_id!r}: each environment needs its own "
                                  f"project (bucket and service names would collide)")
            if (later.backend.bucket, later.backend.prefix.strip("/")) == (earlier.backend.bucket, earlier.backend.prefix.strip("/")):
                raise ConfigError(later.source, "backend.prefix",
                                  f"gs://{later.backend.bucket}/{later.backend.prefix} is also {earlier.source.name}'s Terraform state: "
                                  f"both stacks would share one state")
            if later.backend.bucket == earlier.backend.bucket:
                raise ConfigError(later.source, "backend.bucket",
                                  f"gs://{later.backend.bucket} also holds {earlier.source.name}'s Terraform state: whoever reads "
                                  f"one environment's state would read the other's (one bucket per environment, "
                                  f"docs/requirements.md#gcp-state)")


def check_trust(aws: Mapping["Environment", "AwsConfig"], gcp: Mapping["Environment", "GcpConfig"]) -> None:
    """Both clouds trust the same infrastructure repository, and no GitHub OIDC
    subject opens two identities of different purposes, in one cloud or across
    clouds (docs/requirements.md#trust)."""
    configs = [*aws.values(), *gcp.values()]
    repositories = {c.github.infrastructure_repository for c in configs}
    if len(repositories) > 1:
        first = configs[0]
        for other in configs[1:]:
            if other.github.infrastructure_repository != first.github.infrastructure_repository:
                raise ConfigError(other.source, "github.infrastructure_repository",
                                  f"{other.github.infrastructure_repository!r} differs from {first.source.parent.name}/{first.source.name}'s "
                                  f"{first.github.infrastructure_repository!r}: every deploy workflow runs in one repository, "
                                  f"and a cloud that trusts another refuses its tokens")
    owner: dict[str, tuple[str, "object"]] = {}
    for config in configs:
        gcp_file = hasattr(config, "project_id")
        env = config.environment if gcp_file else config.name
        for purpose, subjects in config.role_subjects.items():
            label = f"{'GCP' if gcp_file else 'AWS'} {purpose} ({env.value})"
            for subject in subjects:
                if subject in owner and owner[subject][0] != label:
                    raise ConfigError(config.source, "github",
                                      f"subject {subject!r} would open both {owner[subject][0]} and {label}: "
                                      f"one GitHub environment per purpose")
                owner[subject] = (label, config)
