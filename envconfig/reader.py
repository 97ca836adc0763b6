"""Typed reading of one YAML mapping, with errors that name file and field.

A :class:`Reader` wraps one mapping of a configuration file. Each accessor
checks one field and records it as known; :meth:`Reader.finish` then rejects
any key nobody asked for, so a typo such as ``pitr_recovery_day`` is an error
instead of a silently ignored setting.
"""

from __future__ import annotations

import re
from enum import Enum
from pathlib import Path
from typing import Any, Mapping, TypeVar

import yaml

from envconfig.errors import ConfigError

E = TypeVar("E", bound=Enum)
_MISSING = object()


def load_yaml(path: Path) -> "Reader":
    """Read ``path`` and return a reader over its top-level mapping."""
    if not path.is_file():
        raise ConfigError(path, "<file>", "file does not exist")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(path, "<file>", f"is not valid YAML ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(data, Mapping):
        raise ConfigError(path, "<file>", "top level must be a mapping of field: value")
    return Reader(path, data)


class Reader:
    """Validating accessor over one mapping of a configuration file."""

    def __init__(self, path: Path, data: Mapping[str, Any], prefix: str = "") -> None:
        self.path = path
        self._data = data
        self._prefix = prefix
        self._seen: set[str] = set()

    def field_name(self, key: str) -> str:
        return f"{self._prefix}{key}"

    def error(self, key: str, rule: str) -> ConfigError:
        return ConfigError(self.path, self.field_name(key), rule)

    def _get(self, key: str, default: Any) -> Any:
        self._seen.add(key)
        if key in self._data and self._data[key] is not None:
            return self._data[key]
        if default is _MISSING:
            raise self.error(key, "is required")
        return default

    def str(self, key: str, *, pattern: str | None = None, rule: str = "", default: Any = _MISSING) -> str:
        value = self._get(key, default)
        if not isinstance(value, str):
            raise self.error(key, f"must be a string, got {type(value).__name__}")
        if pattern is not None and not re.fullmatch(pattern, value):
            raise self.error(key, rule or f"must match {pattern!r}, got {value!r}")
        return value

    def optional_str(self, key: str, *, pattern: str | None = None, rule: str = "") -> str | None:
        """A string that may be absent or null (returns None then)."""
        if self._data.get(key) is None:
            self._seen.add(key)
            return None
        return self.str(key, pattern=pattern, rule=rule)

    def int(self, key: str, *, minimum: int | None = None, maximum: int | None = None, default: Any = _MISSING) -> int:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(key, f"must be a whole number, got {value!r}")
        if minimum is not None and value < minimum or maximum is not None and value > maximum:
            low = "-inf" if minimum is None else minimum
            high = "inf" if maximum is None else maximum
            raise self.error(key, f"must be between {low} and {high}, got {value}")
        return value

    def number(self, key: str, *, minimum: float | None = None, maximum: float | None = None, default: Any = _MISSING) -> float:
        value = self._get(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, f"must be a number, got {value!r}")
        if minimum is not None and value < minimum:
            raise self.error(key, f"must be at least {minimum}, got {value}")
        if maximum is not None and value > maximum:
            raise self.error(key, f"must be at most {maximum}, got {value}")
        return float(value)

    def bool(self, key: str, *, default: Any = _MISSING) -> bool:
        value = self._get(key, default)
        if not isinstance(value, bool):
            raise self.error(key, f"must be true or false, got {value!r}")
        return value

    def choice(self, key: str, enum: type[E], *, default: Any = _MISSING) -> E:
        value = self._get(key, default)
        if isinstance(value, enum):
            return value
        allowed = [m.value for m in enum]
        if value not in allowed:
            raise self.error(key, f"must be one of {allowed}, got {value!r}")
        return enum(value)

    def str_list(self, key: str, *, pattern: str | None = None, rule: str = "", min_items: int = 0, default: Any = _MISSING) -> tuple[str, ...]:
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
        value = self._get(key, {} if default is not _MISSING else default)
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a mapping")
        return Reader(self.path, value, prefix=f"{self.field_name(key)}.")

    def sections(self, key: str) -> dict[str, "Reader"]:
        """A mapping of name -> sub-mapping (for example ``services: {api: {...}}``)."""
        value = self._get(key, _MISSING)
        if not isinstance(value, Mapping) or not value:
            raise self.error(key, "must be a non-empty mapping of name: settings")
        result = {}
        for name, sub in value.items():
            if not isinstance(sub, Mapping):
                raise ConfigError(self.path, f"{self.field_name(key)}.{name}", "must be a mapping")
            result[str(name)] = Reader(self.path, sub, prefix=f"{self.field_name(key)}.{name}.")
        return result

    def finish(self) -> None:
        """Reject keys that no accessor asked for (typos, stale settings)."""
        unknown = sorted(set(map(str, self._data)) - self._seen)
        if unknown:
            raise self.error(unknown[0], f"is not a known setting (known: {sorted(self._seen)})")
