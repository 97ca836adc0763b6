"""``bin/ops``: operations commands for the AWS environments.

Each command takes ``--env staging|production``, reads the environment's
names from ``config/aws/<env>.yaml`` (envconfig.aws) and talks to AWS through
boto3's normal chain: ``AWS_PROFILE``, ``AWS_REGION`` and, for the local
target, ``AWS_ENDPOINT_URL``. Exit status: 0 success, 1 the check failed
(verification, drift, rejected nonce), 2 the command could not run; the
reason is one line on stderr.
"""
from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from envconfig import ConfigError
from envconfig.aws import EnvName, load

from . import adopt, alarm_test, approval, drift, nonce, readiness, release, restore_drill, smoke, verify
from . import github_token as token
from .clock import Clock, SystemClock, iso, parse_instant, FixedClock
from .errors import CheckFailed, OpsError
from .expected import StackProblem
from .session import STACKS, Aws


def _add_env(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, choices=[e.value for e in EnvName],
                        help="environment whose config/aws/<env>.yaml names the resources")


def _approval_id(value: str) -> str:
    # Checked while parsing: a malformed id exits 2 before any synth or AWS call.
    try:
        return approval.parse_id(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bin/ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("verify-pitr", help="every table reports PITR ENABLED with the configured period",
                       description="Check that every DynamoDB table of the environment has point-in-time recovery "
                                   "ENABLED with the recovery period from the configuration.")
    _add_env(p)

    p = sub.add_parser("rotate-nonce", help="create the nonce, or rotate it keeping the previous one valid for --grace",
                       description=nonce.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)
    p.add_argument("--grace", type=int, default=None, metavar="SECONDS",
                   help="how long the previous nonce stays accepted (default: secrets.nonce_grace_period_seconds from config)")
    p.add_argument("--create-only", action="store_true",
                   help="create the nonce if it does not exist; leave an existing one alone (first provisioning)")
    p.add_argument("--lock-wait", type=float, default=nonce.DEFAULT_LOCK_WAIT_SECONDS, metavar="SECONDS",
                   help="how long to wait for a concurrent rotation to finish before refusing (default %(default)s)")

    p = sub.add_parser("check-nonce", help="accept or reject a nonce read from stdin, as the Oracle does",
                       description="Read a nonce from stdin; exit 0 if the Oracle would accept it (the current value, "
                                   "or the previous one within its grace period), 1 if not. The value is never printed.")
    _add_env(p)
    p.add_argument("--at", metavar="TIME", help="judge at this instant (epoch seconds or ISO-8601) instead of now")

    p = sub.add_parser("set-github-token", help="store the GitHub token read from stdin (never echoed)",
                       description=token.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)

    p = sub.add_parser("verify", help="read the deployed environment back: pass/fail table",
                       description=verify.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)
    p.add_argument("--assembly", type=Path, metavar="DIR",
                   help="expect what this synthesized cloud assembly says (e.g. cdk.out) instead of the deployed templates")

    p = sub.add_parser("outputs", help="print the outputs of the environment's stacks",
                       description="Print every output of the environment's five stacks (Staging-Data, ...).")
    _add_env(p)

    p = sub.add_parser("detect-drift", help="list every property that differs from the deployed template",
                       description=drift.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)
    p.add_argument("--method", choices=("auto", "cloudformation", "readback"), default="auto")
    p.add_argument("--assembly", type=Path, metavar="DIR",
                   help="compare with this synthesized cloud assembly (e.g. cdk.out) instead of the deployed templates")

    p = sub.add_parser("readiness", help="production-readiness report: seed 003's gates on the synthesized templates",
                       description=readiness.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)

    p = sub.add_parser("smoke", help="signed calls to the deployed Oracle: health, invalid nonce, FP event, p95 vs SLO",
                       description=smoke.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)
    p.add_argument("--calls", type=int, default=20, metavar="N", help="latency sample size (1-1000, default 20)")
    p.add_argument("--url", metavar="URL", help="base URL of the API (default: found from the Runtime stack)")

    p = sub.add_parser("test-alarm", help="controlled alert: alarm to ALARM, confirm the topic notification, back to OK",
                       description=alarm_test.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)
    p.add_argument("--alarm", metavar="NAME", help="alarm name (default: every Critical alarm)")
    p.add_argument("--method", choices=("auto", "history", "subscribe"), default="auto",
                   help="how delivery is confirmed (auto: subscribe on the local target, history on AWS)")
    p.add_argument("--wait", type=float, default=60, metavar="SECONDS", help="how long to wait for the delivery (default 60)")

    p = sub.add_parser("plan", help="one synthesis, every gate, the full cdk diff of <Stage>/*, then its approval id",
                       description=release.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)

    p = sub.add_parser("deploy", help="cdk deploy the kept assembly --approved names (staging: plan, then deploy it); verify",
                       description=release.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)
    p.add_argument("--approved", metavar="ID", type=_approval_id,
                   help="approval id printed by `bin/ops plan` (64 hex digits); required for production")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the post-deploy `verify` (CI runs it separately with read-only credentials)")

    p = sub.add_parser("rollback", help="redeploy an earlier approved (kept) assembly; --list shows what was deployed",
                       description=release.__doc__ + "\nRunbook: docs/runbooks/rollback.md",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_env(p)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="ID", type=_approval_id, help="approval id of the kept assembly to go back to")
    target.add_argument("--list", action="store_true", help="list the deployments recorded in the keep directory")
    p.add_argument("--no-verify", action="store_true", help="skip the post-deploy `verify`")

    restore_drill.add_parser(sub, _add_env)
    adopt.add_parser(sub, _add_env)
    return parser


def run(args: argparse.Namespace, *, clock: Clock, stdin=None, out=None) -> int:
    out = out or sys.stdout
    config = load(args.env)
    if args.command == "readiness":  # reads synthesized output only: no AWS call
        gates = readiness.evaluate(readiness.load_artifacts(config), config)
        print(readiness.render(gates), file=out)
        if any(g.verdict is readiness.Verdict.FAIL for g in gates):
            raise CheckFailed("production-readiness gates failed")
        return 0
    # The CLI uses the credentials itself; checking their account first makes
    # missing credentials or an unreachable endpoint fail before the synthesis.
    preflight = lambda: Aws(config).check_account()  # noqa: E731
    if args.command == "plan":
        release.plan(config, out=out, preflight=preflight)
        return 0
    if args.command in ("deploy", "rollback"):
        verify_args = argparse.Namespace(**{**vars(args), "command": "verify"})
        verify_fn = (lambda: 0) if args.no_verify else (lambda: run(verify_args, clock=clock, stdin=stdin, out=out))
        if args.command == "deploy":
            return release.deploy(config, approved=args.approved, out=out, verify=verify_fn, preflight=preflight)
        if args.list:
            print("\n".join(release.history(config)) or f"no deployments recorded in {release.approvals_dir()}", file=out)
            return 0
        return release.rollback(config, to=args.to, out=out, verify=verify_fn, preflight=preflight)
    # Input first: nothing reaches AWS before it is known to be usable.
    presented = grace = github_token = when = None
    if args.command == "rotate-nonce":
        grace = config.secrets.nonce_grace_period_seconds if args.grace is None else args.grace
        nonce.check_grace(grace)
        if not 0 <= args.lock_wait <= 3600:
            raise OpsError(f"--lock-wait must be between 0 and 3600 seconds, got {args.lock_wait}")
    elif args.command == "check-nonce":
        when = FixedClock(parse_instant(args.at)) if args.at else clock
        presented = token.read_secret(stdin, prompt="nonce (input hidden): ", what="nonce",
                                      usage="bin/ops check-nonce --env staging < nonce-file")
    elif args.command == "set-github-token":
        github_token = token.read_token(stdin)
    if args.command in ("restore-drill", "adopt"):
        return (restore_drill if args.command == "restore-drill" else adopt).run(args, config, out=out)
    aws = Aws(config)
    aws.check_account()

    if args.command == "verify-pitr":
        results = verify.verify_pitr(aws)
        print(verify.table(results), file=out)
        if any(r.status is verify.Status.FAIL for r in results):
            raise CheckFailed("PITR is not enabled with the configured period on every table")
        return 0
    if args.command == "verify":
        results = verify.verify_all(aws, getattr(args, "assembly", None))  # deploy reuses this path without it
        print(verify.table(results), file=out)
        failed = [r for r in results if r.status is verify.Status.FAIL]
        if failed:
            raise CheckFailed(f"{len(failed)} checks failed, first: {failed[0].area} {failed[0].subject}: {failed[0].evidence}")
        return 0
    if args.command == "rotate-nonce":
        rotation = nonce.rotate(aws, grace, clock, create_only=args.create_only, lock_wait_seconds=args.lock_wait)
        if rotation is None:
            print(f"{config.nonce_parameter} exists; left unchanged (--create-only)", file=out)
        elif rotation.previous_version is None:
            print(f"created {config.nonce_parameter} (version {rotation.version})", file=out)
        else:
            print(f"rotated {config.nonce_parameter}: version {rotation.version} is current; version "
                  f"{rotation.previous_version} stays accepted until {iso(rotation.grace_until)}", file=out)
            for grace_ in rotation.still_accepted:
                print(f"  version {grace_.version} stays accepted until {iso(grace_.until)} (earlier rotation)", file=out)
            print(f"  the Oracle accepts version {rotation.version} once its parameter cache refreshes "
                  f"(within {config.runtime.parameter_cache_seconds} s: runtime.parameter_cache_seconds)", file=out)
        return 0
    if args.command == "check-nonce":
        print(nonce.check(aws, presented, when), file=out)
        return 0
    if args.command == "set-github-token":
        version = token.store(aws, github_token)
        print(f"stored {config.github_token_parameter} (version {version}, SecureString)", file=out)
        return 0
    if args.command == "outputs":
        cf = aws.client("cloudformation")
        for stack in STACKS:
            described = cf.describe_stacks(StackName=aws.stack_name(stack))["Stacks"][0]
            for output in sorted(described.get("Outputs", []), key=lambda o: o["OutputKey"]):
                print(f"{aws.stack_name(stack)}.{output['OutputKey']} = {output['OutputValue']}", file=out)
        return 0
    if args.command in ("smoke", "test-alarm"):
        results = (smoke.run(aws, calls=args.calls, url=args.url) if args.command == "smoke" else
                   alarm_test.run(aws, alarm=args.alarm, method=args.method, wait_s=args.wait))
        print(verify.table(results), file=out)
        failed = [r for r in results if r.status is verify.Status.FAIL]
        if failed:
            raise CheckFailed(f"{len(failed)} of {len(results)} failed, first: {failed[0].subject}: {failed[0].evidence}")
        return 0
    if args.command == "detect-drift":
        method, drifts = drift.detect(aws, args.method, args.assembly)
        print(f"drift check by {method}", file=out)
        print(drift.table(drifts), file=out)
        if drifts:
            raise CheckFailed(f"{len(drifts)} drifted properties in {config.name.stage_id}")
        return 0
    raise OpsError(f"unknown command {args.command}")


def main(argv: list[str] | None = None, *, clock: Clock | None = None, stdin=None, out=None) -> int:
    # botocore at DEBUG logs request bodies (a token, a nonce): never here.
    logging.getLogger("botocore").setLevel(logging.WARNING)
    args = build_parser().parse_args(argv)
    try:
        return run(args, clock=clock or SystemClock(), stdin=stdin, out=out)
    except CheckFailed as exc:
        print(f"ops {args.command}: {exc}", file=sys.stderr)
        return 1
    except StackProblem as exc:
        print(f"ops {args.command}: {exc}", file=sys.stderr)
        return 3
    except (OpsError, ConfigError, ValueError) as exc:
        print(f"ops {args.command}: {exc}", file=sys.stderr)
        return 2
    except NoCredentialsError:
        print(f"ops {args.command}: no AWS credentials (set AWS_PROFILE, or AWS_ENDPOINT_URL and test keys for the local target)", file=sys.stderr)
        return 2
    except ClientError as exc:
        error = exc.response["Error"]
        print(f"ops {args.command}: AWS error {error.get('Code')}: {error.get('Message')}", file=sys.stderr)
        return 2
    except BotoCoreError as exc:
        print(f"ops {args.command}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
