"""README command: synthesize every stack of both clouds and run every policy gate.

Steps (each printed with its time; the first failure stops with exit 1):
  1. `cdk synth '**'`     all 11 AWS stacks; cdk-nag and Control Tower's cfn-guard controls run as validation plugins
  2. cfn-lint             on cdk.out/assembly-*/*.template.json
  3. checkov (aws)        same templates, skips from policy/checkov_skips.yaml
  4. GCP app synth        gcp-staging and gcp-production (offline local backend) into cdktf.out/
  5. checkov (gcp)        cdktf.out/stacks/*/cdk.tf.json, --framework terraform_json

Gates 2, 3 and 5 check a file only when its exact bytes have not passed that
gate before under the same rules and tools (gates/cache.py: the key covers
the file, gates/, policy/, the tools' configuration and installed versions).
Each prints how many files it was given, how many were unchanged since they
passed, and how many it checked; the totals of checkov include the counts
recorded with each earlier pass, and count the resources at least one check
evaluated in each file (a file in which none was evaluated is never recorded
as passed). Passes are kept in GATES_CACHE_DIR (default
.gates-cache/); failures are never kept. --no-cache checks every file.

Step 4 runs the GCP app the way `cdktf synth` does (cdktf.json's "app":
`python gcp_app.py`, output in cdktf.out/, stack directories the app no
longer writes removed) without the cdktf CLI: the CLI adds a Node start-up
and only runs that command. tests/gcp/test_cli_synth.py runs the CLI itself
and checks that it writes the same bytes as the app run directly.

Without --output both clouds' output stays in the checkout (cdk.out/, cdktf.out/),
where `bin/ops readiness` reads it. A run given --output (bin/deploy-local,
bin/ops plan) synthesizes the GCP side into a temporary directory of its own
(or --tf-output), so that two runs at once (two test workers, two deploys)
never write the same cdktf.out.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

import toolchain
from gates.cache import GateCache, cache_dir, inputs_digest
from gates.cfn_lint import run_cfn_lint_per_file
from gates.checkov import CheckovResult, run_checkov_per_file

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv"
CHECKOV_VENV = ROOT / ".venv-checkov"
GCP_OUT = ROOT / "cdktf.out"
GCP_STACKS = ("gcp-staging", "gcp-production")


def _step(title: str):
    print(f"==> {title}", flush=True)
    return time.monotonic()


def _done(start: float, ok: bool, detail: str = "") -> None:
    print(f"    {'ok' if ok else 'FAILED'} in {time.monotonic() - start:.1f}s{': ' + detail if detail else ''}", flush=True)
    if not ok:
        sys.exit(1)


def _label(path: Path) -> str:
    """How a file is named in the output: the template's file name, the Terraform stack's directory."""
    return path.parent.name if path.name == "cdk.tf.json" else path.name


def _plan(title: str, noun: str, files: list[Path], cache: GateCache,
          accept: Callable[[dict], bool] = lambda details: True) -> tuple[dict[Path, dict], dict[Path, str], float]:
    """Split ``files`` into recorded passes and files to check; print the step's title with the counts."""
    passed, to_check = cache.partition(files, accept)
    if cache.enabled:
        counts = f"{len(files)} {noun}, {len(passed)} unchanged since they passed, {len(to_check)} checked"
    else:
        counts = f"{len(files)} {noun}, {len(to_check)} checked (cache off)"
    start = _step(f"{title}: {counts}")
    if to_check and passed:
        print(f"    checking: {', '.join(_label(p) for p in to_check)}", flush=True)
    return passed, to_check, start


def cfn_lint_gate(templates: list[Path], directory: Path | None) -> tuple[bool, str, float]:
    """(every template passed, the findings, the step's start time)."""
    cache = GateCache("cfn-lint", inputs_digest([VENV]), directory)
    _, to_check, start = _plan("cfn-lint", "templates", templates, cache)
    result = run_cfn_lint_per_file(list(to_check))
    for template, key in to_check.items():
        if result.passed(template):
            cache.record(template, key, {})
    ok = all(result.passed(t) for t in to_check)
    return ok, "" if ok else result.describe()[-4000:], start


def _checkov_pass(result: CheckovResult) -> bool:
    """A file is recorded as passed only when checkov evaluated something in it and nothing failed."""
    return result.failed == 0 and result.resource_count > 0


def checkov_gate(title: str, noun: str, files: list[Path], *, framework: str, cloud: str,
                 directory: Path | None) -> tuple[CheckovResult, float]:
    """The totals over every file (recorded passes included) and the step's start time."""
    cache = GateCache(f"checkov-{framework}-{cloud}", inputs_digest([VENV, CHECKOV_VENV]), directory)
    passed, to_check, start = _plan(title, noun, files, cache,
                                    accept=lambda d: _checkov_pass(CheckovResult.from_counts(d)))
    checked = run_checkov_per_file(list(to_check), framework=framework, cloud=cloud) if to_check else {}
    for path, key in to_check.items():
        if _checkov_pass(checked[path]):
            cache.record(path, key, checked[path].counts())
    total = CheckovResult.total([*(CheckovResult.from_counts(d) for d in passed.values()), *checked.values()])
    return total, start


def synth_gcp(out: Path = GCP_OUT) -> subprocess.CompletedProcess:
    """What `cdktf synth` does with cdktf.json: run its "app" with CDKTF_OUTDIR, then drop stack
    directories the app no longer writes (files the CLI keeps inside current ones, such as a
    local state file, are kept too)."""
    app = shlex.split(json.loads((ROOT / "cdktf.json").read_text())["app"])
    env = {**os.environ, "CDKTF_OUTDIR": str(out),
           # Offline: no GCS state bucket is reachable here (docs/gcp.md, "Backends").
           "GCP_TF_BACKEND": os.environ.get("GCP_TF_BACKEND", "local")}
    proc = subprocess.run(app, cwd=ROOT, env=env, capture_output=True, text=True)
    if proc.returncode == 0:
        written = set(json.loads((out / "manifest.json").read_text())["stacks"])
        for stale in (out / "stacks").iterdir():
            if stale.is_dir() and stale.name not in written:
                shutil.rmtree(stale)
    return proc


@contextmanager
def _tf_output(args: argparse.Namespace) -> Iterator[Path]:
    """Where the GCP app writes: --tf-output; else cdktf.out in the checkout; with --output, a fresh temporary directory."""
    if args.tf_output:
        yield args.tf_output
    elif args.output is None:
        yield GCP_OUT
    else:
        with tempfile.TemporaryDirectory(prefix="cdktf.out-") as tmp:
            yield Path(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/synth", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--aws-only", action="store_true", help="skip the GCP synth and its checkov scan")
    parser.add_argument("--output", type=Path, default=None, metavar="DIR",
                        help="cloud assembly directory (default cdk.out); bin/ops plan gates and keeps its own")
    parser.add_argument("--synthesized", action="store_true",
                        help="use the assembly already in --output, made by `cdk synth '**'` (which ran cdk-nag) instead of synthesizing again")
    parser.add_argument("--tf-output", type=Path, default=None, metavar="DIR",
                        help="Terraform JSON directory (default cdktf.out; with --output, a temporary directory removed afterwards)")
    parser.add_argument("--no-cache", action="store_true",
                        help="check every file with every gate, and neither read nor record passes (GATES_CACHE_DIR)")
    args = parser.parse_args(argv)
    output = args.output.resolve() if args.output else ROOT / "cdk.out"
    directory = None if args.no_cache else cache_dir().resolve()  # before the chdir below
    if args.tf_output:
        args.tf_output = args.tf_output.resolve()
    os.chdir(ROOT)

    if not args.synthesized:
        start = _step("cdk synth '**' (cdk-nag AwsSolutions and Control Tower cfn-guard on every Stage)")
        proc = subprocess.run([*toolchain.cdk_cli(), "synth", "**", "-q", "--output", str(output)], capture_output=True, text=True)
        _done(start, proc.returncode == 0, "" if proc.returncode == 0 else proc.stdout[-4000:] + proc.stderr[-4000:])

    templates = sorted(output.glob("assembly-*/*.template.json"))
    ok, detail, start = cfn_lint_gate(templates, directory)
    # five stacks per environment, and production's DisasterRecovery stack (us-west-2)
    _done(start, ok and len(templates) == 11, detail or ("" if len(templates) == 11 else f"expected 11 templates, found {len(templates)}"))

    result, start = checkov_gate("checkov (CloudFormation)", "templates", templates,
                                 framework="cloudformation", cloud="aws", directory=directory)
    _done(start, result.failed == 0 and result.resource_count > 0, result.describe())

    if args.aws_only:
        return 0
    with _tf_output(args) as tf_output:
        start = _step("GCP app synth (gcp-staging, gcp-production: cdktf.json's app, as `cdktf synth` runs it)")
        proc = synth_gcp(tf_output)
        _done(start, proc.returncode == 0, "" if proc.returncode == 0 else proc.stdout[-4000:] + proc.stderr[-4000:])

        manifest = json.loads((tf_output / "manifest.json").read_text())["stacks"]
        tf_files = [tf_output / manifest[name]["synthesizedStackPath"] for name in sorted(manifest)]
        result, start = checkov_gate("checkov (Terraform JSON)", "stacks", tf_files,
                                     framework="terraform_json", cloud="gcp", directory=directory)
        _done(start, result.failed == 0 and result.resource_count >= 20 and sorted(manifest) == sorted(GCP_STACKS),
              result.describe())
    print("all gates passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
