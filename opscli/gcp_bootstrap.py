"""One-time bootstrap of a GCP project before the first ``cdktf deploy gcp-<env>``.

What the stack cannot create for itself, because the first apply needs it:

1. the two APIs Terraform needs to enable the others (Service Usage, Cloud
   Resource Manager) and IAM;
2. the Terraform state bucket (``backend.bucket``), one per environment in
   that environment's project (the loader refuses a shared bucket or one not
   named after the project): uniform access, public access prevention,
   versioning; only the project's admins may read it (what the state still
   holds: docs/gcp.md, secrets in state);
3. the infrastructure service account (``oidc.infra_service_account``) that
   ``deploy-gcp.yml`` runs ``cdktf deploy`` as, with Owner on the project and
   Billing Costs Manager on the billing account (the budget). The stack binds
   it to the GitHub subject of this environment; until that first apply it
   cannot be impersonated from GitHub at all.

Every step that creates something first asks whether it exists (``describe``)
and skips the create when it does, so a re-run or a run after a partial
failure is safe. The executor is injectable: tests prove the order, the
skips and the stop without GCP.

Exit status: 0 done, 1 a step failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Sequence, TextIO

from envconfig.errors import ConfigError
from envconfig.gcp import Environment, GcpConfig, load_environment

Executor = Callable[[Sequence[str]], int]
BOOTSTRAP_APIS = ("serviceusage.googleapis.com", "cloudresourcemanager.googleapis.com", "iam.googleapis.com")
INFRA_PROJECT_ROLE = "roles/owner"  # creates IAM bindings, KMS keys, networks: everything the stack holds
INFRA_BILLING_ROLE = "roles/billing.costsManager"  # the budget (BudgetAlerts)


@dataclass(frozen=True)
class Step:
    description: str
    argv: tuple[str, ...]
    # When set and it exits 0, the thing exists and ``argv`` is skipped.
    exists: tuple[str, ...] | None = None


def quiet_executor(argv: Sequence[str]) -> int:
    """Run a probe without printing its output (a describe that fails is expected)."""
    try:
        return subprocess.run(list(argv), check=False, capture_output=True).returncode
    except FileNotFoundError:
        return 127


def gcloud_executor(argv: Sequence[str]) -> int:
    try:
        return subprocess.run(list(argv), check=False).returncode
    except FileNotFoundError:
        print(f"gcp-bootstrap: {argv[0]} not found on PATH (install the Google Cloud CLI)", file=sys.stderr)
        return 127


def plan(config: GcpConfig) -> list[Step]:
    project, bucket = config.project_id, config.backend.bucket
    sa = config.oidc.infra_service_account
    steps = [
        Step(f"enable {', '.join(BOOTSTRAP_APIS)}", ("gcloud", "services", "enable", *BOOTSTRAP_APIS, "--project", project, "--quiet")),
        Step(f"create state bucket gs://{bucket}",
             ("gcloud", "storage", "buckets", "create", f"gs://{bucket}", "--project", project,
              "--location", config.region.value, "--uniform-bucket-level-access", "--public-access-prevention", "--quiet"),
             exists=("gcloud", "storage", "buckets", "describe", f"gs://{bucket}", "--project", project)),
        Step(f"turn on versioning of gs://{bucket}",
             ("gcloud", "storage", "buckets", "update", f"gs://{bucket}", "--versioning", "--project", project, "--quiet")),
    ]
    if sa:
        account_id = sa.split("@", 1)[0]
        member = f"serviceAccount:{sa}"
        steps += [
            Step(f"create infrastructure service account {sa}",
                 ("gcloud", "iam", "service-accounts", "create", account_id, "--project", project,
                  "--display-name", "cdktf deploy (GitHub Workload Identity only)", "--quiet"),
                 exists=("gcloud", "iam", "service-accounts", "describe", sa, "--project", project)),
            Step(f"grant {INFRA_PROJECT_ROLE} on {project} to {sa}",
                 ("gcloud", "projects", "add-iam-policy-binding", project, "--member", member, "--role", INFRA_PROJECT_ROLE,
                  "--condition", "None", "--quiet")),
            Step(f"grant {INFRA_BILLING_ROLE} on billing account {config.budget.billing_account} to {sa}",
                 ("gcloud", "billing", "accounts", "add-iam-policy-binding", config.budget.billing_account,
                  "--member", member, "--role", INFRA_BILLING_ROLE, "--quiet")),
        ]
    return steps


def bootstrap(config: GcpConfig, *, executor: Executor = gcloud_executor, probe: Executor = quiet_executor,
              out: TextIO | None = None) -> int:
    out = out or sys.stdout
    steps = plan(config)
    for index, step in enumerate(steps, start=1):
        if step.exists is not None and probe(step.exists) == 0:
            print(f"[{index}/{len(steps)}] {step.description}: exists, skipped", file=out, flush=True)
            continue
        print(f"[{index}/{len(steps)}] {step.description}", file=out, flush=True)
        status = executor(step.argv)
        if status != 0:
            print(f"gcp-bootstrap: step {index} failed (exit {status}): {step.description}; "
                  f"{len(steps) - index} later step(s) not run; fix and run again (done steps are skipped)",
                  file=out, flush=True)
            return 1
    print(f"gcp-bootstrap: {config.project_id} is ready for `cdktf deploy {config.stack_name}`", file=out, flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gcp-bootstrap",
        description="One-time bootstrap of gcp-<env>'s project before the first cdktf deploy: bootstrap APIs, "
                    "the Terraform state bucket, the infrastructure service account and its roles. Safe to re-run.",
        epilog="Exit status: 0 done, 1 a step failed, 2 usage or configuration error.",
    )
    p.add_argument("--env", required=True, choices=[e.value for e in Environment], help="environment (config/gcp/<env>.yaml)")
    p.add_argument("--dry-run", action="store_true", help="print the gcloud commands instead of running them")
    return p


def main(argv: Sequence[str] | None = None, *, executor: Executor = gcloud_executor, probe: Executor = quiet_executor,
         out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    try:
        config = load_environment(args.env)
    except ConfigError as exc:
        print(f"gcp-bootstrap: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for step in plan(config):
            prefix = f"{' '.join(step.exists)} >/dev/null 2>&1 || " if step.exists else ""
            print(prefix + " ".join(step.argv), file=out)
        return 0
    return bootstrap(config, executor=executor, probe=probe, out=out)


if __name__ == "__main__":
    sys.exit(main())
