"""Restore drill: prove the data comes back, and how fast (docs/requirements.md#restore).

``bin/ops restore-drill --env ENV [--table STORE] [--to TIME]``

A drill that restores nothing must not pass, so without ``--to`` it first
writes its own canaries: in each table an item with partition key
``md-restore-drill-canary#<random>`` and a random value, in the baselines
bucket an object ``restore-drill/canary/<random>`` with random bytes. Then,
for each table (``fp-events``, ``consent``, ``block-counter``; one with
``--table``):

1. read the whole source (streamed: an item count and an order-independent
   digest of every item, never the items themselves in memory);
2. restore it with point-in-time recovery, to the instant right after that
   read, into a scratch table ``<table>-restore-drill`` encrypted with the
   source's key, and wait until it is ACTIVE;
3. prove the canary is in the copy, with its value, and that the whole copy
   has the source's digest;
4. delete the scratch table (also when the drill fails or is interrupted)
   and the canary.

``--to TIME`` (epoch seconds or ISO-8601) restores an earlier instant. No
canary can be in the past, and the source as it was at TIME cannot be read
any more: the drill compares the WHOLE copy with the source as it is now.
Equal digests prove the restore, for a table unchanged since TIME; different
digests are reported as UNPROVABLE (the table changed since TIME, or the copy
is wrong: a drill to a past instant cannot tell which), and a copy with no
items proves nothing: both exit 1, never PASS.

The scratch table's name is fixed, so the drill role's permissions name it
exactly; a second drill started meanwhile fails on that name ("already
exists") and leaves the first one's table alone. The drill role may write
and delete only canary items in the source tables (an IAM condition on the
leading key, constructs_lib/aws/restore_drill_access.py).

For the baselines bucket (``--table baselines``, and in a full drill): the
canary object and each sampled object's version that was current at the
restore time are copied to ``restore-drill/<epoch>/<key>`` in the same
bucket, compared by SHA-256 with that version, and the copies (and the
canary) deleted, every version of them.

Each store's measured time (restore request to a readable copy) is printed
next to its RTO (``recovery.objectives`` in config/aws/<env>.yaml).
Exit status: 0 every store restored equal within its RTO, canary proven;
1 a mismatch, a missing canary, an unprovable or empty ``--to`` comparison,
a restore slower than the RTO, or a scratch copy that could not be deleted;
2 the drill could not run.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import secrets
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, TextIO

from botocore.exceptions import ClientError

from envconfig.aws import AwsConfig, Store

from .clock import iso, parse_instant
from .errors import CheckFailed, OpsError
from .session import Aws

# Fault injection for the drill's own tests (never set in operation): after
# the restore, change one item of the scratch table so that the comparison
# must fail. Read from the environment because the end-to-end test runs
# bin/ops as a subprocess.
FAULT_ENV = "MD_RESTORE_DRILL_FAULT"
FAULT_ALTER_SCRATCH = "alter-scratch"


CANARY_PREFIX = "md-restore-drill-canary#"
CANARY_OBJECT_PREFIX = "restore-drill/canary/"


@dataclass
class Outcome:
    store: str
    restored_to: float
    items: tuple[int, int]           # source, restored
    sample: tuple[int, int]          # equal, compared (whole table: every item, by digest)
    seconds: float
    rto_seconds: float
    detail: str = ""
    canary: str | None = None        # "present", "MISSING ...", or None with --to
    to_given: bool = False

    @property
    def equal(self) -> bool:
        return self.items[0] == self.items[1] and self.sample[0] == self.sample[1]

    @property
    def within_rto(self) -> bool:
        return self.seconds <= self.rto_seconds

    @property
    def proven(self) -> bool:
        """Something was restored and shown to be there: the canary, or (with --to) items."""
        if self.to_given:
            return self.items[1] > 0
        return self.canary == "present"

    @property
    def passed(self) -> bool:
        return self.equal and self.proven and self.within_rto and not self.detail.startswith("FAIL")

    @property
    def verdict(self) -> str:
        if self.passed:
            return "PASS"
        if self.detail.startswith("FAIL"):
            return self.detail
        if self.to_given and not self.equal:
            return "UNPROVABLE: the source changed since --to, or the copy differs"
        if not self.equal:
            return "FAIL: contents differ"
        if not self.to_given and self.canary != "present":
            return f"FAIL: canary {self.canary or 'not written'}"
        if not self.proven:
            return "UNPROVEN: nothing restored to compare"
        return "FAIL: slower than RTO"


class TableDigest:
    """Streamed, order-independent digest of a table: item count and the sum (mod 2**256) of
    each item's SHA-256. Equal multisets of items give equal digests; one changed, added or
    removed item changes it."""

    def __init__(self) -> None:
        self.count, self.total = 0, 0

    def add(self, item: dict) -> None:
        self.count += 1
        self.total = (self.total + int(item_hash(item), 16)) % (1 << 256)

    def __eq__(self, other) -> bool:
        return isinstance(other, TableDigest) and (self.count, self.total) == (other.count, other.total)

    @property
    def hex(self) -> str:
        return f"{self.total:064x}"


def item_hash(item: dict[str, Any]) -> str:
    """SHA-256 of an item in DynamoDB's JSON, keys sorted: the same item always hashes the same."""
    return hashlib.sha256(json.dumps(item, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _pages(ddb, table: str):
    """Every item of ``table``, page by page (consistent reads), never all at once."""
    start = None
    while True:
        kwargs = {"TableName": table, "ConsistentRead": True}
        if start:
            kwargs["ExclusiveStartKey"] = start
        page = ddb.scan(**kwargs)
        yield from page["Items"]
        start = page.get("LastEvaluatedKey")
        if not start:
            return


def table_digest(ddb, table: str) -> TableDigest:
    digest = TableDigest()
    for item in _pages(ddb, table):
        digest.add(item)
    return digest


def _key(item: dict, key_names: list[str]) -> dict:
    return {k: item[k] for k in key_names}


def scratch_prefix() -> str:
    return "restore-drill/"


def sample_keys(items: list[dict], key_names: list[str], size: int) -> list[dict]:
    """``size`` keys chosen by the hash of the key: spread over the table, the same on every run."""
    ranked = sorted(items, key=lambda i: item_hash(_key(i, key_names)))
    return [_key(i, key_names) for i in ranked[:size]]


class Drill:
    def __init__(self, aws: Aws, config: AwsConfig, *, sample: int, out: TextIO,
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

    def _write_canary(self, table: str, described: dict) -> dict:
        """A canary item: every key attribute a string starting with CANARY_PREFIX (the only
        keys the drill role may write in a source table), plus a random value."""
        types = {a["AttributeName"]: a["AttributeType"] for a in described["AttributeDefinitions"]}
        token = secrets.token_hex(16)
        item: dict[str, Any] = {}
        for key in described["KeySchema"]:
            name = key["AttributeName"]
            if types.get(name) != "S":
                raise OpsError(f"{table}: key {name} is not a string; the drill's canary needs string keys")
            item[name] = {"S": f"{CANARY_PREFIX}{token}"}
        item["md_restore_drill_canary"] = {"S": f"written {iso(time.time())} value {secrets.token_hex(16)}"}
        self.ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(#k)",
                          ExpressionAttributeNames={"#k": described["KeySchema"][0]["AttributeName"]})
        return item

    def table(self, store: Store, to: float | None) -> Outcome:
        source = self.config.table_name(store.table)
        described = self.ddb.describe_table(TableName=source)["Table"]
        key_names = [k["AttributeName"] for k in described["KeySchema"]]
        key_arn = described.get("SSEDescription", {}).get("KMSMasterKeyArn")
        canary = self._write_canary(source, described) if to is None else None
        try:
            source_digest = table_digest(self.ddb, source)
            restored_to = to if to is not None else time.time()
            return self._restore_and_compare(store, source, key_names, key_arn, canary, source_digest, restored_to, to is not None)
        finally:
            if canary is not None:
                self.ddb.delete_item(TableName=source, Key=_key(canary, key_names))

    def _restore_and_compare(self, store: Store, source: str, key_names: list[str], key_arn: str | None, canary: dict | None,
                             source_digest: TableDigest, restored_to: float, to_given: bool) -> Outcome:
        rto = self._rto(store)
        scratch = self.config.restore_drill_table(store.table)
        start = time.monotonic()
        deadline = start + max(rto, 60.0)
        if not to_given:
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
            if self.fault == FAULT_ALTER_SCRATCH:
                victim = next(iter(_pages(self.ddb, scratch)), None)
                if victim is not None:
                    self.ddb.put_item(TableName=scratch, Item={**victim, "md_drill_fault": {"S": "injected"}})
            copy_digest = table_digest(self.ddb, scratch)
            found = None
            if canary is not None:
                got = self.ddb.get_item(TableName=scratch, Key=_key(canary, key_names), ConsistentRead=True).get("Item")
                found = ("present" if got is not None and item_hash(got) == item_hash(canary) else
                         "MISSING from the copy" if got is None else "CHANGED in the copy")
            same = copy_digest == source_digest
            return Outcome(store.value, restored_to, (source_digest.count, copy_digest.count),
                           (copy_digest.count if same else 0, max(source_digest.count, copy_digest.count)),
                           seconds, rto, canary=found, to_given=to_given)
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
        canary_key = canary_sha = None
        if to is None:
            canary_key = f"{CANARY_OBJECT_PREFIX}{secrets.token_hex(16)}"
            body = secrets.token_bytes(64)
            s3.put_object(Bucket=bucket, Key=canary_key, Body=body)
            canary_sha = hashlib.sha256(body).hexdigest()
        try:
            return self._baselines(s3, bucket, to, canary_key, canary_sha)
        finally:
            if canary_key is not None:
                self._delete_all_versions(s3, bucket, canary_key)

    @staticmethod
    def _delete_all_versions(s3, bucket: str, key: str) -> None:
        listed = s3.list_object_versions(Bucket=bucket, Prefix=key)
        for v in listed.get("Versions", []) + listed.get("DeleteMarkers", []):
            if v["Key"] == key:
                s3.delete_object(Bucket=bucket, Key=key, VersionId=v["VersionId"])

    def _baselines(self, s3, bucket: str, to: float | None, canary_key: str | None, canary_sha: str | None) -> Outcome:
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
            if stamp(entry) <= restored_to and (not entry["Key"].startswith(scratch_prefix()) or entry["Key"] == canary_key):
                current[entry["Key"]] = entry
        live = {k: v for k, v in current.items() if not v.get("marker")}
        chosen = sorted((k for k in live if k != canary_key), key=lambda k: hashlib.sha256(k.encode()).hexdigest())[: self.sample]
        canary = None
        if canary_key is not None:
            canary = "MISSING at the restore time"
            if canary_key in live:
                chosen.append(canary_key)
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
                got = hashlib.sha256(body).hexdigest()
                equal += got == want
                if key == canary_key:
                    canary = "present" if got == want == canary_sha else "CHANGED in the copy"
            seconds = time.monotonic() - start
        finally:
            for key, _ in copies:
                self._delete_all_versions(s3, bucket, key)
            if copies:
                print(f"  deleted {len(copies)} scratch object(s) under s3://{bucket}/{prefix}", file=self.out)
        return Outcome(Store.BASELINES.value, restored_to, (len(chosen), len(chosen)), (equal, len(chosen)), seconds,
                       self._rto(Store.BASELINES), canary=canary, to_given=to is not None)


def render(outcomes: list[Outcome]) -> str:
    lines = ["store          restored to                items (src/copy)  equal         restore time  RTO      canary    result"]
    for o in outcomes:
        canary = "-" if o.canary is None else o.canary.split()[0]
        lines.append(f"{o.store:<14} {iso(o.restored_to):<26} {o.items[0]:>6}/{o.items[1]:<9} {o.sample[0]:>5}/{o.sample[1]:<6} "
                     f"{o.seconds:>9.3f}s   {o.rto_seconds / 60:>4.0f} min  {canary:<9} {o.verdict}"
                     f"{'  (' + o.detail + ')' if o.detail and not o.detail.startswith('FAIL') else ''}")
    return "\n".join(lines)


def add_parser(sub, add_env) -> None:
    p = sub.add_parser("restore-drill", help="restore tables (PITR) and baseline objects into scratch copies, compare, time against the RTO",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_env(p)
    p.add_argument("--table", choices=[s.value for s in Store], metavar="STORE",
                   help=f"only this store ({', '.join(s.value for s in Store)}); default: all")
    p.add_argument("--to", metavar="TIME", help="restore this instant (epoch seconds or ISO-8601) instead of now")
    p.add_argument("--sample", type=int, default=25, metavar="N",
                   help="baseline objects compared by hash (default 25; tables are always compared whole)")


def run(args, config: AwsConfig, *, out: TextIO | None = None) -> int:
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
        print(f"==> {store.value}: restoring {'to ' + iso(to) if to else 'the state after writing a canary and reading the source'}",
              file=out, flush=True)
        outcomes.append(drill.baselines(to) if store is Store.BASELINES else drill.table(store, to))
    print(render(outcomes), file=out)
    failed = [o for o in outcomes if not o.passed]
    if failed:
        raise CheckFailed(", ".join(f"{o.store}: {o.verdict}" for o in failed))
    return 0
