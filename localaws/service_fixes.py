"""Fixes to moto's service models (not CloudFormation) that deploying our
stacks depends on. Installed with the CloudFormation extensions.

S3 bucket policies. moto evaluates a bucket policy with no request context,
knows only the ``StringEquals`` condition operator, counts any other
condition (and any key it cannot see) as matched, and reports a statement
whose condition does not hold as DENIED whatever its effect. So the
TLS-only statements CDK writes into every hardened bucket policy and into
the bootstrap bucket (``Deny`` when ``aws:SecureTransport`` is false or
``s3:TlsVersion`` < 1.2) denied every upload. Here:

* conditions are evaluated with IAM's rules: the usual operators, a key
  missing from the request context makes the condition false (``...IfExists``
  true), and a statement whose condition is false does not apply;
* the request context says what is true of the endpoint the emulator stands
  in for: S3 over TLS 1.3 (only plain HTTP on loopback reaches moto).
  Whether a policy *is* TLS-only is asserted on the templates, not here.

CloudFormation drift detection: moto does not implement it and answers with
an HTML 500 page, which botocore retries and then fails to parse. The local
target answers a clear ``NotImplemented`` error instead, so ``bin/ops
detect-drift`` can fall back to its read-back comparison.
"""
from __future__ import annotations

import fnmatch
import functools
from typing import Any, Callable

from moto.s3.models import FakeBucket

_INSTALLED = False
REQUEST_CONTEXT = {"aws:SecureTransport": "true", "s3:TlsVersion": "1.3"}


def _num(value: Any) -> float:
    return float(value)


_POSITIVE: dict[str, Callable[[Any, str], bool]] = {
    "StringEquals": lambda e, a: str(e) == a,
    "StringEqualsIgnoreCase": lambda e, a: str(e).lower() == a.lower(),
    "StringLike": lambda e, a: fnmatch.fnmatchcase(a, str(e)),
    "ArnEquals": lambda e, a: str(e) == a,
    "ArnLike": lambda e, a: fnmatch.fnmatchcase(a, str(e)),
    "Bool": lambda e, a: str(e).lower() == a.lower(),
    "NumericEquals": lambda e, a: _num(a) == _num(e),
    "NumericLessThan": lambda e, a: _num(a) < _num(e),
    "NumericLessThanEquals": lambda e, a: _num(a) <= _num(e),
    "NumericGreaterThan": lambda e, a: _num(a) > _num(e),
    "NumericGreaterThanEquals": lambda e, a: _num(a) >= _num(e),
}
_NEGATED = {"StringNotEquals": "StringEquals", "StringNotEqualsIgnoreCase": "StringEqualsIgnoreCase",
            "StringNotLike": "StringLike", "ArnNotEquals": "ArnEquals", "ArnNotLike": "ArnLike",
            "NumericNotEquals": "NumericEquals"}


def condition_holds(conditions: dict[str, Any], context: dict[str, str]) -> bool:
    """IAM condition evaluation for the operators above; unknown ones never hold."""
    for operator, pairs in conditions.items():
        if_exists = operator.endswith("IfExists")
        base = operator[: -len("IfExists")] if if_exists else operator
        for key, expected in pairs.items():
            values = expected if isinstance(expected, list) else [expected]
            actual = context.get(key)
            if base == "Null":
                if (actual is None) != (str(values[0]).lower() == "true"):
                    return False
                continue
            if actual is None:
                if if_exists:
                    continue
                return False
            if base in _NEGATED:
                if any(_POSITIVE[_NEGATED[base]](v, actual) for v in values):
                    return False
            elif base in _POSITIVE:
                if not any(_POSITIVE[base](v, actual) for v in values):
                    return False
            else:
                return False
    return True


def _statement_permission(original):
    @functools.wraps(original)
    def is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
        from moto.iam.access_control import PermissionResult

        conditions = self._statement.get("Condition")
        if conditions and not condition_holds(conditions, incoming_condition_values or {}):
            return PermissionResult.NEUTRAL  # a statement whose condition is false does not apply
        return original(self, action, resource, principal, incoming_condition_values)

    return is_action_permitted


def _check_conditions(self, incoming_condition_values):
    return condition_holds(self._statement.get("Condition") or {}, incoming_condition_values or {})


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
    from moto.cloudformation.responses import CloudFormationResponse
    from moto.iam import access_control

    statement = access_control.IAMPolicyStatement
    statement.is_action_permitted = _statement_permission(statement.is_action_permitted)
    statement._check_conditions = _check_conditions
    FakeBucket.get_permission = _get_permission(FakeBucket.get_permission)
    for action in DRIFT_ACTIONS:
        setattr(CloudFormationResponse, action, _drift_not_implemented)
    _INSTALLED = True
