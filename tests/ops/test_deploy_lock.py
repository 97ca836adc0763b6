"""The deploy lock against SSM (moto, in process): one holder, named; expiry; release."""
from __future__ import annotations

import json
import threading

import boto3
import pytest
from moto import mock_aws

from opscli.deploy_lock import DeployLock, LockHeld

NAME = "/mirror-dissonance/staging/deploy-lock"


@pytest.fixture
def ssm(monkeypatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    with mock_aws():
        yield boto3.client("ssm", region_name="us-east-1")


class Wall:
    def __init__(self, at=1_800_000_000.0):
        self.at = at

    def __call__(self):
        return self.at


def lock(ssm, wall, by="arn:aws:sts::123456789012:assumed-role/deployer/alice", **kw):
    return DeployLock(ssm, NAME, by=by, command="deploy", approval_id="ab" * 32, wall=wall, renew_seconds=3600, **kw)


def test_a_second_deploy_is_refused_naming_the_holder_and_since_when(ssm):
    wall = Wall()
    first = lock(ssm, wall)
    first.acquire()
    wall.at += 42
    second = lock(ssm, wall, by="arn:aws:sts::123456789012:assumed-role/deployer/bob")
    with pytest.raises(LockHeld) as refused:
        second.acquire()
    message = str(refused.value)
    assert "another deployment holds /mirror-dissonance/staging/deploy-lock" in message
    assert "assumed-role/deployer/alice" in message and "deploy abababababab" in message
    assert "since 2027-01-15T08:00:00Z" in message and "expires 2027-01-15T08:05:00Z" in message  # 300 s after
    first.release()
    second.acquire()  # released: the next one takes it
    second.release()


def test_an_abandoned_lock_expires_after_five_minutes(ssm):
    wall = Wall()
    lock(ssm, wall).acquire()  # never released: the process was killed
    wall.at += 299
    with pytest.raises(LockHeld):
        lock(ssm, wall).acquire()
    wall.at += 2
    taker = lock(ssm, wall, by="arn:aws:sts::123456789012:assumed-role/deployer/bob")
    taker.acquire()
    assert json.loads(ssm.get_parameter(Name=NAME)["Parameter"]["Value"])["by"].endswith("/bob")
    taker.release()


def test_release_on_failure_through_the_context_manager(ssm):
    wall = Wall()
    with pytest.raises(RuntimeError):
        with lock(ssm, wall):
            raise RuntimeError("cdk deploy failed")
    assert json.loads(ssm.get_parameter(Name=NAME)["Parameter"]["Value"])["released"] is True
    lock(ssm, wall).acquire()


def test_two_claims_of_one_free_lock_at_once_one_wins(ssm):
    """Both read version L; both write; only the write numbered L + 1 owns the lock."""
    wall = Wall()
    a, b = lock(ssm, wall), lock(ssm, wall, by="arn:aws:sts::123456789012:assumed-role/deployer/bob")
    barrier = threading.Barrier(2)
    original = DeployLock._read

    def read_together(self):
        result = original(self)
        if self.version is None and not getattr(self, "_raced", False):
            self._raced = True
            barrier.wait(timeout=10)  # both have read the same version before either writes
        return result

    DeployLock._read = read_together
    outcomes = {}
    try:
        def run(name, lk):
            try:
                lk.acquire()
                outcomes[name] = "owner"
            except LockHeld as exc:
                outcomes[name] = str(exc)
        threads = [threading.Thread(target=run, args=(n, lk)) for n, lk in (("a", a), ("b", b))]
        [t.start() for t in threads]
        [t.join(timeout=30) for t in threads]
    finally:
        DeployLock._read = original
    assert sorted(v == "owner" for v in outcomes.values()) == [False, True], outcomes
    loser = next(v for v in outcomes.values() if v != "owner")
    assert "took /mirror-dissonance/staging/deploy-lock at the same moment" in loser


def test_renewal_keeps_a_long_deploy_locked(ssm):
    wall = Wall()
    holder = lock(ssm, wall)
    holder.renew_seconds = 0.05
    holder.acquire()
    for _ in range(3):  # ten minutes of deploy, renewed as it runs
        wall.at += 200
        threading.Event().wait(0.3)
        with pytest.raises(LockHeld):
            lock(ssm, wall).acquire()
    holder.release()
    assert holder.lost is None
