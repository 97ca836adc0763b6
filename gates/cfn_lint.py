"""cfn-lint on synthesized CloudFormation templates."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"

# Findings we accept, each with its reason. Everything else fails the gate.
IGNORED = {
    "W3005": "CDK adds DependsOn next to a GetAtt on the same role (Trail, Lambda) so the role's policy exists first; harmless redundancy we do not control.",
}


def run_cfn_lint(templates: list[Path]) -> subprocess.CompletedProcess:
    """Exit status 0 means no error or warning outside ``IGNORED``."""
    return subprocess.run(
        [str(CFN_LINT), "--ignore-checks", *IGNORED, "--", *map(str, templates)],
        capture_output=True, text=True, timeout=600,
    )
