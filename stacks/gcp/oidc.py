"""OIDC concern: Workload Identity Federation, one GitHub environment per purpose (apply, plan, release)."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.workload_identity import CustomRoleGrant, GithubWorkloadIdentity
from envconfig.gcp import GcpConfig
from stacks.gcp.runtime import Runtime

# What `gcloud sql backups create` (waiting for the operation) needs.
ROLLOUT_BACKUP_PERMISSIONS = (
    "cloudsql.backupRuns.create",
    "cloudsql.backupRuns.get",
    "cloudsql.instances.get",
)


class Oidc(tf.Construct):
    """Attributes: ``github`` (GithubWorkloadIdentity), ``rollout_backup`` (CustomRoleGrant)."""

    def __init__(self, scope: tf.Construct, id_: str, *, config: GcpConfig, runtime: Runtime) -> None:
        super().__init__(scope, id_)
        runtime_accounts = [s.service_account for s in runtime.services.values()] + [runtime.migrations.service_account]
        self.github = GithubWorkloadIdentity(
            self,
            "Github",
            project=config.project_id,
            pool_id=config.name("github"),
            account_id=config.name("deploy"),
            repository=config.github.infrastructure_repository,
            apply_subject=config.role_subjects["gcp-apply"][0],
            plan_subject=config.role_subjects["gcp-plan"][0],
            release_subject=config.role_subjects["gcp-release"][0],
            deploy_roles=config.oidc.deploy_roles,
            act_as=runtime_accounts,
            infra_service_account=config.oidc.infra_service_account,
        )
        # bin/gcp-rollout backs up Cloud SQL before the migrations job (opscli/gcp_rollout.py).
        self.rollout_backup = CustomRoleGrant(
            self, "RolloutBackup", project=config.project_id,
            role_id=config.name("rollout-backup").replace("-", "_"),
            title="Back up Cloud SQL before migrations (bin/gcp-rollout)",
            permissions=ROLLOUT_BACKUP_PERMISSIONS,
            member=f"serviceAccount:{self.github.service_account.email}",
        )
