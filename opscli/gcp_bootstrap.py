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
   ``gcp-infrastructure.yml`` applies the saved plan as, with Owner on the project and
   Billing Costs Manager on the billing account (the budget). The stack binds
   it to the GitHub subject of this environment; until that first apply it
   cannot be impersonated from GitHub at all.

4. the plan identity (``<prefix>-plan@<project>``, :data:`PLAN_READS`): what
   ``terraform plan`` and drift run as from ``gcp-<env>-plan``. It must be
   able to *refresh* everything in state, so its roles are derived from what
   a refresh reads for each resource type the stack holds (a test fails
   when the stack gains a type this table does not cover), and nothing
   more: no role that creates, changes or deletes. On the state bucket it
   reads the state and writes its lock, and may create (never read back)
   objects under ``<prefix>/plans/``, where the saved plan waits for the
   applying identity (docs/requirements.md#gcp-state,
   docs/requirements.md#least-privilege).

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

# What a refresh reads, per resource type in state -> the narrowest
# predefined role that grants that read (google provider 6.50's Read
# functions; permission names from Google's IAM permissions reference).
PLAN_READS: dict[str, str] = {
    "data.google_project": "roles/browser",                                     # resourcemanager.projects.get
    "data.google_storage_project_service_account": "roles/browser",             # projects.serviceAccount.get
    "google_project_service": "roles/serviceusage.serviceUsageViewer",          # serviceusage.services.get
    "google_artifact_registry_repository": "roles/artifactregistry.reader",     # artifactregistry.repositories.get
    "google_cloud_run_v2_job": "roles/run.viewer",                              # run.jobs.get
    "google_cloud_run_v2_service": "roles/run.viewer",                          # run.services.get
    "google_cloud_run_v2_service_iam_member": "roles/iam.securityReviewer",     # run.services.getIamPolicy
    "google_compute_address": "roles/compute.viewer",
    "google_compute_backend_bucket": "roles/compute.viewer",
    "google_compute_backend_service": "roles/compute.viewer",
    "google_compute_firewall": "roles/compute.viewer",
    "google_compute_global_address": "roles/compute.viewer",
    "google_compute_global_forwarding_rule": "roles/compute.viewer",
    "google_compute_health_check": "roles/compute.viewer",
    "google_compute_instance_group": "roles/compute.viewer",
    "google_compute_instance": "roles/compute.viewer",
    "google_compute_managed_ssl_certificate": "roles/compute.viewer",
    "google_compute_network": "roles/compute.viewer",
    "google_compute_region_network_endpoint_group": "roles/compute.viewer",
    "google_compute_ssl_policy": "roles/compute.viewer",
    "google_compute_subnetwork": "roles/compute.viewer",
    "google_compute_target_http_proxy": "roles/compute.viewer",
    "google_compute_target_https_proxy": "roles/compute.viewer",
    "google_compute_target_ssl_proxy": "roles/compute.viewer",
    "google_compute_url_map": "roles/compute.viewer",
    "google_firestore_database": "roles/datastore.viewer",                      # datastore.databases.get
    "google_firestore_backup_schedule": "roles/datastore.viewer",               # datastore.schedules.get
    "google_iam_workload_identity_pool": "roles/iam.workloadIdentityPoolViewer",
    "google_iam_workload_identity_pool_provider": "roles/iam.workloadIdentityPoolViewer",
    "google_kms_crypto_key": "roles/cloudkms.viewer",
    "google_kms_crypto_key_iam_member": "roles/iam.securityReviewer",           # cloudkms.cryptoKeys.getIamPolicy
    "google_kms_key_ring": "roles/cloudkms.viewer",
    "google_logging_project_bucket_config": "roles/logging.viewer",             # logging.buckets.get
    "google_logging_metric": "roles/logging.viewer",                            # logging.logMetrics.get
    "google_monitoring_alert_policy": "roles/monitoring.viewer",
    "google_monitoring_custom_service": "roles/monitoring.viewer",
    "google_monitoring_dashboard": "roles/monitoring.viewer",
    "google_monitoring_notification_channel": "roles/monitoring.viewer",
    "google_monitoring_slo": "roles/monitoring.viewer",
    "google_monitoring_uptime_check_config": "roles/monitoring.viewer",
    "google_project_iam_audit_config": "roles/iam.securityReviewer",            # resourcemanager.projects.getIamPolicy
    "google_project_iam_custom_role": "roles/iam.roleViewer",                   # iam.roles.get
    "google_project_iam_member": "roles/iam.securityReviewer",
    # The AUTH string is a computed attribute the refresh reads back
    # (redis.instances.getAuthString: in no viewer role, hence the custom role).
    "google_redis_instance": "roles/redis.viewer",
    "google_secret_manager_secret": "roles/secretmanager.viewer",
    "google_secret_manager_secret_iam_member": "roles/iam.securityReviewer",
    # A version's refresh reads its payload (secretmanager.versions.access)
    # while any version in state carries `secret_data`; with write-only
    # `secret_data_wo` only the metadata (secretmanager.versions.get).
    "google_secret_manager_secret_version": "roles/secretmanager.secretAccessor",
    "google_service_account": "roles/iam.serviceAccountViewer",
    "google_service_account_iam_member": "roles/iam.securityReviewer",
    "google_service_networking_connection": "roles/compute.networkViewer",       # the peering on the network
    "google_sql_database": "roles/cloudsql.viewer",
    "google_sql_database_instance": "roles/cloudsql.viewer",
    "google_sql_user": "roles/cloudsql.viewer",
    "google_storage_bucket": "roles/storage.bucketViewer",                     # storage.buckets.get
    "google_storage_bucket_iam_member": "roles/iam.securityReviewer",           # storage.buckets.getIamPolicy
    "terraform_data": "",                                                       # nothing remote
}
# Every request of the provider (user_project_override, stacks/gcp/platform.py)
# is billed to the project, which needs serviceusage.services.use.
PLAN_QUOTA_ROLE = "roles/serviceusage.serviceUsageConsumer"
# Reads no predefined viewer role grants.
PLAN_CUSTOM_PERMISSIONS = ("redis.instances.getAuthString", "servicenetworking.services.get")
# google_billing_budget lives on the billing account: billing.budgets.get.
PLAN_BILLING_ROLE = "roles/billing.viewer"
PLAN_BILLING_TYPES = ("google_billing_budget",)


def plan_service_account(config: GcpConfig) -> str:
    return f"{config.name('plan')}@{config.project_id}.iam.gserviceaccount.com"


PROJECT_NUMBER = "{project_number}"  # filled in at run time (bootstrap(): number_of)


def project_number(project: str) -> str:
    """The project's number (a Workload Identity principal names the project by number)."""
    try:
        proc = subprocess.run(["gcloud", "projects", "describe", project, "--format=value(projectNumber)"],
                              check=False, capture_output=True, text=True)
    except FileNotFoundError:
        return ""
    return proc.stdout.strip() if proc.returncode == 0 else ""


def plan_custom_role_id(config: GcpConfig) -> str:
    return f"{config.name_prefix.replace('-', '_')}_plan_refresh"


def plan_project_roles(config: GcpConfig) -> list[str]:
    """The plan identity's project roles: the quota role, each read role once, the custom role."""
    roles = sorted({role for role in PLAN_READS.values() if role} | {PLAN_QUOTA_ROLE})
    return roles + [f"projects/{config.project_id}/roles/{plan_custom_role_id(config)}"]


def _plan_identity_steps(config: GcpConfig) -> list[Step]:
    project, bucket, prefix = config.project_id, config.backend.bucket, config.backend.prefix.strip("/")
    sa = plan_service_account(config)
    member = f"serviceAccount:{sa}"
    objects = f"projects/_/buckets/{bucket}/objects/{prefix}"
    role_id = plan_custom_role_id(config)
    steps = [
        Step(f"create plan service account {sa}",
             ("gcloud", "iam", "service-accounts", "create", config.name("plan"), "--project", project,
              "--display-name", "terraform plan and drift, read-only (GitHub gcp-<env>-plan only)", "--quiet"),
             exists=("gcloud", "iam", "service-accounts", "describe", sa, "--project", project)),
        Step(f"create custom role {role_id} ({', '.join(PLAN_CUSTOM_PERMISSIONS)})",
             ("gcloud", "iam", "roles", "create", role_id, "--project", project, "--title", "Terraform refresh extras",
              "--permissions", ",".join(PLAN_CUSTOM_PERMISSIONS), "--stage", "GA", "--quiet"),
             exists=("gcloud", "iam", "roles", "describe", role_id, "--project", project)),
    ]
    # Only the plan environment's subject may impersonate it (the pool is the stack's,
    # constructs_lib/gcp/workload_identity.py; IAM accepts the principal before the pool exists).
    subject = config.role_subjects["gcp-plan"][0]
    principal = (f"principal://iam.googleapis.com/projects/{PROJECT_NUMBER}/locations/global/workloadIdentityPools/"
                 f"{config.name('github')}/subject/{subject}")
    steps.append(Step(f"let {subject} impersonate {sa}",
                      ("gcloud", "iam", "service-accounts", "add-iam-policy-binding", sa, "--project", project,
                       "--member", principal, "--role", "roles/iam.workloadIdentityUser", "--quiet")))
    for role in plan_project_roles(config):
        steps.append(Step(f"grant {role} on {project} to {sa}",
                          ("gcloud", "projects", "add-iam-policy-binding", project, "--member", member, "--role", role,
                           "--condition", "None", "--quiet")))
    steps.append(Step(f"grant {PLAN_BILLING_ROLE} on billing account {config.budget.billing_account} to {sa}",
                      ("gcloud", "billing", "accounts", "add-iam-policy-binding", config.budget.billing_account,
                       "--member", member, "--role", PLAN_BILLING_ROLE, "--quiet")))
    # The state bucket: read the state, take and release the lock, leave a
    # plan under plans/ it cannot read back (objectCreator has no get).
    for role, condition, title in (
        ("roles/storage.objectViewer", f'resource.name.startsWith("{objects}/default.tf")', "state and lock of this prefix"),
        ("roles/storage.objectUser", f'resource.name == "{objects}/default.tflock"', "the state lock"),
        ("roles/storage.objectCreator", f'resource.name.startsWith("{objects}/plans/")', "saved plans write only"),
    ):
        steps.append(Step(f"grant {role} on gs://{bucket} ({title}) to {sa}",
                          ("gcloud", "storage", "buckets", "add-iam-policy-binding", f"gs://{bucket}", "--member", member,
                           "--role", role, f"--condition=expression={condition},title={title}", "--quiet")))
    return steps


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
    steps += _plan_identity_steps(config)
    return steps


def bootstrap(config: GcpConfig, *, executor: Executor = gcloud_executor, probe: Executor = quiet_executor,
              out: TextIO | None = None, number_of: Callable[[str], str] = project_number) -> int:
    out = out or sys.stdout
    steps = plan(config)
    number = ""
    for index, step in enumerate(steps, start=1):
        if step.exists is not None and probe(step.exists) == 0:
            print(f"[{index}/{len(steps)}] {step.description}: exists, skipped", file=out, flush=True)
            continue
        print(f"[{index}/{len(steps)}] {step.description}", file=out, flush=True)
        argv = step.argv
        if any(PROJECT_NUMBER in arg for arg in argv):
            number = number or number_of(config.project_id)
            if not number.isdigit():
                print(f"gcp-bootstrap: step {index}: cannot read the project number of {config.project_id} "
                      f"(gcloud projects describe); {len(steps) - index + 1} step(s) not run", file=out, flush=True)
                return 1
            argv = tuple(arg.replace(PROJECT_NUMBER, number) for arg in argv)
        status = executor(argv)
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
