"""Plan, deploy and roll back an environment: production deploys only an approved assembly.

``bin/ops plan --env ENV`` synthesizes the app once, runs every gate on that
synthesis, keeps the cloud assembly under ``.approvals/<env>/<id>/``, prints
the complete ``cdk diff`` of ``<Stage>/*`` against the account, the values the
templates read at deploy time, and finally ``approval id: <64 hex>``: the
digest of the kept assembly (opscli/approval.py). Any failure (synth, gates,
diff) exits non-zero before an id is printed.

``bin/ops deploy --env ENV --approved ID`` deploys exactly that kept assembly
with ``cdk deploy --app <assembly>``, after checking that its digest is still
ID and that the checkout still synthesizes the same templates (a commit or a
configuration change since approval is refused, naming the stacks whose
templates changed). Production refuses to deploy without ``--approved``;
staging without it plans and deploys what it just planned.

``bin/ops rollback --env ENV --to ID`` redeploys an earlier kept assembly
(docs/runbooks/rollback.md): the same digest check, without the checkout
check, since going back to older templates is the point.

Keep directory: ``OPS_APPROVALS_DIR`` (default ``.approvals/`` in the
repository). Exit status: 0 success, 1 a check refused (gates, digest,
changed templates, cdk deploy failed), 2 the command could not run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, TextIO

import toolchain
from envconfig.aws import AwsEnvironment

from . import approval
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


def kept_dir(config: AwsEnvironment, approval_id: str) -> Path:
    return approvals_dir() / config.name.value / approval_id


@dataclass(frozen=True)
class Plan:
    approval_id: str
    directory: Path        # .approvals/<env>/<id>: assembly/, diff.txt, approval.json
    diff: str

    @property
    def assembly(self) -> Path:
        return self.directory / "assembly"


def _stage_selector(config: AwsEnvironment) -> str:
    return f"{config.name.stage_id}/*"


def _cdk(*args: str) -> list[str]:
    return [*toolchain.cdk_cli(), *args]


def sources_digest() -> str:
    """Digest of the files the AWS app is built from (plus MD_CONFIG_DIR's files when set)."""
    roots = [ROOT / s for s in SOURCES]
    if os.environ.get("MD_CONFIG_DIR"):
        roots.append(Path(os.environ["MD_CONFIG_DIR"]))
    return approval.files_digest(roots)


def _tail(proc: subprocess.CompletedProcess, limit: int = 3000) -> str:
    return ((proc.stdout or "") + (proc.stderr or ""))[-limit:].strip()


def synthesize_gated(config: AwsEnvironment, outdir: Path, *, runner: Runner, out: TextIO) -> None:
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


def plan(config: AwsEnvironment, *, runner: Runner = run_command, out: TextIO = sys.stdout,
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
                "stacks": digest.by_name(), "sources": fingerprint,
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


def _load_kept(config: AwsEnvironment, approval_id: str) -> tuple[Path, dict]:
    directory = kept_dir(config, approval_id)
    record = directory / "approval.json"
    if not record.is_file() or not (directory / "assembly").is_dir():
        raise OpsError(f"no kept assembly for {config.name.value} with approval id {approval_id} in {approvals_dir()}; "
                       "run `bin/ops plan` (in CI, download the plan job's artifact) first")
    return directory, json.loads(record.read_text())


def check_digest(config: AwsEnvironment, approval_id: str) -> Path:
    """The kept assembly's directory, after checking its digest is still the approval id."""
    directory, record = _load_kept(config, approval_id)
    try:
        current = approval.assembly_digest(directory / "assembly", config.name.stage_id)
    except (OSError, ValueError, KeyError) as exc:
        raise CheckFailed(f"the kept assembly for {approval_id} is unreadable: {exc}") from None
    if current.digest != approval_id:
        changed = approval.changed_stacks(record.get("stacks", {}), current.by_name()) or ["(unknown stack)"]
        raise CheckFailed(f"the kept assembly no longer has digest {approval_id}: {', '.join(changed)} changed "
                          "since approval; plan and approve again")
    return directory


def check_checkout(config: AwsEnvironment, directory: Path, *, runner: Runner, out: TextIO) -> None:
    """Refuse when the checkout no longer synthesizes the approved templates (cheap when nothing changed)."""
    record = json.loads((directory / "approval.json").read_text())
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


def _deploy_kept(config: AwsEnvironment, directory: Path, *, runner: Runner, out: TextIO, verb: str) -> None:
    assembly = directory / "assembly"
    print(f"==> cdk deploy '{_stage_selector(config)}' --app {assembly}", file=out, flush=True)
    deployed = runner(_cdk("deploy", _stage_selector(config), "--app", str(assembly),
                           "--require-approval", "never", "--ci", "--no-color"))
    if deployed.returncode != 0:
        raise CheckFailed(f"cdk deploy failed:\n{_tail(deployed)}")
    with (directory.parent / "deployments.log").open("a") as log:  # what rollback lists
        log.write(f"{time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())} {verb} {directory.name}\n")
    print(f"{verb}: {config.name.stage_id} is at approval id {directory.name}", file=out, flush=True)


def deploy(
    config: AwsEnvironment,
    *,
    approved: str | None,
    verify: Callable[[], int],
    runner: Runner = run_command,
    out: TextIO = sys.stdout,
    preflight: Callable[[], None] = _no_preflight,
) -> int:
    if approved is None:
        if config.is_production:
            raise OpsError("production deploys only an approved assembly: run `bin/ops plan --env production`, "
                           "review it, then pass its approval id with --approved")
        directory = plan(config, runner=runner, out=out, preflight=preflight).directory
    else:
        directory = check_digest(config, approval.parse_id(approved))
        preflight()
        check_checkout(config, directory, runner=runner, out=out)
    _deploy_kept(config, directory, runner=runner, out=out, verb="deployed")
    print("==> post-deploy verification", file=out, flush=True)
    return verify()


def rollback(config: AwsEnvironment, *, to: str, verify: Callable[[], int], runner: Runner = run_command,
             out: TextIO = sys.stdout, preflight: Callable[[], None] = _no_preflight) -> int:
    directory = check_digest(config, approval.parse_id(to))
    preflight()
    _deploy_kept(config, directory, runner=runner, out=out, verb="rolled back")
    print("==> post-deploy verification", file=out, flush=True)
    return verify()


def history(config: AwsEnvironment) -> list[str]:
    """Lines of ``deployments.log`` for the environment (oldest first)."""
    log = approvals_dir() / config.name.value / "deployments.log"
    return log.read_text().splitlines() if log.is_file() else []
