"""The one error type for bad configuration."""

from __future__ import annotations

from pathlib import Path


class ConfigError(ValueError):
    """A configuration value broke a rule.

    The message always has the shape ``<file>: <field>: <rule>`` so that a
    reviewer can jump straight to the line that needs changing.
    """

    def __init__(self, file: str | Path, field: str, rule: str) -> None:
        # Always one line: a key or value that holds a line break or control
        # character (or is empty) is shown quoted, never printed raw.
        field = str(field)
        if not field.strip() or not field.isprintable() or field != field.strip():
            field = repr(field)
        rule = str(rule)
        if not rule.isprintable():
            rule = "".join(c if c.isprintable() else repr(c)[1:-1] for c in rule)
        self.file = str(file)
        self.field = field
        self.rule = rule
        super().__init__(f"{self.file}: {field}: {rule}")
