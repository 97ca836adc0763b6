"""Writing an edited copy of a repository configuration file, for the configuration-error tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import yaml

class _Delete:
    """``set_field(path, DELETE)`` removes the field. A stable repr: test ids built
    from it must be the same in every process (parallel workers compare them)."""

    def __repr__(self) -> str:
        return "DELETE"


DELETE = _Delete()


def write_edited(source: Path, target: Path, mutate: Callable[[dict], Any]) -> Path:
    """Copy ``source`` to ``target`` after ``mutate`` edited its parsed YAML."""
    data = yaml.safe_load(source.read_text())
    mutate(data)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(yaml.safe_dump(data))
    return target


def set_field(dotted: str, value) -> Callable[[dict], None]:
    """An edit that sets (or, with ``DELETE``, removes) the field at a dotted path."""
    def mutate(data: dict) -> None:
        *parents, last = dotted.split(".")
        node = data
        for part in parents:
            node = node[part]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return mutate
