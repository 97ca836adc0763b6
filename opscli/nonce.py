"""Nonce rotation with a grace period (seed 001 ``rotate-nonce.sh``).

Design (the Secrets stack grants reads on both names):

* ``/<prefix>/<env>/nonce`` is a SecureString encrypted with the secrets key.
  Every rotation overwrites it, so SSM keeps each value as a numbered
  version (``<name>:<N>``); the previous value is never copied anywhere.
* ``/<prefix>/<env>/nonce-rotation`` is a plain String holding only
  ``{"previous_version": N, "grace_until": <epoch seconds>}``.

Rotation writes the companion **before** the switch:

1. read the current version ``N`` of the nonce;
2. write ``{"previous_version": N, "grace_until": now + grace}``;
3. overwrite the nonce with a fresh random value (version ``N + 1``).

Killed after 1 or 2, the nonce is still version ``N`` and valid as the
current value (the companion then names the current version, which is
harmless). Killed after 3, version ``N + 1`` is current and ``N`` is
accepted until the grace period ends. So at no instant is neither the
current nor the previous value valid. Running it again just rotates again.
Only one previous value is kept: rotating twice inside a grace period ends
the first grace period early, as the seed's script does.

A reader (the Oracle, and ``check-nonce``) accepts a presented value if it
equals the current version, or the version the companion names while
``now < grace_until``.
"""
from __future__ import annotations

import importlib.util
import json
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from .clock import Clock, iso
from .errors import CheckFailed, OpsError
from .session import Aws, secrets_key_alias

NONCE_BYTES = 32


@dataclass(frozen=True)
class Rotation:
    version: int
    previous_version: int | None
    grace_until: float | None


def _get(aws: Aws, name: str, *, decrypt: bool) -> dict | None:
    try:
        return aws.client("ssm").get_parameter(Name=name, WithDecryption=decrypt)["Parameter"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            return None
        raise OpsError(f"cannot read {name}: {exc.response['Error']['Message']}") from None


def rotation_state(aws: Aws) -> dict | None:
    parameter = _get(aws, aws.config.nonce_rotation_parameter, decrypt=False)
    return json.loads(parameter["Value"]) if parameter else None


def rotate(aws: Aws, grace_seconds: int, clock: Clock, *, create_only: bool = False) -> Rotation | None:
    """Create or rotate; with ``create_only`` an existing nonce is left alone (returns None)."""
    if grace_seconds < 0:
        raise OpsError("--grace must be zero or more seconds")
    ssm = aws.client("ssm")
    name = aws.config.nonce_parameter
    current = _get(aws, name, decrypt=False)
    if current is not None and create_only:
        return None
    try:
        if current is None:
            # First run: create it. Overwrite=False makes a concurrent first
            # run fail instead of silently replacing a just-created nonce.
            result = ssm.put_parameter(Name=name, Value=secrets.token_urlsafe(NONCE_BYTES), Type="SecureString",
                                       KeyId=secrets_key_alias(aws.config), Overwrite=False,
                                       Description="Oracle nonce; rotate with bin/ops rotate-nonce")
            return Rotation(result["Version"], None, None)
        previous = int(current["Version"])
        grace_until = clock.now() + grace_seconds
        ssm.put_parameter(Name=aws.config.nonce_rotation_parameter, Type="String", Overwrite=True,
                          Value=json.dumps({"previous_version": previous, "grace_until": grace_until}),
                          Description="Grace-period state of the nonce rotation (no secret)")
        result = ssm.put_parameter(Name=name, Value=secrets.token_urlsafe(NONCE_BYTES), Type="SecureString",
                                   KeyId=secrets_key_alias(aws.config), Overwrite=True)
    except ClientError as exc:
        raise OpsError(f"cannot write the nonce: {exc.response['Error']['Message']}") from None
    return Rotation(result["Version"], previous, grace_until)


def _oracle_rule():
    """The Oracle's own acceptance rule (lambda/oracle/nonce.py), so the two can never disagree.

    ``lambda`` is a Python keyword, so the module is loaded by path.
    """
    path = Path(__file__).resolve().parent.parent / "lambda" / "oracle" / "nonce.py"
    spec = importlib.util.spec_from_file_location("oracle_nonce", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    spec.loader.exec_module(module)
    return module


_ORACLE = _oracle_rule()


def check(aws: Aws, presented: str, clock: Clock) -> str:
    """Return why ``presented`` is accepted, or raise CheckFailed."""
    name = aws.config.nonce_parameter
    try:
        decision = _ORACLE.check_nonce(aws.client("ssm"), nonce_parameter=name, rotation_parameter=aws.config.nonce_rotation_parameter,
                                       presented=presented, clock=clock.now)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            raise CheckFailed(f"rejected: {name} does not exist yet (run bin/ops rotate-nonce)") from None
        raise OpsError(f"cannot read {name}: {exc.response['Error']['Message']}") from None
    if decision.accepted:
        return f"accepted: {decision.reason}"
    raise CheckFailed(f"rejected: {decision.reason}")
