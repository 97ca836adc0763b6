"""Secret Manager secrets: containers only, values come from operators."""

from __future__ import annotations

from constructs_lib.gcp import tf

ACCESSOR = "roles/secretmanager.secretAccessor"


class Secret(tf.Construct):
    """One secret, replicated in one region with CMEK, no value in code.

    Defaults and why: user-managed replication in ``location`` only (data
    stays in the platform's region) encrypted with ``kms_key`` (the Secret
    Manager service agent must hold encrypter/decrypter; the caller passes
    that grant as ``key_grant`` so one grant serves every secret); deletion
    protection from configuration. Values are added out of band (``gcloud
    secrets versions add``) or, for values only Terraform knows (the Redis
    AUTH string), by :meth:`set_value_from` with a reference, never a literal.

    Access is granted per service account with :meth:`grant_access`; there is
    no project-wide accessor role.

    Attributes: ``secret``, ``accessors`` (id -> IAM member), ``version``
    (when Terraform writes the value).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, location: str, secret_id: str,
                 kms_key: tf.kms_crypto_key.KmsCryptoKey, key_grant: tf.kms_crypto_key_iam_member.KmsCryptoKeyIamMember,
                 deletion_protection: bool = True) -> None:
        super().__init__(scope, id_)
        sm = tf.secret_manager_secret
        self.secret = sm.SecretManagerSecret(
            self,
            "Secret",
            project=project,
            secret_id=secret_id,
            deletion_protection=deletion_protection,
            replication=sm.SecretManagerSecretReplication(
                user_managed=sm.SecretManagerSecretReplicationUserManaged(
                    replicas=[
                        sm.SecretManagerSecretReplicationUserManagedReplicas(
                            location=location,
                            customer_managed_encryption=sm.SecretManagerSecretReplicationUserManagedReplicasCustomerManagedEncryption(
                                kms_key_name=kms_key.id
                            ),
                        )
                    ]
                )
            ),
            depends_on=[key_grant],
        )
        self.accessors: dict[str, tf.secret_manager_secret_iam_member.SecretManagerSecretIamMember] = {}
        self.version: tf.secret_manager_secret_version.SecretManagerSecretVersion | None = None

    def grant_access(self, id_: str, member: str) -> tf.secret_manager_secret_iam_member.SecretManagerSecretIamMember:
        """Let exactly ``member`` read this secret's versions."""
        if id_ in self.accessors:
            return self.accessors[id_]
        binding = tf.secret_manager_secret_iam_member.SecretManagerSecretIamMember(
            self, f"{id_}Accessor", project=self.secret.project, secret_id=self.secret.secret_id, role=ACCESSOR, member=member
        )
        self.accessors[id_] = binding
        return binding

    def set_value_from(self, reference: str) -> tf.secret_manager_secret_version.SecretManagerSecretVersion:
        """Store a value only Terraform knows (a resource attribute), never a literal.

        ``reference`` must contain a Terraform token (``${...}``) once
        resolved; a plain string is refused so no literal secret reaches code.
        """
        if "${" not in reference and "TfToken" not in reference:
            raise ValueError(f"{self.node.path}: set_value_from takes a resource attribute, not a literal value")
        self.version = tf.secret_manager_secret_version.SecretManagerSecretVersion(
            self, "Version", secret=self.secret.id, secret_data=reference
        )
        return self.version
