"""Has this synthesis already passed the gates? (``bin/deploy-local`` re-runs)

The key is the approval digest of every Stage of the cloud assembly
(opscli/approval.py, the same function ``bin/ops plan`` prints) plus the
digest of the GCP app's source files, since the gates cover both clouds and
deploy-local does not synthesize the GCP side unless it gates. A stamp file
holds the key of the last synthesis that passed them.

This is the whole-synthesis fast path: a hit skips gates.run entirely (not
even the GCP app is synthesized). On a miss gates.run runs, and there each
gate checks only the files whose bytes have not passed it before
(gates/cache.py), so a change to one stack costs that stack's checks.

    python -m opscli.gate_stamp check  --assembly DIR --stamp FILE   # exit 0: passed before, 1: not
    python -m opscli.gate_stamp record --assembly DIR --stamp FILE
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from . import approval

ROOT = Path(__file__).resolve().parent.parent
GCP_SOURCES = ("gcp_app.py", "cdktf.json", "toolchain.py", "stacks/gcp", "constructs_lib/gcp", "config/gcp",
               "config/env_contract.yaml", "envconfig", "policy", "requirements.txt", "requirements-checkov.txt",
               "package-lock.json", "gates")


def gcp_sources_digest(root: Path = ROOT) -> str:
    return approval.files_digest(root / name for name in GCP_SOURCES)


def key(assembly: Path) -> dict[str, str]:
    stages = {}
    for artifact in json.loads((assembly / "manifest.json").read_text())["artifacts"].values():
        if artifact.get("type") == "cdk:cloud-assembly":
            name = artifact["properties"]["displayName"]
            stages[name] = approval.assembly_digest(assembly, name).digest
    return {**{f"aws:{k}": v for k, v in sorted(stages.items())}, "gcp-sources": gcp_sources_digest()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m opscli.gate_stamp", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=("check", "record"))
    parser.add_argument("--assembly", type=Path, required=True)
    parser.add_argument("--stamp", type=Path, required=True)
    args = parser.parse_args(argv)
    current = key(args.assembly)
    if args.action == "record":
        args.stamp.parent.mkdir(parents=True, exist_ok=True)
        partial = args.stamp.with_suffix(".partial")
        partial.write_text(json.dumps({"key": current, "passed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2))
        partial.replace(args.stamp)
        return 0
    try:
        recorded = json.loads(args.stamp.read_text())
    except (OSError, ValueError):
        return 1
    if recorded.get("key") != current:
        return 1
    print(f"the gates passed this synthesis at {recorded.get('passed')} "
          f"(Staging approval id {current.get('aws:Staging', '?')[:12]}…)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
