"""The README stays true: its commands exist and answer --help, its example error is what the app prints."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from envconfig.aws import REPO_CONFIG_DIR
from tests.config_edit import set_field, write_edited

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
COMMANDS = sorted(set(re.findall(r"`(bin/[a-z-]+)(?=[\s`])", README)))


def test_readme_names_the_two_commands():
    block = re.search(r"## The two commands\n.*?```bash\n(.*?)```", README, re.S).group(1)
    assert [line.split()[0] for line in block.strip().splitlines()] == ["bin/deploy-local", "bin/test"]
    assert "exec bin/test" in (ROOT / ".ci" / "run").read_text(), ".ci/run must run README command 2"


@pytest.mark.parametrize("command", COMMANDS)
def test_every_readme_command_answers_help(command):
    assert (ROOT / command).exists(), f"README names {command}, which does not exist"
    proc = subprocess.run([str(ROOT / command), "--help"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip(), f"{command} --help printed nothing"


def test_readme_configuration_error_example_is_real(tmp_path):
    example = re.search(r"^configuration error: (config/aws/staging\.yaml): (data\.pitr_recovery_period_days): (.*)$", README, re.M)
    assert example, "README lost its configuration-error example"
    write_edited(REPO_CONFIG_DIR / "aws" / "staging.yaml", tmp_path / "aws" / "staging.yaml", set_field("data.pitr_recovery_period_days", 90))
    write_edited(REPO_CONFIG_DIR / "aws" / "production.yaml", tmp_path / "aws" / "production.yaml", lambda d: None)
    proc = subprocess.run([sys.executable, "app.py"], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "MD_CONFIG_DIR": str(tmp_path)}, timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().replace(str(tmp_path), "config") == example.group(0)
