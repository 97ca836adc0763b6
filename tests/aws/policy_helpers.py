"""Reading IAM statements out of CloudFormation templates, for the invariant tests."""

from __future__ import annotations

from typing import Iterator

# Where each kind of resource keeps its policy documents.
_DOC_KEYS = ("PolicyDocument", "KeyPolicy", "AssumeRolePolicyDocument")


def statements(resource: dict) -> Iterator[dict]:
    props = resource.get("Properties", {})
    for key in _DOC_KEYS:
        if key in props:
            yield from props[key].get("Statement", [])
    for inline in props.get("Policies", []) or []:
        yield from inline["PolicyDocument"].get("Statement", [])


def as_list(value) -> list:
    return value if isinstance(value, list) else [value]
