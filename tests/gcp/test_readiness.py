"""The production-readiness report (bin/ops readiness) on both clouds' synthesized output.

Lives beside the GCP tests because it needs both session fixtures: the AWS
app (tests/conftest.py) and the GCP stacks (tests/gcp/conftest.py).
"""

from __future__ import annotations

import copy

import pytest

from envconfig.aws import load
from opscli.readiness import Artifacts, Verdict, evaluate, load_artifacts, render


@pytest.fixture(params=["staging", "production"])
def artifacts(request, aws_app, gcp_synth):
    from envconfig.gcp import Environment

    config = load(request.param)
    gcp = gcp_synth[Environment(request.param)]
    return config, load_artifacts(config, cdk_out=aws_app.outdir, cdktf_out=gcp.path.parents[2])


# Gates that fail on purpose until the resource that proves them exists
# (a PASS needs the resource, not a suggestive name). Remove an
# entry when the gate passes: the test then fails on a stale entry.
KNOWN_FAILING: dict[str, str] = {}


def test_every_automatable_gate_passes(artifacts):
    config, found = artifacts
    gates = evaluate(found, config)
    failed = [g for g in gates if g.verdict is Verdict.FAIL]
    assert {g.name for g in failed} == set(KNOWN_FAILING), render(gates)
    assert sum(g.verdict is Verdict.PASS for g in gates) >= 15
    assert render(gates).splitlines()[-1].startswith("readiness: ")


def _mutated(found: Artifacts, mutate) -> Artifacts:
    gcp = copy.deepcopy(found.gcp)
    mutate(gcp)
    return Artifacts(found.aws, gcp, found.roots)


def _verdicts(found, config) -> dict[str, Verdict]:
    return {g.name: g.verdict for g in evaluate(found, config)}


def test_a_legacy_env_name_fails_its_gate(artifacts):
    config, found = artifacts

    def rename(gcp):
        for service in gcp["resource"]["google_cloud_run_v2_service"].values():
            for env in service["template"]["containers"][0]["env"]:
                if env["name"] == "BETTER_AUTH_SECRET":
                    env["name"] = "AUTH_SECRET"
    verdicts = _verdicts(_mutated(found, rename), config)
    assert verdicts["BETTER_AUTH_SECRET injected from Secret Manager (not AUTH_SECRET)"] is Verdict.FAIL
    assert verdicts["every deployed variable is a contract name"] is Verdict.FAIL


def test_a_missing_migrations_job_fails(artifacts):
    config, found = artifacts
    verdicts = _verdicts(_mutated(found, lambda gcp: gcp["resource"].pop("google_cloud_run_v2_job")), config)
    assert verdicts["migrations job exists and runs before the services"] is Verdict.FAIL


def test_a_wildcard_origin_fails(artifacts):
    config, found = artifacts

    def open_cors(gcp):
        for service in gcp["resource"]["google_cloud_run_v2_service"].values():
            for env in service["template"]["containers"][0]["env"]:
                if env["name"] == "TRUSTED_ORIGINS":
                    env["value"] = "*"
    assert _verdicts(_mutated(found, open_cors), config)["trusted origins locked down (no wildcard)"] is Verdict.FAIL


def test_missing_synth_output_is_a_clear_error(tmp_path):
    from opscli.errors import OpsError

    with pytest.raises(OpsError, match="is missing: run bin/synth first"):
        load_artifacts(load("staging"), cdk_out=tmp_path, cdktf_out=tmp_path)
