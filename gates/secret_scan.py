"""Secret material that must never appear in synthesized output (templates, Terraform JSON, assets)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Iterator

SECRET_PATTERNS = {
    "private key": r"-----BEGIN [A-Z ]*PRIVATE KEY-----",
    "GitHub token": r"\bgh[pousr]_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{22,}",
    "AWS access key": r"\b(AKIA|ASIA)[0-9A-Z]{16}\b",
    "Slack token": r"\bxox[abpr]-[A-Za-z0-9-]{10,}",
    "SecureString resource": r'"Type":\s*"SecureString"',
    # a secret version whose data is a literal (no ${...} reference to another resource)
    "Terraform literal secret": r'"(?:secret_data|secret_data_wo|password|password_wo)":\s*"(?![^"]*\$\{)',
}
_COMPILED = {kind: re.compile(pattern) for kind, pattern in SECRET_PATTERNS.items()}


def scan(roots: Iterable[Path]) -> Iterator[tuple[Path, str]]:
    """Yield (file, kind) for every file under ``roots`` that contains secret material."""
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            text = path.read_text(errors="replace")
            for kind, pattern in _COMPILED.items():
                if pattern.search(text):
                    yield path, kind


def count_files(roots: Iterable[Path]) -> int:
    return sum(1 for root in roots for p in root.rglob("*") if p.is_file())
