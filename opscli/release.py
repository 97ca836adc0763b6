"""Deploying an environment: gates, diff, deploy, verify — production only with the approved diff.

``bin/ops plan --env ENV`` synthesizes (every gate), computes ``cdk diff`` of
``<Stage>/*`` against the account and prints it with its SHA-256; the diff is
also written to ``cdk.out/<env>.diff``.

``bin/ops deploy --env staging`` runs the gates, shows the diff, deploys
``'Staging/*'`` from the same cloud assembly and runs ``verify``.

``bin/ops deploy --env production --approved-diff SHA256`` does the same for
``'Production/*'`` only when the diff computed now has exactly the SHA-256 a
reviewer approved from ``plan``. Any change since (a new commit, someone
else's deploy, manual drift) changes the diff and stops the deploy before
anything is touched.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Protocol, TextIO

from envconfig.aws import AwsEnvironment

from .errors import CheckFailed, OpsError

ROOT = Path(__file__).resolve().parent.parent
ASSEMBLY = ROOT / "cdk.out"
# Lines of cdk diff's output that are progress or credential notices, not the
# diff: the plan job (read-only lookup role) and the deploy job (deploy role)
# print different ones, and neither is part of what is approved.
_VOLATILE = re.compile(
    r"^.*(Number of stacks with differences|Synthesis time|[Tt]otal time|[Aa]ssum(e|ing)|[Ff]all(ing)? ?back|"
    r"credentials|Hold on while|change set|proceeding anyway).*$\n?",
    re.MULTILINE,
)


class Runner(Protocol):
    def __call__(self, cmd: list[str]) -> subprocess.CompletedProcess: ...


def run_command(cmd: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)


@dataclass(frozen=True)
class Plan:
    diff: str
    sha256: str
    path: Path


def _stage_selector(config: AwsEnvironment) -> str:
    return f"{config.name.stage_id}/*"


def _cdk(*args: str) -> list[str]:
    return ["npx", "--no-install", "cdk", *args]


def plan(config: AwsEnvironment, *, runner: Runner = run_command, out: TextIO = sys.stdout) -> Plan:
    print("==> gates: synth of every stack, cdk-nag, cfn-lint, checkov", file=out, flush=True)
    gates = runner([sys.executable, "-m", "gates.run", "--aws-only"])
    if gates.returncode != 0:
        raise CheckFailed("policy gates failed:\n" + (gates.stdout + gates.stderr)[-3000:])
    print(f"==> cdk diff '{_stage_selector(config)}'", file=out, flush=True)
    # --no-change-set: a template diff, which the read-only plan role can
    # compute too, so the plan and deploy jobs produce the same text.
    diff = runner(_cdk("diff", _stage_selector(config), "--app", str(ASSEMBLY), "--no-color", "--no-change-set"))
    if diff.returncode not in (0, 1):  # cdk diff exits 1 only with --fail
        raise OpsError(f"cdk diff failed: {(diff.stderr or diff.stdout)[-2000:]}")
    text = _VOLATILE.sub("", diff.stdout + diff.stderr).strip() + "\n"
    digest = hashlib.sha256(text.encode()).hexdigest()
    path = ASSEMBLY / f"{config.name.value}.diff"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    print(text, file=out)
    print(f"diff sha256: {digest}  ({path.relative_to(ROOT)})", file=out)
    return Plan(text, digest, path)


def deploy(
    config: AwsEnvironment,
    *,
    approved_sha256: str | None,
    verify: Callable[[], int],
    runner: Runner = run_command,
    out: TextIO = sys.stdout,
) -> int:
    if config.is_production and not approved_sha256:
        raise OpsError("production deploys only an approved diff: run `bin/ops plan --env production`, review it, "
                       "then pass its sha256 with --approved-diff")
    current = plan(config, runner=runner, out=out)
    if approved_sha256 and current.sha256 != approved_sha256.lower():
        raise CheckFailed(f"the diff changed since it was approved (approved {approved_sha256[:12]}…, now {current.sha256[:12]}…); "
                          "review the new diff with `bin/ops plan` and approve again")
    print(f"==> cdk deploy '{_stage_selector(config)}'", file=out, flush=True)
    deployed = runner(_cdk("deploy", _stage_selector(config), "--app", str(ASSEMBLY), "--require-approval", "never"))
    if deployed.returncode != 0:
        raise CheckFailed(f"cdk deploy failed: {(deployed.stderr or deployed.stdout)[-3000:]}")
    print("==> post-deploy verification", file=out, flush=True)
    return verify()
