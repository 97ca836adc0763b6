"""KMS keys (docs/requirements.md#encryption): rotation on and the key
enabled, on every key, whatever the template says."""
from __future__ import annotations

from . import Finding, judge


def rotation(subject: str, enabled: bool | None) -> Finding:
    return judge("kms.rotation", f"{subject} rotation", enabled is True, "rotation enabled", enabled)


def state(subject: str, key_state: str | None) -> Finding:
    return judge("kms.state", f"{subject} state", key_state == "Enabled", "Enabled", key_state)
