"""Nonce rotation with grace periods that keep their promises (docs/requirements.md#operator-input).

Parameters (the Secrets stack grants the Oracle reads on the first two, and
the operators' write policy all three):

* ``/<prefix>/<env>/nonce``: SecureString, encrypted with the secrets key.
  Every rotation overwrites it, so SSM keeps each value as a numbered version
  (``<name>:<N>``); a value is never copied anywhere.
* ``/<prefix>/<env>/nonce-rotation``: String, ``{"accepted": [{"version": N,
  "until": <epoch s>}, ...]}``, every earlier version a rotation printed as
  accepted, until the instant it printed (no secret in it).
* ``/<prefix>/<env>/nonce-rotation-lock``: String, ``{"owner": ..., "expires":
  <epoch s>}``: one rotation at a time.

A rotation:

1. takes the lock: reads the lock parameter (version ``L``); if it is free or
   expired, writes its own claim and owns the lock only if SSM numbered that
   write ``L + 1`` (SSM numbers the versions of a parameter one at a time, so
   exactly one of several concurrent claims gets ``L + 1``). A held lock is
   waited for (``--lock-wait``), then refused with its owner and expiry. The
   lock expires after LOCK_TTL_SECONDS, so a killed rotation wedges nothing,
   and the holder writes only while the lock has at least LOCK_MARGIN_SECONDS
   left: it is never stolen from a rotation that is still writing;
2. reads the current version ``N`` and the promises, drops expired ones;
3. writes the promises plus ``{"version": N, "until": now + grace}``
   (before the switch);
4. overwrites the nonce with a fresh random value (version ``N + 1``);
5. releases the lock, then prints.

Killed anywhere, no printed promise is taken back: before 3 nothing changed;
between 3 and 4, ``N`` is still current (and listed); after 4, ``N`` is listed
until its time and every earlier promise is kept, because step 3 only ever
adds. The lock left behind by a kill expires by itself. A rotation never
drops a promise still running: with MAX_PENDING of them it refuses instead
(the Oracle reads each promised version when it refreshes).

A reader (the Oracle, and ``check-nonce``) accepts a presented value if it is
the current version, or a listed version while ``now < until``
(``lambda/oracle/nonce.py``, the one rule).
"""
from __future__ import annotations

import importlib.util
import json
import os
import secrets
import socket
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from botocore.exceptions import ClientError

from envconfig.aws import NONCE_GRACE_MAX_SECONDS

from . import faults
from .clock import Clock, iso
from .errors import CheckFailed, OpsError
from .session import Aws, secrets_key_alias

NONCE_BYTES = 32
LOCK_TTL_SECONDS = 120.0
# A holder writes only while its lock has this long left: a pause (swap, a
# stopped laptop) shorter than this cannot let a second rotation in.
LOCK_MARGIN_SECONDS = 60.0
LOCK_POLL_SECONDS = 0.5
DEFAULT_LOCK_WAIT_SECONDS = 30.0
# Earlier versions still promised; the Oracle reads each of them on a refresh.
MAX_PENDING = 8
# The write boundaries, in order (faults.point names).
BOUNDARIES = ("before-lock", "locked", "promises-written", "nonce-written", "released")


@dataclass(frozen=True)
class Rotation:
    version: int
    previous_version: int | None
    grace_until: float | None
    still_accepted: tuple = ()  # earlier promises that still run (oracle Grace)


def check_grace(grace_seconds: int) -> None:
    """Before any AWS call: the same bound as the configuration's ``nonce_grace_period_seconds``."""
    if isinstance(grace_seconds, bool) or not isinstance(grace_seconds, int):
        raise OpsError(f"--grace must be whole seconds, got {grace_seconds!r}")
    if not 0 <= grace_seconds <= NONCE_GRACE_MAX_SECONDS:
        raise OpsError(f"--grace must be between 0 and {NONCE_GRACE_MAX_SECONDS} seconds (7 days), got {grace_seconds}")


def _get(aws: Aws, name: str, *, decrypt: bool) -> dict | None:
    try:
        return aws.client("ssm").get_parameter(Name=name, WithDecryption=decrypt)["Parameter"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            return None
        raise OpsError(f"cannot read {name}: {exc.response['Error']['Message']}") from None


def _put(aws: Aws, **kwargs) -> int:
    try:
        return int(aws.client("ssm").put_parameter(**kwargs)["Version"])
    except ClientError as exc:
        raise OpsError(f"cannot write {kwargs['Name']}: {exc.response['Error']['Message']}") from None


def rotation_state(aws: Aws) -> tuple:
    """The promises in the rotation parameter (OpsError naming it when it is unreadable)."""
    try:
        accepted, _ = _ORACLE.read_rotation(aws.client("ssm"), aws.config.nonce_rotation_parameter)
    except _ORACLE.RotationStateError as exc:
        raise OpsError(f"{exc}; fix or delete it only after every promised grace period has passed") from None
    except ClientError as exc:
        raise OpsError(f"cannot read {aws.config.nonce_rotation_parameter}: {exc.response['Error']['Message']}") from None
    return accepted


class RotationLock:
    """The lock parameter, claimed by compare-and-set on SSM's version numbers."""

    def __init__(self, aws: Aws, *, wait_seconds: float, wall: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.aws, self.wait_seconds, self.wall, self.sleep = aws, wait_seconds, wall, sleep
        self.name = aws.config.nonce_lock_parameter
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.version: int | None = None
        self.expires = 0.0

    def _read(self) -> tuple[dict, int]:
        parameter = _get(self.aws, self.name, decrypt=False)
        if parameter is None:
            return {}, 0
        try:
            claim = json.loads(parameter["Value"])
            if not isinstance(claim, dict):
                raise ValueError
        except ValueError:
            claim = {}  # unreadable: treated as free; a claim is only a write ahead
        return claim, int(parameter["Version"])

    def acquire(self) -> None:
        deadline = self.wall() + self.wait_seconds
        while True:
            claim, version = self._read()
            expires = claim.get("expires")
            held = isinstance(expires, (int, float)) and not claim.get("released") and self.wall() < expires
            if not held:
                self.expires = self.wall() + LOCK_TTL_SECONDS
                try:
                    written = int(self.aws.client("ssm").put_parameter(
                        Name=self.name, Type="String", Overwrite=True,
                        Value=json.dumps({"owner": self.owner, "expires": self.expires}),
                        Description="Lock of bin/ops rotate-nonce (expires by itself)")["Version"])
                except ClientError as exc:
                    # SSM answers TooManyUpdates to concurrent writes of one parameter: another claim won.
                    if exc.response["Error"]["Code"] != "TooManyUpdates":
                        raise OpsError(f"cannot write {self.name}: {exc.response['Error']['Message']}") from None
                    written = -1
                if written == version + 1:
                    self.version = written
                    return
                # Another claim was numbered first: it owns the lock, whatever the
                # parameter says now (ours may have overwritten it). Wait for it.
                claim = {"owner": "a concurrent rotate-nonce", "expires": self.expires}
            if self.wall() >= deadline:
                raise OpsError(
                    f"another rotation holds {self.name} (owner {claim.get('owner', '?')}, expires {iso(claim['expires'])}); "
                    f"nothing was changed; run again after that time")
            self.sleep(LOCK_POLL_SECONDS)

    def check_held(self) -> None:
        """Before each write: refuse to write with a lock that could be taken over meanwhile."""
        if self.wall() > self.expires - LOCK_MARGIN_SECONDS:
            raise OpsError(f"the rotation lock {self.name} is about to expire before the rotation finished; "
                           f"run again (every promise printed before still holds)")

    def release(self) -> None:
        # Only while it is surely still ours; an expired claim frees itself.
        if self.version is not None and self.wall() <= self.expires - LOCK_MARGIN_SECONDS:
            _put(self.aws, Name=self.name, Type="String", Overwrite=True,
                 Value=json.dumps({"owner": self.owner, "expires": self.expires, "released": True}))
        self.version = None


def rotate(aws: Aws, grace_seconds: int, clock: Clock, *, create_only: bool = False,
           lock_wait_seconds: float = DEFAULT_LOCK_WAIT_SECONDS, wall: Callable[[], float] = time.time,
           sleep: Callable[[float], None] = time.sleep) -> Rotation | None:
    """Create or rotate; with ``create_only`` an existing nonce is left alone (returns None).

    ``clock`` decides the printed grace time; ``wall`` the lock's expiry
    (tests move them independently).
    """
    check_grace(grace_seconds)
    name = aws.config.nonce_parameter
    current = _get(aws, name, decrypt=False)
    if current is not None and create_only:
        return None
    if current is None:
        # First run: Overwrite=False makes a concurrent first run fail instead
        # of silently replacing a just-created nonce.
        try:
            version = int(aws.client("ssm").put_parameter(
                Name=name, Value=secrets.token_urlsafe(NONCE_BYTES), Type="SecureString",
                KeyId=secrets_key_alias(aws.config), Overwrite=False,
                Description="Oracle nonce; rotate with bin/ops rotate-nonce")["Version"])
            return Rotation(version, None, None)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ParameterAlreadyExists":
                raise OpsError(f"cannot write {name}: {exc.response['Error']['Message']}") from None
            if create_only:
                return None
            # created by a concurrent run: rotate it like any existing one
    accepted = rotation_state(aws)  # unreadable state: refuse before any write
    lock = RotationLock(aws, wait_seconds=lock_wait_seconds, wall=wall, sleep=sleep)
    faults.point("before-lock")
    lock.acquire()
    try:
        faults.point("locked")
        current = _get(aws, name, decrypt=False)
        previous = int(current["Version"])
        now = clock.now()
        accepted = tuple(g for g in rotation_state(aws) if g.until > now and g.version != previous)
        if len(accepted) >= MAX_PENDING:
            raise OpsError(
                f"{MAX_PENDING} earlier versions are still promised (the first until {iso(min(g.until for g in accepted))}); "
                f"rotating again would make the Oracle read too many; nothing was changed")
        grace_until = now + grace_seconds
        promises = accepted + ((_ORACLE.Grace(previous, grace_until),) if grace_seconds > 0 else ())
        lock.check_held()
        _put(aws, Name=aws.config.nonce_rotation_parameter, Type="String", Overwrite=True,
             Value=_ORACLE.dump_rotation(promises),
             Description="Nonce versions still accepted after a rotation, and until when (no secret)")
        faults.point("promises-written")
        lock.check_held()
        version = _put(aws, Name=name, Value=secrets.token_urlsafe(NONCE_BYTES), Type="SecureString",
                       KeyId=secrets_key_alias(aws.config), Overwrite=True)
        faults.point("nonce-written")
    finally:
        lock.release()
    faults.point("released")
    if version != previous + 1:
        # Someone wrote the nonce without rotate-nonce: versions between were
        # never promised by us, but the operator must know.
        raise OpsError(f"{name} went from version {previous} to {version}: something else writes it; "
                       f"version {version} is current, version {previous} stays accepted until {iso(grace_until)}")
    return Rotation(version, previous, grace_until, accepted)


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
        state = _ORACLE.load_state(aws.client("ssm"), nonce_parameter=name, rotation_parameter=aws.config.nonce_rotation_parameter)
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            raise CheckFailed(f"rejected: {name} does not exist yet (run bin/ops rotate-nonce)") from None
        raise OpsError(f"cannot read {name}: {exc.response['Error']['Message']}") from None
    decision = state.decide(presented, clock.now())
    if decision.accepted:
        return f"accepted: {decision.reason}"
    if state.rotation_error is not None:
        raise OpsError(f"{state.rotation_error}; earlier versions cannot be judged")
    raise CheckFailed(f"rejected: {decision.reason}")
