"""checkov on each stack's cdk.tf.json: zero failures beyond reasoned skips."""

from __future__ import annotations

from fnmatch import fnmatch

import pytest

from envconfig.gcp import Environment
from gates.checkov import load_skips

pytestmark = pytest.mark.gates

# checkov's summary reports resource_count 0 for --framework terraform_json
# (and with --quiet lists only failed and skipped checks), so the sanity check
# counts the checks it ran and the resources in the scanned file.
MIN_CHECKS = 50
MIN_RESOURCES = 80


@pytest.mark.parametrize("env", list(Environment), ids=lambda e: e.value)
def test_checkov_passes(gcp_synth, gcp_checkov, env):
    synth = gcp_synth[env]
    resources = sum(1 for _ in synth.all_resources())
    assert resources >= MIN_RESOURCES, f"only {resources} resources synthesized"
    result = gcp_checkov[env]  # one checkov run over both stacks (tests/gcp/conftest.py)
    print(f"{synth.config.stack_name}: {result.describe()} ({resources} resources in cdk.tf.json)")
    assert result.failed == 0, result.describe()
    assert result.passed + result.skipped >= MIN_CHECKS, f"checkov ran only {result.passed + result.skipped} checks: {result.describe()}"
    # Each skip is resource-scoped and used by every stack that has its resources
    # (LiveKit is config-gated): a stale skip is removed.
    addresses = [f"{type_}.{name}" for type_, name, _ in synth.all_resources()]
    applicable = [s for s in load_skips("gcp").values() if any(fnmatch(a, g) for a in addresses for g in s.resources)]
    assert applicable, "the Cloud SQL and log-bucket skips apply to every stack"
    # One skip per matching resource (the frontend skips cover one bucket per app).
    expected = sum(sum(1 for a in addresses if any(fnmatch(a, g) for g in s.resources)) for s in applicable)
    assert result.skipped == expected, result.describe()


def test_every_gcp_skip_is_scoped_and_reasoned():
    skips = load_skips("gcp")
    assert skips, "the gcp section is read"
    for check_id, skip in skips.items():
        assert skip.resources, f"{check_id}: GCP skips name the resources they cover"
        assert len(skip.reason) > 60, check_id
