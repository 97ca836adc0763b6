"""Cloud KMS key ring and symmetric keys with rotation."""

from __future__ import annotations

from typing import Sequence

from constructs_lib.gcp import tf

# 90 days: the rotation period CIS GCP 1.10 asks for (checkov CKV_GCP_43).
DEFAULT_ROTATION = "7776000s"
ENCRYPTER_DECRYPTER = "roles/cloudkms.cryptoKeyEncrypterDecrypter"


class KeyRing(tf.Construct):
    """A key ring with one key per purpose.

    Defaults: every key is ENCRYPT_DECRYPT, rotates every 90 days, and has
    ``prevent_destroy``: destroying a key makes everything encrypted with it
    unreadable, and Cloud KMS key rings and keys can never be deleted anyway
    (their names stay taken), so Terraform must not plan to.

    Attributes: ``key_ring``, ``keys`` (purpose -> KmsCryptoKey).
    """

    def __init__(self, scope: tf.Construct, id_: str, *, project: str, location: str, name: str,
                 purposes: Sequence[str], rotation_period: str = DEFAULT_ROTATION) -> None:
        super().__init__(scope, id_)
        if not purposes:
            raise ValueError("KeyRing needs at least one key purpose")
        self.key_ring = tf.kms_key_ring.KmsKeyRing(self, "KeyRing", project=project, location=location, name=name)
        self.keys: dict[str, tf.kms_crypto_key.KmsCryptoKey] = {}
        for purpose in purposes:
            self.keys[purpose] = tf.kms_crypto_key.KmsCryptoKey(
                self,
                f"{purpose.title().replace('-', '')}Key",
                name=purpose,
                key_ring=self.key_ring.id,
                purpose="ENCRYPT_DECRYPT",
                rotation_period=rotation_period,
                lifecycle=tf.TerraformResourceLifecycle(prevent_destroy=True),
            )

    def key(self, purpose: str) -> tf.kms_crypto_key.KmsCryptoKey:
        return self.keys[purpose]


def grant_encrypt_decrypt(scope: tf.Construct, id_: str, *, key: tf.kms_crypto_key.KmsCryptoKey,
                          member: str) -> tf.kms_crypto_key_iam_member.KmsCryptoKeyIamMember:
    """Let ``member`` (usually a Google service agent) use ``key`` for CMEK, and nothing else."""
    return tf.kms_crypto_key_iam_member.KmsCryptoKeyIamMember(
        scope, id_, crypto_key_id=key.id, role=ENCRYPTER_DECRYPTER, member=member
    )

