"""Shared by the end-to-end modules: one gate cache per test session.

A template that one module's ``bin/deploy-local`` or ``bin/ops plan`` gated is
not gated again by the next module (gates/cache.py: only passes are kept, keyed
by the file's bytes and every input of the verdict). The directory is the
session's own temporary directory (one per worker when tests run in parallel),
never the repository's ``.gates-cache/``.
"""
from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def gates_cache_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("gates-cache")
