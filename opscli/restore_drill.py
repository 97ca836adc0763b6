"""Restore drill: prove the data comes back, and how fast.

``bin/ops restore-drill --env ENV [--table STORE] [--to TIME]``

For each table (``fp-events``, ``consent``, ``block-counter``; one with
``--table``): read the source (item count and a SHA-256 of every item), then
restore it with point-in-time recovery into a scratch table
``<table>-restore-drill`` encrypted with the source's key, wait until it is
ACTIVE, and compare: the same item count, and the same hash for a sample of
items (``--sample``, spread over the key space). The scratch table is
deleted afterwards, also when the drill fails or is interrupted. Its name is
fixed, so the drill role's permissions name it exactly; a second drill
started meanwhile fails on that name ("already exists") and leaves the
first one's table alone.

The restore time is the state right after the source was read (the drill
waits until PITR can restore that instant), so the comparison is exact on a
table nobody writes to meanwhile. ``--to TIME`` restores an earlier instant
(epoch seconds or ISO-8601) instead and compares with the source as it is
now: it passes only for a table unchanged since TIME.

For the baselines bucket (``--table baselines``, and in a full drill): each
sampled object's version that was current at the restore time is copied to
``restore-drill/<epoch>/<key>`` in the same bucket, compared by SHA-256 with
that version, and the copy deleted (every version of it).

Each store's measured time (restore request to a readable copy) is printed
next to its RTO (``recovery.objectives`` in config/aws/<env>.yaml).
Exit status: 0 every store restored equal within its RTO; 1 a mismatch, a
restore slower than the RTO, or a scratch copy that could not be deleted;
2 the drill could not run.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, TextIO

from botocore.exceptions import ClientError

from envconfig.aws import AwsEnvironment, Store

from .clock import iso, parse_instant
from .errors import CheckFailed, OpsError
from .session import Aws

# Fault injection for the drill's own tests (never set in operation): after
# the restore, change one item of the scratch table so that the comparison
# must fail. Read from the environment because the end-to-end test runs
# bin/ops as a subprocess.
FAULT_ENV = "MD_RESTORE_DRILL_FAULT"
FAULT_ALTER_SCRATCH = "alter-scratch"


@dataclass
class Outcome:
    store: str
    restored_to: float
    items: tuple[int, int]           # source, restored
    sample: tuple[int, int]          # equal, compared
    seconds: float
    rto_seconds: float
    detail: str = ""

    @property
    def equal(self) -> bool:
        return self.items[0] == self.items[1] and self.sample[0] == self.sample[1]

    @property
    def within_rto(self) -> bool:
        return self.seconds <= self.rto_seconds

    @property
    def passed(self) -> bool:
        return self.equal and self.within_rto and not self.detail.startswith("FAIL")


def item_hash(item: dict[str, Any]) -> str:
    """SHA-256 of an item in DynamoDB's JSON, keys sorted: the same item always hashes the same."""
    return hashlib.sha256(json.dumps(item, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _scan(ddb, table: str) -> list[dict]:
    items, start = [], None
    while True:
        kwargs = {"TableName": table, "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.scan(**kwargs)
        items += page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return items


def _key(item: dict, key_names: list[str]) -> dict:
    return {k: item[k] for k in key_names}


def scratch_prefix() -> str:
    return "restore-drill/"


def sample_keys(items: list[dict], key_names: list[str], size: int) -> list[dict]:
    """``size`` keys chosen by the hash of the key: spread over the table, the same on every run."""
    ranked = sorted(items, key=lambda i: item_hash(_key(i, key_names)))
    return [_key(i, key_names) for i in ranked[:size]]


class Drill:
    def __init__(self, aws: Aws, config: AwsEnvironment, *, sample: int, out: TextIO,
                 wait: Callable[[float], None] = time.sleep, fault: str | None = None):
        self.aws, self.config, self.sample, self.out, self.wait = aws, config, sample, out, wait
        self.fault = fault
        self.ddb = aws.client("dynamodb")

    def _rto(self, store: Store) -> float:
        return self.config.recovery.objectives[store].rto_minutes * 60.0

    def _wait_restorable(self, table: str, when: float, deadline: float) -> None:
        while True:
            pitr = self.ddb.describe_continuous_backups(TableName=table)["ContinuousBackupsDescription"].get(
                "PointInTimeRecoveryDescription", {})
            if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
                raise CheckFailed(f"{table}: point-in-time recovery is not enabled")
            latest = pitr["LatestRestorableDateTime"]
            latest = latest.timestamp() if hasattr(latest, "timestamp") else float(latest)
            if latest >= when:
                return
            if time.monotonic() > deadline:
                raise CheckFailed(f"{table}: {iso(when)} did not become restorable in time (latest restorable {iso(latest)})")
            self.wait(min(15.0, max(1.0, when - latest)))

    def _wait_active(self, table: str, deadline: float) -> None:
        while True:
            status = self.ddb.describe_table(TableName=table)["Table"]["TableStatus"]
            if status == "ACTIVE":
                return
            if time.monotonic() > deadline:
                raise CheckFailed(f"{table}: still {status} when the RTO ran out")
            self.wait(5.0)

    def table(self, store: Store, to: float | None) -> Outcome:
        source = self.config.table_name(store.table)
        described = self.ddb.describe_table(TableName=source)["Table"]
        key_names = [k["AttributeName"] for k in described["KeySchema"]]
        key_arn = described.get("SSEDescription", {}).get("KMSMasterKeyArn")
        items = _scan(self.ddb, source)
        expected = {json.dumps(_key(i, key_names), sort_keys=True): item_hash(i) for i in items}
        restored_to = to if to is not None else time.time()
        rto = self._rto(store)
        scratch = self.config.restore_drill_table(store.table)
        start = time.monotonic()
        deadline = start + max(rto, 60.0)
        if to is None:
            self._wait_restorable(source, restored_to, deadline)
        request: dict[str, Any] = {"SourceTableName": source, "TargetTableName": scratch,
                                   "RestoreDateTime": datetime.fromtimestamp(restored_to, timezone.utc),
                                   "BillingModeOverride": "PAY_PER_REQUEST"}
        if key_arn:  # the copy is encrypted like the evidence, with the same key
            request["SSESpecificationOverride"] = {"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": key_arn}
        restore_started = time.monotonic()
        try:
            self.ddb.restore_table_to_point_in_time(**request)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TableAlreadyExistsException":
                raise OpsError(f"{scratch} exists: another restore drill is running (or one was killed; delete the table)") from None
            raise
        try:
            self._wait_active(scratch, deadline)
            seconds = time.monotonic() - restore_started
            keys = sample_keys(items, key_names, self.sample)
            if self.fault == FAULT_ALTER_SCRATCH and keys:
                victim = self.ddb.get_item(TableName=scratch, Key=keys[0], ConsistentRead=True)["Item"]
                self.ddb.put_item(TableName=scratch, Item={**victim, "md_drill_fault": {"S": "injected"}})
            restored_count = sum(page.get("Count", 0) for page in self._count_pages(scratch))
            equal = 0
            for key in keys:
                got = self.ddb.get_item(TableName=scratch, Key=key, ConsistentRead=True).get("Item")
                if got is not None and item_hash(got) == expected[json.dumps(key, sort_keys=True)]:
                    equal += 1
            return Outcome(store.value, restored_to, (len(items), restored_count), (equal, len(keys)), seconds, rto)
        finally:
            self._delete_scratch(scratch)

    def _count_pages(self, table: str):
        start = None
        while True:
            kwargs = {"TableName": table, "Select": "COUNT", "ConsistentRead": True}
            if start:
                kwargs["ExclusiveStartKey"] = start
            page = self.ddb.scan(**kwargs)
            yield page
            start = page.get("LastEvaluatedKey")
            if not start:
                return

    def _delete_scratch(self, scratch: str) -> None:
        try:
            self.ddb.delete_table(TableName=scratch)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return  # the restore never created it
            raise CheckFailed(f"could not delete the scratch table {scratch}: {exc}; delete it by hand") from None
        print(f"  deleted scratch table {scratch}", file=self.out)

    def baselines(self, to: float | None) -> Outcome:
        s3 = self.aws.client("s3")
        bucket = self.config.baselines_bucket
        restored_to = to if to is not None else time.time()
        versions, markers = [], []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            versions += page.get("Versions", [])
            markers += page.get("DeleteMarkers", [])

        def stamp(v):
            return v["LastModified"].timestamp()

        # The version of each key that was current at the restore time (a delete marker means: none).
        current: dict[str, dict] = {}
        for entry in sorted(versions + [dict(m, marker=True) for m in markers], key=stamp):
            if stamp(entry) <= restored_to and not entry["Key"].startswith("restore-drill/"):
                current[entry["Key"]] = entry
        live = {k: v for k, v in current.items() if not v.get("marker")}
        chosen = sorted(live, key=lambda k: hashlib.sha256(k.encode()).hexdigest())[: self.sample]
        prefix = f"{scratch_prefix()}{int(time.time())}/"
        start = time.monotonic()
        equal, copies = 0, []
        try:
            for key in chosen:
                version = live[key]["VersionId"]
                want = hashlib.sha256(s3.get_object(Bucket=bucket, Key=key, VersionId=version)["Body"].read()).hexdigest()
                copy = s3.copy_object(Bucket=bucket, Key=prefix + key, CopySource={"Bucket": bucket, "Key": key, "VersionId": version})
                copies.append((prefix + key, copy.get("VersionId")))
                body = s3.get_object(Bucket=bucket, Key=prefix + key)["Body"].read()
                if self.fault == FAULT_ALTER_SCRATCH:
                    body += b"injected"
                equal += hashlib.sha256(body).hexdigest() == want
            seconds = time.monotonic() - start
        finally:
            for key, version in copies:
                for v in s3.list_object_versions(Bucket=bucket, Prefix=key).get("Versions", []) + \
                        s3.list_object_versions(Bucket=bucket, Prefix=key).get("DeleteMarkers", []):
                    if v["Key"] == key:
                        s3.delete_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])
            if copies:
                print(f"  deleted {len(copies)} scratch object(s) under s3://{bucket}/{prefix}", file=self.out)
        detail = "" if chosen else "no objects at that time: nothing to restore"
        return Outcome(Store.BASELINES.value, restored_to, (len(chosen), len(chosen)), (equal, len(chosen)), seconds,
                       self._rto(Store.BASELINES), detail)


def render(outcomes: list[Outcome]) -> str:
    lines = ["store          restored to                items (src/copy)  sample equal  restore time  RTO      result"]
    for o in outcomes:
        verdict = "PASS" if o.passed else ("FAIL: contents differ" if not o.equal else "FAIL: slower than RTO")
        lines.append(f"{o.store:<14} {iso(o.restored_to):<26} {o.items[0]:>6}/{o.items[1]:<9} {o.sample[0]:>5}/{o.sample[1]:<6} "
                     f"{o.seconds:>9.3f}s   {o.rto_seconds / 60:>4.0f} min  {verdict}{'  (' + o.detail + ')' if o.detail else ''}")
    return "\n".join(lines)


def add_parser(sub, add_env) -> None:
    p = sub.add_parser("restore-drill", help="restore tables (PITR) and baseline objects into scratch copies, compare, time against the RTO",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_env(p)
    p.add_argument("--table", choices=[s.value for s in Store], metavar="STORE",
                   help=f"only this store ({', '.join(s.value for s in Store)}); default: all")
    p.add_argument("--to", metavar="TIME", help="restore this instant (epoch seconds or ISO-8601) instead of now")
    p.add_argument("--sample", type=int, default=25, metavar="N", help="items/objects compared by hash per store (default 25)")


def run(args, config: AwsEnvironment, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    # Input first, before any cloud call.
    to = parse_instant(args.to) if args.to else None
    if to is not None and to > time.time():
        raise OpsError(f"--to {args.to}: is in the future")
    if not 1 <= args.sample <= 1000:
        raise OpsError(f"--sample {args.sample}: must be between 1 and 1000")
    if config.recovery is None:
        raise OpsError(f"{config.source}: recovery.objectives: missing (the drill compares with the RTO)")
    stores = [Store(args.table)] if args.table else list(Store)
    fault = os.environ.get(FAULT_ENV)
    aws = Aws(config)
    aws.check_account()
    drill = Drill(aws, config, sample=args.sample, out=out, fault=fault)
    outcomes = []
    for store in stores:
        print(f"==> {store.value}: restoring {'to ' + iso(to) if to else 'the state after reading the source'}", file=out, flush=True)
        outcomes.append(drill.baselines(to) if store is Store.BASELINES else drill.table(store, to))
    print(render(outcomes), file=out)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        raise CheckFailed(", ".join(f"{o.store} {'contents differ' if not o.equal else 'restore slower than its RTO'}" for o in failed))
    return 0
