"""Strict reading of one configuration file into its top-level mapping.

The front end every loader shares, before any model sees a value: a key
given twice (YAML would silently keep the last one), a byte that is not
UTF-8, a YAML syntax error, a file over the size cap or a symlink loop each
stop with one line ``<file>[:<line>]: <field>: <rule>``. A byte order mark is
not content. Validation against the file's model is
:func:`envconfig.validation.validate`.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any, Mapping

import yaml

from envconfig.errors import ConfigError


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
        # A directory, FIFO or device: reading a FIFO would block, a device may never end.
        raise ConfigError(path, "<file>", "is not a regular file")
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
