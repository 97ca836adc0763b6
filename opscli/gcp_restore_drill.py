"""``bin/gcp-restore-drill``: rehearse a Cloud SQL point-in-time restore, timed against the RTO.

  bin/gcp-restore-drill --env staging [--settle-seconds 120] [--dry-run]

Steps (docs/requirements.md#gcp-restore, docs/runbooks/gcp.md "Restore: Cloud SQL"):

1. write a canary row into the live database: the migrations job, executed
   with ``--args restore-drill,write-canary,<nonce>`` (the application's
   migrations image implements the ``restore-drill`` command: it is the only
   workload that holds the database credentials and the schema);
2. wait ``--settle-seconds`` so the write-ahead log holding it is archived,
   then note the point in time;
3. clone the instance at that point in time into a scratch instance
   ``<prefix>-drill-<random>`` (a fresh name each run: Cloud SQL keeps a
   deleted name reserved for a week, and two drills never share one);
4. check the clone: the same job with ``--args restore-drill,verify,<nonce>``
   and ``DB_PG_HOST`` set to the clone's private address; it exits 0 only
   when the canary row is there and every table's row count was read (the
   counts are in the execution's log);
5. report the restore time (clone + check) against ``recovery.cloud_sql.rto_minutes``;
6. always delete the scratch instance (deletion protection off first: a
   clone inherits it), also when a step failed or the drill was interrupted
   (Ctrl-C, SIGTERM from a cancelled CI job), and confirm it is gone; a
   scratch instance that could not be deleted is named with the command to
   delete it, and the drill fails.

Production is refused unless ``--allow-production`` (a clone copies
production data into a second instance). ``GCLOUD`` names the gcloud
executable (default: ``gcloud`` on PATH).

Exit status: 0 restored, checked and within the RTO; 1 a step failed, the
check failed, the RTO was missed or the scratch instance is left; 2 usage or
configuration error.
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Callable, Sequence, TextIO

from envconfig.errors import ConfigError
from envconfig.gcp import Environment, GcpConfig, load_environment

Executor = Callable[[Sequence[str]], "tuple[int, str]"]
monotonic = time.monotonic  # replaceable in tests (an RTO measured in minutes)
sleep = time.sleep
IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")


class DrillFailed(Exception):
    pass


def gcloud_executor(argv: Sequence[str]) -> tuple[int, str]:
    """Run one gcloud command; (exit status, stdout). Its stderr goes to the terminal / CI log."""
    cmd = [os.environ.get("GCLOUD", "gcloud"), *argv[1:]] if argv and argv[0] == "gcloud" else list(argv)
    try:
        proc = subprocess.run(cmd, check=False, stdout=subprocess.PIPE, text=True)
    except FileNotFoundError:
        print(f"gcp-restore-drill: {cmd[0]} not found on PATH (install the Google Cloud CLI)", file=sys.stderr)
        return 127, ""
    return proc.returncode, proc.stdout


class Drill:
    def __init__(self, config: GcpConfig, *, executor: Executor, out: TextIO, settle_seconds: float) -> None:
        self.config, self.executor, self.out, self.settle = config, executor, out, settle_seconds
        self.source = config.name("pg")  # stacks/gcp/data.py
        self.job = config.name("migrations")
        self.scratch = config.name(f"drill-{secrets.token_hex(3)}")
        self.nonce = f"drill-{datetime.now(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(4)}"
        self.project = ("--project", config.project_id)
        self.where = ("--region", config.region.value, *self.project)
        self.clone_attempted = False

    def say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def step(self, description: str, argv: Sequence[str]) -> str:
        self.say(f"==> {description}")
        status, stdout = self.executor(tuple(argv))
        if status != 0:
            raise DrillFailed(f"{description} failed (exit {status})")
        return stdout

    def run(self) -> int:
        objective = self.config.recovery.cloud_sql.rto_minutes
        restore_seconds: float | None = None
        try:
            self.step(f"write canary {self.nonce} into {self.source} (job {self.job})",
                      ("gcloud", "run", "jobs", "execute", self.job, *self.where, "--wait",
                       f"--args=restore-drill,write-canary,{self.nonce}"))
            if self.settle:
                self.say(f"==> wait {self.settle:g} s for the write-ahead log to be archived")
                sleep(self.settle)
            point = (datetime.now(timezone.utc) - timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
            started = monotonic()
            self.clone_attempted = True
            self.step(f"clone {self.source} at {point} into scratch instance {self.scratch}",
                      ("gcloud", "sql", "instances", "clone", self.source, self.scratch, "--point-in-time", point,
                       *self.project, "--quiet"))
            address = self.step(f"private address of {self.scratch}",
                                ("gcloud", "sql", "instances", "describe", self.scratch, *self.project,
                                 "--format=value(ipAddresses[0].ipAddress)")).strip()
            if not IPV4.match(address):
                raise DrillFailed(f"{self.scratch} has no private IPv4 address (describe answered {address[:80]!r})")
            self.step(f"check {self.scratch}: canary {self.nonce} and a row count per table (job {self.job})",
                      ("gcloud", "run", "jobs", "execute", self.job, *self.where, "--wait",
                       f"--update-env-vars=DB_PG_HOST={address}", f"--args=restore-drill,verify,{self.nonce}"))
            restore_seconds = monotonic() - started
        except DrillFailed as exc:
            self.say(f"gcp-restore-drill: {exc}")
        finally:
            left = self.cleanup()
        if restore_seconds is None or left:
            return 1
        minutes = restore_seconds / 60
        within = minutes <= objective
        self.say(f"gcp-restore-drill: {self.config.stack_name}: restored and checked in {minutes:.1f} min, "
                 f"RTO {objective} min (recovery.cloud_sql.rto_minutes): {'within' if within else 'MISSED'}")
        return 0 if within else 1

    def cleanup(self) -> bool:
        """Delete the scratch instance if a clone was attempted; True when it is left behind."""
        if not self.clone_attempted:
            return False
        exists = self.executor(("gcloud", "sql", "instances", "describe", self.scratch, *self.project,
                                "--format=value(name)"))[0] == 0
        if exists:
            self.say(f"==> delete scratch instance {self.scratch}")
            # A clone inherits deletion protection from its source: off first, or the delete is refused.
            self.executor(("gcloud", "sql", "instances", "patch", self.scratch, "--no-deletion-protection",
                           *self.project, "--quiet"))
            self.executor(("gcloud", "sql", "instances", "delete", self.scratch, *self.project, "--quiet"))
            exists = self.executor(("gcloud", "sql", "instances", "describe", self.scratch, *self.project,
                                    "--format=value(name)"))[0] == 0
        if exists:
            self.say(f"gcp-restore-drill: scratch instance {self.scratch} is LEFT (it costs money and holds a copy "
                     f"of the data): gcloud sql instances patch {self.scratch} --no-deletion-protection "
                     f"--project {self.config.project_id} && gcloud sql instances delete {self.scratch} "
                     f"--project {self.config.project_id}")
        else:
            self.say(f"==> scratch instance {self.scratch} deleted")
        return exists


def _terminate(signum, _frame):
    # A cancelled CI job sends SIGTERM: unwind through the drill's cleanup.
    raise KeyboardInterrupt(f"signal {signum}")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="gcp-restore-drill", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--env", required=True, choices=[e.value for e in Environment])
    p.add_argument("--settle-seconds", type=float, default=120.0,
                   help="wait after the canary write before the point in time (default 120)")
    p.add_argument("--allow-production", action="store_true", help="drill production (clones production data)")
    p.add_argument("--dry-run", action="store_true", help="say what would run, call nothing")
    return p


def main(argv: Sequence[str] | None = None, *, executor: Executor = gcloud_executor, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = parser().parse_args(argv)
    if not 0 <= args.settle_seconds <= 3600:
        print(f"gcp-restore-drill: --settle-seconds: must be 0-3600, got {args.settle_seconds:g}", file=sys.stderr)
        return 2
    if args.env == Environment.PRODUCTION.value and not args.allow_production:
        print("gcp-restore-drill: --env production clones production data into a scratch instance; "
              "pass --allow-production to mean it", file=sys.stderr)
        return 2
    try:
        config = load_environment(args.env)
    except ConfigError as exc:
        print(f"gcp-restore-drill: configuration error: {exc}", file=sys.stderr)
        return 2
    if config.recovery is None:
        print(f"gcp-restore-drill: {config.source}: recovery: is required for a drill", file=sys.stderr)
        return 2
    drill = Drill(config, executor=executor, out=out, settle_seconds=args.settle_seconds)
    if args.dry_run:
        print(f"would: canary {drill.nonce} via {drill.job}; clone {drill.source} -> {drill.scratch}; "
              f"check via {drill.job}; delete {drill.scratch}; RTO {config.recovery.cloud_sql.rto_minutes} min", file=out)
        return 0
    previous = signal.signal(signal.SIGTERM, _terminate) if threading_main() else None
    try:
        return drill.run()
    except KeyboardInterrupt:
        # cleanup already ran in run()'s finally; say so and fail.
        print("gcp-restore-drill: interrupted", file=out, flush=True)
        return 1
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def threading_main() -> bool:
    import threading
    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
