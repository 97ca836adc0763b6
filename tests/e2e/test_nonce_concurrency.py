"""rotate-nonce against the local AWS target as operators run it: several
processes at once, and a process killed (SIGKILL) at every write boundary.
No printed promise is ever broken: each version printed as current or as
"stays accepted until T" is accepted until T."""
from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time

import boto3
import pytest

from envconfig.aws import load
from opscli import nonce
from opscli.clock import FixedClock, parse_instant
from opscli.errors import CheckFailed
from opscli.faults import ENV as FAULT_ENV
from opscli.session import Aws
from tests.e2e.local_target import REPO, free_port, target_env

pytestmark = pytest.mark.e2e

CONFIG = load("staging")
GRACE = 600
CONCURRENT = 4
PROMISE = re.compile(r"version (\d+) is current; version (\d+) stays accepted until (\S+)")


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    state = tmp_path_factory.mktemp("nonce-target")
    port = free_port()
    env = target_env(port, state, CONFIG.region)
    started = subprocess.run([sys.executable, "-m", "localaws", "start", "--port", str(port)], cwd=REPO, env=env,
                             capture_output=True, text=True, timeout=120)
    assert started.returncode == 0, started.stderr
    try:
        session = boto3.Session(aws_access_key_id="test", aws_secret_access_key="test", region_name=CONFIG.region)
        kms = session.client("kms", endpoint_url=env["AWS_ENDPOINT_URL"])
        kms.create_alias(AliasName=f"alias/{CONFIG.resource_prefix}-secrets", TargetKeyId=kms.create_key()["KeyMetadata"]["KeyId"])
        yield env
    finally:
        subprocess.run([sys.executable, "-m", "localaws", "stop"], cwd=REPO, env=env, capture_output=True, timeout=60)


@pytest.fixture
def aws(target, monkeypatch):
    for name in ("AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.setenv(name, target[name])
    return Aws(CONFIG, boto3.Session())


def rotate(env, **extra) -> subprocess.Popen:
    return subprocess.Popen([str(REPO / "bin" / "ops"), "rotate-nonce", "--env", "staging", "--grace", str(GRACE)],
                            cwd=REPO, env={**env, **extra}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def accepted(aws, version: int, at: float) -> bool:
    ssm = aws.client("ssm")
    value = ssm.get_parameter(Name=f"{CONFIG.nonce_parameter}:{version}", WithDecryption=True)["Parameter"]["Value"]
    try:
        nonce.check(aws, value, FixedClock(at))
        return True
    except CheckFailed:
        return False


def assert_promises_hold(aws, promises):
    now = time.time()
    for current, previous, until in promises:
        assert accepted(aws, current, now), f"version {current} was printed as current and is rejected"
        assert accepted(aws, previous, until - 1), f"version {previous} was promised until {until} and is rejected before"


def test_concurrent_rotations_and_a_kill_at_every_write_boundary(target, aws):
    first = subprocess.run([str(REPO / "bin" / "ops"), "rotate-nonce", "--env", "staging", "--create-only"],
                           cwd=REPO, env=target, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    start = aws.client("ssm").get_parameter(Name=CONFIG.nonce_parameter)["Parameter"]["Version"]

    runs = [rotate(target) for _ in range(CONCURRENT)]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [0] * CONCURRENT, [err for _, err in outputs]
    promises = []
    for out, _ in outputs:
        match = PROMISE.search(out)
        assert match, out
        promises.append((int(match[1]), int(match[2]), parse_instant(match[3])))
    # serialized: no version lost, each run rotated from the one before
    assert sorted(p[0] for p in promises) == list(range(start + 1, start + CONCURRENT + 1))
    assert sorted(p[1] for p in promises) == list(range(start, start + CONCURRENT))
    assert_promises_hold(aws, promises)

    ssm = aws.client("ssm")
    for boundary in nonce.BOUNDARIES:
        killed = rotate(target, **{FAULT_ENV: boundary})
        out, _ = killed.communicate(timeout=120)
        assert killed.returncode == -signal.SIGKILL and out == ""  # killed before printing anything
        assert_promises_hold(aws, promises)
        lock = json.loads(ssm.get_parameter(Name=CONFIG.nonce_lock_parameter)["Parameter"]["Value"])
        if boundary in ("locked", "promises-written", "nonce-written"):
            # The kill left its claim: a second run refuses clearly rather than wait 2 minutes ...
            refused = subprocess.run([str(REPO / "bin" / "ops"), "rotate-nonce", "--env", "staging", "--lock-wait", "0"],
                                     cwd=REPO, env=target, capture_output=True, text=True, timeout=120)
            assert refused.returncode == 2 and "another rotation holds" in refused.stderr
            assert "released" not in lock
            # ... and the claim expires by itself (tests/ops/test_nonce.py moves the lock's clock);
            # here the expiry is written directly instead of waiting for it.
            ssm.put_parameter(Name=CONFIG.nonce_lock_parameter, Type="String", Overwrite=True,
                              Value=json.dumps({**lock, "expires": time.time() - 1}))
    after = rotate(target)  # and rotation goes on as before
    out, err = after.communicate(timeout=120)
    assert after.returncode == 0, err
    match = PROMISE.search(out)
    promises.append((int(match[1]), int(match[2]), parse_instant(match[3])))
    assert_promises_hold(aws, promises)
