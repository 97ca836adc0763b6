"""Take retained resources back under their stacks after a destroy.

``bin/ops adopt --env ENV`` brings every resource a stack keeps on delete
(KMS keys, tables, buckets and their policies, the backup vault, log groups,
the OIDC provider) back under its stack through CloudFormation resource
import (``cdk import`` with a resource mapping this command writes), then
deploys the stack so that everything not retained (aliases, roles, alarms,
...) is created again around them. Stacks go in deploy order; a stack that
exists and is healthy is left alone, a stack a failed deploy left in
``ROLLBACK_COMPLETE`` is deleted first (its retained resources stay).

Which physical resource belongs to which logical id:

- names the configuration fixes (tables, named buckets, vaults, log groups,
  the OIDC provider) are read from the synthesized template;
- an access-log bucket is the logging target of the bucket that logs to it;
- a KMS key is the key the retained data is encrypted with: the tables'
  SSE key, the buckets' default encryption key, the log groups' and the
  vault's key. All evidence must agree. A key with no such evidence (the
  secrets key: SSM names it only by its alias) is the oldest enabled
  customer key with the template's description; later ones are reported as
  orphans of failed deploys and left alone. ``--key LOGICAL_ID=KEY_ID``
  decides instead.

An alias outside any stack (left by a failed deploy, possibly on an orphan
key) is deleted before the deploy, which re-creates it on the adopted key;
the command then checks every alias points at the key holding the data and
every retained bucket has its policy.

Exit status: 0 adopted (or nothing to adopt), 1 a check failed (evidence
disagrees, a cdk import/deploy failed, an alias or policy is wrong
afterwards), 2 the command could not run.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator, TextIO

from botocore.exceptions import ClientError

from envconfig.aws import AwsConfig

from . import assembly as cloud_assembly
from .errors import CheckFailed, OpsError
from .release import run_command  # the one runner of the CDK CLI for bin/ops: captured, no terminal width
from .live import stacks as live_stacks
from .session import Aws

ROOT = Path(__file__).resolve().parent.parent
# Stack order and states: one home (opscli/live/stacks.py). A stack whose update was
# rolled back still runs its previous template, so adopt leaves it alone (USABLE).
ORDER = live_stacks.DEPLOY_ORDER
HEALTHY = live_stacks.USABLE
DEAD = live_stacks.DEAD
IDENTIFIER = {
    "AWS::KMS::Key": "KeyId",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::DynamoDB::Table": "TableName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::S3::BucketPolicy": "Bucket",
    "AWS::Backup::BackupVault": "BackupVaultName",
    "AWS::Logs::LogGroup": "LogGroupName",
    "AWS::IAM::OIDCProvider": "Arn",
}
KEY_OVERRIDE = re.compile(r"(?P<logical>[A-Za-z0-9]+)=(?P<key>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})")

Runner = Callable[[list[str]], subprocess.CompletedProcess]


def _cdk(*args: str) -> list[str]:
    return ["npx", "--no-install", "cdk", *args]


def parse_key_overrides(values: list[str]) -> dict[str, str]:
    """``--key LOGICAL_ID=KEY_ID``, checked before any cloud call."""
    overrides = {}
    for value in values:
        match = KEY_OVERRIDE.fullmatch(value)
        if not match:
            raise OpsError(f"--key {value!r}: must be LOGICAL_ID=KEY_ID (a key id such as 1234abcd-12ab-34cd-56ef-1234567890ab)")
        overrides[match["logical"]] = match["key"]
    return overrides


@dataclass
class StackArtifact:
    short: str          # Data
    display: str        # Staging/Data
    name: str           # Staging-Data
    region: str
    template: dict[str, Any]


def load_assembly(config: AwsConfig, assembly: Path) -> list[StackArtifact]:
    stage = config.name.stage_id
    if not (assembly / f"assembly-{stage}" / "manifest.json").is_file():
        raise OpsError(f"{assembly / f'assembly-{stage}' / 'manifest.json'}: no cloud assembly of {stage} "
                       "(synthesize first, or pass --assembly)")
    try:
        read = cloud_assembly.read(assembly).stage(stage)
    except cloud_assembly.AssemblyError as exc:
        raise OpsError(str(exc)) from None
    stacks = [StackArtifact(s.short, s.display_name, s.name, s.region, s.template) for s in read.stacks.values()]
    unknown = [s.short for s in stacks if s.short not in ORDER]
    if unknown:
        raise OpsError(f"{read.directory / 'manifest.json'}: stacks {unknown} have no place in the adopt order {ORDER}")
    return sorted(stacks, key=lambda s: ORDER.index(s.short))


def _refs(value: Any) -> Iterator[str]:
    """Logical ids a property value refers to (Ref / Fn::GetAtt)."""
    if isinstance(value, dict):
        if "Ref" in value and isinstance(value["Ref"], str):
            yield value["Ref"]
        if "Fn::GetAtt" in value:
            yield value["Fn::GetAtt"][0]
        for v in value.values():
            yield from _refs(v)
    elif isinstance(value, list):
        for v in value:
            yield from _refs(v)


def _key_id(arn_or_id: str | None) -> str | None:
    return arn_or_id.rsplit("/", 1)[-1] if arn_or_id else None


@dataclass
class Plan:
    """What one stack's import will bind: logical id -> (type, identifier), and what was decided why."""

    stack: StackArtifact
    mapping: dict[str, tuple[str, str]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)   # alias name -> key logical id


class Adopter:
    def __init__(self, aws: Aws, config: AwsConfig, *, overrides: dict[str, str], out: TextIO):
        self.aws, self.config, self.overrides, self.out = aws, config, overrides, out
        self._clients: dict[tuple[str, str], Any] = {}

    def client(self, service: str, region: str):
        if (service, region) not in self._clients:
            self._clients[(service, region)] = self.aws.session.client(service, region_name=region)
        return self._clients[(service, region)]

    # ---- what exists ------------------------------------------------------------
    def stack_status(self, stack: StackArtifact) -> str | None:
        try:
            return self.client("cloudformation", stack.region).describe_stacks(StackName=stack.name)["Stacks"][0]["StackStatus"]
        except ClientError as exc:
            if "does not exist" in exc.response["Error"].get("Message", ""):
                return None
            raise

    def _bucket_exists(self, region: str, name: str) -> bool:
        try:
            self.client("s3", region).head_bucket(Bucket=name)
            return True
        except ClientError:
            return False

    def _identifier(self, stack: StackArtifact, logical_id: str, resolved: dict[str, str | None]) -> str | None:
        """The physical identifier of a retained resource, or None when it no longer exists."""
        resources = stack.template["Resources"]
        resource = resources[logical_id]
        rtype, props, region = resource["Type"], resource.get("Properties", {}), stack.region
        if rtype in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"):
            try:
                self.client("dynamodb", region).describe_table(TableName=props["TableName"])
                return props["TableName"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                    return None
                raise
        if rtype == "AWS::S3::Bucket":
            name = props.get("BucketName") if isinstance(props.get("BucketName"), str) else self._access_log_bucket(stack, logical_id)
            return name if name and self._bucket_exists(region, name) else None
        if rtype == "AWS::S3::BucketPolicy":
            (bucket_id,) = list(_refs(props["Bucket"]))
            bucket = resolved.get(bucket_id)
            if not bucket:
                return None
            try:
                self.client("s3", region).get_bucket_policy(Bucket=bucket)
                return bucket
            except ClientError:
                return None
        if rtype == "AWS::Backup::BackupVault":
            try:
                self.client("backup", region).describe_backup_vault(BackupVaultName=props["BackupVaultName"])
                return props["BackupVaultName"]
            except ClientError:
                return None
        if rtype == "AWS::Logs::LogGroup":
            name = props["LogGroupName"]
            groups = self.client("logs", region).describe_log_groups(logGroupNamePrefix=name)["logGroups"]
            return name if any(g["logGroupName"] == name for g in groups) else None
        if rtype == "AWS::IAM::OIDCProvider":
            host = props["Url"].removeprefix("https://")
            arn = f"arn:{self.partition}:iam::{self.config.account}:oidc-provider/{host}"
            try:
                self.client("iam", region).get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
                return arn
            except ClientError:
                return None
        if rtype == "AWS::KMS::Key":
            return self._key(stack, logical_id, resolved)
        raise OpsError(f"{stack.display}/{logical_id}: retained type {rtype} has no import identifier here")

    def _access_log_bucket(self, stack: StackArtifact, logical_id: str) -> str | None:
        """An unnamed access-log bucket: the logging target of the bucket that logs to it."""
        for other_id, other in stack.template["Resources"].items():
            logging = other.get("Properties", {}).get("LoggingConfiguration", {})
            if other["Type"] == "AWS::S3::Bucket" and logical_id in set(_refs(logging.get("DestinationBucketName"))):
                source = other["Properties"].get("BucketName")
                if isinstance(source, str) and self._bucket_exists(stack.region, source):
                    target = self.client("s3", stack.region).get_bucket_logging(Bucket=source).get("LoggingEnabled", {})
                    return target.get("TargetBucket")
        return None

    def _live_key_of(self, stack: StackArtifact, logical_id: str, resolved: dict[str, str | None]) -> str | None:
        """The key a retained, already resolved resource is encrypted with."""
        resource = stack.template["Resources"][logical_id]
        physical, region = resolved.get(logical_id), stack.region
        if not physical:
            return None
        rtype = resource["Type"]
        try:
            if rtype in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table"):
                return _key_id(self.client("dynamodb", region).describe_table(TableName=physical)["Table"].get("SSEDescription", {}).get("KMSMasterKeyArn"))
            if rtype == "AWS::S3::Bucket":
                rules = self.client("s3", region).get_bucket_encryption(Bucket=physical)["ServerSideEncryptionConfiguration"]["Rules"]
                return _key_id(rules[0]["ApplyServerSideEncryptionByDefault"].get("KMSMasterKeyID"))
            if rtype == "AWS::Logs::LogGroup":
                groups = self.client("logs", region).describe_log_groups(logGroupNamePrefix=physical)["logGroups"]
                return _key_id(next((g.get("kmsKeyId") for g in groups if g["logGroupName"] == physical), None))
            if rtype == "AWS::Backup::BackupVault":
                return _key_id(self.client("backup", region).describe_backup_vault(BackupVaultName=physical).get("EncryptionKeyArn"))
        except ClientError:
            return None
        return None

    def _key(self, stack: StackArtifact, logical_id: str, resolved: dict[str, str | None]) -> str | None:
        kms = self.client("kms", stack.region)
        if logical_id in self.overrides:
            chosen = self.overrides[logical_id]
            self.notes.append(f"{stack.display}/{logical_id}: key {chosen} (given with --key)")
            return chosen
        evidence = {}
        for other_id, other in stack.template["Resources"].items():
            if other_id != logical_id and other.get("DeletionPolicy") == "Retain" and logical_id in set(_refs(other.get("Properties", {}))):
                found = self._live_key_of(stack, other_id, resolved)
                if found:
                    evidence[other_id] = found
        if len(set(evidence.values())) > 1:
            raise CheckFailed(f"{stack.display}/{logical_id}: the retained data is encrypted with different keys "
                              f"({', '.join(f'{k}: {v}' for k, v in sorted(evidence.items()))}); choose one with --key {logical_id}=KEY_ID")
        description = stack.template["Resources"][logical_id].get("Properties", {}).get("Description")
        candidates = []
        for page in kms.get_paginator("list_keys").paginate():
            for entry in page["Keys"]:
                meta = kms.describe_key(KeyId=entry["KeyId"])["KeyMetadata"]
                if meta.get("KeyManager") == "CUSTOMER" and meta.get("Description") == description:
                    candidates.append(meta)
        if evidence:
            chosen = next(iter(evidence.values()))
            source = ", ".join(sorted(evidence))
            self.notes.append(f"{stack.display}/{logical_id}: key {chosen} (the key of {source})")
        else:
            usable = sorted((c for c in candidates if c["KeyState"] == "Enabled"), key=lambda c: c["CreationDate"])
            if not usable:
                return None
            chosen = usable[0]["KeyId"]
            self.notes.append(f"{stack.display}/{logical_id}: key {chosen} (oldest enabled key described {description!r})")
        state = next((c["KeyState"] for c in candidates if c["KeyId"] == chosen), None) or kms.describe_key(KeyId=chosen)["KeyMetadata"]["KeyState"]
        if state != "Enabled":
            raise CheckFailed(f"{stack.display}/{logical_id}: key {chosen}, which holds the data, is {state}; "
                              f"cancel its deletion first (aws kms cancel-key-deletion --key-id {chosen}; then enable it)")
        orphans = [c["KeyId"] for c in candidates if c["KeyId"] != chosen and c["KeyState"] == "Enabled"]
        if orphans:
            self.notes.append(f"{stack.display}/{logical_id}: other keys with the same description hold none of this "
                              f"stack's data (orphans of failed deploys?), left alone: {', '.join(orphans)}")
        return chosen

    # ---- one stack --------------------------------------------------------------
    def plan(self, stack: StackArtifact) -> Plan:
        plan = Plan(stack)
        self.notes = plan.notes
        resources = stack.template["Resources"]
        retained = [lid for lid, r in resources.items() if r.get("DeletionPolicy") == "Retain"]
        for lid in retained:
            if resources[lid]["Type"] not in IDENTIFIER:
                raise OpsError(f"{stack.display}/{lid}: retained type {resources[lid]['Type']} cannot be imported by adopt")
        # Keys last: their evidence is the other resources, resolved first; policies after their buckets.
        rank = {"AWS::KMS::Key": 2, "AWS::S3::BucketPolicy": 1}
        resolved: dict[str, str | None] = {}
        for lid in sorted(retained, key=lambda l: rank.get(resources[l]["Type"], 0)):
            resolved[lid] = self._identifier(stack, lid, resolved)
            if resolved[lid]:
                plan.mapping[lid] = (resources[lid]["Type"], resolved[lid])
            else:
                plan.notes.append(f"{stack.display}/{lid}: {resources[lid]['Type']} not found; the deploy creates it")
        for lid, resource in resources.items():
            if resource["Type"] == "AWS::KMS::Alias":
                name = resource["Properties"].get("AliasName")
                (target,) = list(_refs(resource["Properties"].get("TargetKeyId"))) or [None]
                if isinstance(name, str):
                    plan.aliases[name] = target
        return plan

    def write_mapping(self, plan: Plan, directory: Path) -> Path:
        path = directory / f"{plan.stack.name}.mapping.json"
        path.write_text(json.dumps({lid: {IDENTIFIER[rtype]: ident} for lid, (rtype, ident) in plan.mapping.items()}, indent=2))
        return path

    def remove_stray_aliases(self, plan: Plan) -> None:
        kms = self.client("kms", plan.stack.region)
        for alias in plan.aliases:
            try:
                target = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] == "NotFoundException":
                    continue
                raise
            kms.delete_alias(AliasName=alias)
            print(f"  removed {alias} (outside any stack, on key {target}); the deploy re-creates it on the adopted key", file=self.out)

    def check(self, plan: Plan) -> list[str]:
        """After the deploy: aliases on the adopted keys, bucket policies in place."""
        problems = []
        kms = self.client("kms", plan.stack.region)
        for alias, key_lid in plan.aliases.items():
            want = plan.mapping.get(key_lid, (None, None))[1]
            if want is None:
                continue
            got = kms.describe_key(KeyId=alias)["KeyMetadata"]["KeyId"]
            if got != want:
                problems.append(f"{alias} points at {got}, not at {want} (the key holding the data)")
        for lid, resource in plan.stack.template["Resources"].items():
            if resource["Type"] == "AWS::S3::BucketPolicy":
                (bucket_id,) = list(_refs(resource["Properties"]["Bucket"]))
                bucket = plan.mapping.get(bucket_id, (None, None))[1]
                if bucket:
                    try:
                        self.client("s3", plan.stack.region).get_bucket_policy(Bucket=bucket)
                    except ClientError:
                        problems.append(f"bucket {bucket} has no policy after the deploy")
        return problems

    @property
    def partition(self) -> str:
        return "aws-cn" if self.config.region.startswith("cn-") else "aws-us-gov" if self.config.region.startswith("us-gov-") else "aws"


def _wait_deleted(adopter: Adopter, stack: StackArtifact, timeout_seconds: float = 600) -> None:
    deadline = time.monotonic() + timeout_seconds
    while adopter.stack_status(stack) not in (None, "DELETE_COMPLETE"):
        if adopter.stack_status(stack) == "DELETE_FAILED" or time.monotonic() > deadline:
            raise CheckFailed(f"{stack.name}: could not delete the failed stack ({adopter.stack_status(stack)})")
        time.sleep(2)


def adopt(aws: Aws, config: AwsConfig, *, assembly: Path | None, overrides: dict[str, str],
          runner: Runner = run_command, out: TextIO = sys.stdout) -> float:
    """Adopt every retained resource of the environment; returns the measured seconds."""
    start = time.monotonic()
    if assembly is None:
        assembly = ROOT / "cdk.out"
        print(f"==> cdk synth '{config.name.stage_id}/*' (cloud assembly {assembly})", file=out, flush=True)
        synth = runner(_cdk("synth", f"{config.name.stage_id}/*", "--output", str(assembly), "--quiet"))
        if synth.returncode != 0:
            raise CheckFailed(f"cdk synth failed: {(synth.stderr or synth.stdout)[-2000:]}")
    stacks = load_assembly(config, assembly)
    adopter = Adopter(aws, config, overrides=overrides, out=out)
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="adopt-") as tmp:
        for stack in stacks:
            status = adopter.stack_status(stack)
            print(f"==> {stack.display} ({stack.name}, {stack.region}): {status or 'no stack'}", file=out, flush=True)
            if status in HEALTHY:
                print("  under its stack already; nothing to adopt", file=out)
                continue
            if status in DEAD:
                print(f"  deleting the {status} stack first (a failed create cannot be updated; retained resources stay)", file=out)
                adopter.client("cloudformation", stack.region).delete_stack(StackName=stack.name)
                _wait_deleted(adopter, stack)
            elif status is not None:
                raise OpsError(f"{stack.name} is {status}; wait until it settles, then run adopt again")
            plan = adopter.plan(stack)
            for note in plan.notes:
                print(f"  {note}", file=out)
            adopter.remove_stray_aliases(plan)
            if plan.mapping:
                mapping = adopter.write_mapping(plan, Path(tmp))
                for lid, (rtype, ident) in sorted(plan.mapping.items()):
                    print(f"  import {lid} ({rtype}) = {ident}", file=out)
                imported = runner(_cdk("import", stack.display, "--app", str(assembly), "--resource-mapping", str(mapping)))
                if imported.returncode != 0:
                    raise CheckFailed(f"cdk import {stack.display} failed: {(imported.stderr or imported.stdout)[-2000:]}")
            deployed = runner(_cdk("deploy", stack.display, "--app", str(assembly), "--exclusively", "--require-approval", "never"))
            if deployed.returncode != 0:
                raise CheckFailed(f"cdk deploy {stack.display} failed: {(deployed.stderr or deployed.stdout)[-2000:]}")
            problems += [f"{stack.display}: {p}" for p in adopter.check(plan)]
    seconds = time.monotonic() - start
    if problems:
        raise CheckFailed("; ".join(problems))
    print(f"adopted in {seconds:.1f}s: every retained resource is back under its stack", file=out)
    return seconds


def add_parser(sub, add_env) -> None:
    p = sub.add_parser("adopt", help="after a destroy: import retained tables, buckets, keys, vault back into their stacks, then deploy",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_env(p)
    p.add_argument("--assembly", type=Path, metavar="DIR",
                   help="use this synthesized cloud assembly (default: cdk synth into cdk.out)")
    p.add_argument("--key", action="append", default=[], metavar="LOGICAL_ID=KEY_ID",
                   help="bind this template key to this KMS key instead of deciding from the data (repeatable)")


def run(args, config: AwsConfig, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    overrides = parse_key_overrides(args.key)  # input first, before any cloud call
    if args.assembly is not None:
        load_assembly(config, args.assembly)
    aws = Aws(config)
    aws.check_account()
    adopt(aws, config, assembly=args.assembly, overrides=overrides, out=out)
    return 0
