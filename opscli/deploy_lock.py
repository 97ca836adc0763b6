"""One deployment at a time per environment (docs/requirements.md#deploy-lock).

The lock is the SSM String parameter ``<parameter_prefix>deploy-lock``
(``AwsConfig.deploy_lock_parameter``), held in the environment's account,
so two operators, two CI runs or an operator and a CI run exclude each other
wherever they run. Its value is JSON::

    {"owner": "<host>:<pid>:<random>", "by": "<caller ARN>", "command": "deploy",
     "approval_id": "<id>", "since": <epoch s>, "expires": <epoch s>}

Taking it is the same compare-and-set as the nonce rotation lock
(``opscli/nonce.py``): read the parameter (version ``L``); if it is free,
released or expired, write our claim and own the lock only if SSM numbered
that write ``L + 1`` (SSM numbers the versions of one parameter one at a time,
so exactly one of several concurrent claims gets ``L + 1``). A held lock is
refused at once, naming who holds it, for what, since when and until when.

It expires TTL_SECONDS after its last renewal: a killed deploy (``kill -9``,
a lost runner) frees it by itself. While a deploy runs, a background thread
renews it every RENEW_SECONDS, by the same compare-and-set (a renewal whose
write is not numbered ``ours + 1`` means someone else wrote the parameter:
the deploy is told and fails after ``cdk deploy`` returns). It is released on
success and on failure.
"""
from __future__ import annotations

import json
import os
import socket
import threading
import time
import uuid
from typing import Callable

from botocore.exceptions import ClientError

from .clock import iso
from .errors import OpsError

TTL_SECONDS = 300.0
RENEW_SECONDS = 60.0


class LockHeld(OpsError):
    """Another deployment holds the lock."""


class DeployLock:
    def __init__(self, ssm, name: str, *, by: str, command: str, approval_id: str,
                 wall: Callable[[], float] = time.time, renew_seconds: float = RENEW_SECONDS,
                 ttl_seconds: float = TTL_SECONDS) -> None:
        self.ssm, self.name, self.wall = ssm, name, wall
        self.by, self.command, self.approval_id = by, command, approval_id
        self.renew_seconds, self.ttl_seconds = renew_seconds, ttl_seconds
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.version: int | None = None
        self.since = 0.0
        self.lost: str | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._mutex = threading.Lock()

    # -- SSM ------------------------------------------------------------------
    def _read(self) -> tuple[dict, int]:
        try:
            parameter = self.ssm.get_parameter(Name=self.name)["Parameter"]
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ParameterNotFound":
                return {}, 0
            raise OpsError(f"cannot read the deploy lock {self.name}: {exc.response['Error']['Message']}") from None
        try:
            claim = json.loads(parameter["Value"])
            if not isinstance(claim, dict):
                raise ValueError
        except ValueError:
            claim = {}  # unreadable: treated as free; only a compare-and-set write owns it
        return claim, int(parameter["Version"])

    def _write(self, claim: dict) -> int:
        try:
            return int(self.ssm.put_parameter(
                Name=self.name, Type="String", Overwrite=True, Value=json.dumps(claim, sort_keys=True),
                Description="Lock of bin/ops deploy / rollback (expires by itself)")["Version"])
        except ClientError as exc:
            # SSM answers TooManyUpdates to concurrent writes of one parameter: another claim won.
            if exc.response["Error"]["Code"] == "TooManyUpdates":
                return -1
            raise OpsError(f"cannot write the deploy lock {self.name}: {exc.response['Error']['Message']}") from None

    def _claim(self, *, released: bool = False) -> dict:
        claim = {"owner": self.owner, "by": self.by, "command": self.command, "approval_id": self.approval_id,
                 "since": self.since, "expires": self.wall() + self.ttl_seconds}
        if released:
            claim["released"] = True
        return claim

    @staticmethod
    def describe(claim: dict) -> str:
        since = claim.get("since")
        expires = claim.get("expires")
        return (f"{claim.get('by', '?')} ({claim.get('owner', '?')}), {claim.get('command', '?')} "
                f"{str(claim.get('approval_id', '?'))[:12]}…, since "
                f"{iso(since) if isinstance(since, (int, float)) else '?'}, "
                f"expires {iso(expires) if isinstance(expires, (int, float)) else '?'}")

    # -- protocol ---------------------------------------------------------------
    def acquire(self) -> None:
        claim, version = self._read()
        expires = claim.get("expires")
        held = isinstance(expires, (int, float)) and not claim.get("released") and self.wall() < expires
        if held:
            raise LockHeld(f"another deployment holds {self.name}: {self.describe(claim)}; nothing was changed; "
                           "run again after it finished (an abandoned lock expires by itself)")
        self.since = self.wall()
        mine = self._claim()
        written = self._write(mine)
        if written != version + 1:
            # Another claim was numbered first: it owns the lock, whatever the parameter says now.
            other, _ = self._read()
            holder = self.describe(other) if other.get("owner") != self.owner else "a concurrent deployment"
            raise LockHeld(f"another deployment took {self.name} at the same moment: {holder}; nothing was changed; run again")
        self.version = written
        self._thread = threading.Thread(target=self._renew_loop, name="deploy-lock-renewal", daemon=True)
        self._thread.start()

    def _renew_loop(self) -> None:
        while not self._stop.wait(self.renew_seconds):
            with self._mutex:
                if self.version is None:
                    return
                _, version = self._read()
                if version != self.version:
                    self.lost = f"{self.name} was written by someone else while this deployment held it (version {version})"
                    return
                written = self._write(self._claim())
                if written != version + 1:
                    self.lost = f"{self.name} was written by someone else while this deployment renewed it"
                    return
                self.version = written

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        with self._mutex:
            if self.version is None:
                return
            _, version = self._read()
            if version == self.version and self.lost is None:  # still ours: mark it released
                self._write(self._claim(released=True))
            self.version = None

    def __enter__(self) -> "DeployLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
