"""Secrets stack: the key and IAM access of the SecureString parameters.

The parameters themselves (``/<prefix>/<env>/nonce`` and ``/github-token``)
are created and rotated by the ops commands (``bin/ops rotate-nonce``,
``bin/ops set-github-token``): CloudFormation cannot create SecureStrings and
their values must never be in a template. Nonce rotation keeps the previous
value in the parameter's own version history and a plain String parameter
``nonce-rotation`` with every earlier version still promised and until when;
readers need ``GetParameter`` on both names, which the read policy grants.
Rotations are serialized by ``nonce-rotation-lock`` (written by operators only).
"""

from __future__ import annotations

from aws_cdk import CfnOutput
from constructs import Construct

from constructs_lib.aws import EnvironmentKey, SecureParameterAccess
from envconfig.aws import AwsNaming
from stacks.base import EnvironmentStack, PublishedValue


class SecretsStack(EnvironmentStack):
    """Has no setting of its own: it receives the environment's names only."""

    def __init__(self, scope: Construct, id_: str, *, names: AwsNaming) -> None:
        super().__init__(scope, id_, config=names, description=f"Mirror Dissonance secrets ({names.name.value}): key and access for SecureString parameters")
        self.key = EnvironmentKey(
            self, "SecretsKey", alias=f"{names.resource_prefix}-secrets",
            description=f"Encrypts the {names.name.value} SecureString parameters (nonce, GitHub token)",
        )
        readable = (names.nonce_parameter, names.nonce_rotation_parameter, names.github_token_parameter)
        self.access = SecureParameterAccess(
            self,
            "ParameterAccess",
            encryption_key=self.key.key,
            read_parameters=readable,
            # The operators also write the rotation lock (bin/ops rotate-nonce); the Oracle never reads it.
            write_parameters=(*readable, names.nonce_lock_parameter),
            policy_name_prefix=f"{names.resource_prefix}-parameters",
        )
        self.publish(PublishedValue.SECRETS_KEY_ARN, self.key.key.key_arn)
        CfnOutput(self, "SecretsKeyArn", value=self.key.key.key_arn)
        CfnOutput(self, "SecretsKeyAlias", value=self.key.alias_name)
        CfnOutput(self, "NonceParameterName", value=names.nonce_parameter)
        CfnOutput(self, "NonceRotationParameterName", value=names.nonce_rotation_parameter)
        CfnOutput(self, "GitHubTokenParameterName", value=names.github_token_parameter)
        CfnOutput(self, "ReadPolicyArn", value=self.access.read_policy.managed_policy_arn)
        CfnOutput(self, "WritePolicyArn", value=self.access.write_policy.managed_policy_arn)
