"""bin/ops restore-drill against moto in-process, with the local target's
point-in-time restore (localaws/dynamodb_pitr.py) installed by the fixture."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import boto3
import pytest

from envconfig.aws import TableName
from opscli import aws_ops, restore_drill

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def data(config):
    kms = boto3.client("kms", region_name=config.region)
    key = kms.create_key(Description="data")["KeyMetadata"]["Arn"]
    ddb = boto3.client("dynamodb", region_name=config.region)
    for table in TableName:
        name = config.table_name(table)
        keys = [("pk", "HASH")] + ([("sk", "RANGE")] if table is not TableName.BLOCK_COUNTER else [])
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in keys],
                         AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
                         SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
        ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
        for i in range(30):
            item = {"pk": {"S": f"{table.value}-{i}"}, "n": {"N": str(i)}, "data": {"S": "evidence"}}
            if table is not TableName.BLOCK_COUNTER:
                item["sk"] = {"S": "0"}
            ddb.put_item(TableName=name, Item=item)
    s3 = boto3.client("s3", region_name=config.region)
    bucket = f"{config.resource_prefix}-baselines-{config.account}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for i in range(3):
        s3.put_object(Bucket=bucket, Key=f"baselines/{i}.json", Body=f'{{"v": {i}}}'.encode())
    return ddb, s3, bucket


def drill(*args, capsys=None):
    code = aws_ops.main(["restore-drill", "--env", "staging", *args])
    captured = capsys.readouterr() if capsys else None
    return code, captured


def leftovers(ddb, s3, bucket):
    tables = [t for t in ddb.list_tables()["TableNames"] if "drill" in t]
    objects = [v["Key"] for v in s3.list_object_versions(Bucket=bucket).get("Versions", []) if v["Key"].startswith("restore-drill/")]
    return tables + objects


def canaries_left(ddb):
    return [i for t in ddb.list_tables()["TableNames"] for i in ddb.scan(TableName=t)["Items"]
            if i["pk"]["S"].startswith("md-restore-drill-canary#")]


def test_drill_restores_every_store_equal_and_cleans_up(data, capsys):
    code, out = drill(capsys=capsys)
    assert code == 0, out.err
    lines = [l for l in out.out.splitlines() if l.endswith("PASS")]
    assert [l.split()[0] for l in lines] == ["fp-events", "consent", "block-counter", "baselines"]
    # every table compared whole: 30 items and the drill's canary, in the source and in the copy
    assert out.out.count("    31/31           31/31") == 3, out.out
    assert "     4/4             4/4" in out.out  # 3 baselines (all sampled) and the canary object
    assert all(" present   PASS" in l for l in lines)
    assert leftovers(*data) == []
    assert not canaries_left(data[0])


def test_a_scratch_copy_that_differs_fails_the_drill_and_is_still_deleted(data, capsys, monkeypatch):
    monkeypatch.setenv(restore_drill.FAULT_ENV, restore_drill.FAULT_ALTER_SCRATCH)
    code, out = drill("--table", "consent", capsys=capsys)
    assert code == 1
    assert "FAIL: contents differ" in out.out
    assert out.err.strip() == "ops restore-drill: consent: FAIL: contents differ"
    assert leftovers(*data) == []


def test_baseline_object_that_differs_fails(data, capsys, monkeypatch):
    monkeypatch.setenv(restore_drill.FAULT_ENV, restore_drill.FAULT_ALTER_SCRATCH)
    code, out = drill("--table", "baselines", capsys=capsys)
    assert code == 1 and "baselines: FAIL: contents differ" in out.err
    assert leftovers(*data) == []


def test_an_error_after_the_restore_still_deletes_the_scratch_table(data, capsys, monkeypatch):
    def broken(self, table, deadline):
        raise restore_drill.CheckFailed(f"{table}: still CREATING when the RTO ran out")

    monkeypatch.setattr(restore_drill.Drill, "_wait_active", broken)
    code, out = drill("--table", "fp-events", capsys=capsys)
    assert code == 1 and "still CREATING" in out.err
    assert "deleted scratch table mirror-dissonance-fp-events-staging-restore-drill" in out.out
    assert leftovers(*data) == []


def test_to_restores_an_earlier_state_and_compares_with_now(data, capsys, config):
    ddb = data[0]
    time.sleep(0.01)
    before_change = time.time()
    time.sleep(0.01)
    code, out = drill("--table", "block-counter", "--to", str(before_change), capsys=capsys)
    assert code == 0, out.err  # unchanged since: equal
    ddb.put_item(TableName=config.table_name(TableName.BLOCK_COUNTER), Item={"pk": {"S": "new"}})
    code, out = drill("--table", "block-counter", "--to", str(before_change), capsys=capsys)
    assert code == 1 and "   31/30" in out.out  # the copy is the earlier state, one item short of now
    assert "UNPROVABLE: the source changed since --to, or the copy differs" in out.out


def test_slower_than_the_rto_fails(data, capsys, monkeypatch, config):
    ticks = iter(range(0, 10**6, 4000))  # every monotonic reading 4000 s later: past the 60-minute RTO
    monkeypatch.setattr(restore_drill.time, "monotonic", lambda: next(ticks))
    code, out = drill("--table", "consent", capsys=capsys)
    assert code == 1 and "consent: FAIL: slower than RTO" in out.err


@pytest.mark.parametrize("args,message", [
    (["--to", "yesterday"], "ops restore-drill: not an epoch or ISO-8601 time: 'yesterday'"),
    (["--to", "2999-01-01T00:00:00Z"], "ops restore-drill: --to 2999-01-01T00:00:00Z: is in the future"),
    (["--sample", "0"], "ops restore-drill: --sample 0: must be between 1 and 1000"),
])
def test_bad_input_is_refused_before_any_cloud_call(args, message, capsys, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://localhost:9")  # any cloud call would fail differently
    code, out = drill(*args, capsys=capsys)
    assert code == 2 and out.err.strip() == message


def test_unknown_table_and_unreachable_endpoint():
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    bad = subprocess.run([str(ROOT / "bin" / "ops"), "restore-drill", "--env", "staging", "--table", "users"],
                         capture_output=True, text=True, env=env)
    assert bad.returncode == 2 and "invalid choice: 'users'" in bad.stderr
    env.update(AWS_ENDPOINT_URL="http://localhost:9", AWS_ACCESS_KEY_ID="test", AWS_SECRET_ACCESS_KEY="test",
               AWS_REGION="us-east-1", AWS_MAX_ATTEMPTS="1")
    down = subprocess.run([str(ROOT / "bin" / "ops"), "restore-drill", "--env", "staging"], capture_output=True, text=True, env=env)
    assert down.returncode == 2 and down.stderr.startswith("ops restore-drill: cannot identify the AWS account")


def test_a_second_drill_at_the_same_time_leaves_the_first_ones_table_alone(data, capsys, config):
    ddb = data[0]
    scratch = config.restore_drill_table(TableName.CONSENT)
    ddb.restore_table_to_point_in_time(SourceTableName=config.table_name(TableName.CONSENT), TargetTableName=scratch,
                                       UseLatestRestorableTime=True)  # the first drill, still running
    code, out = drill("--table", "consent", capsys=capsys)
    assert code == 2 and "another restore drill is running" in out.err
    assert scratch in ddb.list_tables()["TableNames"]


@pytest.fixture
def empty(config):
    """The tables and bucket of a fresh environment: nothing in them."""
    kms = boto3.client("kms", region_name=config.region)
    key = kms.create_key(Description="data")["KeyMetadata"]["Arn"]
    ddb = boto3.client("dynamodb", region_name=config.region)
    for table in TableName:
        keys = [("pk", "HASH")] + ([("sk", "RANGE")] if table is not TableName.BLOCK_COUNTER else [])
        ddb.create_table(TableName=config.table_name(table), BillingMode="PAY_PER_REQUEST",
                         KeySchema=[{"AttributeName": a, "KeyType": t} for a, t in keys],
                         AttributeDefinitions=[{"AttributeName": a, "AttributeType": "S"} for a, _ in keys],
                         SSESpecification={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key})
        ddb.update_continuous_backups(TableName=config.table_name(table),
                                      PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True})
    s3 = boto3.client("s3", region_name=config.region)
    bucket = f"{config.resource_prefix}-baselines-{config.account}"
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    return ddb, s3, bucket


def test_on_empty_tables_the_drill_proves_its_own_canary(empty, capsys):
    code, out = drill(capsys=capsys)
    assert code == 0, out.err
    rows = [l for l in out.out.splitlines() if l.split()[:1] and l.split()[0] in ("fp-events", "consent", "block-counter", "baselines")]
    assert len(rows) == 4 and all(" present   PASS" in r for r in rows), out.out
    assert all("     1/1             1/1" in r for r in rows)  # the canary, and only it
    assert leftovers(*empty) == [] and not canaries_left(empty[0])


def test_to_on_empty_tables_proves_nothing_and_fails(empty, capsys):
    time.sleep(0.01)
    code, out = drill("--table", "consent", "--to", str(time.time() - 0.005), capsys=capsys)
    assert code == 1
    assert "UNPROVEN: nothing restored to compare" in out.out


def test_a_restore_that_misses_the_canary_fails(data, capsys, monkeypatch):
    real = restore_drill.Drill._wait_active

    def lose_the_canary(self, table, deadline):  # a restore that dropped the newest write
        real(self, table, deadline)
        for item in self.ddb.scan(TableName=table)["Items"]:
            if item["pk"]["S"].startswith("md-restore-drill-canary#"):
                self.ddb.delete_item(TableName=table, Key={k: item[k] for k in ("pk", "sk")})

    monkeypatch.setattr(restore_drill.Drill, "_wait_active", lose_the_canary)
    code, out = drill("--table", "consent", capsys=capsys)
    assert code == 1 and " MISSING " in out.out
    assert not canaries_left(data[0])


def test_a_change_after_to_outside_any_sample_is_unprovable(data, capsys, config):
    """One item changed after T, the one a 25-item sample by key hash would pick last: a whole-table digest sees it."""
    import hashlib
    import json

    ddb = data[0]
    time.sleep(0.01)
    t = time.time()
    time.sleep(0.01)
    table = config.table_name(TableName.FP_EVENTS)
    keys = [{"pk": {"S": f"fp-events-{i}"}, "sk": {"S": "0"}} for i in range(30)]
    last = max(keys, key=lambda k: hashlib.sha256(json.dumps(k, sort_keys=True, separators=(",", ":")).encode()).hexdigest())
    ddb.update_item(TableName=table, Key=last, UpdateExpression="SET #d = :v",
                    ExpressionAttributeNames={"#d": "data"}, ExpressionAttributeValues={":v": {"S": "rewritten after T"}})
    code, out = drill("--table", "fp-events", "--to", str(t), capsys=capsys)
    assert code == 1, out.out
    assert "    30/30" in out.out and "UNPROVABLE" in out.out


def test_a_canary_that_never_reached_the_table_fails_even_with_equal_contents(empty, capsys, monkeypatch):
    def lost_write(self, table, described):  # the put "succeeded" but nothing was stored
        return {k["AttributeName"]: {"S": "md-restore-drill-canary#lost"} for k in described["KeySchema"]} | {
            "md_restore_drill_canary": {"S": "x"}}

    monkeypatch.setattr(restore_drill.Drill, "_write_canary", lost_write)
    code, out = drill("--table", "consent", capsys=capsys)
    assert code == 1, out.out
    assert "      0/0             0/0" in out.out and "FAIL: canary MISSING from the copy" in out.out
