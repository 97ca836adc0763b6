"""Roll out a release on GCP by image digest: migrations job first, services only if it succeeded.

The images come from the application's pipeline, which sends one digest per
image (``sha256:<64 hex>``) for the migrations job and every service; each is
rolled out as ``<image_repository>@sha256:...``, so what runs is exactly what
that pipeline built and tested, never whatever a tag points at by then
(docs/requirements.md#gcp-release). A tag is refused.

Migrations run as a job before the deploy, never at application start-up,
serialized, and a failure blocks the deploy (docs/requirements.md#gcp-release).
Terraform (``cdktf deploy gcp-<env>``) owns the services' configuration but
ignores their images; this command owns the images:

1. back up the Cloud SQL instance (docs/requirements.md#restore: "backup before each
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
import re
import subprocess
import sys
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence, TextIO

from envconfig.errors import ConfigError
from envconfig.gcp import Environment, GcpConfig, Service, load_environment

DIGEST = r"sha256:[0-9a-f]{64}"
MIGRATIONS = "migrations"
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


def images() -> tuple[str, ...]:
    """Every image a release pins: the migrations job's and each service's."""
    return (MIGRATIONS, *(service.value for service in Service))


def probe_digests() -> dict[str, str]:
    """A well-formed digest per image, for reading the steps without a release (readiness, tests)."""
    return {name: "sha256:" + "0" * 64 for name in images()}


def check_digests(digests: Mapping[str, str]) -> dict[str, str]:
    """Exactly one ``sha256:<64 hex>`` per image; ValueError naming the first that is not."""
    unknown = sorted(set(digests) - set(images()))
    if unknown:
        raise ValueError(f"--digest {unknown[0]}: not an image of this platform (known: {', '.join(images())})")
    missing = [name for name in images() if name not in digests]
    if missing:
        raise ValueError(f"--digest {missing[0]}=sha256:<64 hex> is required: a release pins every image")
    for name in images():
        if not re.fullmatch(DIGEST, digests[name]):
            raise ValueError(f"--digest {name}: must be sha256:<64 lowercase hex> (a tag is refused), got {digests[name][:80]!r}")
    return {name: digests[name] for name in images()}


def plan(config: GcpConfig, digests: Mapping[str, str]) -> list[Step]:
    """The ordered steps of one rollout (names follow stacks/gcp/runtime.py)."""
    digests = check_digests(digests)
    where = ("--project", config.project_id, "--region", config.region.value, "--quiet")
    job = config.name("migrations")
    instance = config.name("pg")  # stacks/gcp/data.py
    migrations_image = f"{config.migrations.image_repository}@{digests[MIGRATIONS]}"
    steps = [
        # Not --async: the command returns when the backup finished (or failed).
        Step(f"back up Cloud SQL instance {instance} before migrations",
             ("gcloud", "sql", "backups", "create", "--instance", instance, "--project", config.project_id,
              "--description", f"before migrations {digests[MIGRATIONS][:19]}", "--quiet")),
        Step(f"point migrations job {job} at {digests[MIGRATIONS][:19]}",
             ("gcloud", "run", "jobs", "update", job, "--image", migrations_image, *where)),
        Step(f"run migrations job {job} and wait for it",
             ("gcloud", "run", "jobs", "execute", job, "--wait", *where)),
    ]
    for service in Service:
        name = config.name(service.value)
        image = f"{config.services[service].image_repository}@{digests[service.value]}"
        steps.append(Step(f"roll out service {name}", ("gcloud", "run", "services", "update", name, "--image", image, *where)))
    return steps


def rollout(config: GcpConfig, digests: Mapping[str, str], *, executor: Executor = gcloud_executor,
            out: TextIO | None = None) -> int:
    """Run the steps in order; stop at the first failure. Returns the exit status."""
    out = out or sys.stdout
    steps = plan(config, digests)
    for index, step in enumerate(steps, start=1):
        print(f"[{index}/{len(steps)}] {step.description}", file=out, flush=True)
        status = executor(step.argv)
        if status != 0:
            print(f"gcp-rollout: step {index} failed (exit {status}): {step.description}; "
                  f"{len(steps) - index} later step(s) not run", file=out, flush=True)
            return 1
    pinned = ", ".join(f"{name}@{digests[name][:19]}" for name in images())
    print(f"gcp-rollout: {config.stack_name} now runs {pinned}", file=out, flush=True)
    return 0


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="gcp-rollout",
        description="Roll out a release to gcp-<env> by image digest: back up Cloud SQL, run the migrations job "
                    "and wait, then update the Cloud Run services, each pinned @sha256:. A failed backup stops the "
                    "rollout before the migrations run; a failed migration stops it before any service changes.",
        epilog="Exit status: 0 done, 1 a step failed, 2 usage or configuration error.",
    )
    p.add_argument("--env", required=True, choices=[e.value for e in Environment], help="environment (config/gcp/<env>.yaml)")
    p.add_argument("--digest", action="append", default=[], metavar="IMAGE=sha256:HEX",
                   help=f"one per image ({', '.join(images())}): the digest the application's pipeline pushed")
    p.add_argument("--dry-run", action="store_true", help="print the gcloud commands instead of running them")
    return p


def main(argv: Sequence[str] | None = None, *, executor: Executor = gcloud_executor, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    digests: dict[str, str] = {}
    try:
        for item in args.digest:
            name, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"--digest: must be IMAGE=sha256:<64 hex>, got {item[:80]!r}")
            if name in digests:
                raise ValueError(f"--digest {name}: given twice")
            digests[name] = value
        check_digests(digests)
    except ValueError as exc:
        print(f"gcp-rollout: {exc}", file=sys.stderr)
        return 2
    try:
        config = load_environment(args.env)
    except ConfigError as exc:
        print(f"gcp-rollout: configuration error: {exc}", file=sys.stderr)
        return 2
    if args.dry_run:
        for step in plan(config, digests):
            print(" ".join(step.argv), file=out)
        return 0
    return rollout(config, digests, executor=executor, out=out)


if __name__ == "__main__":
    sys.exit(main())
