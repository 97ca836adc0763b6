"""Shared by the end-to-end modules: one gate cache per test run, and one
deployed Staging for the modules that opt in (``shared_target``).

A template that one module's ``bin/deploy-local`` or ``bin/ops plan`` gated is
not gated again by the next module (gates/cache.py: only passes are kept, keyed
by the file's bytes and every input of the verdict). The directory belongs to
this run, never the repository's ``.gates-cache/``. With parallel workers it is
in the run's common temporary directory, so every worker reads the passes the
others recorded: entries are written whole (``os.replace``), so two workers
recording at once are safe (tests/test_gate_cache.py).

The shared deployment (tests/e2e/local_target.py, ``SharedDeployment``): a
module opts in by marking itself and taking the ``shared_target`` fixture::

    pytestmark = [pytest.mark.e2e, pytest.mark.shared_target(changes="undone")]

    @pytest.fixture(scope="module")
    def target(tmp_path_factory, shared_target):
        return LocalTarget(tmp_path_factory.mktemp("mine"), CONFIG.region, shared=shared_target)

``changes`` says what the module does to the deployment: ``"none"`` (it only
reads: modules run side by side), ``"undone"`` (it changes things and puts
them back: it has the target to itself meanwhile), ``"spoils"`` (it leaves
changes: the next user gets a fresh deployment). A module with a failed test
counts as ``"spoils"``. A module that destroys the deployment or needs an
account nobody touched (the lifecycle, recovery, deploy integrity and nonce
modules) keeps its own target: it does not take the fixture. A module that
deploys through ``bin/ops`` on the shared deployment must keep its approved
assemblies in ``shared_target.approvals`` (``LocalTarget`` sets it as
``OPS_APPROVALS_DIR``): the record a deploy leaves names one, and the next
module's ``verify`` looks for it there. bin/test's scheduler
(tests/conftest.py) sends the marked modules to one worker, one after the
other, so the deployment is made once and nobody waits for the lock.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.local_target import SharedDeployment, SharedTarget


def _run_dir(tmp_path_factory) -> Path:
    """The run's temporary directory, the same for every xdist worker."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # .../pytest-N/popen-gwK is this worker's; .../pytest-N is the run's, the same for every worker.
        return tmp_path_factory.getbasetemp().parent
    return tmp_path_factory.getbasetemp()


@pytest.fixture(scope="session")
def gates_cache_dir(tmp_path_factory) -> Path:
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = _run_dir(tmp_path_factory) / "gates-cache"
        shared.mkdir(exist_ok=True)
        return shared
    return tmp_path_factory.mktemp("gates-cache")


@pytest.fixture(scope="session")
def shared_deployment(tmp_path_factory, gates_cache_dir) -> SharedDeployment:
    """This worker's lease on the run's shared deployment (deployed on first use)."""
    from envconfig.aws import load

    staging = load("staging")
    shared = SharedDeployment(_run_dir(tmp_path_factory) / "shared-target", staging.account, staging.region,
                              gates_cache_dir)
    shared.join()
    try:
        yield shared
    finally:
        shared.leave()


@pytest.fixture(scope="module")
def shared_target(request, shared_deployment) -> SharedTarget:
    """The deployed Staging, held for this module (see the module docstring for ``changes``)."""
    marker = request.node.get_closest_marker("shared_target")
    if marker is None:
        pytest.fail(f"{request.node.nodeid}: takes shared_target without pytest.mark.shared_target(changes=...) "
                    f"(one of none, undone, spoils: what the module leaves on the shared deployment)")
    failed_before = request.session.testsfailed
    with shared_deployment.use(marker.kwargs.get("changes", "none")) as held:
        yield held
        if request.session.testsfailed > failed_before:
            held.spoiled = True  # a test that failed half-way may have left its change behind
