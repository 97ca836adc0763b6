"""Policy gates on the synthesized AWS app: cdk-nag (through the real CLI), cfn-lint, checkov."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from aws_cdk import aws_s3 as s3

from gates.cfn_lint import run_cfn_lint
from gates.checkov import run_checkov

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.gates

def test_cdk_synth_all_stacks_passes_cdk_nag(tmp_path):
    """`cdk synth '**'` through the pinned CLI: the gate CI runs (plain `cdk synth` exits 0 on Stage failures)."""
    proc = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "**", "-q", "-o", str(tmp_path / "out")],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if k not in ("JSII_NODE", "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION")},
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    # toolchain.py moved jsii off the machine's end-of-life Node: no banner.
    assert "end-of-life" not in proc.stdout + proc.stderr
    stacks = []
    for stage in ("Staging", "Production"):
        manifest = json.loads((tmp_path / "out" / f"assembly-{stage}" / "manifest.json").read_text())
        stacks += [k for k, v in manifest["artifacts"].items() if v["type"] == "aws:cloudformation:stack"]
    assert len(stacks) == 11, stacks  # with production's DisasterRecovery stack


def test_cdk_nag_fails_synth_on_a_finding(tmp_path, monkeypatch):
    """The gate can fail: an unencrypted, unlogged bucket in a Stage stops synth."""
    import stacks.data as data_module
    from app import build_app
    from envconfig.aws import Environment, load

    original = data_module.DataStack.__init__

    def with_bad_bucket(self, *args, **kwargs):
        original(self, *args, **kwargs)
        s3.Bucket(self, "Careless")

    monkeypatch.setattr(data_module.DataStack, "__init__", with_bad_bucket)
    app, _ = build_app({Environment.STAGING: load("staging")}, outdir=str(tmp_path))
    with pytest.raises(RuntimeError, match=r"(?s)ValidationFailed: .*AwsSolutions-S1.*AwsSolutions-S10"):
        app.synth()


def test_cfn_lint_has_no_findings(aws_app):
    templates = aws_app.template_files()
    assert len(templates) == 11  # five stacks per environment, and production's DisasterRecovery
    proc = run_cfn_lint(templates)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_cfn_lint_gate_can_fail(tmp_path):
    template = tmp_path / "bad.template.json"
    template.write_text(json.dumps({"Resources": {"T": {"Type": "AWS::DynamoDB::Table", "Properties": {"BillingMode": "SOMETIMES"}}}}))
    assert run_cfn_lint([template]).returncode != 0


def test_checkov_has_no_failed_checks(aws_app):
    result = run_checkov(aws_app.template_files(), framework="cloudformation", cloud="aws")
    assert result.failed == 0, result.describe()
    # A scan of nothing passes silently: make sure it looked at the whole app.
    assert result.resource_count >= 100, result.describe()
    assert result.passed >= 200, result.describe()


def test_checkov_gate_can_fail(tmp_path):
    template = tmp_path / "bad.template.json"
    template.write_text(json.dumps({"Resources": {"Careless": {"Type": "AWS::S3::Bucket", "Properties": {}}}}))
    result = run_checkov([template], framework="cloudformation", cloud="aws")
    assert result.failed >= 4 and {"CKV_AWS_18", "CKV_AWS_21"} <= {f.check_id for f in result.findings}
