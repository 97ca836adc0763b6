"""Where `python -m gates.run` (bin/synth, and bin/deploy-local's gate step) writes the GCP side.

Two runs at once, such as two test workers each running bin/deploy-local, must
never share an output directory: a run given --output synthesizes the GCP side
into a temporary directory of its own, not the checkout's cdktf.out. The GCP app
and the scanners are replaced here; what is checked is which directories they get.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from gates import run
from gates.checkov import CheckovResult


class Recorder:
    def __init__(self):
        self.cdktf_outputs: list[Path] = []
        self.scanned: list[list[Path]] = []

    def subprocess_run(self, cmd, **kwargs):
        # Only the GCP app runs (the assembly is given): cdktf.json's app, told where to write.
        out = Path(kwargs["env"]["CDKTF_OUTDIR"])
        self.cdktf_outputs.append(out)
        assert run.ROOT not in out.parents, f"the GCP app would write in the checkout: {out}"
        stacks = {}
        for env in ("staging", "production"):
            (out / "stacks" / f"gcp-{env}").mkdir(parents=True, exist_ok=True)
            (out / "stacks" / f"gcp-{env}" / "cdk.tf.json").write_text("{}")
            stacks[f"gcp-{env}"] = {"synthesizedStackPath": f"stacks/gcp-{env}/cdk.tf.json"}
        (out / "manifest.json").write_text(json.dumps({"stacks": stacks}))
        return subprocess.CompletedProcess(cmd, 0, "", "")

    def checkov_gate(self, title, noun, files, *, framework, cloud, directory):
        self.scanned.append([Path(f) for f in files])
        assert all(Path(f).exists() for f in files)
        return CheckovResult(passed=300, failed=0, skipped=0, resource_count=120), time.monotonic()


@pytest.fixture
def recorder(tmp_path, monkeypatch):
    monkeypatch.chdir(run.ROOT)  # main() changes into the checkout; give the cwd back afterwards
    rec = Recorder()
    monkeypatch.setattr(run, "subprocess", SimpleNamespace(run=rec.subprocess_run, CompletedProcess=subprocess.CompletedProcess))
    monkeypatch.setattr(run, "checkov_gate", rec.checkov_gate)
    monkeypatch.setattr(run, "cfn_lint_gate", lambda templates, directory: (True, "", time.monotonic()))
    assembly = tmp_path / "cdk.out"
    for i in range(11):  # five stacks per Stage and production's DisasterRecovery stack
        (assembly / f"assembly-{i}").mkdir(parents=True)
        (assembly / f"assembly-{i}" / f"S{i}.template.json").write_text("{}")
    return rec, assembly


def test_a_run_given_an_assembly_keeps_its_terraform_out_of_the_checkout(recorder, capsys):
    rec, assembly = recorder
    assert run.main(["--synthesized", "--output", str(assembly)]) == 0
    assert run.main(["--synthesized", "--output", str(assembly)]) == 0
    first, second = rec.cdktf_outputs
    assert first != second  # two runs, two directories
    for out in (first, second):
        assert run.ROOT not in out.parents and out != run.GCP_OUT
        assert not out.exists()  # removed after the scan
    gcp_scans = [files for files in rec.scanned if files[0].name == "cdk.tf.json"]
    assert [{f.parents[2] for f in files} for files in gcp_scans] == [{first}, {second}]  # each scanned its own
    assert "all gates passed" in capsys.readouterr().out


def test_an_explicit_terraform_directory_is_used_and_kept(recorder, tmp_path):
    rec, assembly = recorder
    assert run.main(["--synthesized", "--output", str(assembly), "--tf-output", str(tmp_path / "tf")]) == 0
    assert rec.cdktf_outputs == [tmp_path / "tf"]
    assert (tmp_path / "tf" / "stacks" / "gcp-staging" / "cdk.tf.json").exists()


def test_bin_synth_alone_still_writes_the_checkouts_cdktf_out(monkeypatch):
    """Without --output the output stays where `bin/ops readiness` reads it."""
    import argparse

    with run._tf_output(argparse.Namespace(tf_output=None, output=None)) as out:
        assert out == run.GCP_OUT == run.ROOT / "cdktf.out"
