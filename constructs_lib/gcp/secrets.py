"""Secret Manager secrets with CMEK; first versions written by the stack through
write-only attributes (never in a plan or the state), never a literal in code."""

from __future__ import annotations

from constructs_lib.gcp import tf

ACCESSOR = "roles/secretmanager.secretAccessor"
# The version of a write-only value: Terraform sends the value only when this
# number changes (rotation through Terraform bumps it; docs/gcp.md).
FIRST_VERSION = 1
# Write-only attributes need Terraform >= 1.11: the workflows pin it
# (tests/test_workflow_gates.py). Not as `terraform.required_version` in the
# synthesized JSON: checkov's terraform_json parser refuses that block
# ("this method receives only dicts") and would then scan nothing.


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
    (when Terraform writes the value), ``generated_value`` (the Terraform
    local a generated value lives in during one apply, for another
    write-only attribute).
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
        self.generated_value: str | None = None

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
        ``crypto/rand``), held in a Terraform local (``generated_value``) so
        that another write-only attribute (the Cloud SQL user's
        ``password_wo``) receives the same value in the same apply.

        It reaches Secret Manager through the write-only ``secret_data_wo``
        (google provider 6.50, Terraform >= 1.11): Terraform sends it on
        create and when ``secret_data_wo_version`` changes, and never writes
        it to a plan or the state (docs/requirements.md#gcp-secrets).
        Rotation adds a new version out of band (docs/gcp.md).
        """
        if self.version is not None:
            raise ValueError(f"{self.node.path}: the secret already has a Terraform-managed version")
        self.generated = tf.TerraformLocal(
            self, "Generated", tf.Fn.replace(tf.Fn.join("", [tf.Fn.uuid(), tf.Fn.uuid()]), "-", ""))
        self.generated_value = self.generated.as_string
        self.version = tf.secret_manager_secret_version.SecretManagerSecretVersion(
            self, "Version", secret=self.secret.id,
            secret_data_wo=self.generated_value, secret_data_wo_version=FIRST_VERSION,
        )
        return self.version

    def set_value_from(self, reference: str) -> tf.secret_manager_secret_version.SecretManagerSecretVersion:
        """Store a value only Terraform knows (a resource attribute), never a literal.

        ``reference`` must contain a Terraform token (``${...}``) once
        resolved; a plain string is refused so no literal secret reaches code.
        Written through ``secret_data_wo``: the version holds no copy in the
        state (the source attribute itself may: Memorystore's ``auth_string``
        is computed and stays in state, docs/gcp.md).
        """
        if self.version is not None:
            raise ValueError(f"{self.node.path}: the secret already has a Terraform-managed version")
        if "${" not in reference and "TfToken" not in reference:
            raise ValueError(f"{self.node.path}: set_value_from takes a resource attribute, not a literal value")
        self.version = tf.secret_manager_secret_version.SecretManagerSecretVersion(
            self, "Version", secret=self.secret.id, secret_data_wo=reference, secret_data_wo_version=FIRST_VERSION,
        )
        return self.version
