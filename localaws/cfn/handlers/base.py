"""The shape every handler shares.

moto's CloudFormation engine asks a *class* for ``create_from_cloudformation_json``,
``update_from_cloudformation_json``, ``delete_from_cloudformation_json``,
``has_cfn_attr`` and the name property, and keeps whatever ``create`` returns
in the stack's resource map, where it needs ``physical_resource_id``,
``get_cfn_attribute``, ``is_created`` and ``delete``.  Handlers implement
``create`` / ``update`` / ``remove`` on plain properties (intrinsics already
resolved by moto) and call moto's own service backends, so everything they
create is visible through moto's normal service APIs.
"""
from __future__ import annotations

from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException

REGISTRY: dict[str, type["Handler"]] = {}


def register(cls: type["Handler"]) -> type["Handler"]:
    REGISTRY[cls.TYPE] = cls
    return cls


class Resource:
    """A handler-created resource as the resource map holds it."""

    def __init__(self, handler: type["Handler"], physical_id: str, attrs: dict[str, Any] | None = None,
                 account_id: str = "", region: str = "", **state: Any):
        self.handler = handler
        self.physical_resource_id = physical_id
        self.attrs = attrs or {}
        self.account_id = account_id
        self.region = region
        self.state = state

    def get_cfn_attribute(self, name: str) -> Any:
        if name in self.attrs:
            return self.attrs[name]
        # moto turns this into a ValidationError naming the attribute,
        # instead of silently leaving the Fn::GetAtt unresolved.
        raise UnformattedGetAttTemplateException()

    def is_created(self) -> bool:
        return True

    def delete(self, account_id: str, region_name: str) -> None:
        self.handler.remove(self, account_id, region_name)


class Handler:
    TYPE = ""
    NAME_PROPERTY = ""          # property that carries the physical name, if any
    ATTRIBUTES: tuple[str, ...] = ()

    @classmethod
    def cloudformation_type(cls) -> str:
        return cls.TYPE

    @classmethod
    def cloudformation_name_type(cls) -> str:
        return cls.NAME_PROPERTY

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in cls.ATTRIBUTES

    # -- the engine's entry points ------------------------------------------
    @classmethod
    def create_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str, **kwargs: Any) -> Any:
        props = cloudformation_json.get("Properties") or {}
        return cls.create(resource_name, props, account_id, region_name)

    @classmethod
    def update_from_cloudformation_json(cls, original_resource: Any, new_resource_name: str,
                                        cloudformation_json: dict[str, Any], account_id: str,
                                        region_name: str) -> Any:
        props = cloudformation_json.get("Properties") or {}
        return cls.update(original_resource, new_resource_name, props, account_id, region_name)

    @classmethod
    def delete_from_cloudformation_json(cls, resource_name: str, cloudformation_json: dict[str, Any],
                                        account_id: str, region_name: str) -> None:
        cls.remove(Resource(cls, resource_name), account_id, region_name)

    # -- what a handler implements ------------------------------------------
    @classmethod
    def create(cls, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        raise NotImplementedError

    @classmethod
    def update(cls, original: Any, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        raise NotImplementedError(
            f"the local AWS target cannot update {cls.TYPE} in place; redeploy from scratch"
        )

    @classmethod
    def remove(cls, resource: Any, account_id: str, region: str) -> None:
        raise NotImplementedError


class Replaceable(Handler):
    """Updates by delete + re-create: only for resources that hold no data."""

    @classmethod
    def update(cls, original: Any, name: str, props: dict[str, Any], account_id: str, region: str) -> Any:
        cls.remove(original, account_id, region)
        return cls.create(name, props, account_id, region)


def tags_dict(tags: list[dict[str, str]] | dict[str, str] | None) -> dict[str, str]:
    if not tags:
        return {}
    if isinstance(tags, dict):
        return dict(tags)
    return {t["Key"]: t["Value"] for t in tags}


def as_bool(value: Any, default: bool = False) -> bool:
    if value is None:
        return default
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)
