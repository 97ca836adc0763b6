"""Typed reading of one YAML mapping, with errors that name file and field.

A :class:`Reader` wraps one mapping of a configuration file. Each accessor
checks one field and records it as known; :meth:`Reader.finish` then rejects
any key nobody asked for, so a typo such as ``pitr_recovery_day`` is an error
instead of a silently ignored setting, with the likely intended key.

Reading the file is strict too: a key given twice (YAML would silently keep
the last one), a byte that is not UTF-8, and a YAML syntax error each stop
with one line ``<file>:<line>: <field>: <rule>``.

Every accessor also describes its field to :mod:`envconfig.schema` when a
schema is being recorded, so the published JSON Schemas come from the same
calls that validate (adding a field to a loader adds it to the schema).
"""

from __future__ import annotations

import difflib
import errno
import math
import os
import re
from contextvars import ContextVar
from enum import Enum
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

from envconfig.errors import ConfigError

E = TypeVar("E", bound=Enum)
_MISSING = object()


# Set by envconfig.schema while it records: the schema node of the file being read.
RECORDING: ContextVar[dict | None] = ContextVar("envconfig_schema_recording", default=None)


class _DuplicateKey(Exception):
    def __init__(self, key: Any, line: int, first_line: int) -> None:
        self.key, self.line, self.first_line = key, line, first_line


class _StrictLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml's parser when PyYAML has it: 5x faster
    """SafeLoader that refuses a key given twice in one mapping (``<<`` merges may still override)."""


def _construct_mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict:
    first_lines: dict[Any, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = loader.construct_object(key_node, deep=True)
        line = key_node.start_mark.line + 1
        try:
            if key in first_lines:
                raise _DuplicateKey(key, line, first_lines[key])
            first_lines[key] = line
        except TypeError:  # an unhashable key: SafeLoader reports it below
            pass
    return loader.construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _dotted_path(text: str, line: int, key: Any) -> str:
    """``data.pitr_recovery_period_days`` for the key written on ``line`` (for the message)."""
    def walk(node, prefix):
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                name = f"{prefix}{key_node.value}"
                if key_node.start_mark.line + 1 == line and key_node.value == str(key):
                    return name
                found = walk(value_node, f"{name}.")
                if found:
                    return found
        elif isinstance(node, yaml.SequenceNode):
            for index, item in enumerate(node.value):
                found = walk(item, f"{prefix.rstrip('.')}[{index}].")
                if found:
                    return found
        return None

    try:
        return walk(yaml.compose(text, Loader=yaml.SafeLoader), "") or str(key)
    except yaml.YAMLError:
        return str(key)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


# Configuration files are a few kilobytes; anything past 1 MiB is a mistake
# (a log or a binary copied over the file) or an attack on the parser, and is
# refused before a byte of it is parsed.
MAX_FILE_BYTES = 1024 * 1024


def _symlink_loop(path: Path) -> Path | None:
    """The first component of ``path`` that is a symbolic link resolving back into itself, if any."""
    current = Path(path.anchor) if path.is_absolute() else Path()
    for part in path.parts[1 if path.is_absolute() else 0:]:
        current = current / part
        try:
            os.stat(current)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                return current
            return None
    return None


def read_yaml(path: Path) -> dict:
    """The top-level mapping of ``path``, read strictly (see the module docstring)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            loop = _symlink_loop(path) or path
            where = "" if loop == path else f" ({loop} points back into itself)"
            raise ConfigError(path, "<file>", f"is a symlink loop{where}; point the link (or MD_CONFIG_DIR) at a real file") from None
        raise ConfigError(path, "<file>", "file does not exist") from None
    if not path.is_file():
        raise ConfigError(path, "<file>", "file does not exist")
    if size > MAX_FILE_BYTES:
        raise ConfigError(path, "<file>", f"is {size} bytes, over the {MAX_FILE_BYTES}-byte (1 MiB) cap for a configuration file")
    with path.open("rb") as handle:
        raw = handle.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat()
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError(path, "<file>", f"is over the {MAX_FILE_BYTES}-byte (1 MiB) cap for a configuration file")
    try:
        # utf-8-sig: a byte order mark (some editors write one) is not content.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}", "<file>", f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}); save the file as UTF-8") from None
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except _DuplicateKey as exc:
        raise ConfigError(f"{path}:{exc.line}", _dotted_path(text, exc.line, exc.key),
                          f"is given twice (first on line {exc.first_line}); YAML would silently keep only the last one") from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        problem = _one_line(exc.problem or "")
        context = f" ({_one_line(exc.context)})" if exc.context else ""
        raise ConfigError(where, "<file>", f"is not valid YAML: {problem}{context}") from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ConfigError(path, "<file>", f"is not valid YAML: {_one_line(exc)}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(path, "<file>", "top level must be a mapping of field: value")
    return data


def load_yaml(path: Path) -> "Reader":
    """Read ``path`` and return a reader over its top-level mapping."""
    return Reader(path, read_yaml(path), schema=RECORDING.get())


class Reader:
    """Validating accessor over one mapping of a configuration file."""

    def __init__(self, path: Path, data: Mapping[str, Any], prefix: str = "", schema: dict | None = None) -> None:
        self.path = path
        self._data = data
        self._prefix = prefix
        self._seen: set[str] = set()
        self._schema = schema  # the JSON Schema object node being recorded, or None

    def _describe(self, key: str, schema: dict, *, required: bool) -> None:
        """Record what this accessor accepts (only while envconfig.schema records)."""
        if self._schema is None:
            return
        self._schema.setdefault("type", "object")
        node = self._schema.setdefault("properties", {}).setdefault(key, {})
        for name, value in schema.items():
            node.setdefault(name, value)
        if required and key not in self._schema.setdefault("required", []):
            self._schema["required"].append(key)
        self._schema["additionalProperties"] = False

    def _suggest(self, key: str, candidates) -> str | None:
        names = [c for c in map(str, candidates) if c != key]
        matches = difflib.get_close_matches(key, names, n=1, cutoff=0.75)
        return matches[0] if matches else None

    def field_name(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def error(self, key: str, rule: str) -> ConfigError:
        return ConfigError(self.path, self.field_name(key), rule)

    def _get(self, key: str, default: Any) -> Any:
        self._describe(key, {}, required=default is _MISSING)
        self._seen.add(key)
        if key in self._data and self._data[key] is not None:
            return self._data[key]
        if default is _MISSING:
            typo = self._suggest(key, [k for k in self._data if str(k) not in self._seen])
            if typo is not None:
                raise self.error(typo, f"is not a known setting; did you mean {key!r}? ({self.field_name(key)} is required)")
            raise self.error(key, "is required")
        return default

    def str(self, key: str, *, pattern: str | None = None, rule: str = "", default: Any = _MISSING) -> str:
        self._describe(key, {"type": "string", **({"pattern": f"^(?:{pattern})$"} if pattern else {}),
                             **({"description": rule} if rule else {}), **_default(default)}, required=default is _MISSING)
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self.error(key, rule or f"must match {pattern!r}, got {value!r}")
        return value

    def optional_str(self, key: str, *, pattern: str | None = None, rule: str = "") -> str | None:
        """A string that may be absent or null (returns None then)."""
        self._describe(key, {"type": ["string", "null"], **({"pattern": f"^(?:{pattern})$"} if pattern else {}),
                             **({"description": rule} if rule else {})}, required=False)
        if self._data.get(key) is None:
            self._seen.add(key)
            return None
        return self.str(key, pattern=pattern, rule=rule, default=None)

    def int(self, key: str, *, minimum: int | None = None, maximum: int | None = None, default: Any = _MISSING) -> int:
        self._describe(key, {"type": "integer", **_bounds(minimum, maximum), **_default(default)}, required=default is _MISSING)
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            low = "-inf" if minimum is None else minimum
            high = "inf" if maximum is None else maximum
            raise self.error(key, f"must be between {low} and {high}, got {value}")
        return value

    def number(self, key: str, *, minimum: float | None = None, maximum: float | None = None, default: Any = _MISSING) -> float:
        self._describe(key, {"type": "number", **_bounds(minimum, maximum), **_default(default)}, required=default is _MISSING)
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {value!r}")
        if not math.isfinite(value):
            raise self.error(key, f"must be a finite number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {value}")
        return float(value)

    def bool(self, key: str, *, default: Any = _MISSING) -> bool:
        self._describe(key, {"type": "boolean", **_default(default)}, required=default is _MISSING)
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def choice(self, key: str, enum: type[E], *, default: Any = _MISSING) -> E:
        self._describe(key, {"enum": [m.value for m in enum], **_default(default)}, required=default is _MISSING)
        value = self._get(key, default)
        if isinstance(value, enum):
            return value
        allowed = [m.value for m in enum]
        if value not in allowed:
            raise self.error(key, f"must be one of {allowed}, got {value!r}")
        return enum(value)

    def str_list(self, key: str, *, pattern: str | None = None, rule: str = "", min_items: int = 0, default: Any = _MISSING) -> tuple[str, ...]:
        self._describe(key, {"type": "array", "items": {"type": "string", **({"pattern": f"^(?:{pattern})$"} if pattern else {}),
                                                        **({"description": rule} if rule else {})},
                             "minItems": min_items, "uniqueItems": True, **_default(default)}, required=default is _MISSING)
        value = self._get(key, default)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.error(key, "must be a list of strings")
        if len(value) < min_items:
            raise self.error(key, f"must have at least {min_items} item(s)")
        for index, item in enumerate(value):
            if pattern is not None and not re.fullmatch(pattern, item):
                raise ConfigError(self.path, f"{self.field_name(key)}[{index}]", rule or f"must match {pattern!r}, got {item!r}")
        if len(set(value)) != len(value):
            raise self.error(key, "must not contain duplicates")
        return tuple(value)

    def section(self, key: str, *, default: Any = _MISSING) -> "Reader":
        self._describe(key, {"type": "object"}, required=default is _MISSING)
        value = self._get(key, {} if default is not _MISSING else default)
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a mapping")
        return Reader(self.path, value, prefix=f"{self.field_name(key)}.", schema=self._child(key))

    def _child(self, key: str) -> dict | None:
        return None if self._schema is None else self._schema["properties"][key]

    def sections(self, key: str) -> dict[str, "Reader"]:
        """A mapping of name -> sub-mapping (for example ``services: {api: {...}}``)."""
        self._describe(key, {"type": "object", "minProperties": 1}, required=True)
        value = self._get(key, _MISSING)
        if not isinstance(value, Mapping) or not value:
            raise self.error(key, "must be a non-empty mapping of name: settings")
        node = self._child(key)
        result = {}
        for name, sub in value.items():
            if not isinstance(sub, Mapping):
                raise ConfigError(self.path, f"{self.field_name(key)}.{name}", "must be a mapping")
            # Each name's settings share one schema (additionalProperties): the
            # loader decides which names are allowed.
            child = None if node is None else node.setdefault("additionalProperties", {"type": "object"})
            result[str(name)] = Reader(self.path, sub, prefix=f"{self.field_name(key)}.{name}.", schema=child)
        return result

    def finish(self) -> None:
        """Reject keys that no accessor asked for (typos, stale settings)."""
        unknown = sorted(set(map(str, self._data)) - self._seen)
        if unknown:
            intended = self._suggest(unknown[0], self._seen)
            hint = f"did you mean {intended!r}? " if intended else ""
            raise self.error(unknown[0], f"is not a known setting; {hint}(known: {sorted(self._seen)})")


def _default(default: Any) -> dict:
    if default is _MISSING or default is None:
        return {}
    return {"default": default.value if isinstance(default, Enum) else default}


def _bounds(minimum: float | None, maximum: float | None) -> dict:
    return {**({"minimum": minimum} if minimum is not None else {}), **({"maximum": maximum} if maximum is not None else {})}
