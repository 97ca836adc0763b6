"""Nonce acceptance with a rotation grace period (shared by the Oracle and `bin/ops check-nonce`).

State in SSM (names from the environment contract / config):
  * ``<prefix>nonce``           SecureString; the current value is its latest version,
                                earlier values stay readable as ``<name>:<version>``.
  * ``<prefix>nonce-rotation``  String, JSON ``{"previous_version": N, "grace_until": <epoch s>}``;
                                written *before* a new version is put, so at every instant
                                either the current or the previous value is accepted.
A presented nonce is accepted if it equals the current value, or the
previous version's value while ``now < grace_until``.
"""

from __future__ import annotations

import hmac
import json
import time
from datetime import datetime, timezone
from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str


def rotation_state(ssm, rotation_parameter: str) -> dict | None:
    try:
        raw = ssm.get_parameter(Name=rotation_parameter)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        return None
    state = json.loads(raw)
    return {"previous_version": int(state["previous_version"]), "grace_until": float(state["grace_until"])}


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_nonce(ssm, *, nonce_parameter: str, rotation_parameter: str, presented: str, clock: Callable[[], float] = time.time) -> Decision:
    """The one acceptance rule, used by the Oracle and by ``bin/ops check-nonce``.

    Raises botocore's ClientError (ParameterNotFound) when the nonce does not exist.
    """
    current = ssm.get_parameter(Name=nonce_parameter, WithDecryption=True)["Parameter"]
    if hmac.compare_digest(current["Value"].encode(), presented.encode()):
        return Decision(True, f"current nonce (version {current['Version']})")
    state = rotation_state(ssm, rotation_parameter)
    if state is not None and state["previous_version"] != current["Version"]:
        previous = ssm.get_parameter(Name=f"{nonce_parameter}:{state['previous_version']}", WithDecryption=True)["Parameter"]
        if hmac.compare_digest(previous["Value"].encode(), presented.encode()):
            if clock() < state["grace_until"]:
                return Decision(True, f"previous nonce (version {state['previous_version']}) within its grace period until {_iso(state['grace_until'])}")
            return Decision(False, f"previous nonce (version {state['previous_version']}) expired at {_iso(state['grace_until'])}")
    return Decision(False, "matches neither the current nor the previous nonce")
