"""Plan, deploy and roll back an environment: production deploys only an approved assembly.

``bin/ops plan --env ENV`` synthesizes the app once, runs every gate on that
synthesis, keeps the cloud assembly under ``.approvals/<env>/<id>/``, prints
the complete ``cdk diff`` of ``<Stage>/*`` against the account, the values the
templates read at deploy time, and finally ``approval id: <64 hex>``: the
digest of the kept assembly (opscli/approval.py). Any failure (synth, gates,
diff) exits non-zero before an id is printed.

``bin/ops deploy --env ENV --approved ID`` deploys exactly that kept assembly:
it makes one private copy of it (0700 temporary directory, files copied, not
linked, read once), checks that the copy's digest is ID, checks that the
checkout still synthesizes the same templates (a commit or a configuration
change since approval is refused, naming the stacks whose templates changed),
takes the deploy lock (opscli/deploy_lock.py), runs ``cdk deploy --app <the
copy>``, then proves that what runs is what was approved (deployed templates,
Lambda ``CodeSha256``, asset objects) and records the id in the SSM parameter
``deployed-approval``. Production refuses to deploy without ``--approved``;
staging without it plans and deploys what it just planned.

``bin/ops rollback --env ENV --to ID`` redeploys an earlier kept assembly
(docs/runbooks/rollback.md): the same copy, digest check, lock, post-deploy
proof and record, without the checkout check, since going back to older
templates is the point.

Keep directory: ``OPS_APPROVALS_DIR`` (default ``.approvals/`` in the
repository). Exit status: 0 success, 1 a check refused (gates, digest,
wrong environment, changed templates, cdk deploy failed, what runs differs
from the approval), 2 the command could not run (another deployment holds the
lock, no credentials, no kept assembly).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Protocol, TextIO

from botocore.exceptions import ClientError

import toolchain
from envconfig.aws import AwsConfig

from . import approval, assembly, deploy_lock, faults
from .errors import CheckFailed, OpsError

ROOT = Path(__file__).resolve().parent.parent
# The files the AWS app is synthesized from. A change to any of them since the
# plan may change the templates, which `deploy` then checks by synthesizing.
SOURCES = ("app.py", "cdk.json", "toolchain.py", "package-lock.json", "requirements.txt",
           "stacks", "constructs_lib", "envconfig", "config", "lambda", "policy")


class Runner(Protocol):
    def __call__(self, cmd: list[str]) -> subprocess.CompletedProcess: ...


def run_command(cmd: list[str]) -> subprocess.CompletedProcess:
    """Run ``cmd`` with its output captured. Without COLUMNS/LINES: the CDK CLI wraps its
    tables at $COLUMNS, and the kept diff.txt (and what is read from it) must not depend
    on the width of the operator's terminal."""
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, env=env)


def approvals_dir() -> Path:
    return Path(os.environ.get("OPS_APPROVALS_DIR") or ROOT / ".approvals")


def kept_dir(config: AwsConfig, approval_id: str) -> Path:
    return approvals_dir() / config.name.value / approval_id


@dataclass(frozen=True)
class Plan:
    approval_id: str
    directory: Path        # .approvals/<env>/<id>: assembly/, diff.txt, approval.json
    diff: str

    @property
    def assembly(self) -> Path:
        return self.directory / "assembly"


def _stage_selector(config: AwsConfig) -> str:
    return f"{config.name.stage_id}/*"


def _cdk(*args: str) -> list[str]:
    return [*toolchain.cdk_cli(), *args]


def source_commit() -> str | None:
    """The commit a plan was synthesized from: ``GITHUB_SHA`` in a workflow, else the checkout's HEAD
    when nothing the app is built from has uncommitted changes (None otherwise).

    It goes into ``approval.json`` and, at deploy, into the deployment record, so that a
    scheduled drift job can synthesize that commit again and get the approved assembly back
    (the same commit gives the same approval id; .github/workflows/drift.yml).
    """
    if re.fullmatch(r"[0-9a-f]{40}", os.environ.get("GITHUB_SHA", "")):
        return os.environ["GITHUB_SHA"]
    try:
        head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--", *SOURCES],
                               capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    commit = head.stdout.strip()
    if head.returncode or dirty.returncode or dirty.stdout.strip() or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return None
    return commit


def sources_digest() -> str:
    """Digest of the files the AWS app is built from (plus MD_CONFIG_DIR's files when set)."""
    roots = [ROOT / s for s in SOURCES]
    if os.environ.get("MD_CONFIG_DIR"):
        roots.append(Path(os.environ["MD_CONFIG_DIR"]))
    return approval.files_digest(roots)


def _tail(proc: subprocess.CompletedProcess, limit: int = 3000) -> str:
    return ((proc.stdout or "") + (proc.stderr or ""))[-limit:].strip()


def synthesize_gated(config: AwsConfig, outdir: Path, *, runner: Runner, out: TextIO) -> None:
    """One synthesis into ``outdir``, and every gate run on that synthesis."""
    print(f"==> gates on one synthesis ({outdir.name}): cdk synth '**' with cdk-nag, cfn-lint, checkov", file=out, flush=True)
    gates = runner([sys.executable, "-m", "gates.run", "--aws-only", "--output", str(outdir)])
    if gates.returncode != 0:
        raise CheckFailed("policy gates failed:\n" + _tail(gates))
    print((gates.stdout or "").rstrip(), file=out, flush=True)  # each gate's result and time


def _render_references(refs: dict[str, list[str]]) -> str:
    if not refs:
        return "Values read at deploy time: none\n"
    lines = ["Values read at deploy time (resolved by CloudFormation when the change set executes; "
             "not part of the approval id, see docs/operations.md):"]
    lines += [f"  {{{{resolve:{ref}}}}}  used by {', '.join(stacks)}" for ref, stacks in refs.items()]
    return "\n".join(lines) + "\n"


def _no_preflight() -> None:
    return None


def plan(config: AwsConfig, *, runner: Runner = run_command, out: TextIO = sys.stdout,
         preflight: Callable[[], None] = _no_preflight) -> Plan:
    """``preflight`` (bin/ops: the credentials' account is the environment's) runs before the gates,
    so missing credentials or an unreachable endpoint stop the plan in seconds, not after a synthesis."""
    preflight()
    stage = config.name.stage_id
    env_dir = approvals_dir() / config.name.value
    env_dir.mkdir(parents=True, exist_ok=True)
    staging_area = Path(tempfile.mkdtemp(prefix=".plan-", dir=env_dir))
    created = False
    try:
        synth_dir = staging_area / "assembly"
        fingerprint = sources_digest()
        synthesize_gated(config, synth_dir, runner=runner, out=out)
        digest = approval.assembly_digest(synth_dir, stage)
        directory = env_dir / digest.digest
        if not directory.exists():
            (staging_area / "approval.json").write_text(json.dumps({
                "environment": config.name.value, "stage": stage, "approval_id": digest.digest,
                "stacks": digest.by_name(), "sources": fingerprint, "commit": source_commit(),
            }, indent=2, sort_keys=True) + "\n")
            try:
                staging_area.rename(directory)  # atomic: a kept directory is always complete
                created = True
            except OSError:
                if not directory.is_dir():  # not a concurrent plan of the same id
                    raise
        assembly = directory / "assembly"
        print(f"==> cdk diff '{_stage_selector(config)}' --app {assembly}", file=out, flush=True)
        # --no-change-set: a template diff, which the read-only plan role can compute too.
        diff = runner(_cdk("diff", _stage_selector(config), "--app", str(assembly), "--no-color", "--no-change-set"))
        if diff.returncode != 0:  # without --fail, cdk diff exits 0 whatever the differences
            raise CheckFailed(f"cdk diff failed (exit {diff.returncode}); no approval id:\n{_tail(diff)}")
        # The complete output, both streams, nothing filtered: this is what reviewers read.
        text = (diff.stdout or "") + (diff.stderr or "")
        text = text.rstrip() + "\n\n" + _render_references(approval.dynamic_references(assembly, stage))
        partial = directory / f".diff.{os.getpid()}"
        partial.write_text(text)
        partial.replace(directory / "diff.txt")
    except BaseException:
        if created:
            shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging_area, ignore_errors=True)
    print(text, file=out)
    print(f"kept: {directory}", file=out)
    print(f"approval id: {digest.digest}", file=out, flush=True)
    return Plan(digest.digest, directory, text)


def _load_kept(config: AwsConfig, approval_id: str) -> tuple[Path, dict]:
    directory = kept_dir(config, approval_id)
    record = directory / "approval.json"
    if not record.is_file() or not (directory / "assembly").is_dir():
        other = [env for env in ("staging", "production") if env != config.name.value
                 and (approvals_dir() / env / approval_id / "approval.json").is_file()]
        if other:
            raise OpsError(f"approval id {approval_id} is a plan of {other[0]}, not {config.name.value}: wrong environment "
                           f"(deploy it with --env {other[0]}, or plan {config.name.value})")
        raise OpsError(f"no kept assembly for {config.name.value} with approval id {approval_id} in {approvals_dir()}; "
                       "run `bin/ops plan` (in CI, download the plan job's artifact) first")
    try:
        data = json.loads(record.read_text())
        if not isinstance(data, dict):
            raise ValueError("not an object")
    except ValueError as exc:
        raise CheckFailed(f"{record} is unreadable ({exc}); plan and approve again") from None
    planned_for = data.get("environment")
    if planned_for != config.name.value:
        raise CheckFailed(f"the kept assembly {approval_id} was planned for {planned_for!r}, not {config.name.value!r}: "
                          "wrong environment; plan this environment and approve its own id")
    return directory, data


@contextmanager
def private_copy(source: Path) -> Iterator[Path]:
    """A private copy of the assembly at ``source``: a new 0700 directory holding copies
    (never links) of exactly the files the reader lists (``assembly.Assembly.files``),
    each read once, without following a link; files left read-only. Removed on exit."""
    try:
        listed = assembly.read(source).files()
    except assembly.AssemblyError as exc:
        raise CheckFailed(f"the kept assembly is refused: {exc}") from None
    tmp = Path(tempfile.mkdtemp(prefix="ops-assembly-"))  # mode 0700, owned by this user
    try:
        copy = tmp / "assembly"
        copy.mkdir(mode=0o700)
        for rel in listed:
            target = copy / rel
            target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            try:
                fd = os.open(source / rel, os.O_RDONLY | os.O_NOFOLLOW)
            except OSError as exc:
                raise CheckFailed(f"the kept assembly changed while it was copied: {source / rel}: {exc.strerror}") from None
            with os.fdopen(fd, "rb") as handle:
                executable = bool(os.fstat(handle.fileno()).st_mode & 0o111)
                data = handle.read()
            target.write_bytes(data)
            target.chmod(0o500 if executable else 0o400)
        yield copy
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _checked_stage(config: AwsConfig, copy: Path, approval_id: str, record: dict) -> assembly.Stage:
    """The environment's Stage of the private copy, after checking its digest is the approval id."""
    stage_name = config.name.stage_id
    try:
        read = assembly.read(copy)
        stage = read.stage(stage_name)
        current = approval.stage_digest(stage)
    except (OSError, ValueError) as exc:
        raise CheckFailed(f"the kept assembly for {approval_id} is refused: {exc}") from None
    if current.digest != approval_id:
        for other in read.stages.values():
            if other.name != stage_name and approval.stage_digest(other).digest == approval_id:
                raise CheckFailed(f"approval id {approval_id} is the digest of {other.name}'s assembly, not {stage_name}'s: "
                                  "wrong environment")
        changed = approval.changed_stacks(record.get("stacks", {}), current.by_name()) or ["its assets or artifact list"]
        raise CheckFailed(f"the kept assembly no longer has digest {approval_id}: {', '.join(changed)} changed "
                          "since approval; plan and approve again")
    return stage


def check_digest(config: AwsConfig, approval_id: str) -> Path:
    """The kept assembly's directory, after checking (on a private copy) that its digest is still the approval id."""
    directory, record = _load_kept(config, approval_id)
    with private_copy(directory / "assembly") as copy:
        _checked_stage(config, copy, approval_id, record)
    return directory


def check_checkout(config: AwsConfig, directory: Path, *, runner: Runner, out: TextIO, record: dict | None = None) -> None:
    """Refuse when the checkout no longer synthesizes the approved templates (cheap when nothing changed)."""
    record = record if record is not None else json.loads((directory / "approval.json").read_text())
    if record.get("sources") == sources_digest():
        return
    print("==> the checkout changed since approval: synthesizing it to compare templates", file=out, flush=True)
    with tempfile.TemporaryDirectory(prefix=".check-", dir=directory.parent) as tmp:
        synth = runner(_cdk("synth", _stage_selector(config), "-q", "--output", tmp))
        if synth.returncode != 0:
            raise CheckFailed(f"cdk synth of the checkout failed:\n{_tail(synth)}")
        now = approval.assembly_digest(Path(tmp), config.name.stage_id)
    changed = approval.changed_stacks(record["stacks"], now.by_name())
    if changed:
        raise CheckFailed(f"the templates of {', '.join(changed)} changed since approval {record['approval_id'][:12]}… "
                          "(a commit or configuration change); run `bin/ops plan`, review, approve the new id")


LOOKUP_QUALIFIER = "hnb659fds"  # the CDK bootstrap's default qualifier (stacks/oidc.py)


class Account(Protocol):
    """What deploy and rollback do in the environment's account besides ``cdk deploy``."""

    def lock(self, command: str, approval_id: str): ...
    def check_deployed(self, stage: assembly.Stage) -> list[str]: ...
    def record(self, approval_id: str, command: str, commit: str | None = None) -> None: ...


class AwsAccount:
    """The account through boto3's normal chain (opscli/session.py)."""

    def __init__(self, config: AwsConfig):
        from .session import Aws  # boto3: imported only when an account is used

        self.config = config
        self.aws = Aws(config)
        self._by: str | None = None

    def client(self, service: str, region: str | None = None):
        if region in (None, self.aws.region):
            return self.aws.client(service)
        return self.aws.session.client(service, region_name=region)

    @property
    def by(self) -> str:
        if self._by is None:
            self._by = self.aws.client("sts").get_caller_identity()["Arn"]
        return self._by

    def lock(self, command: str, approval_id: str) -> deploy_lock.DeployLock:
        return deploy_lock.DeployLock(self.aws.client("ssm"), self.config.deploy_lock_parameter, by=self.by,
                                      command=command, approval_id=approval_id)

    def check_deployed(self, stage: assembly.Stage) -> list[str]:
        return check_deployed(stage, self._reader())

    def _reader(self) -> Callable[..., object]:
        """Clients for the post-deploy reads. The deploy role may assume the CDK bootstrap roles
        and nothing else (docs/requirements.md#least-privilege): the reads go through the
        read-only CDK lookup role, as CI's verify does; an operator whose own credentials
        cannot assume it reads with their own."""
        import boto3
        from botocore.exceptions import BotoCoreError

        region = self.aws.region
        partition = "aws-cn" if region.startswith("cn-") else "aws-us-gov" if region.startswith("us-gov-") else "aws"
        account = self.config.account
        role = f"arn:{partition}:iam::{account}:role/cdk-{LOOKUP_QUALIFIER}-lookup-role-{account}-{region}"
        try:
            creds = self.aws.client("sts").assume_role(RoleArn=role, RoleSessionName="bin-ops-post-deploy-check")["Credentials"]
        except (ClientError, BotoCoreError):
            return self.client
        session = boto3.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                aws_session_token=creds["SessionToken"])
        clients: dict[tuple, object] = {}

        def client(service: str, region_: str | None = None):
            key = (service, region_ or region)
            if key not in clients:
                clients[key] = session.client(service, region_name=region_ or region)
            return clients[key]
        return client

    def record(self, approval_id: str, command: str, commit: str | None = None) -> None:
        self.aws.client("ssm").put_parameter(
            Name=self.config.deployed_approval_parameter, Type="String", Overwrite=True,
            Value=json.dumps({"approval_id": approval_id, "deployed_at": int(time.time()), "by": self.by, "command": command,
                              "commit": commit}, sort_keys=True),
            Description="Approval id of the assembly bin/ops last deployed (verify and drift compare with it)")


def _sha256_stream(body) -> str:
    h = hashlib.sha256()
    for chunk in iter(lambda: body.read(1 << 20), b""):
        h.update(chunk)
    return h.hexdigest()


def check_deployed(stage: assembly.Stage, client: Callable[..., object]) -> list[str]:
    """What runs is what was approved: each stack's deployed template is the approved template,
    each Lambda function reports the approved package's CodeSha256, and every object under an
    approved asset key holds the approved bytes. Returns one line per difference."""
    problems: list[str] = []
    for stack in sorted(stage.stacks.values(), key=lambda s: s.name):
        cf = client("cloudformation", stack.region)
        body = cf.get_template(StackName=stack.name, TemplateStage="Original")["TemplateBody"]
        deployed = body if isinstance(body, dict) else json.loads(body)
        if approval.canonical_json(deployed) != approval.canonical_json(stack.template):
            problems.append(f"{stack.name}: the deployed template is not the approved template")
        expected = stack.lambda_code_sha256()
        if not expected:
            continue
        physical, token = {}, None
        while True:
            page = cf.list_stack_resources(StackName=stack.name, **({"NextToken": token} if token else {}))
            physical.update({r["LogicalResourceId"]: r["PhysicalResourceId"] for r in page["StackResourceSummaries"]})
            token = page.get("NextToken")
            if not token:
                break
        functions = client("lambda", stack.region)
        for logical_id, sha in sorted(expected.items()):
            name = physical.get(logical_id)
            if name is None:
                problems.append(f"{stack.name}/{logical_id}: no such function in the deployed stack")
                continue
            live = functions.get_function_configuration(FunctionName=name)["CodeSha256"]
            if live != sha:
                problems.append(f"{stack.name}/{logical_id} ({name}) runs code with CodeSha256 {live}; "
                                f"the approved package has {sha}")
    for manifest in sorted(stage.asset_manifests.values(), key=lambda m: m.artifact_id):
        for asset in sorted(manifest.files.values(), key=lambda a: a.asset_id):
            approved = hashlib.sha256(asset.package()).hexdigest()
            for bucket, key, region in asset.destinations:
                try:
                    body = client("s3", region or None).get_object(Bucket=bucket, Key=key)["Body"]
                except ClientError as exc:
                    problems.append(f"s3://{bucket}/{key} (asset {asset.asset_id[:12]}…): {exc.response['Error']['Code']}")
                    continue
                actual = _sha256_stream(body)
                if actual != approved:
                    problems.append(f"s3://{bucket}/{key} (asset {asset.asset_id[:12]}…) holds bytes with sha256 {actual}, "
                                    f"not the approved {approved}")
    return problems


def _deploy_kept(config: AwsConfig, directory: Path, record: dict, *, runner: Runner, out: TextIO, verb: str,
                 account: Account | None, preflight: Callable[[], None], checkout: bool) -> None:
    approval_id = directory.name
    with private_copy(directory / "assembly") as copy:
        stage = _checked_stage(config, copy, approval_id, record)
        faults.point("copied")  # from here the kept directory is never read again
        preflight()
        if checkout:
            check_checkout(config, directory, runner=runner, out=out, record=record)
        account = account or AwsAccount(config)
        command = "deploy" if verb == "deployed" else "rollback"
        with account.lock(command, approval_id) as lock:
            faults.point("locked")
            assembly.place_packages(stage)
            print(f"==> cdk deploy '{_stage_selector(config)}' --app <private copy of {directory / 'assembly'}>",
                  file=out, flush=True)
            deployed = runner(_cdk("deploy", _stage_selector(config), "--app", str(copy),
                                   "--require-approval", "never", "--ci", "--no-color"))
            if deployed.returncode != 0:
                raise CheckFailed(f"cdk deploy failed:\n{_tail(deployed)}")
            faults.point("deployed")
            print("==> what runs is what was approved: templates, Lambda CodeSha256, asset objects", file=out, flush=True)
            problems = account.check_deployed(stage)
            if getattr(lock, "lost", None):
                problems.append(lock.lost)
            if problems:
                raise CheckFailed("after cdk deploy, what runs is not what was approved (see docs/operations.md, "
                                  "\"After a deploy\"):\n  " + "\n  ".join(problems))
            account.record(approval_id, command, commit=record.get("commit"))
    with (directory.parent / "deployments.log").open("a") as log:  # what rollback lists
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {verb} {approval_id}\n")
    print(f"{verb}: {config.name.stage_id} is at approval id {approval_id}", file=out, flush=True)


def deploy(
    config: AwsConfig,
    *,
    approved: str | None,
    verify: Callable[[], int],
    runner: Runner = run_command,
    out: TextIO = sys.stdout,
    preflight: Callable[[], None] = _no_preflight,
    account: Account | None = None,
) -> int:
    if approved is None:
        if config.is_production:
            raise OpsError("production deploys only an approved assembly: run `bin/ops plan --env production`, "
                           "review it, then pass its approval id with --approved")
        planned = plan(config, runner=runner, out=out, preflight=preflight)
        directory, record = _load_kept(config, planned.approval_id)
        _deploy_kept(config, directory, record, runner=runner, out=out, verb="deployed", account=account,
                     preflight=_no_preflight, checkout=False)
    else:
        directory, record = _load_kept(config, approval.parse_id(approved))
        _deploy_kept(config, directory, record, runner=runner, out=out, verb="deployed", account=account,
                     preflight=preflight, checkout=True)
    print("==> post-deploy verification", file=out, flush=True)
    return verify()


def rollback(config: AwsConfig, *, to: str, verify: Callable[[], int], runner: Runner = run_command,
             out: TextIO = sys.stdout, preflight: Callable[[], None] = _no_preflight, account: Account | None = None) -> int:
    directory, record = _load_kept(config, approval.parse_id(to))
    _deploy_kept(config, directory, record, runner=runner, out=out, verb="rolled back", account=account,
                 preflight=preflight, checkout=False)
    print("==> post-deploy verification", file=out, flush=True)
    return verify()


def history(config: AwsConfig) -> list[str]:
    """Lines of ``deployments.log`` for the environment (oldest first)."""
    log = approvals_dir() / config.name.value / "deployments.log"
    return log.read_text().splitlines() if log.is_file() else []
