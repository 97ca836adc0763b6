"""Roll out a release on GCP: migrations job first, services only if it succeeded.

Seed 000: "Migrations run as a job (pre-deploy), not at app startup" and
"failures block deploy"; seed 003: "executed pre-deploy (serialized)".
Terraform (``cdktf deploy gcp-<env>``) owns the services' configuration but
ignores their images; this command owns the images:

1. back up the Cloud SQL instance (seed 002 risk 3, "backup before each
   migration"); ``gcloud sql backups create`` waits for the backup and exits
   non-zero when it fails, and then nothing else runs: a migration without a
   restore point is not attempted;
2. point the migrations job at the release image;
3. execute it and wait (``gcloud run jobs execute --wait`` exits non-zero
   when the execution fails);
4. only then update each Cloud Run service to the release image.

Any failing step stops the rollout with exit status 1 and names the step;
services already updated stay on the new image (each update is its own
revision; roll back with ``gcloud run services update-traffic``).

The executor is injectable, so tests prove the ordering and the stop without
GCP. Exit status: 0 done, 1 a step failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Sequence, TextIO

from envconfig.errors import ConfigError
from envconfig.gcp import Environment, GcpConfig, Service, load_environment

TAG = r"[A-Za-z0-9_][A-Za-z0-9._-]{0,127}"
Executor = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class Step:
    description: str
    argv: tuple[str, ...]


def gcloud_executor(argv: Sequence[str]) -> int:
    """Run one command; its output goes straight to the terminal / CI log."""
    try:
        return subprocess.run(list(argv), check=False).returncode
    except FileNotFoundError:
        print(f"gcp-rollout: {argv[0]} not found on PATH (install the Google Cloud CLI)", file=sys.stderr)
        return 127


def plan(config: GcpConfig, tag: str) -> list[Step]:
    """The ordered steps of one rollout (names follow stacks/gcp/runtime.py)."""
    where = ("--project", config.project_id, "--region", config.region.value, "--quiet")
    job = config.name("migrations")
    instance = config.name("pg")  # stacks/gcp/data.py
    steps = [
        # Not --async: the command returns when the backup finished (or failed).
        Step(f"back up Cloud SQL instance {instance} before migrations",
             ("gcloud", "sql", "backups", "create", "--instance", instance, "--project", config.project_id,
              "--description", f"before migrations of {tag}", "--quiet")),
        Step(f"point migrations job {job} at {tag}",
             ("gcloud", "run", "jobs", "update", job, "--image", f"{config.migrations.image_repository}:{tag}", *where)),
        Step(f"run migrations job {job} and wait for it",
             ("gcloud", "run", "jobs", "execute", job, "--wait", *where)),
    ]
    for service in Service:
        name = config.name(service.value)
        image = f"{config.services[service].image_repository}:{tag}"
        steps.append(Step(f"roll out service {name}", ("gcloud", "run", "services", "update", name, "--image", image, *where)))
    return steps


def rollout(config: GcpConfig, tag: str, *, executor: Executor = gcloud_executor, out: TextIO | None = None) -> int:
    """Run the steps in order; stop at the first failure. Returns the exit status."""
    out = out or sys.stdout
    steps = plan(config, tag)
    for index, step in enumerate(steps, start=1):
        print(f"[{index}/{len(steps)}] {step.description}", file=out, flush=True)
        status = executor(step.argv)
        if status != 0:
            print(f"gcp-rollout: step {index} failed (exit {status}): {step.description}; "
                  f"{len(steps) - index} later step(s) not run", file=out, flush=True)
            return 1
    print(f"gcp-rollout: {config.stack_name} now runs {tag}", file=out, flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gcp-rollout",
        description="Roll out a release to gcp-<env>: back up Cloud SQL, run the migrations job and wait, then "
                    "update the Cloud Run services. A failed backup stops the rollout before the migrations run; "
                    "a failed migration stops it before any service changes.",
        epilog="Exit status: 0 done, 1 a step failed, 2 usage or configuration error.",
    )
    p.add_argument("--env", required=True, choices=[e.value for e in Environment], help="environment (config/gcp/<env>.yaml)")
    # In GitHub Actions the release images are tagged with the commit sha.
    sha = os.environ.get("GITHUB_SHA")
    p.add_argument("--tag", required=sha is None, default=sha,
                   help="image tag to roll out (same tag for the job and every service); default: $GITHUB_SHA when set")
    p.add_argument("--dry-run", action="store_true", help="print the gcloud commands instead of running them")
    return p


def main(argv: Sequence[str] | None = None, *, executor: Executor = gcloud_executor, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    if not re.fullmatch(TAG, args.tag):
        print(f"gcp-rollout: --tag: must be a Docker tag ({TAG}), got {args.tag!r}", file=sys.stderr)
        return 2
    try:
        config = load_environment(args.env)
    except ConfigError as exc:
        print(f"gcp-rollout: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for step in plan(config, args.tag):
            print(" ".join(step.argv), file=out)
        return 0
    return rollout(config, args.tag, executor=executor, out=out)


if __name__ == "__main__":
    sys.exit(main())
