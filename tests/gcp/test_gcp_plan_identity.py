"""The plan identity can refresh everything in state and nothing more: its
roles come from what a refresh reads for each resource type both
synthesized stacks hold (opscli/gcp_bootstrap.py PLAN_READS)."""
from __future__ import annotations

import io

import pytest

from envconfig.gcp import load_environment
from opscli.gcp_bootstrap import (
    PLAN_BILLING_TYPES, PLAN_CUSTOM_PERMISSIONS, PLAN_READS, bootstrap, plan_project_roles, plan_service_account,
)


def state_types(gcp_synth) -> set[str]:
    types = set()
    for synth in gcp_synth.values():
        types |= set(synth.doc.get("resource", {}))
        types |= {f"data.{t}" for t in synth.doc.get("data", {})}
    return types


def test_every_resource_type_in_state_has_a_read_role(gcp_synth):
    missing = sorted(t for t in state_types(gcp_synth) if t not in PLAN_READS and t not in PLAN_BILLING_TYPES)
    assert not missing, f"a refresh reads these and the plan identity has no role for them: {missing}"


def test_provider_bills_requests_to_the_project_so_the_plan_identity_may_use_it(gcp_synth):
    for synth in gcp_synth.values():
        assert synth.doc["provider"]["google"][0]["user_project_override"] is True
        assert "roles/serviceusage.serviceUsageConsumer" in plan_project_roles(synth.config)


def test_reads_no_viewer_role_grants_are_in_the_custom_role():
    # The Redis AUTH string is read back on every refresh of the instance.
    assert "redis.instances.getAuthString" in PLAN_CUSTOM_PERMISSIONS


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_plan_identity_never_gets_a_role_that_writes(env):
    config = load_environment(env)
    for role in plan_project_roles(config):
        assert role not in ("roles/owner", "roles/editor", "roles/viewer"), role
        assert not any(word in role.lower() for word in ("admin", "editor", "writer", "developer", "creator", "user")) \
            or role == "roles/serviceusage.serviceUsageConsumer", role


def test_bootstrap_creates_and_grants_exactly_that(tmp_path):
    config = load_environment("staging")
    calls = []
    assert bootstrap(config, executor=lambda argv: calls.append(tuple(argv)) or 0, probe=lambda argv: 1,
                     out=io.StringIO(), number_of=lambda project: "123456789012") == 0
    sa = "md-staging-plan@mirror-dissonance-stg.iam.gserviceaccount.com"
    assert plan_service_account(config) == sa
    granted = {c[c.index("--role") + 1] for c in calls
               if c[1:3] == ("projects", "add-iam-policy-binding") and f"serviceAccount:{sa}" in c}
    assert granted == set(plan_project_roles(config))
    assert "projects/mirror-dissonance-stg/roles/md_staging_plan_refresh" in granted
    billing = [c for c in calls if c[1:3] == ("billing", "accounts") and f"serviceAccount:{sa}" in c]
    assert len(billing) == 1 and billing[0][billing[0].index("--role") + 1] == "roles/billing.viewer"
    bucket = {c[c.index("--role") + 1]: c[c.index("--role") + 2] for c in calls
              if c[1:3] == ("storage", "buckets") and "add-iam-policy-binding" in c and f"serviceAccount:{sa}" in c}
    objects = "projects/_/buckets/mirror-dissonance-stg-tfstate/objects/gcp-staging"
    assert bucket == {
        "roles/storage.objectViewer": f'--condition=expression=resource.name.startsWith("{objects}/default.tf"),title=state and lock of this prefix',
        "roles/storage.objectUser": f'--condition=expression=resource.name == "{objects}/default.tflock",title=the state lock',
        "roles/storage.objectCreator": f'--condition=expression=resource.name.startsWith("{objects}/plans/"),title=saved plans write only',
    }


def test_only_the_plan_environment_may_impersonate_it():
    config = load_environment("production")
    calls = []
    assert bootstrap(config, executor=lambda argv: calls.append(tuple(argv)) or 0, probe=lambda argv: 1,
                     out=io.StringIO(), number_of=lambda project: "210987654321") == 0
    sa = "md-prod-plan@mirror-dissonance-prd.iam.gserviceaccount.com"
    binding = [c for c in calls if c[1:4] == ("iam", "service-accounts", "add-iam-policy-binding") and c[4] == sa]
    assert len(binding) == 1
    member = binding[0][binding[0].index("--member") + 1]
    assert member == ("principal://iam.googleapis.com/projects/210987654321/locations/global/workloadIdentityPools/"
                      "md-prod-github/subject/repo:PhaseMirror/Phase-Mirror:environment:gcp-production-plan")
    assert binding[0][binding[0].index("--role") + 1] == "roles/iam.workloadIdentityUser"


def test_no_project_number_stops_before_the_binding():
    calls, out = [], io.StringIO()
    assert bootstrap(load_environment("staging"), executor=lambda argv: calls.append(tuple(argv)) or 0,
                     probe=lambda argv: 1, out=out, number_of=lambda project: "") == 1
    assert "cannot read the project number of mirror-dissonance-stg" in out.getvalue()
    assert not [c for c in calls if any("{project_number}" in a for a in c)]
