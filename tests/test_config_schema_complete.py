"""The published JSON Schemas are complete: every field of every
configuration model, and every value of every choice, appears in the schema
file editors read (config/schema/*.json)."""

from __future__ import annotations

import json
import typing
from enum import Enum

import pytest

from envconfig.models.aws import AwsConfig
from envconfig.models.contract import ContractFile
from envconfig.models.gcp import GcpConfig
from envconfig.schema import SCHEMA_DIR
from envconfig.validation import known_keys

ROOTS = [("aws.schema.json", AwsConfig), ("gcp.schema.json", GcpConfig), ("env_contract.schema.json", ContractFile)]


def reachable(root: type) -> tuple[list[type], list[type[Enum]]]:
    """The models and enums a root model's fields can hold, at any depth."""
    models: list[type] = []
    enums: list[type[Enum]] = []
    todo: list = [root]
    while todo:
        tp = todo.pop()
        if isinstance(tp, type) and issubclass(tp, Enum):
            if tp not in enums:
                enums.append(tp)
        elif isinstance(tp, type) and getattr(tp, "__pydantic_fields__", None):
            if tp not in models:
                models.append(tp)
                todo.extend(field.annotation for field in tp.__pydantic_fields__.values() if not field.exclude)
        else:
            todo.extend(typing.get_args(tp))
    return models, enums


def enum_values(node) -> set:
    found = set()
    if isinstance(node, dict):
        found.update(node.get("enum", []))
        if "const" in node:
            found.add(node["const"])
        for value in node.values():
            found |= enum_values(value)
    elif isinstance(node, list):
        for value in node:
            found |= enum_values(value)
    return found


@pytest.mark.parametrize("name, root", ROOTS, ids=[r[0] for r in ROOTS])
def test_every_field_of_every_model_is_in_the_schema(name, root):
    schema = json.loads((SCHEMA_DIR / name).read_text())
    models, _ = reachable(root)
    assert len(models) >= (3 if root is ContractFile else 10), models  # the walk reached the sections
    for model in models:
        node = schema if model is root else schema["$defs"][model.__name__]
        assert set(node.get("properties", {})) == set(known_keys(model)), f"{name}: {model.__name__}"
        assert node.get("additionalProperties") is False, f"{name}: {model.__name__} must refuse unknown keys"


@pytest.mark.parametrize("name, root", ROOTS, ids=[r[0] for r in ROOTS])
def test_every_enum_value_is_in_the_schema(name, root):
    schema = json.loads((SCHEMA_DIR / name).read_text())
    _, enums = reachable(root)
    assert enums or root is ContractFile, "no choice reached"
    values = enum_values(schema)
    for enum in enums:
        missing = [member.value for member in enum if member.value not in values]
        assert not missing, f"{name}: {enum.__name__} values {missing} are not in the schema"


def test_the_aws_schema_states_the_policy_values():
    """Literal values, not read back from the models: the schema carries the bounds."""
    schema = json.loads((SCHEMA_DIR / "aws.schema.json").read_text())
    data = schema["$defs"]["DataConfig"]["properties"]["pitr_recovery_period_days"]
    assert (data["minimum"], data["maximum"]) == (1, 35)
    assert set(schema["$defs"]["Severity"]["enum"]) == {"Critical", "Warning"}
    assert set(schema["$defs"]["Store"]["enum"]) == {"fp-events", "consent", "block-counter", "baselines"}
    assert schema["required"][:4] == ["environment", "account", "region", "name_prefix"]
    assert "source" not in schema["properties"]


def test_the_gcp_schema_states_the_policy_values():
    schema = json.loads((SCHEMA_DIR / "gcp.schema.json").read_text())
    assert schema["$defs"]["LoggingConfig"]["properties"]["retention_days"]["minimum"] == 30
    assert set(schema["$defs"]["RedisTier"]["enum"]) == {"BASIC", "STANDARD_HA"}
    # LiveKit's settings are required only when it is enabled: {enabled: false} alone is valid.
    livekit = schema["$defs"]["LiveKitConfig"]
    assert livekit["required"] == ["enabled"]
    assert livekit["if"] == {"properties": {"enabled": {"const": True}}}
    # TLS-only signalling: the domains are required; plain signalling ranges are optional (private only).
    assert livekit["then"] == {"required": ["zone", "machine_type", "domain", "turn_domain", "media_source_ranges"]}
    assert "livekit" in schema["properties"] and "frontends" in schema["properties"] and "source" not in schema["properties"]
