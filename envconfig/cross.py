"""Rules that span configuration files: each file can be valid alone and the
pair still be wrong (two stacks on one Terraform state, both environments in
one GCP project, two GitHub OIDC providers in one AWS account)."""

from __future__ import annotations

from typing import Mapping

from envconfig.errors import ConfigError
from envconfig.models.aws import AwsEnvironment, EnvName
from envconfig.models.gcp import Environment, GcpConfig


def check_aws(configs: Mapping[EnvName, AwsEnvironment]) -> None:
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
