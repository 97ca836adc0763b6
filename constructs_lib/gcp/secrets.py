"""Secret Manager secrets with CMEK; first versions written by the stack, never a literal in code."""

from __future__ import annotations

from constructs_lib.gcp import tf

ACCESSOR = "roles/secretmanager.secretAccessor"


class Secret(tf.Construct):
    """One secret, replicated in one region with CMEK, no value in code.

    Defaults and why: user-managed replication in ``location`` only (data
    stays in the platform's region) encrypted with ``kms_key`` (the Secret
    Manager service agent must hold encrypter/decrypter; the caller passes
    that grant as ``key_grant`` so one grant serves every secret); deletion
    protection from configuration. The first version is always created by the
    stack, so whatever reads the secret can depend on a version: values only
    Terraform knows (the Redis AUTH string) by :meth:`set_value_from` with a
    reference, values the project owns by :meth:`generate_value`; never a
    literal. Later versions (rotation) are added out of band.

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
        self.secret_id = secret_id  # the plain name (``secret.secret_id`` is a Terraform reference)
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

    def generate_value(self) -> tf.secret_manager_secret_version.SecretManagerSecretVersion:
        """A value the project owns (an auth signing secret, a database password), generated at apply.

        No ``random`` provider binding exists for cdktf Python any more, and a
        value must never be in code, so the first version's data is two
        Terraform ``uuid()`` values without hyphens: 64 hex characters, 244
        bits from the CSPRNG Terraform's ``uuid()`` reads (hashicorp/go-uuid,
        ``crypto/rand``). ``uuid()`` changes on every plan, so the field is
        ignored after creation: the value is generated once, on create, and
        kept. It lives in Terraform state (like the Redis AUTH string), which
        is why the state bucket is readable by the deploying admins only.
        Rotation adds a new version out of band (docs/gcp.md); Terraform
        leaves this first version alone.
        """
        if self.version is not None:
            raise ValueError(f"{self.node.path}: the secret already has a Terraform-managed version")
        self.version = tf.secret_manager_secret_version.SecretManagerSecretVersion(
            self, "Version", secret=self.secret.id,
            secret_data=tf.Fn.replace(tf.Fn.join("", [tf.Fn.uuid(), tf.Fn.uuid()]), "-", ""),
            lifecycle=tf.TerraformResourceLifecycle(ignore_changes=["secret_data"]),
        )
        return self.version

    def set_value_from(self, reference: str) -> tf.secret_manager_secret_version.SecretManagerSecretVersion:
        """Store a value only Terraform knows (a resource attribute), never a literal.

        ``reference`` must contain a Terraform token (``${...}``) once
        resolved; a plain string is refused so no literal secret reaches code.
        """
        if self.version is not None:
            raise ValueError(f"{self.node.path}: the secret already has a Terraform-managed version")
        if "${" not in reference and "TfToken" not in reference:
            raise ValueError(f"{self.node.path}: set_value_from takes a resource attribute, not a literal value")
        self.version = tf.secret_manager_secret_version.SecretManagerSecretVersion(
            self, "Version", secret=self.secret.id, secret_data=reference
        )
        return self.version
