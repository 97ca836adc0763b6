"""What every AWS stack of an environment shares: its config and the published-ARN pattern.

Stacks never pass constructs to each other: that would create
``Fn::ImportValue`` exports, which block removing a consumer later ("Export
... cannot be deleted as it is in use"). A stack that others need publishes
the few values that are not deterministic (key ARNs, the API id) as SSM
String parameters under ``/<prefix>/<env>/infra/``; consumers read them
through ``{{resolve:ssm:...}}`` dynamic references, which CloudFormation
resolves while it provisions the resource, with the stack's execution role.
(An ``AWS::SSM::Parameter::Value<String>`` template parameter would instead
be resolved at CreateChangeSet with the caller's credentials, and the CDK
bootstrap deploy role may read only ``/cdk-bootstrap/*``: the deploy would
fail with AccessDenied.) Everything else (table, parameter, role and policy
names) is derived from configuration on both sides.
"""

from __future__ import annotations

from enum import Enum

from aws_cdk import Environment, Stack
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from constructs_lib.aws.naming import pascal
from envconfig.aws import AwsConfig


class PublishedValue(str, Enum):
    """Values one stack publishes for others (leaf names under ``infra/``)."""

    DATA_KEY_ARN = "data-key-arn"
    SECRETS_KEY_ARN = "secrets-key-arn"
    ORACLE_API_ID = "oracle-api-id"


def published_parameter_name(config: AwsConfig, value: PublishedValue) -> str:
    return f"{config.parameter_prefix}infra/{value.value}"


class EnvironmentStack(Stack):
    """Base of the five stacks: holds the environment's configuration."""

    def __init__(self, scope: Construct, id_: str, *, config: AwsConfig, description: str, env: Environment | None = None) -> None:
        super().__init__(scope, id_, description=description, env=env)
        self.config = config

    def publish(self, value: PublishedValue, string_value: str) -> ssm.StringParameter:
        """Publish a value for other stacks of this environment (no export)."""
        return ssm.StringParameter(
            self,
            f"Published{pascal(value.value)}",
            parameter_name=published_parameter_name(self.config, value),
            string_value=string_value,
            description=f"Published by {self.stack_name} for the other stacks of {self.config.name.value}",
        )

    def published(self, value: PublishedValue) -> str:
        """Read a value another stack published: a dynamic reference resolved at deploy time."""
        construct_id = f"Read{pascal(value.value)}"
        existing = self.node.try_find_child(construct_id)
        parameter = existing or ssm.StringParameter.from_string_parameter_attributes(
            self, construct_id, parameter_name=published_parameter_name(self.config, value), force_dynamic_reference=True
        )
        return parameter.string_value
