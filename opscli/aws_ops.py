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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TextIO

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from envconfig import ConfigError
from envconfig.aws import AwsConfig, Environment, load

from . import adopt, alarm_drill, approval, drift, nonce, readiness, release, restore_drill, smoke, verify
from . import github_token as token
from .clock import Clock, FixedClock, SystemClock, iso, parse_instant
from .errors import CheckFailed, OpsError
from .live import stacks as live_stacks
from .live.stacks import StackProblem
from .session import Aws


@dataclass(frozen=True)
class Context:
    clock: Clock
    stdin: Any
    out: TextIO


@dataclass(frozen=True)
class Command:
    """One ``bin/ops`` command: how its arguments are declared and how it runs."""

    add_parser: Callable[[Any], argparse.ArgumentParser]
    run: Callable[[argparse.Namespace, AwsConfig, Context], int]


def _add_env(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--env", required=True, choices=[e.value for e in Environment],
                        help="environment whose config/aws/<env>.yaml names the resources")


def _approval_id(value: str) -> str:
    # Checked while parsing: a malformed id exits 2 before any synth or AWS call.
    try:
        return approval.parse_id(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _aws(config: AwsConfig) -> Aws:
    aws = Aws(config)
    aws.check_account()
    return aws


def _results(results, summary: str, ctx: Context) -> int:
    print(verify.table(results), file=ctx.out)
    failed = [r for r in results if r.status is verify.Status.FAIL]
    if failed:
        raise CheckFailed(summary.format(failed=len(failed), total=len(results), first=failed[0]))
    return 0


# ---- the commands ----------------------------------------------------------

def _verify_pitr_parser(sub):
    return sub.add_parser("verify-pitr", help="every table reports PITR ENABLED with the configured period",
                          description="Check that every DynamoDB table of the environment has point-in-time recovery "
                                      "ENABLED with the recovery period from the configuration.")


def _verify_pitr(args, config, ctx):
    results = verify.verify_pitr(_aws(config))
    print(verify.table(results), file=ctx.out)
    if any(r.status is verify.Status.FAIL for r in results):
        raise CheckFailed("PITR is not enabled with the configured period on every table")
    return 0


def _rotate_nonce_parser(sub):
    p = sub.add_parser("rotate-nonce", help="create the nonce, or rotate it keeping the previous one valid for --grace",
                       description=nonce.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--grace", type=int, default=None, metavar="SECONDS",
                   help="how long the previous nonce stays accepted (default: secrets.nonce_grace_period_seconds from config)")
    p.add_argument("--create-only", action="store_true",
                   help="create the nonce if it does not exist; leave an existing one alone (first provisioning)")
    p.add_argument("--lock-wait", type=float, default=nonce.DEFAULT_LOCK_WAIT_SECONDS, metavar="SECONDS",
                   help="how long to wait for a concurrent rotation to finish before refusing (default %(default)s)")
    return p


def _rotate_nonce(args, config, ctx):
    grace = config.secrets.nonce_grace_period_seconds if args.grace is None else args.grace
    nonce.check_grace(grace)
    if not 0 <= args.lock_wait <= 3600:
        raise OpsError(f"--lock-wait must be between 0 and 3600 seconds, got {args.lock_wait}")
    out = ctx.out
    rotation = nonce.rotate(_aws(config), grace, ctx.clock, create_only=args.create_only, lock_wait_seconds=args.lock_wait)
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


def _check_nonce_parser(sub):
    p = sub.add_parser("check-nonce", help="accept or reject a nonce read from stdin, as the Oracle does",
                       description="Read a nonce from stdin; exit 0 if the Oracle would accept it (the current value, "
                                   "or the previous one within its grace period), 1 if not. The value is never printed.")
    p.add_argument("--at", metavar="TIME", help="judge at this instant (epoch seconds or ISO-8601) instead of now")
    return p


def _check_nonce(args, config, ctx):
    # Input first: nothing reaches AWS before it is known to be usable.
    when = FixedClock(parse_instant(args.at)) if args.at else ctx.clock
    presented = token.read_secret(ctx.stdin, prompt="nonce (input hidden): ", what="nonce",
                                  usage="bin/ops check-nonce --env staging < nonce-file")
    print(nonce.check(_aws(config), presented, when), file=ctx.out)
    return 0


def _set_token_parser(sub):
    return sub.add_parser("set-github-token", help="store the GitHub token read from stdin (never echoed)",
                          description=token.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)


def _set_token(args, config, ctx):
    github_token = token.read_token(ctx.stdin)
    version = token.store(_aws(config), github_token)
    print(f"stored {config.github_token_parameter} (version {version}, SecureString)", file=ctx.out)
    return 0


def _verify_parser(sub):
    p = sub.add_parser("verify", help="read the deployed environment back: pass/fail table",
                       description=verify.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--assembly", type=Path, metavar="DIR",
                   help="expect what this synthesized cloud assembly says (e.g. cdk.out) instead of the approved one")
    return p


def _verify(args, config, ctx):
    results = verify.verify_all(_aws(config), getattr(args, "assembly", None))  # deploy reuses this path without it
    return _results(results, "{failed} checks failed, first: {first.area} {first.subject}: {first.evidence}", ctx)


def _outputs_parser(sub):
    return sub.add_parser("outputs", help="print the outputs of the environment's stacks",
                          description="Print every output of the environment's stacks (Staging-Data, ...; "
                                      "production's DisasterRecovery from its own region).")


def _outputs(args, config, ctx):
    aws = _aws(config)
    for key in live_stacks.keys(config):
        cf = live_stacks.regional(aws, key).client("cloudformation")
        described = cf.describe_stacks(StackName=aws.stack_name(key))["Stacks"][0]
        for output in sorted(described.get("Outputs", []), key=lambda o: o["OutputKey"]):
            print(f"{aws.stack_name(key)}.{output['OutputKey']} = {output['OutputValue']}", file=ctx.out)
    return 0


def _drift_parser(sub):
    p = sub.add_parser("detect-drift", help="list every property that differs from the approved templates",
                       description=drift.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--method", choices=("auto", "cloudformation", "readback"), default="auto")
    p.add_argument("--assembly", type=Path, metavar="DIR",
                   help="compare with this synthesized cloud assembly (e.g. cdk.out) instead of the approved one")
    return p


def _drift(args, config, ctx):
    method, drifts = drift.detect(_aws(config), args.method, args.assembly)
    print(f"drift check by {method}", file=ctx.out)
    print(drift.table(drifts), file=ctx.out)
    if drifts:
        raise CheckFailed(f"{len(drifts)} drifted properties in {config.name.stage_id}, first: {drift.one_line(drifts[0])}")
    return 0


def _readiness_parser(sub):
    return sub.add_parser("readiness", help="production-readiness report: the readiness gates on the synthesized templates",
                          description=readiness.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)


def _readiness(args, config, ctx):  # reads synthesized output only: no AWS call
    gates = readiness.evaluate(readiness.load_artifacts(config), config)
    print(readiness.render(gates), file=ctx.out)
    if any(g.verdict is readiness.Verdict.FAIL for g in gates):
        raise CheckFailed("production-readiness gates failed")
    return 0


def _smoke_parser(sub):
    p = sub.add_parser("smoke", help="signed calls to the deployed Oracle: health, invalid nonce, FP event, p95 vs SLO",
                       description=smoke.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--calls", type=int, default=20, metavar="N", help="latency sample size (1-1000, default 20)")
    p.add_argument("--url", metavar="URL", help="base URL of the API (default: found from the Runtime stack)")
    return p


def _smoke(args, config, ctx):
    smoke.check_calls(args.calls)
    return _results(smoke.run(_aws(config), calls=args.calls, url=args.url),
                    "{failed} of {total} failed, first: {first.subject}: {first.evidence}", ctx)


def _alarm_parser(sub):
    p = sub.add_parser("test-alarm", help="controlled alert: alarm to ALARM, confirm the topic notification, back to OK",
                       description=alarm_drill.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--alarm", metavar="NAME", help="alarm name (default: every Critical alarm)")
    p.add_argument("--method", choices=("auto", "history", "subscribe"), default="auto",
                   help="how delivery is confirmed (auto: subscribe on the local target, history on AWS)")
    p.add_argument("--wait", type=float, default=60, metavar="SECONDS", help="how long to wait for the delivery (default 60)")
    return p


def _alarm(args, config, ctx):
    alarm_drill.check_wait(args.wait)
    return _results(alarm_drill.run(_aws(config), alarm=args.alarm, method=args.method, wait_s=args.wait),
                    "{failed} of {total} failed, first: {first.subject}: {first.evidence}", ctx)


def _preflight(config):
    # The CLI uses the credentials itself; checking their account first makes
    # missing credentials or an unreachable endpoint fail before the synthesis.
    return lambda: Aws(config).check_account()


def _plan_parser(sub):
    return sub.add_parser("plan", help="one synthesis, every gate, the full cdk diff of <Stage>/*, then its approval id",
                          description=release.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)


def _plan(args, config, ctx):
    release.plan(config, out=ctx.out, preflight=_preflight(config))
    return 0


def _verify_after(args, config, ctx):
    if args.no_verify:
        return lambda: 0
    verify_args = argparse.Namespace(**{**vars(args), "command": "verify"})
    return lambda: _verify(verify_args, config, ctx)


def _deploy_parser(sub):
    p = sub.add_parser("deploy", help="cdk deploy the kept assembly --approved names (staging: plan, then deploy it); verify",
                       description=release.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--approved", metavar="ID", type=_approval_id,
                   help="approval id printed by `bin/ops plan` (64 hex digits); required for production")
    p.add_argument("--no-verify", action="store_true",
                   help="skip the post-deploy `verify` (CI runs it separately with read-only credentials)")
    return p


def _deploy(args, config, ctx):
    return release.deploy(config, approved=args.approved, out=ctx.out, verify=_verify_after(args, config, ctx),
                          preflight=_preflight(config))


def _rollback_parser(sub):
    p = sub.add_parser("rollback", help="redeploy an earlier approved (kept) assembly; --list shows what was deployed",
                       description=release.__doc__ + "\nRunbook: docs/runbooks/rollback.md",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    target = p.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", metavar="ID", type=_approval_id, help="approval id of the kept assembly to go back to")
    target.add_argument("--list", action="store_true", help="list the deployments recorded in the keep directory")
    p.add_argument("--no-verify", action="store_true", help="skip the post-deploy `verify`")
    return p


def _rollback(args, config, ctx):
    if args.list:
        print("\n".join(release.history(config)) or f"no deployments recorded in {release.approvals_dir()}", file=ctx.out)
        return 0
    return release.rollback(config, to=args.to, out=ctx.out, verify=_verify_after(args, config, ctx),
                            preflight=_preflight(config))


def _module(module) -> Command:
    """A command whose module declares and runs itself (``add_parser(sub, add_env)``, ``run(args, config, out=)``)."""
    def add(sub):
        module.add_parser(sub, _add_env)  # adds --env itself
    return Command(add, lambda args, config, ctx: module.run(args, config, out=ctx.out))


COMMANDS: dict[str, Command] = {
    "verify-pitr": Command(_verify_pitr_parser, _verify_pitr),
    "rotate-nonce": Command(_rotate_nonce_parser, _rotate_nonce),
    "check-nonce": Command(_check_nonce_parser, _check_nonce),
    "set-github-token": Command(_set_token_parser, _set_token),
    "verify": Command(_verify_parser, _verify),
    "outputs": Command(_outputs_parser, _outputs),
    "detect-drift": Command(_drift_parser, _drift),
    "readiness": Command(_readiness_parser, _readiness),
    "smoke": Command(_smoke_parser, _smoke),
    "test-alarm": Command(_alarm_parser, _alarm),
    "plan": Command(_plan_parser, _plan),
    "deploy": Command(_deploy_parser, _deploy),
    "rollback": Command(_rollback_parser, _rollback),
    "restore-drill": _module(restore_drill),
    "adopt": _module(adopt),
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bin/ops", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS.values():
        p = command.add_parser(sub)
        if p is not None:  # modules that declare themselves add --env too
            _add_env(p)
    return parser


def run(args: argparse.Namespace, *, clock: Clock, stdin=None, out=None) -> int:
    config = load(args.env)
    return COMMANDS[args.command].run(args, config, Context(clock, stdin, out or sys.stdout))


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
