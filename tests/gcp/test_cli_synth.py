"""The README command: the pinned cdktf CLI synthesizes both stacks from cdktf.json."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

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
