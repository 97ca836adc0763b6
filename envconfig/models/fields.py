"""Field types shared by every configuration model.

Each helper returns an ``Annotated`` type that carries both halves of a
field's declaration: a validator that refuses a bad value with the one-line
rule the configuration files have always used (``must be between 1 and 35,
got 90``), and the JSON Schema keywords of the same bound (``minimum``,
``pattern``, ``enum``). One call declares both, so they cannot drift apart.

Values are taken as YAML gives them, never coerced: ``"7"`` is not a whole
number and ``1`` is not ``true``.
"""

from __future__ import annotations

import math
import re
from enum import Enum
from typing import Annotated, Any, Callable

from pydantic import AfterValidator, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

# Frozen (read once, never changed), unknown keys refused, and Python's `re`
# for patterns (the GitHub repository pattern needs look-ahead).
MODEL_CONFIG = ConfigDict(extra="forbid", regex_engine="python-re",
                          validate_by_alias=True, arbitrary_types_allowed=True)


def fail(rule: str) -> PydanticCustomError:
    """The error a validator raises: ``rule`` becomes the message as it is."""
    return PydanticCustomError("config_rule", "{rule}", {"rule": rule})


def _schema(**keywords: Any) -> Any:
    return Field(json_schema_extra={k: v for k, v in keywords.items() if v is not None})


def _check_str(value: Any, pattern: str | None, rule: str) -> str:
    if not isinstance(value, str):
        raise fail(f"must be a string, got {type(value).__name__}")
    if pattern is not None and not re.fullmatch(pattern, value):
        raise fail(rule or f"must match {pattern!r}, got {value!r}")
    return value


def Str(pattern: str | None = None, rule: str = "", check: Callable[[str], None] | None = None) -> Any:  # noqa: N802 - a type
    """A string, matching ``pattern`` in full when given (``rule`` is the message otherwise)."""
    def validate(value: Any) -> str:
        value = _check_str(value, pattern, rule)
        if check is not None:
            check(value)
        return value

    return Annotated[str, _schema(pattern=f"^(?:{pattern})$" if pattern else None, description=rule or None),
                     BeforeValidator(validate)]


def OptStr(pattern: str | None = None, rule: str = "") -> Any:  # noqa: N802 - a type
    """A string that may be absent or null."""
    return Annotated[Str(pattern, rule) | None, Field(default=None)]


def Int(minimum: int | None = None, maximum: int | None = None, *, allowed: frozenset[int] | None = None,  # noqa: N802
        allowed_rule: str = "") -> Any:
    def validate(value: Any) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise fail(f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            low = "-inf" if minimum is None else minimum
            high = "inf" if maximum is None else maximum
            raise fail(f"must be between {low} and {high}, got {value}")
        if allowed is not None and value not in allowed:
            raise fail(f"{allowed_rule} {sorted(allowed)}, got {value}")
        return value

    return Annotated[int, _schema(minimum=minimum, maximum=maximum, enum=sorted(allowed) if allowed else None),
                     BeforeValidator(validate)]


def Number(minimum: float | None = None, maximum: float | None = None) -> Any:  # noqa: N802 - a type
    def validate(value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise fail(f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise fail(f"must be a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            raise fail(f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise fail(f"must be at most {maximum}, got {value}")
        return float(value)

    return Annotated[float, _schema(minimum=minimum, maximum=maximum), BeforeValidator(validate)]


def _check_bool(value: Any) -> bool:
    if not isinstance(value, bool):
        raise fail(f"must be true or false, got {value!r}")
    return value


Bool = Annotated[bool, BeforeValidator(_check_bool)]


def Choice(enum: type[Enum]) -> Any:  # noqa: N802 - a type
    allowed = [member.value for member in enum]

    def validate(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        if value not in allowed or isinstance(value, bool):
            raise fail(f"must be one of {allowed}, got {value!r}")
        return enum(value)

    return Annotated[enum, BeforeValidator(validate)]


def _check_list(min_items: int, item_type: type = str, what: str = "a list of strings") -> Callable[[Any], Any]:
    def validate(value: Any) -> Any:
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list) or not all(isinstance(v, item_type) and not isinstance(v, bool) for v in value):
            raise fail(f"must be {what}")
        if len(value) < min_items:
            raise fail(f"must have at least {min_items} item(s)")
        return value

    return validate


def _no_duplicates(value: tuple) -> tuple:
    if len(set(value)) != len(value):
        raise fail("must not contain duplicates")
    return value


def StrList(pattern: str | None = None, rule: str = "", min_items: int = 0) -> Any:  # noqa: N802 - a type
    """A list of distinct strings; an item that breaks ``pattern`` is named by its index."""
    return Annotated[tuple[Str(pattern, rule), ...], _schema(minItems=min_items, uniqueItems=True),
                     BeforeValidator(_check_list(min_items)), AfterValidator(_no_duplicates)]


def ChoiceList(enum: type[Enum], min_items: int = 0) -> Any:  # noqa: N802 - a type
    """A list of distinct values of ``enum``."""
    allowed = [member.value for member in enum]

    def validate(value: Any) -> Enum:
        if isinstance(value, enum):
            return value
        if value not in allowed:
            raise fail(f"must be one of {allowed}")
        return enum(value)

    return Annotated[tuple[Annotated[enum, BeforeValidator(validate)], ...], _schema(minItems=min_items, uniqueItems=True),
                     BeforeValidator(_check_list(min_items)), AfterValidator(_no_duplicates)]


def IncreasingNumbers(*, whole: bool, low: float, high: float | None, rule: str, order_rule: str) -> Any:  # noqa: N802
    """A non-empty, strictly increasing list of numbers in (low, high].

    ``rule`` is the message for a value that is not a list of numbers; a list
    out of order or out of (low, high] gets ``order_rule`` with the list. For
    whole numbers (USD amounts) a value at or below ``low`` breaks ``rule``
    instead, as the GCP file has always said.
    """
    def validate(value: Any) -> tuple:
        kinds = int if whole else (int, float)
        if (not isinstance(value, list) or not value
                or not all(isinstance(v, kinds) and not isinstance(v, bool) and math.isfinite(v) and (not whole or v > low)
                           for v in value)):
            raise fail(rule)
        if (not whole and any(v <= low or high is not None and v > high for v in value)) or sorted(set(value)) != value:
            raise fail(f"{order_rule}, got {value}")
        return tuple(value if whole else (float(v) for v in value))

    item = Annotated[int if whole else float, _schema(exclusiveMinimum=low, maximum=high)]
    return Annotated[tuple[item, ...], _schema(minItems=1, uniqueItems=True), BeforeValidator(validate)]


def Section(model: type, *, key: Any = str, non_empty_names: bool = False) -> Any:  # noqa: N802 - a type
    """A mapping of name -> settings of ``model`` (``services: {api: {...}}``); ``key`` validates the names."""
    def validate(value: Any) -> Any:
        if not isinstance(value, dict) or (non_empty_names and not value):
            raise fail("must be a non-empty mapping of name: settings" if non_empty_names else "must be a mapping")
        return value

    return Annotated[dict[key, model], _schema(minProperties=1 if non_empty_names else None), BeforeValidator(validate)]
