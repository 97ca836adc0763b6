"""``bin/gcp-release``: plan, approve and apply the GCP stacks with a saved Terraform plan.

  bin/gcp-release plan  --env ENV [--keep-in-state-bucket]
                                                  synth, checkov, terraform init + plan -out, show, the
                                                  cost estimate; prints 'approval id: <sha256 of the plan file>'
  bin/gcp-release apply --env ENV --approved ID [--from-state-bucket]
                                                  terraform apply of exactly that plan file
  bin/gcp-release apply --env staging --auto      plan, then apply that plan (staging from main only)
  bin/gcp-release plan  --env staging --review    a pull request's plan: no state lock, nothing kept, no id
  bin/gcp-release drift --env ENV                 terraform plan -detailed-exitcode: exit 1 on any difference

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
``TERRAFORM`` names the terraform executable (default: ``terraform`` on PATH),
``GCLOUD`` the Google Cloud CLI (default: ``gcloud`` on PATH).

A saved plan carries the prior state, so it never leaves the protected side
(docs/requirements.md#gcp-state): in CI, ``--keep-in-state-bucket`` copies
the kept directory to ``gs://<backend.bucket>/<backend.prefix>/plans/<id>/``
(the environment's own state bucket, under its CMEK, readable only by the
applying identity) and removes the local plan file; only the 64-hex id passes
between jobs, and ``apply --from-state-bucket`` fetches the directory back
and checks the digest before anything runs.

Before any call, every command refuses a configuration that still holds
the repository's placeholder values (billing account, project ids): a plan
against them would fail half-way in GCP with a less useful message.

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

from envconfig.errors import ConfigError
from envconfig.gcp import GcpConfig, load_environment

from .approval import parse_id
from .errors import CheckFailed, OpsError

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENTS = ("staging", "production")
PLAN_FILE = "tfplan"
# What a kept plan directory holds; copied file by file (never a wildcard,
# so nothing else in the directory can ride along to or from the bucket).
KEPT_FILES = (PLAN_FILE, "cdk.tf.json", ".terraform.lock.hcl", "plan.txt", "approval.json")
# The example values committed in config/gcp/*.yaml until an operator puts in
# the real ones (docs/gcp.md, "Deploy to a real project"). A plan against them
# would reach GCP and fail there; refused here before any call.
PLACEHOLDERS = {
    "budget.billing_account": frozenset({"012345-6789AB-CDEF01"}),
    "project_id": frozenset({"mirror-dissonance-stg", "mirror-dissonance-prd"}),
}


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
    gcloud: list[str] = field(default_factory=lambda: [os.environ.get("GCLOUD", "gcloud")])


def refuse_placeholders(config: GcpConfig) -> None:
    """One line naming the file, the field and the value, before any call."""
    values = {"budget.billing_account": config.budget.billing_account, "project_id": config.project_id}
    for dotted, placeholders in PLACEHOLDERS.items():
        if values[dotted] in placeholders:
            raise OpsError(f"{config.source}: {dotted}: {values[dotted]!r} is the repository's placeholder; "
                           "put in the real value before any plan or apply (docs/gcp.md, \"Deploy to a real project\")")


def plan_store_url(config: GcpConfig, approval_id: str) -> str:
    """Where a kept plan lives in CI: the environment's own state bucket (docs/requirements.md#gcp-state)."""
    return f"gs://{config.backend.bucket}/{config.backend.prefix.strip('/')}/plans/{approval_id}/"


def _gcloud(tools: Tools, *args: str) -> None:
    try:
        proc = _run([*tools.gcloud, *args], ROOT)
    except FileNotFoundError:
        raise OpsError(f"gcloud not found ({tools.gcloud[0]}); install the Google Cloud CLI or set GCLOUD") from None
    if proc.returncode != 0:
        raise CheckFailed(f"gcloud {' '.join(args[:2])} failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-2000:].strip()}")


def keep_in_state_bucket(config: GcpConfig, kept: Path, approval_id: str, tools: Tools) -> str:
    """Copy the kept plan into the state bucket, then drop the local plan file."""
    url = plan_store_url(config, approval_id)
    files = [str(kept / name) for name in KEPT_FILES if (kept / name).is_file()]
    _gcloud(tools, "storage", "cp", *files, url, "--project", config.project_id, "--quiet")
    # The runner is not the protected side: nothing holding state stays on it.
    (kept / PLAN_FILE).unlink()
    return url


def fetch_from_state_bucket(config: GcpConfig, approval_id: str, tools: Tools) -> Path:
    url = plan_store_url(config, approval_id)
    kept = approvals_dir() / _stack(config.environment.value) / approval_id
    kept.mkdir(parents=True, exist_ok=True)
    optional = {"plan.txt", "approval.json", ".terraform.lock.hcl"}
    for name in KEPT_FILES:
        try:
            _gcloud(tools, "storage", "cp", url + name, str(kept / name), "--project", config.project_id, "--quiet")
        except CheckFailed:
            if name not in optional:
                raise CheckFailed(f"no kept plan {name} at {url} (approval id {approval_id}): "
                                  "run the plan job again and approve its id") from None
    return kept


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


def plan(env: str, *, tools: Tools | None = None, out: TextIO = sys.stdout,
         config: GcpConfig | None = None, keep_remote: bool = False, review: bool = False) -> tuple[str, Path]:
    """Plan and keep it; with ``keep_remote`` (CI) the plan file goes to the state bucket.

    ``review`` (pull requests): the plan is shown and then deleted with its
    working directory; it takes no state lock, so it never holds up an apply
    and a reviewer's plan can never be applied.
    """
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
        _terraform(tools, stack_dir, "plan", "-input=false", "-no-color", *(["-lock=false"] if review else []),
                   f"-out={PLAN_FILE}")
        shown = _terraform(tools, stack_dir, "show", "-no-color", PLAN_FILE).stdout
        if review:
            print(shown, file=out)
            if config is not None:
                from envconfig.gcp_cost import estimate
                print(estimate(config).describe(), file=out)
            print("review plan: not kept, cannot be applied", file=out, flush=True)
            return "", stack_dir
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
    if config is not None:
        from envconfig.gcp_cost import estimate
        print(estimate(config).describe(), file=out)
    if keep_remote:
        if config is None:
            raise OpsError("--keep-in-state-bucket needs the environment's configuration")
        print(f"kept: {keep_in_state_bucket(config, kept, approval_id, tools)}", file=out)
    else:
        print(f"kept: {kept}", file=out)
    print(f"approval id: {approval_id}", file=out, flush=True)
    return approval_id, kept


DRIFT_EXIT_CHANGES = 2  # terraform plan -detailed-exitcode: 0 no changes, 1 error, 2 changes


def drift(env: str, *, tools: Tools | None = None, out: TextIO = sys.stdout) -> int:
    """``terraform plan -detailed-exitcode`` against live state; no plan file is written.

    Returns 0 without differences; raises CheckFailed with the plan's summary
    lines when there is any (the scheduled job fails, and so alerts).
    """
    tools = tools or Tools()
    with tempfile.TemporaryDirectory(prefix="gcp-drift-") as tmp:
        print(f"==> synth of the GCP app (stack {_stack(env)})", file=out, flush=True)
        source = tools.synthesize(Path(tmp) / "cdktf.out") / "stacks" / _stack(env)
        if not (source / "cdk.tf.json").is_file():
            raise CheckFailed(f"synth wrote no {_stack(env)}/cdk.tf.json")
        _terraform(tools, source, "init", "-input=false", "-no-color")
        # -lock=false: drift only reads; it must not block (or be blocked by) an apply.
        try:
            proc = _run([*tools.terraform, "plan", "-input=false", "-no-color", "-lock=false", "-detailed-exitcode"],
                        source, {**os.environ, "TF_IN_AUTOMATION": "1"})
        except FileNotFoundError:
            raise OpsError(f"terraform not found ({tools.terraform[0]}); install it or set TERRAFORM") from None
    if proc.returncode == 0:
        print(f"gcp-release drift: {_stack(env)}: no differences", file=out, flush=True)
        return 0
    if proc.returncode != DRIFT_EXIT_CHANGES:
        raise CheckFailed(f"terraform plan failed (exit {proc.returncode}):\n{(proc.stdout + proc.stderr)[-3000:].strip()}")
    summary = [line for line in proc.stdout.splitlines()
               if line.lstrip().startswith("#") or line.startswith("Plan:") or "has changed" in line]
    raise CheckFailed(f"{_stack(env)} differs from its configuration:\n" + "\n".join(summary or proc.stdout.splitlines()[-40:]))


def apply(env: str, *, approved: str | None, auto: bool = False, tools: Tools | None = None,
          out: TextIO = sys.stdout, config: GcpConfig | None = None, from_remote: bool = False) -> int:
    tools = tools or Tools()
    if approved is None:
        if env == "production" or not auto:
            raise OpsError(f"gcp-{env} applies only an approved plan: run `bin/gcp-release plan --env {env}`, review it, "
                           "then pass its approval id with --approved" + ("" if env == "production" else " (or --auto for staging)"))
        approved, _ = plan(env, tools=tools, out=out)
    approved = parse_id(approved)
    if from_remote:
        if config is None:
            raise OpsError("--from-state-bucket needs the environment's configuration")
        fetch_from_state_bucket(config, approved, tools)
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
    p = sub.add_parser("plan", help="synth, checkov, terraform plan -out, show, cost estimate; prints the approval id")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS)
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--keep-in-state-bucket", action="store_true",
                      help="CI: copy the kept plan to the environment's state bucket and remove the local plan file")
    mode.add_argument("--review", action="store_true",
                      help="a pull request's plan: no state lock, shown then deleted, no approval id")
    p = sub.add_parser("apply", help="terraform apply of exactly the approved plan file")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS)
    p.add_argument("--approved", type=_approval_id, metavar="ID", help="approval id printed by `plan`")
    p.add_argument("--auto", action="store_true", help="staging only: plan, then apply that plan")
    p.add_argument("--from-state-bucket", action="store_true",
                   help="CI: fetch the kept plan with this id from the environment's state bucket first")
    p = sub.add_parser("drift", help="terraform plan -detailed-exitcode; exit 1 on any difference, no plan file")
    p.add_argument("--env", required=True, choices=ENVIRONMENTS)
    return parser


def main(argv: list[str] | None = None, *, tools: Tools | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        try:
            config = load_environment(args.env)
        except ConfigError as exc:
            raise OpsError(f"configuration error: {exc}") from None
        refuse_placeholders(config)
        if args.command == "plan":
            plan(args.env, tools=tools, config=config, keep_remote=args.keep_in_state_bucket, review=args.review,
                 out=sys.stdout)
            return 0
        if args.command == "drift":
            return drift(args.env, tools=tools, out=sys.stdout)
        return apply(args.env, approved=args.approved, auto=args.auto, tools=tools, config=config,
                     from_remote=args.from_state_bucket, out=sys.stdout)
    except CheckFailed as exc:
        print(f"gcp-release {args.command}: {exc}", file=sys.stderr)
        return 1
    except (OpsError, ValueError, OSError) as exc:
        print(f"gcp-release {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
