"""Parsing a CloudFormation template body: JSON, or YAML with the short tags.

A template arrives from whoever can reach the local target's port. PyYAML's
``yaml.Loader`` builds arbitrary Python objects from tags such as
``!!python/object/apply:os.system``, which would run a command while parsing.
:class:`CfnLoader` is a ``yaml.SafeLoader`` that also knows CloudFormation's
short intrinsic tags (``!Ref``, ``!GetAtt``, ``!Sub``, ...) and nothing else:
any other tag is refused as a template format error before anything is built.

Kept apart from ``engine`` so that ``engine`` and ``imports`` both read
templates through here without importing each other.
"""

from __future__ import annotations

import json
import types
from typing import Any

import yaml
from moto.cloudformation.exceptions import ValidationError

# The intrinsic functions CloudFormation accepts in short form
# (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/intrinsic-function-reference.html).
SHORT_TAGS = ("Ref", "GetAtt", "Sub", "Join", "Select", "Split", "FindInMap", "GetAZs", "ImportValue", "If", "Equals",
              "And", "Or", "Not", "Base64", "Cidr", "Condition", "Transform", "Length", "ToJsonString")


class CfnLoader(yaml.SafeLoader):
    """SafeLoader plus CloudFormation's short tags (what moto's own tag constructor produces)."""


def _short_tag(name: str):
    key = "Ref" if name == "Ref" else f"Fn::{name}"

    def construct(loader: CfnLoader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.SequenceNode):
            value: Any = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:
            value = loader.construct_scalar(node)
            if name == "GetAtt":
                value = value.split(".", 1)
        return {key: value}

    return construct


for _name in SHORT_TAGS:
    CfnLoader.add_constructor(f"!{_name}", _short_tag(_name))


def parse(template: str) -> dict[str, Any]:
    """The template as a dict; a tag other than CloudFormation's is a ValidationError."""
    try:
        return yaml.load(template, Loader=CfnLoader) or {}  # noqa: S506 - CfnLoader is a SafeLoader
    except yaml.constructor.ConstructorError as exc:
        raise ValidationError(message=f"Template format error: {' '.join(str(exc.problem or exc).split())}") from None
    except yaml.YAMLError:
        return json.loads(template)


def _load(stream: Any, Loader: Any = None) -> Any:  # noqa: N803 - PyYAML's own keyword
    """``yaml.load`` for moto's modules: whatever loader they ask for, they get :class:`CfnLoader`."""
    return yaml.load(stream, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader


# Stands in for the ``yaml`` module inside moto's CloudFormation modules, which
# parse templates with ``yaml.Loader`` after registering a catch-all tag
# constructor on it (engine.install() swaps it in).
SAFE_YAML = types.SimpleNamespace(load=_load, add_multi_constructor=lambda *args, **kwargs: None, Loader=CfnLoader,
                                  SafeLoader=CfnLoader, YAMLError=yaml.YAMLError)
