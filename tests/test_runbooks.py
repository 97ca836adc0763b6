"""Runbooks stay runnable: every ``bin/...`` command any docs/runbooks/*.md
names exists and answers ``--help`` (for ``bin/ops``, the named subcommand)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNBOOKS = sorted((ROOT / "docs" / "runbooks").glob("*.md"))
# "bin/ops restore-drill", "bin/deploy-local", ...; for bin/ops the next word is the subcommand.
COMMAND = re.compile(r"(?<![\w./-])bin/([a-z][a-z-]*)(?:[ \t]+([a-z][a-z-]*))?")


def named_commands() -> list[tuple[str, str]]:
    found = set()
    for runbook in RUNBOOKS:
        for program, word in COMMAND.findall(runbook.read_text()):
            command = f"bin/{program} {word}" if program == "ops" and word else f"bin/{program}"
            found.add((runbook.name, command))
    return sorted(found)


def test_the_recovery_runbooks_exist_and_name_their_commands():
    names = {r.name for r in RUNBOOKS}
    assert {"restore.md", "adopt.md"} <= names
    commands = {c for _, c in named_commands()}
    assert {"bin/ops restore-drill", "bin/ops adopt", "bin/ops verify"} <= commands


def test_a_command_that_does_not_exist_is_caught():
    assert COMMAND.findall("run `bin/ops restore-drill --env staging`, then bin/no-such-thing") == [
        ("ops", "restore-drill"), ("no-such-thing", "")]


@pytest.mark.parametrize("runbook,command", named_commands())
def test_every_runbook_command_exists_and_answers_help(runbook, command):
    program, *sub = command.split()
    assert (ROOT / program).is_file(), f"docs/runbooks/{runbook} names {program}, which does not exist"
    proc = subprocess.run([str(ROOT / program), *sub, "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"docs/runbooks/{runbook}: `{command} --help` exited {proc.returncode}: {proc.stderr[-500:]}"
    assert proc.stdout.strip(), f"docs/runbooks/{runbook}: `{command} --help` printed nothing"
