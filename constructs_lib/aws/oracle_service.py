"""A Python Lambda behind an IAM-authorized HTTP API, with logs, tracing and throttling."""

from __future__ import annotations

import json
from pathlib import Path

import jsii
from typing import Mapping

from aws_cdk import Acknowledgment, Duration, Stack, Validations
from aws_cdk import aws_apigateway as apigw_v1  # AccessLogFormat lives in the v1 module
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from constructs_lib.aws.log_group import encrypted_log_group
from envconfig.contract import ServiceContract


@jsii.implements(apigw.IAccessLogSettings)
class _AccessLogSettings:
    """IAccessLogSettings is an interface, not a struct: Python implements it."""

    def __init__(self, destination: apigw.IAccessLogDestination, log_format: apigw_v1.AccessLogFormat) -> None:
        self._destination = destination
        self._format = log_format

    @property
    def destination(self) -> apigw.IAccessLogDestination:
        return self._destination

    @property
    def format(self) -> apigw_v1.AccessLogFormat:
        return self._format

# "<METHOD>/<path>" as in execute-api ARNs; the handler serves exactly these.
ORACLE_ROUTES = ("POST/events", "GET/health")

# HTTP APIs accept only their own $context variables (no REST-only
# $context.resourcePath): https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-logging-variables.html
ACCESS_LOG_FIELDS = {
    "requestId": "$context.requestId",
    "ip": "$context.identity.sourceIp",
    "caller": "$context.identity.caller",
    "user": "$context.identity.user",
    "requestTime": "$context.requestTime",
    "httpMethod": "$context.httpMethod",
    "routeKey": "$context.routeKey",
    "path": "$context.path",
    "status": "$context.status",
    "protocol": "$context.protocol",
    "responseLength": "$context.responseLength",
    "integrationError": "$context.integrationErrorMessage",
}
_ACCESS_LOG_FORMAT = apigw_v1.AccessLogFormat.custom(json.dumps(ACCESS_LOG_FIELDS))


class OracleService(Construct):
    """Lambda function + HTTP API.

    Required (cannot be overridden):
      * the environment is checked against ``contract`` (unknown names,
        missing required names, secrets as values all fail synth);
      * arm64, active X-Ray tracing, reserved concurrency, environment
        variables encrypted with ``encryption_key``;
      * its own log groups (function and API access log) with ``log_retention``,
        encrypted with ``encryption_key``, RETAINed. The ``log_retention`` prop
        of Function is not used: it adds a custom-resource Lambda;
      * every route requires IAM (SigV4) authorization; the default stage
        has access logging and throttling.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        function_name: str,
        code_path: Path,
        handler: str,
        contract: ServiceContract,
        environment: Mapping[str, str],
        encryption_key: kms.IKey,
        log_retention: logs.RetentionDays,
        reserved_concurrency: int,
        memory_mb: int,
        timeout: Duration,
        throttle_rate: int,
        throttle_burst: int,
    ) -> None:
        super().__init__(scope, id_)
        contract.check(plain=environment, secrets={}, source=self.node.path)
        self.log_group = encrypted_log_group(
            self, "FunctionLogs", name=f"/aws/lambda/{function_name}", retention=log_retention, encryption_key=encryption_key
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_.Architecture.ARM_64,
            # Bytecode caches (tests import the handler) must not change the
            # asset hash: the approval id of a commit must not depend on them.
            code=lambda_.Code.from_asset(str(code_path), exclude=["__pycache__", "*.pyc"]),
            handler=handler,
            environment=dict(environment),
            environment_encryption=encryption_key,
            tracing=lambda_.Tracing.ACTIVE,
            reserved_concurrent_executions=reserved_concurrency,
            memory_size=memory_mb,
            timeout=timeout,
            log_group=self.log_group,
        )
        Validations.of(self.function).acknowledge(
            Acknowledgment(
                id="AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
                reason="Lambda's documented execution policy: CreateLogStream/PutLogEvents on the function's own log group and nothing else.",
            ),
            Acknowledgment(
                id="AwsSolutions-IAM5[Resource::*]",
                reason="X-Ray PutTraceSegments/PutTelemetryRecords take no resource ARN (https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html); added by active tracing.",
            ),
            Acknowledgment(
                id="cdk-validator-cfnguard::lambda_inside_vpc_check",
                reason="CT.LAMBDA.PR.3: the Oracle reaches only DynamoDB, SSM, KMS, CloudWatch and X-Ray over their public TLS endpoints with IAM; there is no VPC resource to reach, and a VPC would add NAT or endpoints without narrowing access.",
            ),
        )
        self.access_log_group = encrypted_log_group(
            self, "ApiAccessLogs", name=f"/aws/http-api/{function_name}", retention=log_retention, encryption_key=encryption_key
        )
        self.api = apigw.HttpApi(
            self,
            "Api",
            api_name=function_name,
            description=f"{function_name}: IAM-authorized HTTP API",
            create_default_stage=False,
            default_authorizer=authorizers.HttpIamAuthorizer(),
        )
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.api,
            auto_deploy=True,
            access_log_settings=_AccessLogSettings(apigw.LogGroupLogDestination(self.access_log_group), _ACCESS_LOG_FORMAT),
            throttle=apigw.ThrottleSettings(rate_limit=throttle_rate, burst_limit=throttle_burst),
        )
        integration = integrations.HttpLambdaIntegration("Oracle", self.function)
        for route in ORACLE_ROUTES:
            method, path = route.split("/", 1)
            self.api.add_routes(path=f"/{path}", methods=[apigw.HttpMethod(method)], integration=integration)
        # Control Tower CT.LAMBDA.PR.2: each invoke permission names this account
        # beside the execute-api SourceArn (a Fn::Join the control cannot read),
        # so the function's resource policy is closed to API Gateway APIs of
        # other accounts whatever that ARN resolves to. API Gateway calls as a
        # service principal, which puts aws:SourceAccount into the request
        # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount).
        account = Stack.of(self).account
        self.invoke_permissions = [c for c in self.api.node.find_all() if isinstance(c, lambda_.CfnPermission)]
        for permission in self.invoke_permissions:
            permission.source_account = account
