"""Nonce acceptance with rotation grace periods: the one rule, shared by the
Oracle and ``bin/ops check-nonce`` (which loads this file by path).

State in SSM (names from the environment contract / config):
  * ``<prefix>nonce``           SecureString; the current value is its latest version,
                                earlier values stay readable as ``<name>:<version>``.
  * ``<prefix>nonce-rotation``  String, JSON ``{"accepted": [{"version": N, "until": <epoch s>}, ...]}``:
                                every earlier version a rotation promised to keep accepting,
                                with the instant it printed. Written *before* a new version
                                is put, so at every instant each promised value is accepted.
A presented nonce is accepted if it equals the current value, or a listed
version's value while ``now < until``.

The format written before (``{"previous_version": N, "grace_until": T}``) is
still read, as a list of one.
"""

from __future__ import annotations

import hmac
import json
import math
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable


@dataclass(frozen=True)
class Decision:
    accepted: bool
    reason: str


@dataclass(frozen=True)
class Grace:
    """One promise: ``version`` stays accepted while ``now < until``."""

    version: int
    until: float


class RotationStateError(ValueError):
    """The ``nonce-rotation`` parameter holds something this rule cannot read."""

    def __init__(self, parameter: str, reason: str) -> None:
        self.parameter = parameter
        super().__init__(f"{parameter}: {reason} (expected JSON {{\"accepted\": [{{\"version\": N, \"until\": <epoch seconds>}}]}})")


def parse_rotation(raw: str, parameter: str) -> tuple[Grace, ...]:
    """The promises in the rotation parameter's value; RotationStateError names the parameter."""
    try:
        state = json.loads(raw)
    except ValueError as exc:
        raise RotationStateError(parameter, f"is not JSON ({exc.msg} at character {exc.pos})") from None
    if not isinstance(state, dict):
        raise RotationStateError(parameter, f"must be a JSON object, got {type(state).__name__}")
    if "accepted" in state:
        entries = state["accepted"]
    elif "previous_version" in state:  # the format before the list
        entries = [{"version": state.get("previous_version"), "until": state.get("grace_until")}]
    else:
        raise RotationStateError(parameter, "has no 'accepted' list")
    if not isinstance(entries, list):
        raise RotationStateError(parameter, "'accepted' must be a list")
    result = []
    for entry in entries:
        version = entry.get("version") if isinstance(entry, dict) else None
        until = entry.get("until") if isinstance(entry, dict) else None
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise RotationStateError(parameter, f"version must be a whole number >= 1, got {version!r}")
        if isinstance(until, bool) or not isinstance(until, (int, float)) or not math.isfinite(until):
            raise RotationStateError(parameter, f"until must be epoch seconds, got {until!r}")
        result.append(Grace(version, float(until)))
    return tuple(result)


def dump_rotation(accepted: tuple[Grace, ...]) -> str:
    return json.dumps({"accepted": [{"version": g.version, "until": g.until} for g in accepted]})


@dataclass(frozen=True)
class NonceState:
    """What one read of SSM says: the current value and every promised earlier one."""

    current_version: int
    current_value: str
    previous: tuple[tuple[Grace, str | None], ...]  # value None: that version is gone from SSM's history
    rotation_error: RotationStateError | None = None

    def decide(self, presented: str, now: float) -> Decision:
        if not isinstance(presented, str):
            return Decision(False, f"a nonce is a string, got {type(presented).__name__}")
        given = presented.encode()
        if hmac.compare_digest(self.current_value.encode(), given):
            return Decision(True, f"current nonce (version {self.current_version})")
        for grace, value in self.previous:
            if value is not None and hmac.compare_digest(value.encode(), given):
                if now < grace.until:
                    return Decision(True, f"previous nonce (version {grace.version}) within its grace period until {iso(grace.until)}")
                return Decision(False, f"previous nonce (version {grace.version}) expired at {iso(grace.until)}")
        return Decision(False, "matches neither the current nor a previous nonce in its grace period")

    @property
    def ssm_calls(self) -> int:
        """GetParameter calls this read took (the nonce, the rotation state, each promised version)."""
        return 2 + len(self.previous)


def iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _not_found(ssm, exc: Exception) -> bool:
    return isinstance(exc, ssm.exceptions.ParameterNotFound) or isinstance(exc, ssm.exceptions.ParameterVersionNotFound)


def read_rotation(ssm, rotation_parameter: str) -> tuple[tuple[Grace, ...], int | None]:
    """The promises and the parameter's version (None when it does not exist)."""
    try:
        parameter = ssm.get_parameter(Name=rotation_parameter)["Parameter"]
    except ssm.exceptions.ParameterNotFound:
        return (), None
    return parse_rotation(parameter["Value"], rotation_parameter), int(parameter["Version"])


def load_state(ssm, *, nonce_parameter: str, rotation_parameter: str) -> NonceState:
    """Read the current value and every promised earlier value.

    Raises botocore's ClientError (ParameterNotFound) when the nonce does not
    exist. A rotation parameter that cannot be read is kept as
    ``rotation_error`` (the current value still decides; earlier ones are
    rejected): the Oracle keeps serving, ``check-nonce`` reports it.
    """
    current = ssm.get_parameter(Name=nonce_parameter, WithDecryption=True)["Parameter"]
    current_version = int(current["Version"])
    try:
        accepted, _ = read_rotation(ssm, rotation_parameter)
        error = None
    except RotationStateError as exc:
        accepted, error = (), exc
    previous = []
    for grace in accepted:
        if grace.version >= current_version:
            continue  # a rotation killed before its switch: the current value decides
        try:
            value = ssm.get_parameter(Name=f"{nonce_parameter}:{grace.version}", WithDecryption=True)["Parameter"]["Value"]
        except Exception as exc:  # noqa: BLE001 - only "that version is gone" is tolerated
            if not _not_found(ssm, exc):
                raise
            value = None
        previous.append((grace, value))
    return NonceState(current_version, current["Value"], tuple(previous), error)


def check_nonce(ssm, *, nonce_parameter: str, rotation_parameter: str, presented: str,
                clock: Callable[[], float] = time.time) -> Decision:
    """One uncached decision (``bin/ops check-nonce``)."""
    state = load_state(ssm, nonce_parameter=nonce_parameter, rotation_parameter=rotation_parameter)
    return state.decide(presented, clock())
