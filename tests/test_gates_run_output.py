"""Where `python -m gates.run` (bin/synth, and bin/deploy-local's gate step) writes.

Two runs at once, such as two test workers each running bin/deploy-local, must
never share an output directory: a run given --output synthesizes the GCP side
into a temporary directory of its own, not the checkout's cdktf.out. The CLIs
and scanners are replaced here; what is checked is which directories they get.
"""
from __future__ import annotations

import subprocess
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
        assert cmd[2:4] == ["synth", "--output"], cmd  # only the cdktf synth runs (the assembly is given)
        out = Path(cmd[4])
        self.cdktf_outputs.append(out)
        assert run.ROOT not in out.parents, f"cdktf synth would write in the checkout: {out}"
        for env in ("staging", "production"):
            (out / "stacks" / f"gcp-{env}").mkdir(parents=True, exist_ok=True)
            (out / "stacks" / f"gcp-{env}" / "cdk.tf.json").write_text("{}")
        return subprocess.CompletedProcess(cmd, 0, "", "")

    def checkov(self, files, *, framework, cloud):
        self.scanned.append([Path(f) for f in files])
        assert all(Path(f).exists() for f in files)
        return CheckovResult(passed=300, failed=0, skipped=0, resource_count=120)


@pytest.fixture
def recorder(tmp_path, monkeypatch):
    monkeypatch.chdir(run.ROOT)  # main() changes into the checkout; give the cwd back afterwards
    rec = Recorder()
    monkeypatch.setattr(run, "subprocess", SimpleNamespace(run=rec.subprocess_run))
    monkeypatch.setattr(run.toolchain, "cdktf_cli", lambda: ["node", "cdktf"])
    monkeypatch.setattr(run, "run_checkov", rec.checkov)
    monkeypatch.setattr(run, "run_cfn_lint", lambda templates: subprocess.CompletedProcess([], 0, "", ""))
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
        assert run.ROOT not in out.parents and out != run.ROOT / "cdktf.out"
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
        assert out == run.ROOT / "cdktf.out"
