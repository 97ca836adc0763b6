"""``bin/gcp-release``: plan, approve and apply the GCP stacks with a saved Terraform plan.

  bin/gcp-release plan  --env ENV                 synth, checkov, terraform init + plan -out, show;
                                                  prints 'approval id: <sha256 of the plan file>'
  bin/gcp-release apply --env ENV --approved ID   terraform apply of exactly that plan file
  bin/gcp-release apply --env staging --auto      plan, then apply that plan (staging from main only)

The approval is Terraform's own mechanism: ``terraform plan -out=tfplan``
writes a plan file that embeds the configuration snapshot, the provider
hashes and the planned changes; ``terraform apply tfplan`` applies exactly
those changes and refuses a plan made against a state that has changed
since ("Saved plan is stale"). The approval id is the SHA-256 of the plan
file's bytes, checked before apply. Production never applies without
``--approved``.

Each plan is kept under ``OPS_APPROVALS_DIR`` (default ``.approvals/``) in
``gcp-<env>/<id>/``: the synthesized stack (``cdk.tf.json``), the provider
lock file, ``tfplan`` and ``plan.txt`` (``terraform show``). The synthesis
runs the app directly (what ``cdktf synth`` does) on the supported Node that
jsii uses, so no step of this command needs cdktf-cli (toolchain.py).
``TERRAFORM`` names the terraform executable (default: ``terraform`` on PATH).

Exit status: 0 success, 1 a step or check failed, 2 the command could not run.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, TextIO

from .approval import parse_id
from .errors import CheckFailed, OpsError

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("staging", "production")
PLAN_FILE = "tfplan"


def approvals_dir() -> Path:
    return Path(os.environ.get("OPS_APPROVALS_DIR") or ROOT / ".approvals")


def plan_digest(plan_file: Path) -> str:
    return hashlib.sha256(plan_file.read_bytes()).hexdigest()


def _run(cmd: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)


def synthesize(outdir: Path) -> Path:
    """Run the GCP app (cdktf.json's "app") with CDKTF_OUTDIR; returns the output directory."""
    proc = _run([sys.executable, str(ROOT / "gcp_app.py")], ROOT, {**os.environ, "CDKTF_OUTDIR": str(outdir)})
    if proc.returncode != 0:
        raise CheckFailed(f"synth of the GCP app failed:\n{(proc.stdout + proc.stderr)[-3000:].strip()}")
    return outdir


def checkov_gate(stack_dir: Path) -> None:
    from gates.checkov import run_checkov  # the gates' own checkov (its venv), imported only when gating

    result = run_checkov([stack_dir / "cdk.tf.json"], framework="terraform_json", cloud="gcp")
    if result.failed or not result.resource_count:
        raise CheckFailed(f"checkov on {stack_dir.name}: {result.describe()}")


@dataclass
class Tools:
    """The steps with side effects, replaceable in tests."""
    synthesize: Callable[[Path], Path] = synthesize
    gate: Callable[[Path], None] = checkov_gate
    terraform: list[str] = field(default_factory=lambda: [os.environ.get("TERRAFORM", "terraform")])


def _terraform(tools: Tools, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    try:
        proc = _run([*tools.terraform, *args], cwd, {**os.environ, "TF_IN_AUTOMATION": "1"})
    except FileNotFoundError:
        raise OpsError(f"terraform not found ({tools.terraform[0]}); install it or set TERRAFORM") from None
    if proc.returncode != 0:
        raise CheckFailed(f"terraform {args[0]} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:].strip()}")
    return proc


def _stack(env: str) -> str:
    return f"gcp-{env}"


def plan(env: str, *, tools: Tools | None = None, out: TextIO = sys.stdout) -> tuple[str, Path]:
    tools = tools or Tools()
    env_dir = approvals_dir() / _stack(env)
    env_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".plan-", dir=env_dir))
    try:
        print(f"==> synth of the GCP app (stack {_stack(env)})", file=out, flush=True)
        synthesized = tools.synthesize(work / "cdktf.out")
        source = synthesized / "stacks" / _stack(env)
        if not (source / "cdk.tf.json").is_file():
            raise CheckFailed(f"synth wrote no {_stack(env)}/cdk.tf.json")
        stack_dir = work / "stack"
        shutil.copytree(source, stack_dir)
        print("==> checkov (Terraform JSON)", file=out, flush=True)
        tools.gate(stack_dir)
        print("==> terraform init, plan -out", file=out, flush=True)
        _terraform(tools, stack_dir, "init", "-input=false", "-no-color")
        _terraform(tools, stack_dir, "plan", "-input=false", "-no-color", f"-out={PLAN_FILE}")
        shown = _terraform(tools, stack_dir, "show", "-no-color", PLAN_FILE).stdout
        approval_id = plan_digest(stack_dir / PLAN_FILE)
        (stack_dir / "plan.txt").write_text(shown)
        (stack_dir / "approval.json").write_text(json.dumps({"environment": env, "stack": _stack(env),
                                                             "approval_id": approval_id}, indent=2) + "\n")
        # Providers are re-installed by `init` before apply (from the lock
        # file); they are large and not part of what is approved.
        shutil.rmtree(stack_dir / ".terraform", ignore_errors=True)
        kept = env_dir / approval_id
        if kept.exists():
            shutil.rmtree(kept)
        stack_dir.rename(kept)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(shown, file=out)
    print(f"kept: {kept}", file=out)
    print(f"approval id: {approval_id}", file=out, flush=True)
    return approval_id, kept


def apply(env: str, *, approved: str | None, auto: bool = False, tools: Tools | None = None,
          out: TextIO = sys.stdout) -> int:
    tools = tools or Tools()
    if approved is None:
        if env == "production" or not auto:
            raise OpsError(f"gcp-{env} applies only an approved plan: run `bin/gcp-release plan --env {env}`, review it, "
                           "then pass its approval id with --approved" + ("" if env == "production" else " (or --auto for staging)"))
        approved, _ = plan(env, tools=tools, out=out)
    approved = parse_id(approved)
    kept = approvals_dir() / _stack(env) / approved
    if not (kept / PLAN_FILE).is_file():
        raise OpsError(f"no kept plan for {_stack(env)} with approval id {approved} in {approvals_dir()}; "
                       "run `bin/gcp-release plan` (in CI, download the plan job's artifact) first")
    if plan_digest(kept / PLAN_FILE) != approved:
        raise CheckFailed(f"the kept plan file no longer has digest {approved}: it changed since approval; plan and approve again")
    print(f"==> terraform apply {PLAN_FILE} (approval id {approved})", file=out, flush=True)
    _terraform(tools, kept, "init", "-input=false", "-no-color")
    applied = _terraform(tools, kept, "apply", "-input=false", "-no-color", PLAN_FILE)
    print(applied.stdout, file=out)
    return 0


def _approval_id(value: str) -> str:
    try:
        return parse_id(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bin/gcp-release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("plan", help="synth, checkov, terraform plan -out, show; prints the approval id")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS)
    p = sub.add_parser("apply", help="terraform apply of exactly the approved plan file")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS)
    p.add_argument("--approved", type=_approval_id, metavar="ID", help="approval id printed by `plan`")
    p.add_argument("--auto", action="store_true", help="staging only: plan, then apply that plan")
    return parser


def main(argv: list[str] | None = None, *, tools: Tools | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "plan":
            plan(args.env, tools=tools)
            return 0
        return apply(args.env, approved=args.approved, auto=args.auto, tools=tools)
    except CheckFailed as exc:
        print(f"gcp-release {args.command}: {exc}", file=sys.stderr)
        return 1
    except (OpsError, ValueError, OSError) as exc:
        print(f"gcp-release {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
