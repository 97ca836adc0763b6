"""Trust rules of the configuration (docs/requirements.md#trust, #gcp-state):
one infrastructure repository for both clouds, no GitHub subject opening two
identities of different purposes, no branch subject, one Terraform state
bucket per environment in its own project. Each case edits a full copy of
config/ and states the refusal it expects."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from envconfig import aws, gcp
from envconfig.errors import ConfigError
from envconfig.location import REPO_CONFIG_DIR
from tests.config_edit import set_field, write_edited


@pytest.fixture
def candidate(tmp_path, monkeypatch) -> Path:
    shutil.copytree(REPO_CONFIG_DIR, tmp_path / "config")
    monkeypatch.setenv("MD_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def edit(path: Path, dotted: str, value) -> Path:
    return write_edited(path, path, set_field(dotted, value))


def test_the_repository_files_pass_and_agree():
    configs = aws.load_all()
    assert {c.github.infrastructure_repository for c in configs.values()} == {"PhaseMirror/Phase-Mirror"}
    assert {c.github.infrastructure_repository for c in gcp.load_all().values()} == {"PhaseMirror/Phase-Mirror"}


def test_clouds_that_trust_different_repositories_are_refused(candidate):
    edit(candidate / "gcp" / "production.yaml", "github.infrastructure_repository", "mirror-dissonance/platform-infra")
    with pytest.raises(ConfigError, match=r"gcp/production.yaml: github.infrastructure_repository: 'mirror-dissonance/platform-infra' "
                                          r"differs from aws/staging.yaml's 'PhaseMirror/Phase-Mirror'"):
        aws.load_all()


def test_a_consumer_that_is_the_infrastructure_repository_is_refused(candidate):
    edit(candidate / "aws" / "staging.yaml", "github.oracle_consumers", {"PhaseMirror/Phase-Mirror": {"environments": ["staging"]}})
    with pytest.raises(ConfigError, match=r"staging.yaml: github.oracle_consumers.PhaseMirror/Phase-Mirror: is the infrastructure repository"):
        aws.load("staging")


def test_a_subject_shared_by_two_purposes_across_clouds_is_refused(candidate):
    # The GCP apply job in the AWS deploy environment: one token would open both.
    path = candidate / "gcp" / "staging.yaml"
    path.write_text(path.read_text().replace("environment: gcp-staging", "environment: gcp-staging-x"))
    aws_cfg = aws.load("staging")
    from envconfig.cross import check_trust

    class Shared:  # a GCP file whose apply subject is the AWS deploy subject
        source = path
        environment = gcp.Environment.STAGING
        project_id = "p"
        github = aws_cfg.github
        role_subjects = {"gcp-apply": ("repo:PhaseMirror/Phase-Mirror:environment:staging",)}

    with pytest.raises(ConfigError, match=r"subject 'repo:PhaseMirror/Phase-Mirror:environment:staging' would open both "
                                          r"AWS deploy \(staging\) and GCP gcp-apply \(staging\)"):
        check_trust({aws.Environment.STAGING: aws_cfg}, {gcp.Environment.STAGING: Shared()})


def test_gcp_apply_environment_must_be_its_own(candidate):
    edit(candidate / "gcp" / "production.yaml", "github.environment", "production")
    with pytest.raises(ConfigError, match=r"production.yaml: github.environment: must be 'gcp-production'"):
        gcp.load_environment("production")


@pytest.mark.parametrize("cloud,key,value,message", [
    ("aws", "github.allow_main_branch", True, "github.allow_main_branch: was removed: roles trust GitHub environments only"),
    ("aws", "github.repository", "PhaseMirror/Phase-Mirror", "github.repository: was renamed github.infrastructure_repository"),
    ("gcp", "github.branch", "main", "github.branch: was removed: the pool trusts GitHub environments"),
    ("gcp", "github.repository", "PhaseMirror/Phase-Mirror", "github.repository: was renamed github.infrastructure_repository"),
])
def test_branch_trust_and_old_keys_are_refused(candidate, cloud, key, value, message):
    edit(candidate / cloud / "staging.yaml", key, value)
    with pytest.raises(ConfigError, match=message):
        aws.load("staging") if cloud == "aws" else gcp.load_environment("staging")


def test_shared_bucket_with_distinct_prefixes_is_refused():
    """Before: two prefixes in one bucket passed (whoever read staging's state read production's)."""
    from types import SimpleNamespace

    from envconfig.cross import check_gcp

    def env(name: str, project: str, prefix: str):
        return SimpleNamespace(environment=gcp.Environment(name), source=Path(f"/c/gcp/{name}.yaml"), project_id=project,
                               backend=SimpleNamespace(bucket="shared-tfstate", prefix=prefix))

    with pytest.raises(ConfigError, match=r"production.yaml: backend.bucket: gs://shared-tfstate also holds staging.yaml's Terraform state"):
        check_gcp({gcp.Environment.STAGING: env("staging", "p-stg", "gcp-staging"),
                   gcp.Environment.PRODUCTION: env("production", "p-prd", "gcp-production")})


def test_a_production_bucket_outside_the_production_project_is_refused(candidate):
    edit(candidate / "gcp" / "production.yaml", "backend.bucket", "mirror-dissonance-stg-tfstate")
    with pytest.raises(ConfigError, match=r"production.yaml: backend.bucket: must be named 'mirror-dissonance-prd-<suffix>'"):
        gcp.load_environment("production")
