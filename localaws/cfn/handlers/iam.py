"""IAM: ``AWS::IAM::OIDCProvider`` (unknown to moto), the update / delete
moto's ``AWS::IAM::ManagedPolicy`` model lacks, and ``AWS::IAM::Role``, whose
moto model ignores ``ManagedPolicyArns`` on create and, on update, changes
only the description (and sets the session duration from the wrong
property): a changed trust policy never reached the role.

AWS-managed policies (``arn:aws:iam::aws:policy/...``) exist in the target
because the server loads them (``MOTO_IAM_LOAD_MANAGED_POLICIES``, set in
localaws/server.py)."""
from __future__ import annotations

import json

from moto.iam.models import ManagedPolicy as MotoManagedPolicy
from moto.iam.models import Role as MotoRole
from moto.iam.models import iam_backends
from moto.utilities.utils import get_partition

from .base import Handler, Resource, register


def _backend(account_id: str, region: str):
    return iam_backends[account_id][get_partition(region)]


@register
class OIDCProvider(Handler):
    TYPE = "AWS::IAM::OIDCProvider"
    ATTRIBUTES = ("Arn",)

    @classmethod
    def create(cls, name, props, account_id, region):
        provider = _backend(account_id, region).create_open_id_connect_provider(
            url=props["Url"],
            thumbprint_list=props.get("ThumbprintList", []),
            client_id_list=props.get("ClientIdList", []),
            tags=props.get("Tags", []),
        )
        return Resource(cls, provider.arn, {"Arn": provider.arn}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        backend = _backend(account_id, region)
        provider = backend.get_open_id_connect_provider(original.physical_resource_id)
        if not props["Url"].endswith(provider.url):
            raise ValueError("changing the provider URL replaces the provider; the local target refuses")
        provider.thumbprint_list = props.get("ThumbprintList", [])
        provider.client_id_list = props.get("ClientIdList", [])
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        _backend(account_id, region).delete_open_id_connect_provider(resource.physical_resource_id)


@register
class ManagedPolicy(Handler):
    TYPE = "AWS::IAM::ManagedPolicy"

    @classmethod
    def create(cls, name, props, account_id, region):
        return MotoManagedPolicy.create_from_cloudformation_json(name, {"Properties": props}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        backend = _backend(account_id, region)
        wanted = props.get("ManagedPolicyName")
        if wanted and wanted != original.name:
            raise ValueError("renaming a managed policy replaces it; the local target refuses")
        # A new default version, as CloudFormation does; the oldest
        # non-default version goes first when the limit of 5 is reached.
        if len(original.versions) >= 5:
            oldest = next(v for v in original.versions if not v.is_default)
            backend.delete_policy_version(original.arn, oldest.version_id)
        backend.create_policy_version(original.arn, json.dumps(props.get("PolicyDocument")), set_as_default=True)
        cls._sync_attachments(backend, original, "role", props.get("Roles", []))
        cls._sync_attachments(backend, original, "user", props.get("Users", []))
        cls._sync_attachments(backend, original, "group", props.get("Groups", []))
        return original

    @staticmethod
    def _attached(backend, policy, kind: str) -> set[str]:
        entities = {"role": backend.roles, "user": backend.users, "group": backend.groups}[kind]
        return {e.name for e in entities.values() if policy.arn in getattr(e, "managed_policies", {})}

    @classmethod
    def _sync_attachments(cls, backend, policy, kind: str, wanted: list[str]) -> None:
        current = cls._attached(backend, policy, kind)
        for entity in set(wanted) - current:
            getattr(backend, f"attach_{kind}_policy")(policy_arn=policy.arn, **{f"{kind}_name": entity})
        for entity in current - set(wanted):
            getattr(backend, f"detach_{kind}_policy")(policy_arn=policy.arn, **{f"{kind}_name": entity})

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        arn = resource.physical_resource_id
        policy = backend.managed_policies.get(arn)
        if policy is None:
            return
        for kind in ("role", "user", "group"):
            cls._sync_attachments(backend, policy, kind, [])
        for version in [v for v in policy.versions if not v.is_default]:
            backend.delete_policy_version(arn, version.version_id)
        backend.delete_policy(arn)


@register
class Role(Handler):
    TYPE = "AWS::IAM::Role"
    NAME_PROPERTY = "RoleName"
    ATTRIBUTES = ("Arn", "RoleId")

    @classmethod
    def _sync(cls, backend, role, props) -> None:
        wanted = set(props.get("ManagedPolicyArns", []))
        current = set(role.managed_policies)
        for arn in wanted - current:
            backend.attach_role_policy(arn, role.name)
        for arn in current - wanted:
            backend.detach_role_policy(arn, role.name)
        inline = {p["PolicyName"]: p["PolicyDocument"] for p in props.get("Policies", [])}
        # Only the policies the role's own ``Policies`` declared before are the
        # role's to remove: an AWS::IAM::Policy resource (CDK's DefaultPolicy)
        # puts its inline policy on the role too, and CloudFormation leaves it
        # alone when the role is updated.
        for name in (getattr(role, "_cfn_own_policies", set()) & set(role.policies)) - set(inline):
            backend.delete_role_policy(role.name, name)
        for name, document in inline.items():
            backend.put_role_policy(role.name, name, json.dumps(document))
        role._cfn_own_policies = set(inline)

    @classmethod
    def create(cls, name, props, account_id, region):
        role = MotoRole.create_from_cloudformation_json(name, {"Properties": dict(props)}, account_id, region)
        cls._sync(_backend(account_id, region), role, props)
        return role

    @classmethod
    def update(cls, original, name, props, account_id, region):
        backend = _backend(account_id, region)
        if props.get("RoleName", original.name) != original.name:
            raise ValueError("renaming a role replaces it; the local target refuses")
        if props.get("Path", "/") != original.path:
            raise ValueError("changing a role's path replaces it; the local target refuses")
        trust = props["AssumeRolePolicyDocument"]
        backend.update_assume_role_policy(original.name, trust if isinstance(trust, str) else json.dumps(trust))
        backend.update_role(original.name, props.get("Description", ""), props.get("MaxSessionDuration", 3600))
        if props.get("PermissionsBoundary"):
            backend.put_role_permissions_boundary(original.name, props["PermissionsBoundary"])
        else:
            backend.delete_role_permissions_boundary(original.name)
        cls._sync(backend, original, props)
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        role = next((r for r in backend.roles.values() if r.name == resource.physical_resource_id), None)
        if role is None:
            return
        for arn in list(role.managed_policies):
            backend.detach_role_policy(arn, role.name)
        MotoRole.delete_from_cloudformation_json(role.name, {}, account_id, region)
