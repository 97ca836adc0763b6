"""Names both clouds' configurations share (docs/glossary.md)."""

from __future__ import annotations

from enum import Enum


class Environment(str, Enum):
    """The two environments every configuration file is written for."""

    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def stage_id(self) -> str:
        """The CDK Stage id: ``Staging`` / ``Production``."""
        return self.value.capitalize()
