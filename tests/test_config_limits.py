"""Input limits of the configuration reader: a file over 1 MiB is refused
before it is parsed, and a symbolic link that points back into itself (the
file or ``MD_CONFIG_DIR``) is named as a symlink loop, not a missing file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from envconfig import ConfigError, aws, gcp
from envconfig.location import REPO_CONFIG_DIR
from tests.config_edit import set_field, write_edited


@pytest.fixture
def candidate(tmp_path, monkeypatch) -> Path:
    shutil.copytree(REPO_CONFIG_DIR, tmp_path / "config")
    monkeypatch.setenv("MD_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def test_a_file_over_one_mib_is_refused_before_parsing(candidate, monkeypatch):
    path = candidate / "aws" / "staging.yaml"
    # Valid YAML all the way (a comment), so only the cap can refuse it.
    path.write_bytes(path.read_bytes() + b"#" + b"x" * (1024 * 1024) + b"\n")
    parsed = []
    monkeypatch.setattr(yaml, "load", lambda *a, **k: parsed.append(1))
    with pytest.raises(ConfigError) as error:
        aws.load("staging")
    assert str(error.value).startswith(f"{path}: <file>: is ")
    assert "over the 1048576-byte (1 MiB) cap for a configuration file" in str(error.value)
    assert parsed == []


def test_a_file_just_under_the_cap_is_read(candidate):
    path = candidate / "aws" / "staging.yaml"
    text = path.read_bytes()
    path.write_bytes(text + b"#" + b"x" * (1024 * 1024 - len(text) - 2) + b"\n")
    assert path.stat().st_size == 1024 * 1024
    assert aws.load("staging").region == "us-east-1"


def test_a_symlink_loop_as_the_file_is_named(candidate):
    path = candidate / "gcp" / "staging.yaml"
    path.unlink()
    path.symlink_to(path)
    with pytest.raises(ConfigError) as error:
        gcp.load_environment("staging")
    assert str(error.value).startswith(f"{path}: <file>: is a symlink loop")
    assert "does not exist" not in str(error.value)


def test_a_symlink_loop_as_md_config_dir_is_named(tmp_path, monkeypatch):
    first, second = tmp_path / "a", tmp_path / "b"
    first.symlink_to(second)
    second.symlink_to(first)
    monkeypatch.setenv("MD_CONFIG_DIR", str(first))
    with pytest.raises(ConfigError) as error:
        aws.load("staging")
    message = str(error.value)
    assert message.startswith(f"{first}/aws/staging.yaml: <file>: is a symlink loop ({first} points back into itself)"), message


def test_a_missing_file_is_still_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("MD_CONFIG_DIR", str(tmp_path))
    with pytest.raises(ConfigError, match=r"staging.yaml: <file>: file does not exist"):
        aws.load("staging")


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_a_budget_percentage_that_is_not_a_number_is_refused(candidate, value):
    """Before: .nan passed (it compares false with every bound)."""
    path = candidate / "aws" / "staging.yaml"
    write_edited(path, path, set_field("budget.alert_thresholds_percent", [80, value]))
    with pytest.raises(ConfigError) as error:
        aws.load("staging")
    assert str(error.value) == f"{path}: budget.alert_thresholds_percent: must be a non-empty list of percentages"


def test_a_fifo_or_directory_is_refused_without_reading_it(candidate):
    path = candidate / "aws" / "staging.yaml"
    path.unlink()
    os.mkfifo(path)  # opening it for reading would block until a writer comes
    with pytest.raises(ConfigError, match=r"staging.yaml: <file>: is not a regular file"):
        aws.load("staging")
    path.unlink()
    path.mkdir()
    with pytest.raises(ConfigError, match=r"staging.yaml: <file>: is not a regular file"):
        aws.load("staging")
