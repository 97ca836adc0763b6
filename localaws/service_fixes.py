"""Fixes to moto's service models (not CloudFormation) that deploying our
stacks depends on. Installed with the CloudFormation extensions.

S3 bucket policies and ``aws:SecureTransport``: moto evaluates a bucket
policy with no request context and knows only the ``StringEquals``
operator; any other condition (``Bool``) counts as matched; and a statement
whose condition does not hold is reported DENIED whatever its effect
(``IAMPolicyStatement.is_action_permitted``). So the TLS-only ``Deny ... aws:SecureTransport = false`` statement
(CDK's bootstrap bucket, our hardened buckets) denies every PutObject. The
emulator stands in for S3's HTTPS endpoint and only plain HTTP on loopback
reaches it, so requests are evaluated as arriving over TLS, as they do in
AWS, and ``Bool`` is evaluated. Whether a policy *is* TLS-only is asserted
on the templates, not here.

CloudFormation drift detection: moto does not implement it and answers with
an HTML 500 page, which botocore retries and then fails to parse. The local
target answers a clear ``NotImplemented`` error instead, so ``bin/ops
detect-drift`` can fall back to its read-back comparison.
"""
from __future__ import annotations

import functools

from moto.s3.models import FakeBucket

_INSTALLED = False
REQUEST_CONTEXT = {"aws:SecureTransport": "true"}


def _bool_equals(expected, actual) -> bool:
    values = expected if isinstance(expected, list) else [expected]
    return str(actual).lower() in {str(v).lower() for v in values}


def _statement_permission(original):
    @functools.wraps(original)
    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        from moto.iam.access_control import PermissionResult

        if self._statement.get("Condition") and not self._check_conditions(incoming_condition_values):
            # A statement whose condition does not hold does not apply (IAM
            # policy evaluation logic); moto answers DENIED here.
            return PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    return is_action_permitted


def _get_permission(original):
    @functools.wraps(original)
    def get_permission(self, action, resource):
        from moto.iam.access_control import IAMPolicy, PermissionResult

        if self.policy is None:
            return PermissionResult.NEUTRAL
        return IAMPolicy(self.policy.decode()).is_action_permitted(
            action, resource, incoming_condition_values=dict(REQUEST_CONTEXT))

    return get_permission


DRIFT_ACTIONS = ("detect_stack_drift", "detect_stack_resource_drift", "detect_stack_set_drift",
                 "describe_stack_drift_detection_status", "describe_stack_resource_drifts")


def _drift_not_implemented(self):
    from moto.cloudformation.exceptions import CloudFormationError

    class DriftNotImplemented(CloudFormationError):
        code = "NotImplemented"

    raise DriftNotImplemented(
        "CloudFormation drift detection is not implemented by the local AWS target; "
        "compare by read-back instead (bin/ops detect-drift --method readback)")


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.iam import access_control, policy_conditions

    statement = access_control.IAMPolicyStatement
    statement.is_action_permitted = _statement_permission(statement.is_action_permitted)

    policy_conditions.CONDITION_OPERATIONS.setdefault("Bool", _bool_equals)
    FakeBucket.get_permission = _get_permission(FakeBucket.get_permission)

    from moto.cloudformation.responses import CloudFormationResponse

    for action in DRIFT_ACTIONS:
        setattr(CloudFormationResponse, action, _drift_not_implemented)
    _INSTALLED = True
