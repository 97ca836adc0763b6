"""Workload Identity Federation for GitHub Actions: no service account keys."""

from __future__ import annotations

from typing import Sequence

from constructs_lib.gcp import tf

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


def github_condition(*, repository: str, environment: str, branch: str | None = None) -> str:
    """The CEL ``attribute_condition`` a token must satisfy to be exchanged.

    Google rejects GitHub providers without a condition (any repository on
    github.com could otherwise mint tokens for the pool). We pin the ``sub``
    claim exactly, as on AWS: ``repo:<owner>/<name>:environment:<env>`` (a job
    that runs in that GitHub environment, whose protection rules gate
    production), the repository claim again, and the branch when given.
    """
    parts = [
        f'assertion.sub == "repo:{repository}:environment:{environment}"',
        f'assertion.repository == "{repository}"',
    ]
    if branch:
        parts.append(f'assertion.ref == "refs/heads/{branch}"')
    return " && ".join(parts)


class GithubWorkloadIdentity(tf.Construct):
    """A pool, its GitHub OIDC provider and the deploy service account.

    Defaults and why: the provider maps ``sub``, ``repository``,
    ``environment`` and ``ref`` and has the :func:`github_condition`; the
    deploy service account has no keys, and its only ``workloadIdentityUser``
    binding is the principal set of that repository in this pool, so the only
    way to act as it is a GitHub token that passed the condition. It gets
    ``deploy_roles`` on the project (the loader refuses basic roles) and may
    act as exactly the runtime service accounts in ``act_as`` (needed to
    deploy revisions and run the job that run as them).

    ``infra_service_account`` (an existing admin account's e-mail) gets a
    ``workloadIdentityUser`` binding for the single subject
    ``repo:<repo>:environment:<env>``.

    Attributes: ``pool``, ``provider``, ``service_account``,
    ``workload_identity_binding``, ``project_roles``, ``act_as_bindings``,
    ``infra_binding`` (or None).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, pool_id: str, account_id: str,
                 repository: str, environment: str, branch: str | None, deploy_roles: Sequence[str],
                 act_as: Sequence[tf.service_account.ServiceAccount],
                 infra_service_account: str | None = None) -> None:
        super().__init__(scope, id_)
        if "/" not in repository:
            raise ValueError(f"{self.node.path}: repository must be owner/name, got {repository!r}")
        self.condition = github_condition(repository=repository, environment=environment, branch=branch)
        self.pool = tf.iam_workload_identity_pool.IamWorkloadIdentityPool(
            self, "Pool", project=project, workload_identity_pool_id=pool_id, display_name="GitHub Actions",
            description=f"GitHub Actions of {repository}",
        )
        self.provider = tf.iam_workload_identity_pool_provider.IamWorkloadIdentityPoolProvider(
            self,
            "GithubProvider",
            project=project,
            workload_identity_pool_id=self.pool.workload_identity_pool_id,
            workload_identity_pool_provider_id="github",
            display_name="GitHub OIDC",
            attribute_mapping={
                "google.subject": "assertion.sub",
                "attribute.repository": "assertion.repository",
                "attribute.environment": "assertion.environment",
                "attribute.ref": "assertion.ref",
            },
            attribute_condition=self.condition,
            oidc=tf.iam_workload_identity_pool_provider.IamWorkloadIdentityPoolProviderOidc(issuer_uri=GITHUB_ISSUER),
        )
        self.service_account = tf.service_account.ServiceAccount(
            self, "DeployServiceAccount", project=project, account_id=account_id,
            display_name="GitHub Actions deploy (Workload Identity Federation only)",
        )
        self.principal_set = f"principalSet://iam.googleapis.com/{self.pool.name}/attribute.repository/{repository}"
        self.workload_identity_binding = tf.service_account_iam_member.ServiceAccountIamMember(
            self, "WorkloadIdentityUser", service_account_id=self.service_account.name,
            role=WORKLOAD_IDENTITY_USER, member=self.principal_set,
        )
        member = f"serviceAccount:{self.service_account.email}"
        self.project_roles = [
            tf.project_iam_member.ProjectIamMember(
                self, f"Role{role.split('/')[-1].replace('.', ' ').title().replace(' ', '')}", project=project, role=role, member=member
            )
            for role in deploy_roles
        ]
        # The infrastructure identity (`cdktf deploy` in deploy-gcp.yml) exists
        # before this stack (someone has to run the first apply); the stack
        # binds it to exactly one subject, this environment's jobs, so a
        # workflow in another environment cannot impersonate the admin.
        self.infra_binding = None
        if infra_service_account:
            self.infra_subject = f"principal://iam.googleapis.com/{self.pool.name}/subject/repo:{repository}:environment:{environment}"
            self.infra_binding = tf.service_account_iam_member.ServiceAccountIamMember(
                self, "InfraWorkloadIdentityUser",
                service_account_id=f"projects/{project}/serviceAccounts/{infra_service_account}",
                role=WORKLOAD_IDENTITY_USER, member=self.infra_subject,
            )
        self.act_as_bindings = [
            tf.service_account_iam_member.ServiceAccountIamMember(
                self, f"ActAs{index}", service_account_id=runtime.name, role="roles/iam.serviceAccountUser", member=member
            )
            for index, runtime in enumerate(act_as)
        ]


class CustomRoleGrant(tf.Construct):
    """A project custom role with exactly ``permissions``, granted to one member.

    For duties no predefined role covers narrowly: the rollout's backup of
    Cloud SQL before migrations needs ``cloudsql.backupRuns.create``, and the
    smallest predefined role with it (Cloud SQL Editor) can also reconfigure
    the instance.

    Attributes: ``role``, ``binding``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, role_id: str, title: str,
                 permissions: Sequence[str], member: str) -> None:
        super().__init__(scope, id_)
        if not permissions:
            raise ValueError(f"{self.node.path}: a custom role needs permissions")
        self.role = tf.project_iam_custom_role.ProjectIamCustomRole(
            self, "Role", project=project, role_id=role_id, title=title, permissions=sorted(permissions),
            description=title,
        )
        self.binding = tf.project_iam_member.ProjectIamMember(
            self, "Binding", project=project, role=self.role.name, member=member,
        )
