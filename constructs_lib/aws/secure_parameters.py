"""Least-privilege access to SSM SecureString parameters that CloudFormation cannot create."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct


class SecureParameterAccess(Construct):
    """Read and write policies for SecureString parameters created by the ops commands.

    CloudFormation cannot create ``SecureString`` parameters, and
    their values must never appear in a template. This construct owns what
    CloudFormation can own:

      * ``read_policy``: ``ssm:GetParameter`` on exactly ``read_parameters``
        (a version selector ``name:N`` is covered by the parameter's ARN)
        and ``kms:Decrypt`` on ``encryption_key`` only through SSM;
      * ``write_policy``: ``ssm:PutParameter`` / ``GetParameter`` on
        ``write_parameters`` and ``kms:Encrypt`` / ``GenerateDataKey`` on the
        key through SSM, for whoever runs ``rotate-nonce`` / ``set-github-token``.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        encryption_key: kms.IKey,
        read_parameters: Sequence[str],
        write_parameters: Sequence[str],
        policy_name_prefix: str,
    ) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        via_ssm = {"StringEquals": {"kms:ViaService": f"ssm.{stack.region}.amazonaws.com"}}
        self.read_policy = iam.ManagedPolicy(
            self,
            "Read",
            managed_policy_name=f"{policy_name_prefix}-read",
            description="Read the environment's SecureString parameters",
            statements=[
                iam.PolicyStatement(sid="ReadParameters", actions=["ssm:GetParameter"], resources=[self.parameter_arn(n) for n in read_parameters]),
                iam.PolicyStatement(sid="DecryptViaSsm", actions=["kms:Decrypt"], resources=[encryption_key.key_arn], conditions=via_ssm),
            ],
        )
        self.write_policy = iam.ManagedPolicy(
            self,
            "Write",
            managed_policy_name=f"{policy_name_prefix}-write",
            description="Create and rotate the environment's SecureString parameters",
            statements=[
                iam.PolicyStatement(
                    sid="WriteParameters",
                    actions=["ssm:PutParameter", "ssm:GetParameter", "ssm:GetParameterHistory"],
                    resources=[self.parameter_arn(n) for n in write_parameters],
                ),
                iam.PolicyStatement(
                    sid="EncryptViaSsm", actions=["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"], resources=[encryption_key.key_arn], conditions=via_ssm
                ),
            ],
        )

    def parameter_arn(self, name: str) -> str:
        if not name.startswith("/"):
            raise ValueError(f"SecureParameterAccess: parameter names are hierarchical and start with '/', got {name!r}")
        return Stack.of(self).format_arn(service="ssm", resource="parameter", resource_name=name.lstrip("/"))
