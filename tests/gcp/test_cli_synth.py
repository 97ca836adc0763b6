"""The README command: the pinned cdktf CLI synthesizes both stacks from cdktf.json.

bin/synth (gates/run.py) runs cdktf.json's app directly, without the CLI; this
test is what keeps that honest: the CLI's output and the app's are the same bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_cdktf_synth_writes_both_stacks(tmp_path):
    env = {**os.environ, "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CHECKPOINT_DISABLE": "1",
           "GCP_TF_BACKEND": "local", "CI": "1"}
    proc = subprocess.run([str(ROOT / "node_modules" / ".bin" / "cdktf"), "synth", "--output", str(tmp_path)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    for stack in ("gcp-staging", "gcp-production"):
        doc = json.loads((tmp_path / "stacks" / stack / "cdk.tf.json").read_text())
        assert doc["terraform"]["backend"] == {"local": {"path": f"terraform.{stack}.tfstate"}}
        assert len(doc["resource"]["google_cloud_run_v2_service"]) == 3

    from gates.run import synth_gcp
    direct = tmp_path.parent / f"{tmp_path.name}-direct"
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            mp.setenv(name, value)
        assert synth_gcp(direct).returncode == 0
    written = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(p.relative_to(direct) for p in direct.rglob("*") if p.is_file())
    for path in written:
        assert (tmp_path / path).read_bytes() == (direct / path).read_bytes(), path
