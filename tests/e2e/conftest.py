"""Shared by the end-to-end modules: one gate cache per test run.

A template that one module's ``bin/deploy-local`` or ``bin/ops plan`` gated is
not gated again by the next module (gates/cache.py: only passes are kept, keyed
by the file's bytes and every input of the verdict). The directory belongs to
this run, never the repository's ``.gates-cache/``. With parallel workers it is
in the run's common temporary directory, so every worker reads the passes the
others recorded: entries are written whole (``os.replace``), so two workers
recording at once are safe (tests/test_gate_cache.py).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def gates_cache_dir(tmp_path_factory) -> Path:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # .../pytest-N/popen-gwK is this worker's; .../pytest-N is the run's, the same for every worker.
        shared = tmp_path_factory.getbasetemp().parent / "gates-cache"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("gates-cache")
