"""Run checkov (from its own virtual environment) on synthesized output.

checkov pins ``packaging<24`` and cannot share pytest 9's environment, so it
is installed into ``.venv-checkov`` by ``bin/install`` and invoked here as a
subprocess. Skips come from ``policy/checkov_skips.yaml`` only, each with a
reason; a skip without a reason is an error.

A skip is either ``CHECK_ID: "reason"`` (the check is skipped everywhere) or
``CHECK_ID: {reason: "...", resources: ["<glob>", ...]}`` (only findings on
resources whose checkov id, e.g. ``AWS::S3::Bucket.AccessLogsBucket1234``,
matches a glob are skipped; the check still runs on everything else).
"""

from __future__ import annotations

import json
import os
import subprocess
from fnmatch import fnmatchcase
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
SKIPS_FILE = ROOT / "policy" / "checkov_skips.yaml"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"


@dataclass(frozen=True)
class Finding:
    check_id: str
    check_name: str
    resource: str
    file: str


@dataclass(frozen=True)
class CheckovResult:
    passed: int
    failed: int
    skipped: int
    resource_count: int
    findings: tuple[Finding, ...] = field(default=())

    def counts(self) -> dict[str, int]:
        """What a pass records (gates/cache.py): a passing file has no findings."""
        return {"passed": self.passed, "failed": self.failed, "skipped": self.skipped, "resource_count": self.resource_count}

    @classmethod
    def from_counts(cls, counts: dict) -> "CheckovResult":
        return cls(*(int(counts[k]) for k in ("passed", "failed", "skipped", "resource_count")))

    @classmethod
    def total(cls, results) -> "CheckovResult":
        results = list(results)
        return cls(sum(r.passed for r in results), sum(r.failed for r in results), sum(r.skipped for r in results),
                   sum(r.resource_count for r in results), tuple(f for r in results for f in r.findings))

    def describe(self) -> str:
        lines = [f"checkov: {self.passed} passed, {self.failed} failed, {self.skipped} skipped, {self.resource_count} resources"]
        lines += [f"  {f.check_id} {f.resource} ({f.file}): {f.check_name}" for f in self.findings]
        return "\n".join(lines)


@dataclass(frozen=True)
class Skip:
    check_id: str
    reason: str
    resources: tuple[str, ...] = ()  # empty: skipped everywhere

    def covers(self, finding: Finding) -> bool:
        return finding.check_id == self.check_id and any(fnmatchcase(finding.resource, g) for g in self.resources)


def load_skips(cloud: str, path: Path = SKIPS_FILE) -> dict[str, Skip]:
    """Skips of one cloud section; every skip needs a reason."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    section = data.get(cloud) or {}
    skips: dict[str, Skip] = {}
    for check_id, entry in section.items():
        if isinstance(entry, dict):
            reason, resources = entry.get("reason"), entry.get("resources")
            if not isinstance(resources, list) or not resources or not all(isinstance(g, str) for g in resources):
                raise ValueError(f"{path}: {cloud}.{check_id}.resources: must be a non-empty list of resource globs")
        else:
            reason, resources = entry, []
        if not isinstance(reason, str) or len(reason.strip()) < 20:
            raise ValueError(f"{path}: {cloud}.{check_id}: every skip needs a specific reason (at least 20 characters)")
        skips[check_id] = Skip(check_id, reason.strip(), tuple(resources))
    return skips


def run_checkov(targets: list[Path], *, framework: str, cloud: str) -> CheckovResult:
    """Scan ``targets`` (files) with ``framework`` and the skips of ``cloud``."""
    stdout, scoped = _scan(targets, framework=framework, cloud=cloud)
    return apply_scoped_skips(parse_report(stdout), scoped)


def run_checkov_per_file(targets: list[Path], *, framework: str, cloud: str) -> dict[Path, CheckovResult]:
    """One checkov run over ``targets``, its result split by file (checkov's start-up is paid once)."""
    stdout, scoped = _scan(targets, framework=framework, cloud=cloud)
    by_file = parse_report_per_file(stdout)
    empty = CheckovResult(0, 0, 0, 0)
    return {t: apply_scoped_skips(by_file.get(str(Path(t).resolve()), empty), scoped) for t in targets}


def _scan(targets: list[Path], *, framework: str, cloud: str) -> tuple[str, list[Skip]]:
    if not CHECKOV.exists():
        raise FileNotFoundError(f"{CHECKOV} is missing: run bin/install first")
    # No --quiet: with it the JSON lists failed checks only, and the count of
    # evaluated resources (the "did it scan anything" check) would be wrong.
    cmd = [str(CHECKOV), "--framework", framework, "-o", "json", "--compact", "--skip-download"]
    skips = load_skips(cloud)
    everywhere = sorted(k for k, v in skips.items() if not v.resources)
    if everywhere:
        cmd += ["--skip-check", ",".join(everywhere)]
    for target in targets:
        cmd += ["-f", str(target)]
    env = {**os.environ, "BC_SKIP_MAPPING": "TRUE", "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "false", "LOG_LEVEL": "ERROR"}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"checkov exited {proc.returncode}: {proc.stderr[-2000:]}")
    return proc.stdout, [v for v in skips.values() if v.resources]


def apply_scoped_skips(result: CheckovResult, skips: list[Skip]) -> CheckovResult:
    """Move findings covered by a resource-scoped skip from failed to skipped."""
    kept = tuple(f for f in result.findings if not any(s.covers(f) for s in skips))
    moved = len(result.findings) - len(kept)
    return CheckovResult(result.passed, result.failed - moved, result.skipped + moved, result.resource_count, kept)


def parse_report(stdout: str) -> CheckovResult:
    text = stdout.strip()
    if not text:
        return CheckovResult(0, 0, 0, 0)
    data = json.loads(text)
    reports = data if isinstance(data, list) else [data]
    passed = failed = skipped = resources = 0
    findings: list[Finding] = []
    for report in reports:
        summary = report.get("summary", {})
        passed += summary.get("passed", 0)
        failed += summary.get("failed", 0)
        skipped += summary.get("skipped", 0)
        # checkov's summary counts no resources for terraform_json; count the
        # distinct resources its checks actually evaluated instead.
        results = report.get("results", {})
        evaluated = {(c.get("file_path"), c.get("resource")) for key in ("passed_checks", "failed_checks", "skipped_checks") for c in results.get(key, [])}
        resources += max(summary.get("resource_count", 0), len(evaluated))
        for check in results.get("failed_checks", []):
            findings.append(Finding(check["check_id"], check.get("check_name", ""), check.get("resource", ""), check.get("file_path", "")))
    return CheckovResult(passed, failed, skipped, resources, tuple(findings))


def parse_report_per_file(stdout: str) -> dict[str, CheckovResult]:
    """Results keyed by each check's ``file_abs_path``, counted from the check lists
    (checkov's summary only totals the whole run)."""
    text = stdout.strip()
    if not text:
        return {}
    data = json.loads(text)
    counts: dict[str, dict[str, int]] = {}
    evaluated: dict[str, set] = {}
    findings: dict[str, list[Finding]] = {}
    for report in data if isinstance(data, list) else [data]:
        results = report.get("results", {})
        for key in ("passed_checks", "failed_checks", "skipped_checks"):
            for check in results.get(key, []):
                path = check.get("file_abs_path") or check.get("file_path", "")
                counts.setdefault(path, {"passed_checks": 0, "failed_checks": 0, "skipped_checks": 0})[key] += 1
                evaluated.setdefault(path, set()).add(check.get("resource"))
                if key == "failed_checks":
                    findings.setdefault(path, []).append(Finding(check["check_id"], check.get("check_name", ""),
                                                                 check.get("resource", ""), check.get("file_path", "")))
    return {path: CheckovResult(c["passed_checks"], c["failed_checks"], c["skipped_checks"], len(evaluated[path]),
                                tuple(findings.get(path, ())))
            for path, c in counts.items()}
