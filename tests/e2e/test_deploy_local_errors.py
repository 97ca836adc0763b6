"""bin/deploy-local stops with one clear line before synthesizing or starting
anything when the staging configuration is invalid or the port is taken."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run(tmp_path, gates_cache: Path, **env):
    full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    full.update(LOCAL_AWS_STATE_DIR=str(tmp_path / "state"), GATES_CACHE_DIR=str(gates_cache), **env)
    return subprocess.run([str(REPO / "bin" / "deploy-local")], cwd=REPO, env=full, capture_output=True,
                          text=True, timeout=300)


def test_invalid_config_stops_before_anything_starts(tmp_path, gates_cache_dir):
    shutil.copytree(REPO / "config", tmp_path / "config")
    path = tmp_path / "config" / "aws" / "staging.yaml"
    path.write_text(path.read_text().replace('account: "123456789012"', 'account: "12345"'))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = run(tmp_path, gates_cache_dir, MD_CONFIG_DIR=str(tmp_path / "config"), LOCAL_AWS_PORT=str(port))
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("deploy-local: ") and str(path) in last and "account" in last
    assert not (tmp_path / "state" / "state.json").exists()  # nothing was started


def test_taken_port_is_reported(tmp_path, gates_cache_dir):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run(tmp_path, gates_cache_dir, LOCAL_AWS_PORT=str(port))
    assert result.returncode != 0
    assert f"local-aws: port {port} on 127.0.0.1 is already in use by another process" in result.stderr
    # Found before the synthesis and the gates, not after them: nothing was synthesized.
    assert "cdk synth" not in result.stdout and not (tmp_path / "state" / "cdk.out").exists()


def test_help_and_unknown_argument():
    helped = subprocess.run([str(REPO / "bin" / "deploy-local"), "--help"], capture_output=True, text=True, timeout=60)
    assert helped.returncode == 0 and "cdk deploy 'Staging/*'" in helped.stdout
    wrong = subprocess.run([str(REPO / "bin" / "deploy-local"), "--port"], capture_output=True, text=True, timeout=60)
    assert wrong.returncode == 2
    assert wrong.stderr.strip() == "deploy-local: unknown argument '--port' (it takes none; see --help)"
