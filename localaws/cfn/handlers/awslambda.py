"""``AWS::Lambda::Function``: moto's model drops ``TracingConfig``,
``Architectures``, ``KmsKeyArn``, ``Tags`` and ``LoggingConfig`` on create and
ignores them (and reserved concurrency) on update. The function is created
and configured; it cannot be invoked here (no container engine)."""
from __future__ import annotations

from moto.awslambda.models import LambdaFunction, lambda_backends

from .base import Handler, register


def _apply(fn: LambdaFunction, props: dict, account_id: str, region: str) -> None:
    fn.tracing_config = props.get("TracingConfig") or {"Mode": "PassThrough"}
    fn.architectures = props.get("Architectures", ["x86_64"])
    fn.kms_key_arn = props.get("KmsKeyArn")
    fn.logging_config = props.get("LoggingConfig")
    fn.tags = {t["Key"]: t["Value"] for t in props.get("Tags", [])}
    backend = lambda_backends[account_id][region]
    if props.get("ReservedConcurrentExecutions") is not None:
        backend.put_function_concurrency(fn.function_name, str(props["ReservedConcurrentExecutions"]))
    else:
        fn.reserved_concurrency = None


@register
class Function(Handler):
    TYPE = "AWS::Lambda::Function"
    NAME_PROPERTY = "FunctionName"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name, props, account_id, region):
        fn = LambdaFunction.create_from_cloudformation_json(name, {"Properties": dict(props)}, account_id, region)
        _apply(fn, props, account_id, region)
        return fn

    @classmethod
    def update(cls, original, name, props, account_id, region):
        if props.get("FunctionName", original.function_name) != original.function_name:
            raise ValueError("renaming a function replaces it; the local target refuses")
        LambdaFunction.update_from_cloudformation_json(original, name, {"Properties": dict(props)}, account_id, region)
        _apply(original, props, account_id, region)
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        lambda_backends[account_id][region].delete_function(resource.physical_resource_id)
