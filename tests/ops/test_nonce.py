"""Nonce rotation: acceptance before and after the grace period, and no
window without a valid nonce when the rotation is killed half-way."""
from __future__ import annotations

import io
import json

import pytest

from opscli import aws_ops, nonce
from opscli.clock import FixedClock
from opscli.errors import CheckFailed, OpsError

T0 = 1_800_000_000.0


def value(aws, version=None):
    name = aws.config.nonce_parameter + (f":{version}" if version else "")
    return aws.client("ssm").get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"]


def test_first_run_creates_a_securestring_with_the_secrets_key(aws):
    rotation = nonce.rotate(aws, 3600, FixedClock(T0))
    assert (rotation.version, rotation.previous_version) == (1, None)
    meta = aws.client("ssm").describe_parameters()["Parameters"][0]
    assert (meta["Name"], meta["Type"], meta["KeyId"]) == (
        aws.config.nonce_parameter, "SecureString", f"alias/{aws.config.resource_prefix}-secrets")
    assert "accepted: current" in nonce.check(aws, value(aws), FixedClock(T0))


def test_previous_accepted_within_grace_and_rejected_after(aws):
    nonce.rotate(aws, 600, FixedClock(T0))
    first = value(aws)
    rotation = nonce.rotate(aws, 600, FixedClock(T0))
    assert (rotation.version, rotation.previous_version, rotation.grace_until) == (2, 1, T0 + 600)
    second = value(aws)
    assert first != second
    assert "accepted: current nonce (version 2)" == nonce.check(aws, second, FixedClock(T0 + 10_000))
    assert "accepted: previous nonce (version 1)" in nonce.check(aws, first, FixedClock(T0 + 599))
    with pytest.raises(CheckFailed, match="previous nonce \\(version 1\\) expired at"):
        nonce.check(aws, first, FixedClock(T0 + 600))
    # A second rotation: version 2 becomes the previous one, version 1 is gone.
    nonce.rotate(aws, 600, FixedClock(T0 + 1000))
    assert "previous nonce (version 2)" in nonce.check(aws, second, FixedClock(T0 + 1001))
    with pytest.raises(CheckFailed, match="matches neither"):
        nonce.check(aws, first, FixedClock(T0 + 1001))


def test_killed_between_the_companion_write_and_the_switch(aws, monkeypatch):
    nonce.rotate(aws, 600, FixedClock(T0))
    current = value(aws)
    ssm = aws.client("ssm")
    real_put = ssm.put_parameter

    def put(**kwargs):
        if kwargs["Name"] == aws.config.nonce_parameter:
            raise KeyboardInterrupt("killed")  # the process dies before the switch
        return real_put(**kwargs)

    monkeypatch.setattr(ssm, "put_parameter", put)
    with pytest.raises(KeyboardInterrupt):
        nonce.rotate(aws, 600, FixedClock(T0))
    monkeypatch.setattr(ssm, "put_parameter", real_put)
    state = json.loads(ssm.get_parameter(Name=aws.config.nonce_rotation_parameter)["Parameter"]["Value"])
    assert state["previous_version"] == 1
    # The current value is still valid, also long after the recorded grace.
    assert "accepted: current" in nonce.check(aws, current, FixedClock(T0 + 10_000))
    # Running it again completes a normal rotation.
    assert nonce.rotate(aws, 600, FixedClock(T0)).version == 2
    assert "previous nonce (version 1)" in nonce.check(aws, current, FixedClock(T0 + 1))


def test_killed_before_the_companion_write_leaves_the_old_state_valid(aws, monkeypatch):
    nonce.rotate(aws, 600, FixedClock(T0))
    nonce.rotate(aws, 600, FixedClock(T0))
    previous, current = value(aws, 1), value(aws)
    ssm = aws.client("ssm")
    monkeypatch.setattr(ssm, "put_parameter", lambda **kw: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        nonce.rotate(aws, 600, FixedClock(T0 + 100))
    assert "current" in nonce.check(aws, current, FixedClock(T0 + 100))
    assert "previous" in nonce.check(aws, previous, FixedClock(T0 + 100))


def test_check_before_any_nonce_exists(aws):
    with pytest.raises(CheckFailed, match="does not exist yet \\(run bin/ops rotate-nonce\\)"):
        nonce.check(aws, "x", FixedClock(T0))


def test_negative_grace_is_refused(aws):
    with pytest.raises(OpsError, match="--grace must be zero or more seconds"):
        nonce.rotate(aws, -1, FixedClock(T0))


def test_cli_never_prints_the_nonce(aws, capsys):
    assert aws_ops.main(["rotate-nonce", "--env", "staging", "--grace", "60"], clock=FixedClock(T0)) == 0
    assert aws_ops.main(["rotate-nonce", "--env", "staging", "--grace", "60"], clock=FixedClock(T0)) == 0
    out = capsys.readouterr()
    assert "version 2 is current; version 1 stays accepted until 2027-01-15T08:01:00Z" in out.out
    for secret in (value(aws), value(aws, 1)):
        assert secret not in out.out + out.err
    code = aws_ops.main(["check-nonce", "--env", "staging", "--at", str(T0 + 61)],
                        clock=FixedClock(T0), stdin=io.StringIO(value(aws, 1) + "\n"))
    out = capsys.readouterr()
    assert code == 1 and "expired at" in out.err and value(aws, 1) not in out.out + out.err
    code = aws_ops.main(["check-nonce", "--env", "staging", "--at", "2027-01-15T08:00:30Z"],
                        clock=FixedClock(T0), stdin=io.StringIO(value(aws, 1)))
    assert code == 0 and "accepted: previous" in capsys.readouterr().out


def test_cli_check_nonce_errors(aws, capsys):
    assert aws_ops.main(["check-nonce", "--env", "staging"], stdin=io.StringIO("")) == 2
    assert capsys.readouterr().err.strip() == "ops check-nonce: no nonce on stdin"
    assert aws_ops.main(["check-nonce", "--env", "staging", "--at", "tomorrow"], stdin=io.StringIO("x")) == 2
    assert "not an epoch or ISO-8601 time: 'tomorrow'" in capsys.readouterr().err


def test_create_only_creates_once_and_then_leaves_it(aws, capsys):
    assert aws_ops.main(["rotate-nonce", "--env", "staging", "--create-only"], clock=FixedClock(T0)) == 0
    first = value(aws)
    assert aws_ops.main(["rotate-nonce", "--env", "staging", "--create-only"], clock=FixedClock(T0)) == 0
    assert value(aws) == first
    out = capsys.readouterr().out
    assert "created /mirror-dissonance/staging/nonce (version 1)" in out
    assert "/mirror-dissonance/staging/nonce exists; left unchanged (--create-only)" in out
