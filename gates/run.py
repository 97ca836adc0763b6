"""README command: synthesize every stack of both clouds and run every policy gate.

Steps (each printed with its time; the first failure stops with exit 1):
  1. `cdk synth '**'`     all ten AWS stacks; cdk-nag and Control Tower's cfn-guard controls run as validation plugins
  2. cfn-lint             on cdk.out/assembly-*/*.template.json
  3. checkov (aws)        same templates, skips from policy/checkov_skips.yaml
  4. `cdktf synth`        gcp-staging and gcp-production (offline local backend)
  5. checkov (gcp)        cdktf.out/stacks/*/cdk.tf.json, --framework terraform_json

Without --output both clouds' output stays in the checkout (cdk.out/, cdktf.out/),
where `bin/ops readiness` reads it. A run given --output (bin/deploy-local) synthesizes
the GCP side into a temporary directory of its own, so that two runs at once (two
test workers, two deploys) never write the same cdktf.out.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import toolchain
from gates.cfn_lint import run_cfn_lint
from gates.checkov import run_checkov

ROOT = Path(__file__).resolve().parent.parent


def _step(title: str):
    print(f"==> {title}", flush=True)
    return time.monotonic()


def _done(start: float, ok: bool, detail: str = "") -> None:
    print(f"    {'ok' if ok else 'FAILED'} in {time.monotonic() - start:.1f}s{': ' + detail if detail else ''}", flush=True)
    if not ok:
        sys.exit(1)


@contextmanager
def _tf_output(args: argparse.Namespace) -> Iterator[Path]:
    """Where `cdktf synth` writes: --tf-output; else cdktf.out in the checkout; with --output, a fresh temporary directory."""
    if args.tf_output:
        yield args.tf_output
    elif args.output is None:
        yield ROOT / "cdktf.out"
    else:
        with tempfile.TemporaryDirectory(prefix="cdktf.out-") as tmp:
            yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/synth", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aws-only", action="store_true", help="skip the GCP (cdktf) synth and its checkov scan")
    parser.add_argument("--output", type=Path, default=None, metavar="DIR",
                        help="cloud assembly directory (default cdk.out); bin/ops plan gates and keeps its own")
    parser.add_argument("--synthesized", action="store_true",
                        help="use the assembly already in --output, made by `cdk synth '**'` (which ran cdk-nag) instead of synthesizing again")
    parser.add_argument("--tf-output", type=Path, default=None, metavar="DIR",
                        help="Terraform JSON directory (default cdktf.out; with --output, a temporary directory removed afterwards)")
    args = parser.parse_args(argv)
    output = args.output.resolve() if args.output else ROOT / "cdk.out"
    if args.tf_output:
        args.tf_output = args.tf_output.resolve()
    os.chdir(ROOT)

    if not args.synthesized:
        start = _step("cdk synth '**' (cdk-nag AwsSolutions and Control Tower cfn-guard on every Stage)")
        proc = subprocess.run([*toolchain.cdk_cli(), "synth", "**", "-q", "--output", str(output)], capture_output=True, text=True)
        _done(start, proc.returncode == 0, "" if proc.returncode == 0 else proc.stdout[-4000:] + proc.stderr[-4000:])

    templates = sorted(output.glob("assembly-*/*.template.json"))
    start = _step(f"cfn-lint ({len(templates)} templates)")
    proc = run_cfn_lint(templates)
    # five stacks per environment, and production's DisasterRecovery stack (us-west-2)
    _done(start, proc.returncode == 0 and len(templates) == 11, proc.stdout[-4000:])

    start = _step("checkov (CloudFormation)")
    result = run_checkov(templates, framework="cloudformation", cloud="aws")
    _done(start, result.failed == 0 and result.resource_count > 0, result.describe())

    if args.aws_only:
        return 0
    with _tf_output(args) as tf_output:
        start = _step("cdktf synth (gcp-staging, gcp-production)")
        proc = subprocess.run([*toolchain.cdktf_cli(), "synth", "--output", str(tf_output)], capture_output=True, text=True,
                              # Offline: no GCS state bucket is reachable here (docs/gcp.md, "Backends").
                              env={**os.environ, "GCP_TF_BACKEND": os.environ.get("GCP_TF_BACKEND", "local")})
        _done(start, proc.returncode == 0, "" if proc.returncode == 0 else proc.stdout[-4000:] + proc.stderr[-4000:])

        tf_files = sorted((tf_output / "stacks").glob("*/cdk.tf.json"))
        start = _step(f"checkov (Terraform JSON, {len(tf_files)} stacks)")
        result = run_checkov(tf_files, framework="terraform_json", cloud="gcp")
        _done(start, result.failed == 0 and result.resource_count >= 20 and len(tf_files) == 2, result.describe())
    print("all gates passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
