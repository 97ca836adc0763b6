"""Lambda. ``AWS::Lambda::Function``: moto's model drops ``TracingConfig``,
``Architectures``, ``KmsKeyArn``, ``Tags`` and ``LoggingConfig`` on create and
ignores them (and reserved concurrency) on update. The function is created
and configured; it cannot be invoked here (no container engine).

``AWS::Lambda::Permission``: moto's model can neither update nor delete the
statement it adds, so a changed ``SourceArn`` failed the update and a deleted
stack left the grant behind."""
from __future__ import annotations

import json

from moto.awslambda.models import LambdaFunction, lambda_backends

from .base import Handler, Resource, register


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


_PERMISSION_FIELDS = ("Action", "Principal", "SourceArn", "SourceAccount", "PrincipalOrgID", "EventSourceToken",
                      "FunctionUrlAuthType")


@register
class Permission(Handler):
    TYPE = "AWS::Lambda::Permission"

    @classmethod
    def create(cls, name, props, account_id, region):
        fn = lambda_backends[account_id][region].get_function(props["FunctionName"])
        statement = {k: props[k] for k in _PERMISSION_FIELDS if k in props}
        fn.policy.add_statement(json.dumps({"StatementId": name, **statement}))
        return Resource(cls, name, {}, account_id, region, function=props["FunctionName"])

    @classmethod
    def update(cls, original, name, props, account_id, region):
        cls.remove(original, account_id, region)
        return cls.create(original.physical_resource_id, props, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        from moto.awslambda.exceptions import UnknownFunctionException, UnknownPolicyException

        try:
            fn = lambda_backends[account_id][region].get_function(resource.state["function"])
            fn.policy.del_statement(resource.physical_resource_id)
        except (UnknownFunctionException, UnknownPolicyException, KeyError):
            pass  # the function (and its policy) is already gone
