"""One layer of defaults for every L3: default, then caller, then what the construct requires.

``merge_props(defaults, caller, required)`` returns keyword arguments for the
underlying L2. A caller value that contradicts a requirement is an error
rather than a silent override, so nobody can switch off encryption or PITR by
passing props.
"""

from __future__ import annotations

from typing import Any, Mapping


def struct_values(props: Any) -> dict[str, Any]:
    """The set fields of a jsii props struct (or a plain mapping)."""
    if props is None:
        return {}
    if isinstance(props, Mapping):
        return dict(props)
    return dict(getattr(props, "_values"))


def merge_props(construct: str, defaults: Mapping[str, Any], caller: Any, required: Mapping[str, Any]) -> dict[str, Any]:
    given = struct_values(caller)
    for key, value in required.items():
        if key in given and given[key] is not value and given[key] != value:
            raise ValueError(f"{construct}: {key} is fixed by this construct's security defaults and cannot be overridden")
    return {**defaults, **given, **required}
