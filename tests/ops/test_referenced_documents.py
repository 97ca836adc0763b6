"""Every document the readiness report or a runbook points to exists: a MANUAL
gate that names a missing runbook is a promise nobody can keep."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Written on other branches this round (issue 12: recovery; issue 8:
# approval). For the lead at merge: once they are in, this list must be
# empty; until then a reference to them is allowed to dangle on this branch.
PENDING_FROM_OTHER_BRANCHES = {
    "docs/runbooks/restore.md": "recovery (issue 12)",
    "docs/runbooks/adopt.md": "recovery (issue 12)",
    "docs/runbooks/rollback.md": "approval (issue 8)",
}

SOURCES = ("opscli/readiness.py", "docs/readiness.md", "docs/runbooks/incident.md", "docs/runbooks/nonce-rotation.md")


def referenced(source: str) -> set[str]:
    text = (REPO / source).read_text()
    paths = set(re.findall(r"docs/[\w/.-]+\.md", text))
    # Relative markdown links in a document resolve against its folder.
    for link in re.findall(r"\]\(([\w./-]+\.md)(?:#[\w-]+)?\)", text):
        paths.add(str((REPO / source).parent.joinpath(link).resolve().relative_to(REPO)))
    return paths


@pytest.mark.parametrize("source", SOURCES)
def test_every_referenced_document_exists(source):
    missing = sorted(p for p in referenced(source) if not (REPO / p).is_file() and p not in PENDING_FROM_OTHER_BRANCHES)
    assert not missing, f"{source} points to documents that do not exist: {missing}"


def test_the_readiness_report_names_documents():
    assert {"docs/readiness.md", "docs/runbooks/incident.md", "docs/runbooks/nonce-rotation.md",
            "docs/runbooks/restore.md"} <= referenced("opscli/readiness.py")


def test_pending_entries_are_still_missing_or_can_go():
    written = sorted(p for p in PENDING_FROM_OTHER_BRANCHES if (REPO / p).is_file())
    # Not a failure: at merge the lead deletes these entries from the list.
    if written:
        pytest.skip(f"written now, delete from PENDING_FROM_OTHER_BRANCHES: {written}")
