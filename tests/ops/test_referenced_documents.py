"""Every document the readiness report or a runbook points to exists: a MANUAL
gate that names a missing runbook is a promise nobody can keep."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

SOURCES = ("opscli/readiness.py", "opscli/recovery_readiness.py", "docs/readiness.md",
           *sorted(str(p.relative_to(REPO)) for p in (REPO / "docs" / "runbooks").glob("*.md")))


def referenced(source: str) -> set[str]:
    text = (REPO / source).read_text()
    paths = set(re.findall(r"docs/[\w/.-]+\.md", text))
    # Relative markdown links in a document resolve against its folder.
    for link in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", text):
        paths.add(str((REPO / source).parent.joinpath(link).resolve().relative_to(REPO)))
    return paths


@pytest.mark.parametrize("source", SOURCES)
def test_every_referenced_document_exists(source):
    missing = sorted(p for p in referenced(source) if not (REPO / p).is_file())
    assert not missing, f"{source} points to documents that do not exist: {missing}"


def test_the_readiness_report_names_documents():
    assert {"docs/readiness.md", "docs/runbooks/incident.md", "docs/runbooks/nonce-rotation.md",
            "docs/runbooks/restore.md"} <= referenced("opscli/readiness.py")
