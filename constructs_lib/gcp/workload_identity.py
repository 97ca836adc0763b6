"""Workload Identity Federation for GitHub Actions: no service account keys."""

from __future__ import annotations

from typing import Sequence

from constructs_lib.gcp import tf

GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
WORKLOAD_IDENTITY_USER = "roles/iam.workloadIdentityUser"


def github_condition(*, repository: str, subjects: Sequence[str]) -> str:
    """The CEL ``attribute_condition`` a token must satisfy to be exchanged.

    Google rejects GitHub providers without a condition (any repository on
    github.com could otherwise mint tokens for the pool). We pin the ``sub``
    claim to exactly the listed subjects, each ``repo:<owner>/<name>:environment:<env>``
    (a job in that GitHub environment, whose protection rules and deployment
    branch rules gate it), and the repository claim again. No ``ref``: trust
    goes to environments, never to a branch (docs/requirements.md#trust).
    """
    for subject in subjects:
        if not subject.startswith(f"repo:{repository}:environment:") or any(c in subject for c in '*?"\\'):
            raise ValueError(f"github_condition: {subject!r} is not an exact environment subject of {repository}")
    either = " || ".join(f'assertion.sub == "{s}"' for s in subjects)
    return f'assertion.repository == "{repository}" && ({either})'


class GithubWorkloadIdentity(tf.Construct):
    """A pool, its GitHub OIDC provider and the release service account.

    One identity per purpose, each bound to exactly one GitHub subject
    (docs/operations.md, trust table):

    - ``release_subject`` (``gcp-<env>-release``): the deploy service account
      this construct creates, which rolls out images; it gets
      ``deploy_roles`` on the project (the loader refuses basic roles) and
      may act as exactly the runtime service accounts in ``act_as``;
    - ``apply_subject`` (``gcp-<env>``): ``infra_service_account``, the
      existing admin account ``cdktf deploy`` runs as;
    - ``plan_subject`` (``gcp-<env>-plan``): admitted by the provider for the
      read-only plan identity, which the bootstrap binds.

    The provider maps ``sub``, ``repository`` and ``environment`` and admits
    only these subjects (:func:`github_condition`). No service account has
    keys, and no binding names a principal set: a token of another job of the
    same repository opens nothing.

    Attributes: ``pool``, ``provider``, ``service_account``,
    ``workload_identity_binding``, ``project_roles``, ``act_as_bindings``,
    ``infra_binding`` (or None).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, pool_id: str, account_id: str,
                 repository: str, apply_subject: str, plan_subject: str, release_subject: str,
                 deploy_roles: Sequence[str], act_as: Sequence[tf.service_account.ServiceAccount],
                 infra_service_account: str | None = None) -> None:
        super().__init__(scope, id_)
        if "/" not in repository:
            raise ValueError(f"{self.node.path}: repository must be owner/name, got {repository!r}")
        subjects = [apply_subject, plan_subject, release_subject]
        if len(set(subjects)) != len(subjects):
            raise ValueError(f"{self.node.path}: apply, plan and release need distinct GitHub environments, got {subjects}")
        self.condition = github_condition(repository=repository, subjects=subjects)
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
            },
            attribute_condition=self.condition,
            oidc=tf.iam_workload_identity_pool_provider.IamWorkloadIdentityPoolProviderOidc(issuer_uri=GITHUB_ISSUER),
        )
        self.service_account = tf.service_account.ServiceAccount(
            self, "DeployServiceAccount", project=project, account_id=account_id,
            display_name="GitHub Actions release (Workload Identity Federation only)",
        )
        self.release_principal = self.principal(release_subject)
        self.workload_identity_binding = tf.service_account_iam_member.ServiceAccountIamMember(
            self, "WorkloadIdentityUser", service_account_id=self.service_account.name,
            role=WORKLOAD_IDENTITY_USER, member=self.release_principal,
        )
        member = f"serviceAccount:{self.service_account.email}"
        self.project_roles = [
            tf.project_iam_member.ProjectIamMember(
                self, f"Role{role.split('/')[-1].replace('.', ' ').title().replace(' ', '')}", project=project, role=role, member=member
            )
            for role in deploy_roles
        ]
        # The infrastructure identity (`cdktf deploy`) exists before this
        # stack (someone has to run the first apply); the stack binds it to
        # exactly the apply job's subject, so a job in another environment
        # (plan, release, any AWS job) cannot impersonate the admin.
        self.infra_binding = None
        if infra_service_account:
            self.infra_subject = self.principal(apply_subject)
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

    def principal(self, subject: str) -> str:
        """The IAM member of exactly one GitHub subject in this pool."""
        return f"principal://iam.googleapis.com/{self.pool.name}/subject/{subject}"


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
