"""End to end on the local target, with the real CDK CLI: restore drills on a
deployed Staging, then destroy -> a failed redeploy (the trap: ROLLBACK_COMPLETE,
an orphan key holding the alias) -> ``bin/ops adopt`` -> data, alias, bucket
policies and ``verify`` are back -> a later deploy reports no changes.

One target for the module, on a free port, stopped at the end. The tests
run in file order and build on each other.
"""
from __future__ import annotations

import os
import re
import subprocess
import time
from pathlib import Path

import pytest

from envconfig.aws import TableName, load
from tests.e2e.local_target import REPO, LocalTarget

pytestmark = pytest.mark.e2e

CONFIG = load("staging")
STACKS = ("Data", "Secrets", "Observability", "Oidc", "Runtime")
TIMES: dict[str, float] = {}
STATE: dict[str, object] = {}


class Target(LocalTarget):
    timeout = 900

    def __init__(self, tmp: Path):
        super().__init__(tmp, CONFIG.region)
        self.out = tmp / "cdk.out"

    def ops(self, *args, **kwargs):
        return self.run(str(REPO / "bin" / "ops"), *args, "--env", "staging", **kwargs)

    def cdk(self, *args, **kwargs):
        return self.run("cdk", *args, "--require-approval", "never", "--ci", **kwargs)


@pytest.fixture(scope="module")
def target(tmp_path_factory):
    t = Target(tmp_path_factory.mktemp("recovery"))
    t.run(str(REPO / "bin" / "local-aws"), "start", "--port", str(t.port))
    try:
        yield t
    finally:
        t.run(str(REPO / "bin" / "local-aws"), "stop", check=False)
        for name, seconds in TIMES.items():
            print(f"recovery e2e timing: {name} {seconds:.1f}s")


def timed(name, fn):
    start = time.monotonic()
    try:
        return fn()
    finally:
        TIMES[name] = time.monotonic() - start


def evidence(target, table, i):
    desc = target.client("dynamodb").describe_table(TableName=CONFIG.table_name(table))["Table"]
    return {**{k["AttributeName"]: {"S": f"{k['AttributeName']}-{i}"} for k in desc["KeySchema"]}, "data": {"S": f"evidence {i}"}}


def test_deploy_and_write_evidence(target):
    with_tmp = str(Path(target.tmp) / "bootstrap")
    os.makedirs(with_tmp, exist_ok=True)
    subprocess.run(["cdk", "bootstrap", f"aws://{CONFIG.account}/{CONFIG.region}", "--ci"], cwd=with_tmp,
                   env=target.env, capture_output=True, text=True, check=True, timeout=600)
    timed("first deploy", lambda: target.cdk("deploy", "Staging/*", "--output", str(target.out)))
    target.ops("rotate-nonce", "--create-only")
    target.ops("set-github-token", input="ghp_recoveryE2eToken0123456789abcdefABCD\n")
    ddb, s3, kms = (target.client(s) for s in ("dynamodb", "s3", "kms"))
    for table in TableName:
        for i in range(5):
            ddb.put_item(TableName=CONFIG.table_name(table), Item=evidence(target, table, i))
    bucket = f"{CONFIG.resource_prefix}-baselines-{CONFIG.account}"
    s3.put_object(Bucket=bucket, Key="baselines/main.json", Body=b'{"baseline": 1}')
    STATE["data_key"] = kms.describe_key(KeyId=f"alias/{CONFIG.resource_prefix}-data")["KeyMetadata"]["KeyId"]
    STATE["keys"] = {alias: kms.describe_key(KeyId=f"alias/{CONFIG.resource_prefix}-{alias}")["KeyMetadata"]["KeyId"]
                     for alias in ("data", "secrets", "observability")}
    buckets = [r["PhysicalResourceId"] for stack in ("Data", "Observability")
               for r in target.client("cloudformation").list_stack_resources(StackName=f"Staging-{stack}")["StackResourceSummaries"]
               if r["ResourceType"] == "AWS::S3::Bucket"]
    assert len(buckets) == 4
    STATE["buckets"] = buckets


def test_restore_drill_passes_and_reports_the_time_per_store(target):
    result = timed("restore-drill (all stores)", lambda: target.ops("restore-drill"))
    rows = [l for l in result.stdout.splitlines() if l.split()[:1] and l.split()[0] in {"fp-events", "consent", "block-counter", "baselines"}]
    assert len(rows) == 4 and all(r.endswith("PASS") for r in rows), result.stdout
    for row in rows:
        seconds = float(re.search(r"(\d+\.\d+)s", row).group(1))
        TIMES[f"restore of {row.split()[0]} (measured by the drill)"] = seconds
    assert not [t for t in target.client("dynamodb").list_tables()["TableNames"] if "drill" in t]


def test_restore_drill_fails_when_the_scratch_copy_differs(target):
    result = target.ops("restore-drill", "--table", "fp-events", env={"MD_RESTORE_DRILL_FAULT": "alter-scratch"}, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAIL: contents differ" in result.stdout
    assert not [t for t in target.client("dynamodb").list_tables()["TableNames"] if "drill" in t]


def test_destroy_keeps_bucket_policies_and_a_naive_redeploy_fails(target):
    timed("cdk destroy", lambda: target.run("cdk", "destroy", "Staging/*", "--force", "--app", str(target.out)))
    s3 = target.client("s3")
    for bucket in STATE["buckets"]:
        assert '"aws:SecureTransport"' in s3.get_bucket_policy(Bucket=bucket)["Policy"], bucket
    # The trap of a destroyed environment: deploying again fails on the retained names.
    failed = target.cdk("deploy", "Staging/*", "--app", str(target.out), check=False)
    assert failed.returncode != 0
    status = target.client("cloudformation").describe_stacks(StackName="Staging-Data")["Stacks"][0]["StackStatus"]
    assert status == "ROLLBACK_COMPLETE"


def test_adopt_brings_everything_back(target):
    result = timed("bin/ops adopt", lambda: target.ops("adopt", "--assembly", str(target.out)))
    assert "adopted in" in result.stdout, result.stdout
    cf, ddb, s3, kms = (target.client(s) for s in ("cloudformation", "dynamodb", "s3", "kms"))
    for stack in STACKS:
        assert cf.describe_stacks(StackName=f"Staging-{stack}")["Stacks"][0]["StackStatus"] in ("UPDATE_COMPLETE", "CREATE_COMPLETE")
    for table in TableName:
        items = ddb.scan(TableName=CONFIG.table_name(table))["Items"]
        assert sorted(i["data"]["S"] for i in items) == [f"evidence {i}" for i in range(5)], table
        listed = {r["PhysicalResourceId"] for r in cf.list_stack_resources(StackName="Staging-Data")["StackResourceSummaries"]}
        assert CONFIG.table_name(table) in listed
    bucket = f"{CONFIG.resource_prefix}-baselines-{CONFIG.account}"
    assert s3.get_object(Bucket=bucket, Key="baselines/main.json")["Body"].read() == b'{"baseline": 1}'
    for alias, key in STATE["keys"].items():
        assert kms.describe_key(KeyId=f"alias/{CONFIG.resource_prefix}-{alias}")["KeyMetadata"]["KeyId"] == key, alias
    for b in STATE["buckets"]:
        assert '"aws:SecureTransport"' in s3.get_bucket_policy(Bucket=b)["Policy"], b
    verify = target.ops("verify")
    assert " 0 failed" in verify.stdout or "0 failed" in verify.stdout, verify.stdout


def test_a_later_deploy_reports_no_changes(target):
    result = timed("deploy after adopt", lambda: target.cdk("deploy", "Staging/*", "--app", str(target.out)))
    text = result.stdout + result.stderr
    for stack in STACKS:
        assert re.search(rf"Staging/{stack} \(Staging-{stack}\)\s*\(no changes\)|Staging-{stack}.*\(no changes\)", text), (stack, text[-3000:])
    TIMES["adopt -> deploy cycle"] = TIMES["bin/ops adopt"] + TIMES["deploy after adopt"]
