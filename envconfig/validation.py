"""Validating a parsed configuration file against its model, in one line.

pydantic reports every error it finds, in its own words. A configuration
error here is one line ``<file>: <field>: <rule>``: the first error, with
the rule the model's field gave (:func:`envconfig.models.fields.fail`), an
unknown key named with the known key it most likely meant, and a missing key
that looks misspelled named by its misspelling.
"""

from __future__ import annotations

import difflib
import types
import typing
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping, TypeVar

from pydantic import TypeAdapter, ValidationError

from envconfig.errors import ConfigError

T = TypeVar("T")
_MAPPING_ERRORS = {"dataclass_type", "dataclass_args_type", "model_type", "dict_type", "model_attributes_type"}
_UNKNOWN_ERRORS = {"unexpected_keyword_argument", "extra_forbidden"}
_MISSING_ERRORS = {"missing", "missing_argument", "missing_keyword_only_argument"}
_KEY_ERRORS = {"invalid_key"}  # a key YAML read as a number or a boolean where names are strings


@lru_cache(maxsize=None)
def adapter(model: type) -> TypeAdapter:
    return TypeAdapter(model)


def validate(model: type[T], data: Mapping[str, Any], path: Path | str, **extra: Any) -> T:
    """``data`` (one parsed file) as ``model``; a bad value is a :class:`ConfigError`.

    ``extra`` are fields the loader supplies (the source path), never read from the file.
    """
    data = _without_nulls(data)
    for key in extra:
        if key in data:  # a loader's own field is not a setting of the file
            raise _unknown(path, (), key, model)
    try:
        return adapter(model).validate_python({**data, **extra})
    except ValidationError as exc:
        raise translate(exc.errors()[0], model, data, path) from None


def _without_nulls(value: Any) -> Any:
    """``key:`` with no value reads as absent (the default applies, or it is required), as it always has."""
    if isinstance(value, Mapping):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def field_name(loc: tuple, data: Any = None) -> str:
    """``observability.alarm_emails[0]`` for pydantic's location tuple (``data``: is a number an index or a key?)."""
    text = ""
    for part in loc:
        index = isinstance(part, int) and isinstance(data, list)
        text += f"[{part}]" if index else (f".{part}" if text else str(part))
        data = data[part] if isinstance(data, (list, Mapping)) and (index or part in data) else None
    return text


def _unwrap(tp: Any) -> Any:
    """``Annotated[X, ...]`` and ``X | None`` -> ``X``."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if origin in (typing.Union, types.UnionType):
            options = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(options) == 1:
                tp = options[0]
                continue
        return tp


def _fields(model: Any) -> dict[str, Any]:
    return getattr(model, "__pydantic_fields__", {}) or {}


def model_at(model: Any, loc: tuple) -> Any:
    """The declared type at ``loc`` (for the known keys of a section)."""
    tp = model
    for part in loc:
        tp = _unwrap(tp)
        fields = _fields(tp)
        if fields:
            by_key = {(f.alias or name): f for name, f in fields.items()} | fields
            if part not in by_key:
                return None
            tp = by_key[part].annotation
            continue
        origin, args = typing.get_origin(tp), typing.get_args(tp)
        if origin in (dict, typing.Mapping, Mapping) and len(args) == 2:
            tp = args[1]
        elif origin in (tuple, list) and args:
            tp = args[0]
        else:
            return None
    return _unwrap(tp)


def known_keys(model: Any) -> list[str]:
    return sorted((f.alias or name) for name, f in _fields(model).items() if not f.exclude)


def _value_at(data: Any, loc: tuple) -> Any:
    for part in loc:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _suggest(key: Any, candidates) -> str | None:
    names = [c for c in map(str, candidates) if c != str(key)]
    matches = difflib.get_close_matches(str(key), names, n=1, cutoff=0.75)
    return matches[0] if matches else None


def _unknown(path, parent: tuple, key: Any, model: Any, data: Any = None) -> ConfigError:
    known = known_keys(model_at(model, parent))
    intended = _suggest(key, known)
    hint = f"did you mean {intended!r}? " if intended else ""
    return ConfigError(path, field_name((*parent, key), data), f"is not a known setting; {hint}(known: {known})")


def translate(error: Mapping[str, Any], model: type, data: Mapping[str, Any], path: Path | str) -> ConfigError:
    loc = tuple(error["loc"])
    if "[key]" in loc:  # a mapping's key broke its rule: name the key
        loc = loc[: loc.index("[key]")]
    kind = error["type"]
    if kind == "config_rule":
        return ConfigError(path, field_name(loc, data), error["ctx"]["rule"])
    parent, key = loc[:-1], (loc[-1] if loc else "<file>")
    if kind in _UNKNOWN_ERRORS or kind in _KEY_ERRORS:
        return _unknown(path, parent, key, model, data)
    if kind in _MISSING_ERRORS:
        given = _value_at(data, parent)
        known = known_keys(model_at(model, parent))
        typo = _suggest(key, [k for k in (given or {}) if str(k) not in known]) if isinstance(given, Mapping) else None
        if typo is not None:
            return ConfigError(path, field_name((*parent, typo), data),
                               f"is not a known setting; did you mean {key!r}? ({field_name(loc, data)} is required)")
        return ConfigError(path, field_name(loc, data), "is required")
    if kind in _MAPPING_ERRORS:
        return ConfigError(path, field_name(loc, data), "must be a mapping")
    # Anything else pydantic found: its own words, on one line, with the value.
    return ConfigError(path, field_name(loc, data) or "<file>", f"{' '.join(str(error['msg']).split())} (got {error.get('input')!r})")
