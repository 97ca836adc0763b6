"""Where the configuration files are: ``config/`` in the repository, or ``MD_CONFIG_DIR``.

Every loader (AWS, GCP, the environment contract) asks here, so validating a
candidate directory (``MD_CONFIG_DIR=/candidate bin/ops ...``, the end-to-end
tests) reads every file from it, never half from the repository.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
ENV = "MD_CONFIG_DIR"


def config_dir() -> Path:
    override = os.environ.get(ENV)
    return Path(override) if override else REPO_CONFIG_DIR
