"""Restore drill and operator input on the local target (a fresh bin/deploy-local):

* on empty tables the drill writes, restores and proves its own canaries;
* ``--to T`` compares the whole table: one item changed after T, the one a
  25-item sample by key hash would never pick, fails it as UNPROVABLE;
* ``bin/ops restore-drill --to <epoch>`` reaches the command;
* ``check-nonce --at=-inf`` (and ``nan``, ``inf``) exit 2 before any cloud call.
"""
from __future__ import annotations

import hashlib
import json
import time

import pytest

from envconfig.aws import TableName
from tests.e2e.test_lifecycle import CONFIG, REPO, Target

pytestmark = pytest.mark.e2e
OPS = str(REPO / "bin" / "ops")
STORES = ("fp-events", "consent", "block-counter", "baselines")


@pytest.fixture(scope="module")
def target(tmp_path_factory, gates_cache_dir):
    t = Target(tmp_path_factory.mktemp("limits"), gates_cache_dir)
    t.env["PATH"] = f"{REPO}/bin/shims:{t.env['PATH']}"
    try:
        t.run(str(REPO / "bin" / "deploy-local"))
        yield t
    finally:
        t.stop()


def rows(stdout: str) -> list[str]:
    return [l for l in stdout.splitlines() if l.split()[:1] and l.split()[0] in STORES]


def test_drill_on_empty_tables_proves_its_canary(target):
    ddb = target.client("dynamodb")
    assert all(ddb.scan(TableName=CONFIG.table_name(t))["Count"] == 0 for t in TableName)
    result = target.run(OPS, "restore-drill", "--env", "staging")
    found = rows(result.stdout)
    assert len(found) == 4, result.stdout
    for row in found:  # the canary, and only it, restored and found
        assert "     1/1             1/1" in row and " present   PASS" in row, row
    assert all(ddb.scan(TableName=CONFIG.table_name(t))["Count"] == 0 for t in TableName)  # canaries removed
    assert not [t for t in ddb.list_tables()["TableNames"] if "drill" in t]


def test_a_change_after_t_outside_any_sample_fails_to_t(target):
    ddb = target.client("dynamodb")
    table = CONFIG.table_name(TableName.FP_EVENTS)
    keys = [{"pk": {"S": f"event-{i}"}, "sk": {"S": "0"}} for i in range(40)]
    for key in keys:
        ddb.put_item(TableName=table, Item={**key, "data": {"S": "evidence"}})
    time.sleep(1.5)
    t = int(time.time())
    time.sleep(1.5)
    # the key a 25-item sample ranked by key hash would pick last (never compared by a sample)
    last = max(keys, key=lambda k: hashlib.sha256(json.dumps(k, sort_keys=True, separators=(",", ":")).encode()).hexdigest())
    ddb.update_item(TableName=table, Key=last, UpdateExpression="SET #d = :v", ExpressionAttributeNames={"#d": "data"},
                    ExpressionAttributeValues={":v": {"S": "rewritten after T"}})
    result = target.run(OPS, "restore-drill", "--env", "staging", "--table", "fp-events", "--to", str(t), check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    (row,) = rows(result.stdout)
    assert "    40/40" in row and "UNPROVABLE: the source changed since --to, or the copy differs" in row
    unchanged = target.run(OPS, "restore-drill", "--env", "staging", "--table", "consent", "--to", str(t), check=False)
    assert unchanged.returncode == 1 and "UNPROVEN: nothing restored to compare" in unchanged.stdout  # empty at T


@pytest.mark.parametrize("at", ["-inf", "nan", "inf"])
def test_check_nonce_at_non_finite_exits_2(target, at):
    result = target.run(OPS, "check-nonce", "--env", "staging", f"--at={at}", input="anything\n", check=False)
    assert result.returncode == 2
    assert result.stderr.strip() == f"ops check-nonce: not a finite time: {at!r} (epoch seconds or ISO-8601)"
