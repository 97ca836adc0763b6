"""Runtime stack: the Oracle Lambda behind an IAM-authorized HTTP API."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from aws_cdk import CfnOutput, Duration
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from constructs import Construct

from constructs_lib.aws.acknowledgments import acknowledge_cmk_table_grant
from constructs_lib.aws.oracle_service import OracleService
from constructs_lib.aws.retention import retention_days
from envconfig.aws import AwsNaming, ObservabilityConfig, RuntimeConfig, TableName
from envconfig.contract import default_contract
from stacks.base import EnvironmentStack, PublishedValue

LAMBDA_SOURCE = Path(__file__).resolve().parent.parent / "lambda" / "oracle"


class OracleSettings(NamedTuple):
    """What the Oracle is built from: the environment's names and two sections (an AwsConfig has the same three)."""

    names: AwsNaming
    runtime: RuntimeConfig
    observability: ObservabilityConfig


def oracle_environment(config: OracleSettings) -> dict[str, str]:
    """The Oracle's environment: every name is from the contract's ``oracle`` service."""
    names = config.names
    return {
        "ENVIRONMENT": names.name.value,
        "DYNAMODB_TABLE_PREFIX": names.table_prefix,
        "FP_EVENTS_TABLE": names.table_name(TableName.FP_EVENTS),
        "CONSENT_TABLE": names.table_name(TableName.CONSENT),
        "BLOCK_COUNTER_TABLE": names.table_name(TableName.BLOCK_COUNTER),
        "SSM_PARAMETER_PREFIX": names.parameter_prefix,
        "NONCE_SSM": names.nonce_parameter,
        "GITHUB_TOKEN_SSM": names.github_token_parameter,
        "METRICS_NAMESPACE": config.observability.metrics_namespace,
        "LOG_LEVEL": config.runtime.log_level,
        "SSM_CACHE_SECONDS": str(config.runtime.parameter_cache_seconds),
    }


class RuntimeStack(EnvironmentStack):
    """Receives its own section (``runtime``), the log and metric settings (``observability``) and the names."""

    def __init__(self, scope: Construct, id_: str, *, names: AwsNaming, runtime: RuntimeConfig,
                 observability: ObservabilityConfig) -> None:
        super().__init__(scope, id_, config=names, description=f"Mirror Dissonance runtime ({names.name.value}): Oracle Lambda and HTTP API")
        data_key = kms.Key.from_key_arn(self, "DataKey", self.published(PublishedValue.DATA_KEY_ARN))
        self.oracle = OracleService(
            self,
            "Oracle",
            function_name=f"{names.resource_prefix}-oracle",
            code_path=LAMBDA_SOURCE,
            handler="handler.handler",
            contract=default_contract().service("oracle"),
            environment=oracle_environment(OracleSettings(names, runtime, observability)),
            encryption_key=data_key,
            log_retention=retention_days(observability.log_retention_days),
            reserved_concurrency=runtime.reserved_concurrency,
            memory_mb=runtime.memory_mb,
            timeout=Duration.seconds(runtime.timeout_seconds),
            throttle_rate=runtime.api_throttle_rate,
            throttle_burst=runtime.api_throttle_burst,
        )
        function = self.oracle.function
        # Least privilege by name: the tables and the parameter-read policy are
        # derived from configuration, never passed from the Data/Secrets stacks.
        fp_events = dynamodb.TableV2.from_table_attributes(
            self, "FpEventsTable", table_name=names.table_name(TableName.FP_EVENTS), encryption_key=data_key
        )
        # Exactly what the handler calls (PutItem), measured on the local target
        # (docs/requirements.md#least-privilege); DynamoDB decrypts the CMK table with the caller's kms:Decrypt.
        fp_events.grant(function, "dynamodb:PutItem")
        function.add_to_role_policy(iam.PolicyStatement(
            sid="DecryptTableViaDynamoDb", actions=["kms:Decrypt"], resources=[data_key.key_arn],
            conditions={"StringEquals": {"kms:ViaService": f"dynamodb.{self.region}.amazonaws.com"}},
        ))
        acknowledge_cmk_table_grant(function)
        read_parameters = iam.ManagedPolicy.from_managed_policy_name(self, "ParameterRead", f"{names.resource_prefix}-parameters-read")
        function.role.add_managed_policy(read_parameters)
        self.publish(PublishedValue.ORACLE_API_ID, self.oracle.api.api_id)
        CfnOutput(self, "OracleFunctionName", value=function.function_name)
        CfnOutput(self, "OracleApiEndpoint", value=self.oracle.api.api_endpoint)

