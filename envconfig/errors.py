"""The one error type for bad configuration."""

from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """A configuration value broke a rule.

    The message always has the shape ``<file>: <field>: <rule>`` so that a
    reviewer can jump straight to the line that needs changing.
    """

    def __init__(self, file: str | Path, field: str, rule: str) -> None:
        self.file = str(file)
        self.field = field
        self.rule = rule
        super().__init__(f"{self.file}: {field}: {rule}")
