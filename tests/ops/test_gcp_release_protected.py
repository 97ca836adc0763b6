"""bin/gcp-release in CI: the plan file stays on the protected side, placeholders
are refused before any call, drift fails on any difference, the plan prints
the cost estimate. Fake ``terraform`` and ``gcloud`` on PATH, no network."""
from __future__ import annotations

import io
import json
import os
from pathlib import Path

import pytest

from envconfig.location import REPO_CONFIG_DIR
from opscli import gcp_release
from tests.ops import fake_gcloud
from tests.ops.test_gcp_release import calls as tf_calls, fake_tf, tools  # noqa: F401  (fixture)

DRIFTING_TERRAFORM = r'''#!/usr/bin/env python3
import os, sys
with open(os.environ["FAKE_TF_LOG"], "a") as f:
    f.write(os.getcwd() + " " + " ".join(sys.argv[1:]) + "\n")
if sys.argv[1] == "plan":
    if os.environ.get("FAKE_TF_DRIFT") == "1":
        print("  # google_cloud_run_v2_service.api has changed\n  ~ resource \"google_cloud_run_v2_service\" \"api\" {\n"
              "Plan: 0 to add, 1 to change, 0 to destroy.")
        sys.exit(2)
    if os.environ.get("FAKE_TF_DRIFT") == "error":
        print("Error: 403 serviceusage.services.use denied", file=sys.stderr); sys.exit(1)
    print("No changes. Your infrastructure matches the configuration.")
'''


@pytest.fixture
def gcloud(tmp_path, monkeypatch):
    log = fake_gcloud.install(tmp_path, monkeypatch)
    fake_gcloud.real_config_dir(tmp_path, REPO_CONFIG_DIR, monkeypatch)
    return log


def test_ci_plan_goes_to_the_state_bucket_and_nothing_holding_state_stays_on_the_runner(fake_tf, gcloud, tmp_path, capsys):
    assert gcp_release.main(["plan", "--env", "production", "--keep-in-state-bucket"], tools=tools()) == 0
    out = capsys.readouterr().out
    approval_id = out.rstrip().rsplit("approval id: ", 1)[1]
    # The environment's own state bucket and prefix (config/gcp/production.yaml backend).
    url = f"gs://acme-voice-prd-tfstate/gcp-production/plans/{approval_id}/"
    assert f"kept: {url}" in out
    stored = tmp_path / "gcs" / "acme-voice-prd-tfstate" / "gcp-production" / "plans" / approval_id
    assert gcp_release.plan_digest(stored / "tfplan") == approval_id
    local = tmp_path / "approvals" / "gcp-production" / approval_id
    assert not (local / "tfplan").exists(), "the plan file stayed on the runner"
    # The apply job fetches it back by id, checks the digest, applies exactly it.
    tf_log_before = len(tf_calls(fake_tf))
    assert gcp_release.main(["apply", "--env", "production", "--approved", approval_id, "--from-state-bucket"], tools=tools()) == 0
    assert [c.split(" ")[0] for c in tf_calls(fake_tf)[tf_log_before:]] == ["init", "apply"]


def test_a_plan_altered_in_the_bucket_is_refused(fake_tf, gcloud, tmp_path, capsys):
    assert gcp_release.main(["plan", "--env", "staging", "--keep-in-state-bucket"], tools=tools()) == 0
    approval_id = capsys.readouterr().out.rstrip().rsplit("approval id: ", 1)[1]
    stored = tmp_path / "gcs" / "acme-voice-stg-tfstate" / "gcp-staging" / "plans" / approval_id / "tfplan"
    stored.write_bytes(b"PK-someone-else's-plan")
    assert gcp_release.main(["apply", "--env", "staging", "--approved", approval_id, "--from-state-bucket"], tools=tools()) == 1
    assert "no longer has digest" in capsys.readouterr().err
    assert "apply" not in " ".join(tf_calls(fake_tf)).split("plan -input")[-1]


def test_an_id_never_planned_is_refused_without_applying(fake_tf, gcloud, capsys):
    assert gcp_release.main(["apply", "--env", "staging", "--approved", "cd" * 32, "--from-state-bucket"], tools=tools()) == 1
    assert "no kept plan tfplan at gs://acme-voice-stg-tfstate/gcp-staging/plans/" in capsys.readouterr().err
    assert tf_calls(fake_tf) == []


@pytest.mark.parametrize("field,value", [("budget.billing_account", "012345-6789AB-CDEF01"),
                                         ("project_id", "mirror-dissonance-stg")])
@pytest.mark.parametrize("command", [["plan"], ["apply", "--auto"], ["drift"]])
def test_placeholders_are_refused_before_any_call(fake_tf, gcloud, tmp_path, capsys, field, value, command):
    path = tmp_path / "config" / "gcp" / "staging.yaml"
    text = path.read_text()
    if field == "project_id":
        text = text.replace("project_id: acme-voice-stg", f"project_id: {value}").replace("acme-voice-stg", value)
    else:
        text = text.replace("01A2B3-C4D5E6-F7A8B9", value)
    path.write_text(text)
    synthesized = []
    t = gcp_release.Tools(synthesize=lambda d: synthesized.append(d) or d, gate=lambda d: None)
    assert gcp_release.main([command[0], "--env", "staging", *command[1:]], tools=t) == 2
    err = capsys.readouterr().err
    assert f"staging.yaml: {field}: '{value}' is the repository's placeholder" in err
    assert synthesized == [] and tf_calls(fake_tf) == [] and fake_gcloud.calls(gcloud) == []


def test_the_plan_prints_the_cost_estimate(fake_tf, gcloud, capsys):
    assert gcp_release.main(["plan", "--env", "staging"], tools=tools()) == 0
    out = capsys.readouterr().out
    assert "cost estimate gcp-staging (idle, USD/month; prices of 2026-12-01" in out
    assert "first budget alert 100" in out


@pytest.fixture
def drifting_tf(fake_tf, tmp_path):
    (tmp_path / "bin" / "terraform").write_text(DRIFTING_TERRAFORM)
    return fake_tf


def test_drift_passes_without_differences_and_writes_no_plan_file(drifting_tf, gcloud, monkeypatch):
    monkeypatch.setenv("FAKE_TF_DRIFT", "0")
    assert gcp_release.main(["drift", "--env", "production"], tools=tools()) == 0
    plan_call = [c for c in tf_calls(drifting_tf) if c.startswith("plan")][0]
    assert "-detailed-exitcode" in plan_call and "-out" not in plan_call


def test_drift_fails_on_any_difference_and_names_it(drifting_tf, gcloud, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_TF_DRIFT", "1")
    assert gcp_release.main(["drift", "--env", "staging"], tools=tools()) == 1
    err = capsys.readouterr().err
    assert "gcp-staging differs from its configuration" in err and "google_cloud_run_v2_service.api has changed" in err
    assert "Plan: 0 to add, 1 to change" in err


def test_drift_that_cannot_plan_fails_too(drifting_tf, gcloud, monkeypatch, capsys):
    monkeypatch.setenv("FAKE_TF_DRIFT", "error")
    assert gcp_release.main(["drift", "--env", "staging"], tools=tools()) == 1
    assert "serviceusage.services.use" in capsys.readouterr().err


def test_a_review_plan_takes_no_lock_keeps_nothing_and_prints_no_id(fake_tf, gcloud, tmp_path, capsys):
    assert gcp_release.main(["plan", "--env", "staging", "--review"], tools=tools()) == 0
    out = capsys.readouterr().out
    assert "approval id" not in out and "review plan: not kept, cannot be applied" in out
    assert "plan -input=false -no-color -lock=false -out=tfplan" in tf_calls(fake_tf)
    assert not list((tmp_path / "approvals" / "gcp-staging").rglob("tfplan"))
    assert fake_gcloud.calls(gcloud) == []
