"""A synthesis leaves nothing in the system temp directory, and the suite
keeps its own temporary files in its run's directory (docs/speed.md)."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Every way the repository synthesizes GCP: the app as bin/synth runs it, and
# the test helpers (cdktf's Testing.app() and full_synth() wrote a
# cdktf.outdir.* in the temp directory for each call and never removed it).
SYNTHESES = """
import sys
from gcp_app import build_app
from constructs_lib.gcp import tf

build_app(outdir=sys.argv[1]).synth()
app = tf.Testing.app()
stack = tf.TerraformStack(app, "bare")
tf.Testing.synth(stack)
tf.Testing.full_synth(stack)
app.synth()
"""


def test_a_synthesis_leaves_nothing_in_the_temp_directory(tmp_path):
    system_tmp = tmp_path / "system-tmp"
    system_tmp.mkdir()
    env = {**os.environ, "TMPDIR": str(system_tmp), "PYTHONPATH": str(REPO)}
    result = subprocess.run([sys.executable, "-c", SYNTHESES, str(tmp_path / "cdktf.out")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "cdktf.out" / "stacks" / "gcp-staging" / "cdk.tf.json").is_file()
    assert sorted(p.name for p in system_tmp.iterdir()) == []


def test_the_suite_writes_temporary_files_in_its_own_run_directory(tmp_path_factory):
    run_dir = tmp_path_factory.getbasetemp()
    assert Path(os.environ["TMPDIR"]).parent == run_dir
    assert Path(tempfile.gettempdir()).parent == run_dir
