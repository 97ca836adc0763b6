"""What every AWS stack of an environment shares: its config and the published-ARN pattern.

Stacks never pass constructs to each other: that would create
``Fn::ImportValue`` exports, which block removing a consumer later ("Export
... cannot be deleted as it is in use"). A stack that others need publishes
the few values that are not deterministic (key ARNs) as SSM String
parameters under ``/<prefix>/<env>/infra/``; consumers read them with
``AWS::SSM::Parameter::Value<String>`` template parameters, resolved at
deploy time. Everything else (table, parameter, role and policy names) is
derived from configuration on both sides.
"""

from __future__ import annotations

from enum import Enum

from aws_cdk import Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from envconfig.aws import AwsEnvironment


class PublishedValue(str, Enum):
    """Values one stack publishes for others (leaf names under ``infra/``)."""

    DATA_KEY_ARN = "data-key-arn"
    SECRETS_KEY_ARN = "secrets-key-arn"
    ORACLE_API_ID = "oracle-api-id"


def published_parameter_name(config: AwsEnvironment, value: PublishedValue) -> str:
    return f"{config.parameter_prefix}infra/{value.value}"


class EnvironmentStack(Stack):
    """Base of the five stacks: holds the environment's configuration."""

    def __init__(self, scope: Construct, id_: str, *, config: AwsEnvironment, description: str) -> None:
        super().__init__(scope, id_, description=description)
        self.config = config

    def publish(self, value: PublishedValue, string_value: str) -> ssm.StringParameter:
        """Publish a value for other stacks of this environment (no export)."""
        return ssm.StringParameter(
            self,
            f"Published{''.join(p.capitalize() for p in value.value.split('-'))}",
            parameter_name=published_parameter_name(self.config, value),
            string_value=string_value,
            description=f"Published by {self.stack_name} for the other stacks of {self.config.name.value}",
        )

    def published(self, value: PublishedValue) -> str:
        """Read a value another stack published (resolved at deploy time)."""
        return ssm.StringParameter.value_for_string_parameter(self, published_parameter_name(self.config, value))
