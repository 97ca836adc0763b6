"""OIDC concern: Workload Identity Federation for the GitHub deploy workflow."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.workload_identity import GithubWorkloadIdentity
from envconfig.gcp import GcpConfig
from stacks.gcp.runtime import Runtime


class Oidc(tf.Construct):
    """Attributes: ``github`` (GithubWorkloadIdentity)."""

    def __init__(self, scope: tf.Construct, id_: str, *, config: GcpConfig, runtime: Runtime) -> None:
        super().__init__(scope, id_)
        runtime_accounts = [s.service_account for s in runtime.services.values()] + [runtime.migrations.service_account]
        self.github = GithubWorkloadIdentity(
            self,
            "Github",
            project=config.project_id,
            pool_id=config.name("github"),
            account_id=config.name("deploy"),
            repository=config.github.repository,
            environment=config.github.environment,
            branch=config.github.branch,
            deploy_roles=config.oidc.deploy_roles,
            act_as=runtime_accounts,
            infra_service_account=config.oidc.infra_service_account,
        )
