"""CloudFormation resource import (``ChangeSetType=IMPORT``) for the local target.

moto 5.2.5 treats an IMPORT change set like a CREATE: it ignores
``ResourcesToImport`` and creates every resource again, which fails on the
retained names ("already exists"), and its ``GetTemplateSummary`` has no
``ResourceIdentifierSummaries``, so ``cdk import`` finds nothing importable.
Here, as CloudFormation documents it
(https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import.html):

- ``GetTemplateSummary`` lists the identifier property of each importable
  type in the template;
- ``CreateChangeSet`` with IMPORT is validated before anything happens: each
  resource to import is in the template, has a ``DeletionPolicy``, names an
  existing resource that no stack manages yet, and the template adds no other
  resource (an import creates nothing); the change set's actions are
  ``Import``;
- executing it binds the existing resources to their logical ids without
  creating or changing them; the stack ends ``IMPORT_COMPLETE``.

Only the types our stacks retain are importable here (``FINDERS``); the rest
are refused with the reason, never created.
"""
from __future__ import annotations

import contextvars
import functools
from typing import Any, Callable

from moto.backup.models import backup_backends
from moto.cloudformation import models as cfn_models
from moto.cloudformation.exceptions import ValidationError
from moto.dynamodb.models import dynamodb_backends
from moto.iam.models import iam_backends
from moto.kms.models import kms_backends
from moto.logs.models import logs_backends
from moto.s3.models import s3_backends
from moto.utilities.utils import get_partition

from . import handlers
from .handlers.base import Resource
from .template import parse as parse_template

Finder = Callable[[str, str, str], Any]  # (identifier, account, region) -> resource object, or None


def _table(handler_type: str) -> Finder:
    def find(name, account, region):
        table = dynamodb_backends[account][region].tables.get(name)
        if table is None:
            return None
        attrs = {"Arn": table.table_arn}
        if table.latest_stream_label:
            attrs["StreamArn"] = f"{table.table_arn}/stream/{table.latest_stream_label}"
        return Resource(handlers.REGISTRY[handler_type], table.name, attrs, account, region)
    return find


def _key(key_id, account, region):
    key = kms_backends[account][region].keys.get(key_id.split("/")[-1])
    # A key pending deletion cannot be imported (CloudFormation: resource not found).
    return key if key is not None and key.key_state != "PendingDeletion" else None


def _bucket(name, account, region):
    return s3_backends[account][get_partition(region)].buckets.get(name)


def _bucket_policy(bucket, account, region):
    found = s3_backends[account][get_partition(region)].buckets.get(bucket)
    if found is None or not found.policy:
        return None
    return Resource(handlers.REGISTRY["AWS::S3::BucketPolicy"], bucket, {}, account, region)


def _vault(name, account, region):
    vault = backup_backends[account][region].vaults.get(name)
    if vault is None:
        return None
    return Resource(handlers.REGISTRY["AWS::Backup::BackupVault"], name,
                    {"BackupVaultArn": vault.backup_vault_arn, "BackupVaultName": name}, account, region)


def _log_group(name, account, region):
    return logs_backends[account][region].groups.get(name)


def _oidc_provider(arn, account, region):
    providers = iam_backends[account][get_partition(region)].open_id_providers
    if arn not in providers:
        return None
    return Resource(handlers.REGISTRY["AWS::IAM::OIDCProvider"], arn, {"Arn": arn}, account, region)


# type -> (identifier property, finder). Identifiers as CloudFormation names them.
FINDERS: dict[str, tuple[str, Finder]] = {
    "AWS::DynamoDB::GlobalTable": ("TableName", _table("AWS::DynamoDB::GlobalTable")),
    "AWS::DynamoDB::Table": ("TableName", _table("AWS::DynamoDB::Table")),
    "AWS::KMS::Key": ("KeyId", _key),
    "AWS::S3::Bucket": ("BucketName", _bucket),
    "AWS::S3::BucketPolicy": ("Bucket", _bucket_policy),
    "AWS::Backup::BackupVault": ("BackupVaultName", _vault),
    "AWS::Logs::LogGroup": ("LogGroupName", _log_group),
    "AWS::IAM::OIDCProvider": ("Arn", _oidc_provider),
}


def identifier_summaries(template: dict[str, Any]) -> list[dict[str, Any]]:
    """``ResourceIdentifierSummaries`` of GetTemplateSummary: importable types in the template."""
    by_type: dict[str, list[str]] = {}
    for logical_id, resource in (template.get("Resources") or {}).items():
        if resource.get("Type") in FINDERS:
            by_type.setdefault(resource["Type"], []).append(logical_id)
    return [{"ResourceType": t, "LogicalResourceIds": ids, "ResourceIdentifiers": [FINDERS[t][0]]}
            for t, ids in sorted(by_type.items())]


def _managed_elsewhere(backend: Any, resource_type: str, physical_id: str) -> str | None:
    for stack in backend.stacks.values():
        if stack.status.startswith("DELETE") or stack.status == "REVIEW_IN_PROGRESS":
            continue
        for logical_id, parsed in stack.resource_map._parsed_resources.items():
            if getattr(parsed, "cf_resource_type", None) == resource_type and \
                    getattr(parsed, "physical_resource_id", None) == physical_id:
                return f"{stack.name}/{logical_id}"
    return None


def resolve_imports(backend: Any, template: dict[str, Any], existing_resources: dict[str, Any],
                    to_import: list[dict[str, Any]]) -> dict[str, Any]:
    """Check an IMPORT request as CloudFormation does; return logical id -> existing resource object."""
    resources = template.get("Resources") or {}
    found: dict[str, Any] = {}
    for entry in to_import:
        logical_id, rtype = entry.get("LogicalResourceId"), entry.get("ResourceType")
        identifier = entry.get("ResourceIdentifier") or {}
        definition = resources.get(logical_id)
        if definition is None:
            raise ValidationError(message=f"Resource {logical_id} to import is not in the template")
        if definition.get("Type") != rtype:
            raise ValidationError(message=f"Resource {logical_id} is {definition.get('Type')} in the template, not {rtype}")
        if "DeletionPolicy" not in definition:
            raise ValidationError(message=f"Resource {logical_id} to import must have a DeletionPolicy in the template")
        if rtype not in FINDERS:
            raise ValidationError(message=f"ResourceType {rtype} does not support import (on the local target)")
        prop, finder = FINDERS[rtype]
        if set(identifier) != {prop}:
            raise ValidationError(message=f"Resource {logical_id} ({rtype}) is identified by {prop}, got {sorted(identifier)}")
        physical = finder(str(identifier[prop]), backend.account_id, backend.region_name)
        if physical is None:
            raise ValidationError(message=f"Resource {logical_id}: {rtype} with {prop} {identifier[prop]} does not exist")
        owner = _managed_elsewhere(backend, rtype, physical.physical_resource_id)
        if owner:
            raise ValidationError(message=f"Resource {logical_id}: {identifier[prop]} already belongs to stack resource {owner}")
        found[logical_id] = physical
    added = [lid for lid in resources if lid not in existing_resources and lid not in found]
    if added:
        raise ValidationError(message=f"An import creates nothing: resources {sorted(added)} are neither in the stack nor imported")
    changed = [lid for lid, r in existing_resources.items() if resources.get(lid) != r]
    if changed:
        raise ValidationError(message=f"An import changes nothing else: resources {sorted(changed)} differ from the stack")
    return found


# ResourcesToImport of the CreateChangeSet request being served.
_REQUEST_IMPORTS: contextvars.ContextVar[list | None] = contextvars.ContextVar("request_imports", default=None)


def _create_change_set_response(original):
    @functools.wraps(original)
    def create_change_set(self):
        imports = self._get_param("ResourcesToImport", []) if self._get_param("ChangeSetType") == "IMPORT" else None
        token = _REQUEST_IMPORTS.set(imports)
        try:
            return original(self)
        finally:
            _REQUEST_IMPORTS.reset(token)
    return create_change_set


_parse = parse_template


def _create_change_set(original):
    """IMPORT into a new stack (moto's CREATE path) or an existing one (its UPDATE path)."""

    @functools.wraps(original)
    def create_change_set(self, stack_name, change_set_name, template, parameters, description, change_set_type, *args, **kwargs):
        if change_set_type != "IMPORT":
            return original(self, stack_name, change_set_name, template, parameters, description, change_set_type, *args, **kwargs)
        to_import = _REQUEST_IMPORTS.get() or []
        if not to_import:
            raise ValidationError(message="An IMPORT change set needs ResourcesToImport")
        live = next((s for s in self.stacks.values() if s.name == stack_name and s.status != "REVIEW_IN_PROGRESS"
                     and not s.status.startswith("DELETE")), None)
        existing = dict(live.resource_map._resource_json_map) if live else {}
        found = resolve_imports(self, _parse(template), existing, to_import)
        change_set_id, stack_id = original(self, stack_name, change_set_name, template, parameters, description,
                                           "UPDATE" if live else "CREATE", *args, **kwargs)
        change_set = self.change_sets[change_set_id]
        change_set.change_set_type = "IMPORT"
        change_set.imports = found
        for change in change_set.changes:
            if change.logical_resource_id in found:
                change.action = "Import"
        if live is None:
            self.stacks[stack_id].status = "REVIEW_IN_PROGRESS"
        return change_set_id, stack_id

    return create_change_set


def _apply(original):
    @functools.wraps(original)
    def apply(self):
        imports = getattr(self, "imports", None)
        if self.change_set_type == "IMPORT" and imports is not None:
            resource_map = self.stack.resource_map
            definitions = self.template_dict.get("Resources", {})
            for logical_id, physical in imports.items():
                physical.cf_resource_type = definitions[logical_id]["Type"]
                physical.logical_resource_id = logical_id
                resource_map._parsed_resources[logical_id] = physical
        return original(self)

    return apply


def _template_summary(original):
    @functools.wraps(original)
    def get_template_summary(self):
        result = original(self)
        body = self._get_param("TemplateBody")
        if not body and self._get_param("TemplateURL"):
            body = self._get_stack_from_s3_url(self._get_param("TemplateURL"))
        if not body and self._get_param("StackName"):
            body = self.cloudformation_backend.get_stack(self._get_param("StackName")).template
        if body and isinstance(result.result, dict):
            result.result["ResourceIdentifierSummaries"] = identifier_summaries(_parse(body))
        return result

    return get_template_summary


def install() -> None:
    from moto.cloudformation.responses import CloudFormationResponse

    CloudFormationResponse.create_change_set = _create_change_set_response(CloudFormationResponse.create_change_set)
    CloudFormationResponse.get_template_summary = _template_summary(CloudFormationResponse.get_template_summary)
    backend = cfn_models.CloudFormationBackend
    backend.create_change_set = _create_change_set(backend.create_change_set)
    cfn_models.ChangeSet.apply = _apply(cfn_models.ChangeSet.apply)
