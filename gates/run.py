"""README command: synthesize every stack of both clouds and run every policy gate.

Steps (each printed with its time; the first failure stops with exit 1):
  1. `cdk synth '**'`     all ten AWS stacks; cdk-nag and Control Tower's cfn-guard controls run as validation plugins
  2. cfn-lint             on cdk.out/assembly-*/*.template.json
  3. checkov (aws)        same templates, skips from policy/checkov_skips.yaml
  4. `cdktf synth`        gcp-staging and gcp-production (offline local backend)
  5. checkov (gcp)        cdktf.out/stacks/*/cdk.tf.json, --framework terraform_json
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/synth", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aws-only", action="store_true", help="skip the GCP (cdktf) synth and its checkov scan")
    parser.add_argument("--output", type=Path, default=None, metavar="DIR",
                        help="cloud assembly directory (default cdk.out); bin/ops plan gates and keeps its own")
    parser.add_argument("--synthesized", action="store_true",
                        help="use the assembly already in --output, made by `cdk synth '**'` (which ran cdk-nag) instead of synthesizing again")
    args = parser.parse_args(argv)
    output = args.output.resolve() if args.output else ROOT / "cdk.out"
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
    start = _step("cdktf synth (gcp-staging, gcp-production)")
    proc = subprocess.run([*toolchain.cdktf_cli(), "synth"], capture_output=True, text=True,
                          # Offline: no GCS state bucket is reachable here (docs/gcp.md, "Backends").
                          env={**os.environ, "GCP_TF_BACKEND": os.environ.get("GCP_TF_BACKEND", "local")})
    _done(start, proc.returncode == 0, "" if proc.returncode == 0 else proc.stdout[-4000:] + proc.stderr[-4000:])

    tf_files = sorted(Path("cdktf.out/stacks").glob("*/cdk.tf.json"))
    start = _step(f"checkov (Terraform JSON, {len(tf_files)} stacks)")
    result = run_checkov(tf_files, framework="terraform_json", cloud="gcp")
    _done(start, result.failed == 0 and result.resource_count >= 20 and len(tf_files) == 2, result.describe())
    print("all gates passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
