"""Shared fixtures: the AWS app, synthesized once per test session (tests/aws, and the readiness report in tests/gcp)."""

from __future__ import annotations

import ast
import json
import os
import tempfile
from functools import cache
from dataclasses import dataclass
from pathlib import Path

import pytest

import toolchain
from constructs_lib.gcp import lazy_index
from envconfig.aws import AwsConfig, Environment, load_all

toolchain.prefer_supported_node()
# One jsii kernel serves the whole session, and aws-cdk-lib may start it
# before any GCP test: give it the provider's lazy JavaScript index from the start.
lazy_index.export_for_process()
# The commands the tests run see no terminal size, as when their output is a
# pipe: the CDK CLI wraps its tables at $COLUMNS (cutting "sts:AssumeRole..."
# that the approval tests look for). pytest-xdist's workers inherit COLUMNS=80
# and LINES=24 from the controller (GNU readline puts them in its environment),
# and a developer's shell may export them.
for _name in ("COLUMNS", "LINES"):
    os.environ.pop(_name, None)

STACK_IDS = ("Data", "Secrets", "Observability", "Oidc", "Runtime")

# bin/test runs the suite on parallel workers (pytest-xdist, --dist loadfile):
# a module is the unit of work, sent whole to one worker, because modules share
# module-scoped fixtures and their tests may build on each other in file order
# (each end-to-end module deploys one local target and walks it through its
# tests). (--dist loadgroup, finer, silently ignores xdist_group marks with
# pytest 9.2's structured node ids: pytest-dev/pytest-xdist#1386.)
# Workers take modules in collection order: the slowest (serial seconds on the
# 2-core CI machine, 2026-12-03) go first, so that the end of the run is not
# one long end-to-end module running alone. Modules not listed keep their
# place; a serial run (`bin/test -n 0`, `-p no:xdist`) is not reordered.
SLOWEST_FIRST = (
    "tests/e2e/test_approval.py",             # 291 s
    "tests/e2e/test_recovery.py",             # 95 s
    "tests/e2e/test_lifecycle.py",            # 82 s
    "tests/e2e/test_truth.py",                # 73 s
    "tests/e2e/test_deploy_local_errors.py",  # 37 s
    "tests/aws/test_gates.py",                # 37 s
    "tests/test_config_generated.py",         # 26 s
    "tests/gcp/test_tf_lazy.py",              # 19 s
    "tests/e2e/test_nonce_concurrency.py",    # 15 s
    "tests/gcp/test_checkov.py",              # 13 s
    "tests/aws/test_acknowledgments.py",      # 11 s
)


@pytest.hookimpl(trylast=True)  # after pytest's tmpdir plugin has set up its factory
def pytest_configure(config: pytest.Config) -> None:
    """Temporary files of the run stay in the run's own directory.

    Tests and what they start (the jsii kernel, the CDK and cdktf CLIs,
    checkov, the local target) write temporary files through ``TMPDIR``;
    some never remove theirs (cdktf's ``Testing.app()`` left a
    ``cdktf.outdir.*`` per call in the system temp directory). Here they go
    under pytest's base temporary directory (``<basetemp>/tmp``, one per
    xdist worker too), which pytest itself rotates (the last three runs are
    kept for a look at failures), so nothing else is left in the system temp
    directory, even by a run killed half-way.
    """
    config.addinivalue_line(
        "markers", "shared_target(changes): the module uses the run's one deployed Staging "
        "(tests/e2e/conftest.py); changes is none, undone or spoils")
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:  # -p no:tmpdir
        return
    scratch = factory.getbasetemp() / "tmp"
    scratch.mkdir(exist_ok=True)
    os.environ["TMPDIR"] = str(scratch)
    tempfile.tempdir = str(scratch)  # the stdlib caches the directory it found first


SHARED_TARGET_SCOPE = "tests/e2e: the modules sharing one deployed Staging"


@cache
def shares_the_target(path: Path) -> bool:
    """Does the module mark itself ``pytest.mark.shared_target`` (read from its source:
    the xdist controller sees node ids only, not markers)?"""
    try:
        source = path.read_text(encoding="utf-8")
    except OSError:
        return False
    if "shared_target" not in source:
        return False
    return any(isinstance(node, ast.Attribute) and node.attr == "shared_target"
               and isinstance(node.value, ast.Attribute) and node.value.attr == "mark"
               for node in ast.walk(ast.parse(source)))


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist: unknown with -p no:xdist
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """--dist loadfile, except that the modules sharing the deployed Staging are
    one unit of work: one worker runs them one after the other (the first
    deploys, the next reuse it), instead of two workers taking turns at the
    deployment's lock with one of them idle."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class SharedTargetTogether(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return SHARED_TARGET_SCOPE if shares_the_target(config.rootpath / path) else path

    return SharedTargetTogether(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not hasattr(config, "workerinput"):  # not an xdist worker: a serial run, left as collected
        return
    rank = {path: i for i, path in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.relative_to(config.rootpath).as_posix(), len(rank)))  # stable


@dataclass(frozen=True)
class SynthesizedApp:
    outdir: Path
    configs: dict[Environment, AwsConfig]
    templates: dict[tuple[Environment, str], dict]

    def template(self, env: Environment, stack: str) -> dict:
        return self.templates[(env, stack)]

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("assembly-*/*.template.json"))

    def resources(self, env: Environment, stack: str, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.template(env, stack)["Resources"].items() if v["Type"] == type_}

    def all_resources(self):
        for (env, stack), template in self.templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                yield env, stack, logical_id, resource


@pytest.fixture(scope="session")
def aws_app(tmp_path_factory) -> SynthesizedApp:
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    configs = load_all()
    app, stages = build_app(configs, outdir=str(outdir))
    assembly = app.synth()
    templates = {}
    for env, stage in stages.items():
        for stack in stage.stacks:
            artifact = assembly.get_nested_assembly(stage.artifact_id).get_stack_artifact(stack.artifact_id)
            templates[(env, stack.node.id)] = artifact.template
    return SynthesizedApp(outdir, configs, templates)


@pytest.fixture(params=list(Environment), ids=lambda e: e.value)
def env(request) -> Environment:
    return request.param
