"""bin/gcp-release with a fake ``terraform`` on PATH: no provider, no network.

The fake records its arguments, writes a plan file whose bytes depend on the
synthesized configuration, and prints a ``show``. What this cannot cover
(the google provider, a real plan/apply, "Saved plan is stale") is listed in
docs/operations.md.
"""
from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from opscli import gcp_release
from opscli.errors import CheckFailed, OpsError

FAKE_TERRAFORM = r'''#!/usr/bin/env python3
import hashlib, os, sys
from pathlib import Path
log = Path(os.environ["FAKE_TF_LOG"])
with log.open("a") as f:
    f.write(os.getcwd() + " " + " ".join(sys.argv[1:]) + "\n")
cmd = sys.argv[1]
if cmd == os.environ.get("FAKE_TF_FAIL"):
    print("Error: boom", file=sys.stderr); sys.exit(1)
if cmd == "init":
    Path(".terraform").mkdir(exist_ok=True); Path(".terraform/provider.bin").write_text("x" * 100)
    Path(".terraform.lock.hcl").write_text('provider "registry.terraform.io/hashicorp/google" {}\n')
elif cmd == "plan":
    out = [a.split("=", 1)[1] for a in sys.argv if a.startswith("-out=")][0]
    Path(out).write_bytes(b"PK-fake-plan" + hashlib.sha256(Path("cdk.tf.json").read_bytes()).digest())
elif cmd == "show":
    print("Terraform will perform the following actions:\n  # google_cloud_run_v2_service.api will be updated in-place")
elif cmd == "apply":
    print("Apply complete! Resources: 0 added, 1 changed, 0 destroyed.")
'''


@pytest.fixture
def fake_tf(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tf = bin_dir / "terraform"
    tf.write_text(FAKE_TERRAFORM)
    tf.chmod(0o755)
    log = tmp_path / "tf.log"
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_TF_LOG", str(log))
    monkeypatch.delenv("TERRAFORM", raising=False)
    monkeypatch.setenv("OPS_APPROVALS_DIR", str(tmp_path / "approvals"))
    return log


def tools(config: dict | None = None, gated: list | None = None) -> gcp_release.Tools:
    def synth(outdir: Path) -> Path:
        for env in ("staging", "production"):
            stack = outdir / "stacks" / f"gcp-{env}"
            stack.mkdir(parents=True)
            (stack / "cdk.tf.json").write_text(json.dumps(config or {"resource": {"google_storage_bucket": {}}, "env": env}))
        return outdir
    return gcp_release.Tools(synthesize=synth, gate=(lambda d: gated.append(d.name)) if gated is not None else (lambda d: None))


def calls(log: Path) -> list[str]:
    return [line.split(" ", 1)[1] for line in log.read_text().splitlines()] if log.exists() else []


def test_plan_saves_shows_and_prints_the_digest_of_the_plan_file(fake_tf):
    out, gated = io.StringIO(), []
    approval_id, kept = gcp_release.plan("production", tools=tools(gated=gated), out=out)
    assert calls(fake_tf) == ["init -input=false -no-color", "plan -input=false -no-color -out=tfplan", "show -no-color tfplan"]
    assert gated == ["stack"]  # checkov ran before terraform
    assert approval_id == gcp_release.plan_digest(kept / "tfplan")
    assert out.getvalue().rstrip().endswith(f"approval id: {approval_id}")
    assert "google_cloud_run_v2_service.api will be updated" in (kept / "plan.txt").read_text()
    assert (kept / ".terraform.lock.hcl").is_file() and not (kept / ".terraform").exists()


def test_apply_applies_exactly_the_approved_plan_file(fake_tf):
    approval_id, kept = gcp_release.plan("production", tools=tools(), out=io.StringIO())
    fake_tf.unlink()
    assert gcp_release.apply("production", approved=approval_id, tools=tools(), out=io.StringIO()) == 0
    log = fake_tf.read_text().splitlines()
    assert [l.split(" ", 1) for l in log] == [[str(kept), "init -input=false -no-color"], [str(kept), "apply -input=false -no-color tfplan"]]


def test_production_never_applies_without_an_approved_plan(fake_tf):
    for auto in (False, True):
        with pytest.raises(OpsError, match="applies only an approved plan"):
            gcp_release.apply("production", approved=None, auto=auto, tools=tools(), out=io.StringIO())
    assert calls(fake_tf) == []


def test_staging_auto_plans_then_applies_that_plan(fake_tf):
    assert gcp_release.apply("staging", approved=None, auto=True, tools=tools(), out=io.StringIO()) == 0
    assert [c.split(" ")[0] for c in calls(fake_tf)] == ["init", "plan", "show", "init", "apply"]


def test_an_altered_plan_file_is_refused(fake_tf):
    approval_id, kept = gcp_release.plan("production", tools=tools(), out=io.StringIO())
    (kept / "tfplan").write_bytes(b"PK-other-plan")
    with pytest.raises(CheckFailed, match="no longer has digest"):
        gcp_release.apply("production", approved=approval_id, tools=tools(), out=io.StringIO())
    assert "apply" not in " ".join(calls(fake_tf))


def test_another_configuration_gives_another_id(fake_tf):
    first, _ = gcp_release.plan("production", tools=tools({"a": 1}), out=io.StringIO())
    second, _ = gcp_release.plan("production", tools=tools({"a": 2}), out=io.StringIO())
    assert first != second


@pytest.mark.parametrize("step", ["init", "plan", "show"])
def test_a_failed_terraform_step_prints_no_id_and_keeps_nothing(fake_tf, monkeypatch, tmp_path, step):
    monkeypatch.setenv("FAKE_TF_FAIL", step)
    out = io.StringIO()
    with pytest.raises(CheckFailed, match=f"terraform {step} failed"):
        gcp_release.plan("staging", tools=tools(), out=out)
    assert "approval id" not in out.getvalue()
    assert list((tmp_path / "approvals" / "gcp-staging").iterdir()) == []


def test_a_failed_gate_stops_before_terraform(fake_tf):
    def failing_gate(_):
        raise CheckFailed("checkov on stack: 1 failed")
    with pytest.raises(CheckFailed, match="checkov"):
        gcp_release.plan("staging", tools=gcp_release.Tools(synthesize=tools().synthesize, gate=failing_gate), out=io.StringIO())
    assert calls(fake_tf) == []


def test_no_terraform_is_a_clear_error(fake_tf, monkeypatch):
    monkeypatch.setenv("TERRAFORM", "/nonexistent/terraform")
    with pytest.raises(OpsError, match="terraform not found"):
        gcp_release.plan("staging", tools=gcp_release.Tools(synthesize=tools().synthesize, gate=lambda d: None,
                                                            terraform=["/nonexistent/terraform"]), out=io.StringIO())


def test_cli_malformed_id_exits_2_and_unknown_id_exits_2(fake_tf, capsys, tmp_path, monkeypatch):
    from envconfig.location import REPO_CONFIG_DIR
    from tests.ops.fake_gcloud import real_config_dir
    real_config_dir(tmp_path, REPO_CONFIG_DIR, monkeypatch)
    with pytest.raises(SystemExit) as exit_:
        gcp_release.main(["apply", "--env", "production", "--approved", "nonsense"])
    assert exit_.value.code == 2 and "64 hexadecimal digits" in capsys.readouterr().err
    assert gcp_release.main(["apply", "--env", "production", "--approved", "ab" * 32], tools=tools()) == 2
    assert "no kept plan for gcp-production" in capsys.readouterr().err
    assert calls(fake_tf) == []


def test_bin_gcp_release_answers_help():
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run([str(root / "bin" / "gcp-release"), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "approved" in proc.stdout
