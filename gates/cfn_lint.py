"""cfn-lint on synthesized CloudFormation templates."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CFN_LINT = ROOT / ".venv" / "bin" / "cfn-lint"

# Findings we accept, each with its reason. Everything else fails the gate.
IGNORED = {
    "W3005": "CDK adds DependsOn next to a GetAtt on the same role (Trail, Lambda) so the role's policy exists first; harmless redundancy we do not control.",
}


def run_cfn_lint(templates: list[Path], *, output_format: str | None = None) -> subprocess.CompletedProcess:
    """Exit status 0 means no error or warning outside ``IGNORED``."""
    fmt = ["--format", output_format] if output_format else []
    return subprocess.run(
        [str(CFN_LINT), "--ignore-checks", *IGNORED, *fmt, "--", *map(str, templates)],
        capture_output=True, text=True, timeout=600,
    )


@dataclass(frozen=True)
class LintResult:
    """One cfn-lint run over several templates, its findings split by template."""
    findings: dict[Path, tuple[str, ...]]   # every template given, with its findings ("" none)
    error: str = ""                         # set when the run itself failed: no template passed

    def passed(self, template: Path) -> bool:
        return not self.error and not self.findings.get(template)

    def describe(self) -> str:
        if self.error:
            return self.error
        return "\n".join(line for lines in self.findings.values() for line in lines)


def run_cfn_lint_per_file(templates: list[Path]) -> LintResult:
    """One cfn-lint run (its start-up paid once), each finding attributed to its template.

    cfn-lint's exit status is a bit field (2 error, 4 warning, 8 informational);
    anything else (1: it could not run), unparseable output, or a non-zero status
    with no finding to show for it means no template passed."""
    if not templates:
        return LintResult({})
    proc = run_cfn_lint(templates, output_format="json")
    findings: dict[Path, list[str]] = {t: [] for t in templates}
    by_name = {str(t): t for t in templates}
    try:
        matches = json.loads(proc.stdout) if proc.stdout.strip() else []
    except ValueError:
        matches = None
    if proc.returncode & 1 or not isinstance(matches, list):
        return LintResult({t: () for t in templates},
                          f"cfn-lint exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    for match in matches:
        template = by_name.get(match.get("Filename", ""))
        start = match.get("Location", {}).get("Start", {})
        line = (f"{match.get('Rule', {}).get('Id', '?')} {match.get('Message', '')}\n"
                f"{match.get('Filename', '?')}:{start.get('LineNumber', '?')}:{start.get('ColumnNumber', '?')}")
        if template is None:
            return LintResult({t: () for t in templates}, f"cfn-lint reported a file it was not given:\n{line}")
        findings[template].append(line)
    if proc.returncode and not matches:
        return LintResult({t: () for t in templates},
                          f"cfn-lint exited {proc.returncode} without findings:\n{proc.stderr[-2000:]}")
    return LintResult({t: tuple(lines) for t, lines in findings.items()})
