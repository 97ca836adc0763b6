"""Fixes to moto 5.2.5's CloudFormation engine that the CDK CLI depends on.

Each patch wraps one moto function and says which measured gap it closes.
They are installed once per process by :func:`install` (idempotent).

Gaps closed here (measured against moto 5.2.5 with the CDK CLI 2.1148):

1. Unknown resource types are skipped with a log line and the stack still
   reaches ``CREATE_COMPLETE`` (``parsing.resource_class_from_type`` returns
   None).  Here, CreateStack / CreateChangeSet / UpdateStack reject such a
   template up front with a ``ValidationError`` naming every unhandled type,
   the way real CloudFormation rejects "Unrecognized resource types", and any
   path that still meets one raises.
2. Custom resources (``Custom::*``, ``AWS::CloudFormation::CustomResource``)
   wait for a Lambda that never runs here: rejected the same way.
3. A change set that fails while executing escapes as an HTTP 500 and leaves
   the stack ``*_IN_PROGRESS`` forever.  Here the failure becomes a
   resource event with the reason and a terminal stack status
   (``ROLLBACK_COMPLETE`` after a failed create, ``UPDATE_ROLLBACK_FAILED``
   after a failed update), which the CDK CLI reports as a failed deploy.
4. After ``ExecuteChangeSet`` moto never re-reads the template: the stack has
   no outputs and registers no exports.  Refreshed here.
5. A modified resource whose moto model has no update method is silently
   replaced by ``None`` in the resource map (its Refs then resolve to None).
   Here the update fails with a message naming the resource type.
6. The stack of a CREATE change set cannot see other stacks' exports.
7. ``Fn::GetAtt`` of an attribute a model lacks is logged and left
   unresolved (a dict where a string belongs); it now fails the resource.
8. Change sets are looked up by name across all stacks, and executed ones
   are kept: the second stack a ``cdk deploy`` updates waits forever on the
   first stack's executed ``cdk-deploy-change-set``. Lookups are scoped to
   the request's stack and executed change sets are deleted, as in AWS.
9. A stack whose deletion fails disappears; it now stays ``DELETE_FAILED``.
10. ``UsePreviousValue`` reused the resolved value of SSM-typed parameters.
11. Removing a resource during an update deletes it even when its
   ``DeletionPolicy`` is ``Retain`` (data loss).  Retained resources are now
   left in place on update as well as on stack delete, as in AWS.
12. Resource import (``ChangeSetType=IMPORT``, what ``cdk import`` sends) is
   treated as a create; see :mod:`localaws.cfn.imports`.
13. The tags of an executed UPDATE change set never reach the stack, so a
   stack created without tags (``cdk import`` sends none) kept none and the
   CDK redeployed it forever ("tags have changed"). They are applied now, as
   in AWS (an update that names tags replaces the stack's tags).
"""
from __future__ import annotations

import contextvars
import functools
import inspect
import json
import re
from typing import Any

from moto.cloudformation import models as cfn_models
from moto.cloudformation import parsing
from moto.cloudformation.exceptions import CloudFormationError, ValidationError
from moto.ssm.models import ssm_backends

from .. import alarm_actions, backup_selections, service_fixes
from . import handlers
from . import template as template_module

_INSTALLED = False
_MOTO_MODEL_MAP = parsing.get_model_map
_MOTO_NAME_MAP = parsing.get_name_type_map

# Types the engine itself skips on purpose (moto's NULL_MODELS): wait
# conditions have no physical resource.
_NO_RESOURCE = set(parsing.NULL_MODELS)


class UnhandledResourceType(ValidationError):
    """A template names a resource type the local target cannot create."""


class ResourceFailed(Exception):
    """One resource could not be created/updated; carries its logical id."""

    def __init__(self, logical_id: str, resource_type: str, action: str, reason: str):
        super().__init__(f"{logical_id} ({resource_type}): {reason}")
        self.logical_id = logical_id
        self.resource_type = resource_type
        self.action = action
        self.reason = reason


def model_map() -> dict[str, Any]:
    """moto's own CloudFormation models, overlaid with our handlers."""
    merged = dict(_MOTO_MODEL_MAP())
    merged.update(handlers.REGISTRY)
    return merged


def name_type_map() -> dict[str, str]:
    merged = dict(_MOTO_NAME_MAP())
    merged.update({t: h.cloudformation_name_type() for t, h in handlers.REGISTRY.items()})
    return merged


def is_custom(resource_type: str) -> bool:
    return resource_type.startswith("Custom::") or resource_type == "AWS::CloudFormation::CustomResource"


def unhandled_types(template: dict[str, Any]) -> list[str]:
    """Resource types in ``template`` the local target cannot create.

    Every resource counts, conditional or not: real CloudFormation validates
    the types of the whole template too.
    """
    known = model_map()
    found = set()
    for resource in (template.get("Resources") or {}).values():
        rtype = resource.get("Type", "")
        if rtype in _NO_RESOURCE:
            continue
        if is_custom(rtype) or rtype not in known:
            found.add(rtype)
    return sorted(found)


def check_template(template: str | dict[str, Any]) -> None:
    """Raise a ValidationError naming the unhandled types, if any."""
    if isinstance(template, str):
        template = _parse(template)
    missing = unhandled_types(template or {})
    if missing:
        raise UnhandledResourceType(
            message=(
                "Template format error: the local AWS target has no handler for "
                f"resource types {missing} (custom resources never answer here). "
                "Add a handler in localaws/cfn/handlers or remove the resource; "
                "it would otherwise be skipped and reported as created."
            )
        )


_parse = template_module.parse  # the one parser: a SafeLoader with CloudFormation's short tags


def _resource_class_from_type(resource_type: str) -> Any:
    if resource_type in _NO_RESOURCE:
        return None
    cls = model_map().get(resource_type)
    if cls is None or is_custom(resource_type):
        # Never skip silently (moto returns None and carries on).
        raise UnhandledResourceType(
            message=f"The local AWS target has no handler for resource type {resource_type}"
        )
    return cls


def _wrap_create(original):
    @functools.wraps(original)
    def parse_and_create_resource(logical_id, resource_json, resources_map, account_id, region_name):
        try:
            return original(logical_id, resource_json, resources_map, account_id, region_name)
        except ResourceFailed:
            raise
        except Exception as exc:  # any backend error becomes a resource failure
            raise ResourceFailed(logical_id, resource_json.get("Type", "?"), "CREATE", _reason(exc)) from exc

    return parse_and_create_resource


def _wrap_update(original):
    @functools.wraps(original)
    def parse_and_update_resource(logical_id, resource_json, resources_map, account_id, region_name):
        rtype = resource_json.get("Type", "?")
        cls = _resource_class_from_type(rtype)
        if cls is not None and hasattr(cls.update_from_cloudformation_json, "__isabstractmethod__"):
            raise ResourceFailed(
                logical_id, rtype, "UPDATE",
                "the local AWS target cannot update this resource type in place "
                "(moto has no update for it); add an update to its handler",
            )
        try:
            resource = original(logical_id, resource_json, resources_map, account_id, region_name)
        except ResourceFailed:
            raise
        except Exception as exc:
            raise ResourceFailed(logical_id, rtype, "UPDATE", _reason(exc)) from exc
        if resource is None:
            raise ResourceFailed(logical_id, rtype, "UPDATE", "update returned no resource")
        return resource

    return parse_and_update_resource


_SSM_DYNAMIC_REFERENCE = re.compile(r"\{\{resolve:ssm:([a-zA-Z0-9_.\-/]+)(?::(\d+))?\}\}")


def resolve_dynamic_references(value: str, account_id: str, region: str) -> str:
    """Replace ``{{resolve:ssm:name[:version]}}`` by the parameter's value, as
    CloudFormation does while provisioning a resource (moto leaves the text).
    A parameter that does not exist fails the resource, as on AWS."""

    def lookup(match: re.Match) -> str:
        name, version = match.group(1), match.group(2)
        backend = ssm_backends[account_id][region]
        parameter = backend.get_parameter(f"{name}:{version}" if version else name)
        if parameter is None:
            raise ValidationError(message=f"Template error: the SSM parameter {name} referenced by {match.group(0)} does not exist")
        return parameter.value

    return _SSM_DYNAMIC_REFERENCE.sub(lookup, value)


def _clean_json(original):
    """moto logs and leaves ``Fn::GetAtt`` unresolved when a model lacks the
    attribute; the resource is then created with a dict where a string
    belongs. Fail instead. Also resolve SSM dynamic references, which moto
    passes through as literal text."""

    @functools.wraps(original)
    def clean_json(resource_json, resources_map):
        result = original(resource_json, resources_map)
        if isinstance(result, dict) and "Fn::GetAtt" in result:
            raise ValidationError(
                message=f"Template error: the local AWS target cannot resolve Fn::GetAtt {result['Fn::GetAtt']}")
        if isinstance(result, str) and "{{resolve:ssm:" in result:
            result = resolve_dynamic_references(result, resources_map._account_id, resources_map._region_name)
        return result

    return clean_json


def _reason(exc: Exception) -> str:
    message = getattr(exc, "message", None) or str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {message}"


# Set while a failed create is rolled back: RetainExceptOnCreate resources
# are deleted then, as in AWS, and kept in every other case.
_CREATE_ROLLBACK: contextvars.ContextVar[bool] = contextvars.ContextVar("create_rollback", default=False)


def _delete_resource(original):
    @functools.wraps(original)
    def delete(self, parsed_resource, resource_json):
        policy = resource_json.get("DeletionPolicy")
        if policy == "Retain" or (policy == "RetainExceptOnCreate" and not _CREATE_ROLLBACK.get()):
            return  # AWS keeps it, on update as on stack delete
        return original(self, parsed_resource, resource_json)

    return delete


def _add_resource_event(stack: Any, failure: ResourceFailed) -> None:
    event = cfn_models.Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=failure.logical_id,
        physical_resource_id="",
        resource_type=failure.resource_type,
        resource_status=f"{failure.action}_FAILED",
        resource_status_reason=failure.reason,
        resource_properties=None,
    )
    stack.events.append(event)


def _fail(stack: Any, creating: bool, exc: Exception) -> None:
    """Put a stack whose operation raised into a terminal failed state."""
    if isinstance(exc, ResourceFailed):
        _add_resource_event(stack, exc)
        reason = f"The following resource(s) failed to {exc.action.lower()}: [{exc.logical_id}]. {exc.reason}"
    else:
        reason = _reason(exc)
    if creating:
        stack._add_stack_event("ROLLBACK_IN_PROGRESS", resource_status_reason=reason)
        token = _CREATE_ROLLBACK.set(True)
        try:
            # Roll back what was created; Retain resources stay, as in AWS.
            stack.resource_map.delete()
        except Exception as cleanup:  # noqa: BLE001 - report, do not mask the cause
            stack._add_stack_event("ROLLBACK_FAILED", resource_status_reason=_reason(cleanup))
            stack.status = "ROLLBACK_FAILED"
            return
        finally:
            _CREATE_ROLLBACK.reset(token)
        stack._add_stack_event("ROLLBACK_COMPLETE")
        stack.status = "ROLLBACK_COMPLETE"
    else:
        # moto cannot undo partial updates: say so instead of pretending.
        stack._add_stack_event(
            "UPDATE_ROLLBACK_FAILED",
            resource_status_reason=reason + " (the local target does not roll back updates)",
        )
        stack.status = "UPDATE_ROLLBACK_FAILED"


def _refresh_outputs_and_exports(backend: Any, stack: Any) -> None:
    stack._parse_template()
    stack.description = stack.template_dict.get("Description")
    stack.output_map = stack._create_output_map()
    for name in [n for n, e in backend.exports.items() if e.exporting_stack_id == stack.stack_id]:
        backend.exports.pop(name)
    backend._validate_export_uniqueness(stack)
    for export in stack.exports:
        backend.exports[export.name] = export


def _execute_change_set(original):
    @functools.wraps(original)
    def execute_change_set(self, change_set_name, stack_name=None):
        change_set_id = _resolve_change_set(self, change_set_name)
        change_set = self.change_sets[change_set_id]
        stack = self.stacks[change_set.stack_id]
        creating = change_set.change_set_type == "CREATE"
        try:
            original(self, change_set_id, stack_name)
            stack.template = change_set.template
            if change_set.tags:
                stack.tags = dict(change_set.tags)
            _refresh_outputs_and_exports(self, stack)
        except Exception as exc:  # noqa: BLE001 - becomes the stack's failure reason
            change_set.execution_status = "EXECUTE_FAILED"
            _fail(stack, creating, exc)
        _drop_change_sets(self, stack.stack_id)

    return execute_change_set


def _check_first(original, template_arg: str):
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        template = signature.bind_partial(self, *args, **kwargs).arguments.get(template_arg)
        if template:
            check_template(template)
        return original(self, *args, **kwargs)

    return wrapper


def _create_change_set(original):
    """moto builds the stack of a CREATE change set without the region's
    exports, so its ``Fn::ImportValue`` always fails: hand them over."""

    @functools.wraps(original)
    def create_change_set(self, *args, **kwargs):
        change_set_id, stack_id = original(self, *args, **kwargs)
        stack = self.stacks[stack_id]
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        return change_set_id, stack_id

    return create_change_set


class ChangeSetNotFound(CloudFormationError):
    code = "ChangeSetNotFoundException"


# The StackName of the request being served: moto's backend looks change sets
# up by name across all stacks, and every CDK deploy names its change set
# "cdk-deploy-change-set", so the Data stack's deploy would describe (and
# wait forever on) the Secrets stack's executed change set.
_REQUEST_STACK: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_stack", default=None)


def _with_request_stack(original):
    @functools.wraps(original)
    def action(self):
        token = _REQUEST_STACK.set(self._get_param("StackName"))
        try:
            return original(self)
        finally:
            _REQUEST_STACK.reset(token)

    return action


def _resolve_change_set(backend: Any, name: str) -> str:
    if name in backend.change_sets:
        return name  # an ARN
    stack = _REQUEST_STACK.get()
    matches = [cs_id for cs_id, cs in backend.change_sets.items()
               if cs.change_set_name == name and (stack is None or stack in (cs.stack_name, cs.stack_id))]
    if not matches:
        raise ChangeSetNotFound(f"ChangeSet [{name}] does not exist")
    return matches[-1]


def _by_resolved_change_set(original):
    @functools.wraps(original)
    def method(self, change_set_name, *args, **kwargs):
        return original(self, _resolve_change_set(self, change_set_name), *args, **kwargs)

    return method


def _delete_change_set(original):
    """Deleting a change set that is already gone succeeds, as in AWS: the
    CDK deletes ``cdk-deploy-change-set`` before every update, unconditionally."""

    @functools.wraps(original)
    def delete_change_set(self, change_set_name):
        try:
            original(self, change_set_name)
        except ChangeSetNotFound:
            pass

    return delete_change_set


def _drop_change_sets(backend: Any, stack_id: str) -> None:
    """After an execution AWS deletes every change set of the stack."""
    for cs_id in [i for i, cs in backend.change_sets.items() if cs.stack_id == stack_id]:
        backend.change_sets.pop(cs_id)


def _delete_stack(original):
    """moto pops the stack before deleting its resources: a failure (a role
    still in use, a bucket with objects) made the stack vanish with its
    resources half deleted. Keep it, ``DELETE_FAILED``, with the reason."""

    @functools.wraps(original)
    def delete_stack(self, name_or_stack_id):
        stack = self.stacks.get(name_or_stack_id) or next(
            (s for s in self.stacks.values() if s.name == name_or_stack_id), None)
        try:
            original(self, name_or_stack_id)
        except Exception as exc:  # noqa: BLE001 - becomes the stack's failure reason
            if stack is None:
                raise
            self.deleted_stacks.pop(stack.stack_id, None)
            self.stacks[stack.stack_id] = stack
            stack._add_stack_event("DELETE_FAILED", resource_status_reason=_reason(exc))
            stack.status = "DELETE_FAILED"

    return delete_stack


def _stack_parameters(self) -> dict[str, Any]:
    """Parameter values as given, which is what ``UsePreviousValue`` reuses.

    moto returned the *resolved* values: for an
    ``AWS::SSM::Parameter::Value<String>`` parameter (CDK's way to read a
    value another stack published) the previous value became the SSM
    parameter's content, which the update then looked up as a parameter name.
    """
    declared = (self.template_dict or {}).get("Parameters", {})
    given = self.resource_map.input_parameters
    return {key: given.get(key, declared.get(key, {}).get("Default"))
            for key in self.resource_map.resolved_parameters}


def _create_resources(original):
    @functools.wraps(original)
    def create_resources(self):
        try:
            original(self)
        except Exception as exc:  # noqa: BLE001
            _fail(self, True, exc)

    return create_resources


def _stack_update(original):
    @functools.wraps(original)
    def update(self, *args, **kwargs):
        try:
            original(self, *args, **kwargs)
            self.output_map = self._create_output_map()
        except Exception as exc:  # noqa: BLE001
            _fail(self, False, exc)

    return update


def install() -> None:
    """Install the engine fixes and the resource handlers (idempotent)."""
    global _INSTALLED
    if _INSTALLED:
        return
    service_fixes.install()
    backup_selections.install()
    alarm_actions.install()
    parsing.clean_json = _clean_json(parsing.clean_json)
    parsing.get_model_map = model_map
    parsing.get_name_type_map = name_type_map
    parsing.resource_class_from_type = _resource_class_from_type
    parsing.parse_and_create_resource = _wrap_create(parsing.parse_and_create_resource)
    parsing.parse_and_update_resource = _wrap_update(parsing.parse_and_update_resource)
    parsing.ResourceMap._delete_resource = _delete_resource(parsing.ResourceMap._delete_resource)

    backend = cfn_models.CloudFormationBackend
    backend.execute_change_set = _execute_change_set(backend.execute_change_set)
    backend.delete_stack = _delete_stack(backend.delete_stack)
    backend.describe_change_set = _by_resolved_change_set(backend.describe_change_set)
    backend.delete_change_set = _delete_change_set(_by_resolved_change_set(backend.delete_change_set))
    from moto.cloudformation import responses as cfn_responses
    from moto.cloudformation.responses import CloudFormationResponse

    # moto parses templates with yaml.Loader (it builds Python objects from
    # !!python tags); every parse in its CloudFormation modules gets the safe one.
    cfn_models.yaml = template_module.SAFE_YAML
    cfn_responses.yaml = template_module.SAFE_YAML

    for action in ("create_change_set", "describe_change_set", "delete_change_set", "execute_change_set"):
        setattr(CloudFormationResponse, action, _with_request_stack(getattr(CloudFormationResponse, action)))
    backend.create_change_set = _check_first(_create_change_set(backend.create_change_set), "template")
    backend.create_stack = _check_first(backend.create_stack, "template")
    backend.update_stack = _check_first(backend.update_stack, "template")
    cfn_models.Stack.stack_parameters = property(_stack_parameters)
    cfn_models.Stack.create_resources = _create_resources(cfn_models.Stack.create_resources)
    cfn_models.Stack.update = _stack_update(cfn_models.Stack.update)
    from .. import dynamodb_pitr
    from . import imports

    imports.install()
    dynamodb_pitr.install()
    _INSTALLED = True
