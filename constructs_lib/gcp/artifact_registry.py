"""The Artifact Registry Docker repository every release image is pulled from."""

from __future__ import annotations

from constructs_lib.gcp import tf
from constructs_lib.gcp.kms import grant_encrypt_decrypt


class ImageRepository(tf.Construct):
    """A Docker repository in the platform's region, CMEK-encrypted, with cleanup policies.

    Defaults and why:
    - ``DOCKER`` format in ``location`` (the ``<region>-docker.pkg.dev`` host
      the services' ``image_repository`` names), standard mode;
    - CMEK with ``kms_key``; the Artifact Registry service agent is granted
      here (``service_agent`` is a reference to the created agent) and the
      repository waits for the grant;
    - immutable tags: a release is tagged with its commit SHA, and a tag that
      could be re-pointed would make "what ran" unanswerable;
    - cleanup policies, enforced (``cleanup_policy_dry_run = false``): keep
      the ``keep_recent`` most recent versions of each image (rollback
      targets), delete tagged versions (releases) older than ``tagged_days``
      and untagged versions older than ``untagged_days`` days (layers of
      superseded builds). Keep policies win over delete policies (Artifact
      Registry docs, "Configure cleanup policies":
      https://cloud.google.com/artifact-registry/docs/repositories/cleanup-policy;
      google provider 6.50 google_artifact_registry_repository
      ``cleanup_policies``), so what stays is the ``keep_recent`` newest plus
      the releases of the last ``tagged_days``: bounded, where an untagged-only
      delete kept every release forever;
    - vulnerability scanning left to the project default (Artifact Analysis
      is billed per image; enabling it is a project decision).

    Attributes: ``repository``, ``key_grant``, ``host`` (``<location>-docker.pkg.dev``),
    ``path`` (``<host>/<project>/<repository_id>``).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, location: str, repository_id: str,
                 kms_key: tf.kms_crypto_key.KmsCryptoKey, service_agent: str, keep_recent: int,
                 untagged_days: int, tagged_days: int) -> None:
        super().__init__(scope, id_)
        if keep_recent < 1 or untagged_days < 1 or tagged_days < 1:
            raise ValueError(f"{self.node.path}: keep_recent, untagged_days and tagged_days must be >= 1")
        ar = tf.artifact_registry_repository
        self.key_grant = grant_encrypt_decrypt(self, "KeyGrant", key=kms_key, member=service_agent)
        self.host = f"{location}-docker.pkg.dev"
        self.path = f"{self.host}/{project}/{repository_id}"
        self.repository = ar.ArtifactRegistryRepository(
            self,
            "Repository",
            project=project,
            location=location,
            repository_id=repository_id,
            format="DOCKER",
            mode="STANDARD_REPOSITORY",
            description="Release images (tagged with the commit SHA); pulled by Cloud Run",
            kms_key_name=kms_key.id,
            docker_config=ar.ArtifactRegistryRepositoryDockerConfig(immutable_tags=True),
            cleanup_policy_dry_run=False,
            cleanup_policies=[
                ar.ArtifactRegistryRepositoryCleanupPolicies(
                    id="keep-recent",
                    action="KEEP",
                    most_recent_versions=ar.ArtifactRegistryRepositoryCleanupPoliciesMostRecentVersions(keep_count=keep_recent),
                ),
                ar.ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-old-releases",
                    action="DELETE",
                    condition=ar.ArtifactRegistryRepositoryCleanupPoliciesCondition(
                        tag_state="TAGGED", older_than=f"{tagged_days * 86400}s"
                    ),
                ),
                ar.ArtifactRegistryRepositoryCleanupPolicies(
                    id="delete-old-untagged",
                    action="DELETE",
                    condition=ar.ArtifactRegistryRepositoryCleanupPoliciesCondition(
                        tag_state="UNTAGGED", older_than=f"{untagged_days * 86400}s"
                    ),
                ),
            ],
            depends_on=[self.key_grant],
            lifecycle=tf.TerraformResourceLifecycle(prevent_destroy=True),
        )
