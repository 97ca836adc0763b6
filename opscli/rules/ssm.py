"""Secret parameters (docs/requirements.md#encryption): the nonce and the
GitHub token are SecureStrings under the secrets key. A missing nonce is a
failure (the Oracle refuses everything); a missing token is a warning (only
a person can set it)."""
from __future__ import annotations

from ..live.ssm import Parameter
from . import Finding, Outcome, judge


def secure_parameter(name: str, live: Parameter | None, key_ids: set[str], *, required: bool, how: str) -> Finding:
    if live is None:
        return Finding("ssm.secure-parameter", name, Outcome.FAIL if required else Outcome.WARN,
                       "SecureString", "not set", f"create it with {how}")
    expected = f"SecureString with key {sorted(k for k in key_ids if k)[0] if any(key_ids) else '?'}"
    ok = live.type == "SecureString" and live.key_id in key_ids
    return judge("ssm.secure-parameter", name, ok, expected, f"{live.type} with key {live.key_id}")
