"""bin/local-aws: start / status / stop, and the errors a user can hit."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(*args, state_dir):
    env = dict(os.environ, LOCAL_AWS_STATE_DIR=str(state_dir))
    return subprocess.run([sys.executable, "-m", "localaws", *args], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)


@pytest.fixture
def state_dir(tmp_path):
    yield tmp_path
    run("stop", state_dir=tmp_path)  # never leave a server behind


def test_start_status_stop(state_dir):
    port = free_port()
    started = run("start", "--port", str(port), state_dir=state_dir)
    assert started.returncode == 0, started.stderr
    assert f"http://localhost:{port}" in started.stdout
    # listens on 127.0.0.1 only
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert run("start", "--port", str(port), state_dir=state_dir).returncode == 0  # idempotent
    again = run("check-port", "--port", str(port), state_dir=state_dir)
    assert again.returncode == 0 and "already runs on" in again.stdout  # this target: start would reuse it
    other = run("start", "--port", str(free_port()), state_dir=state_dir)
    assert other.returncode == 1 and "already running on port" in other.stderr
    other = run("check-port", "--port", str(free_port()), state_dir=state_dir)
    assert other.returncode == 1 and "already running on port" in other.stderr
    status = run("status", state_dir=state_dir)
    assert status.returncode == 0 and "running on" in status.stdout
    stopped = run("stop", state_dir=state_dir)
    assert stopped.returncode == 0 and "stopped" in stopped.stdout
    status = run("status", state_dir=state_dir)
    assert status.returncode == 3 and "not running" in status.stdout


def test_port_taken_is_a_clear_error(state_dir):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = run("start", "--port", str(port), state_dir=state_dir)
        checked = run("check-port", "--port", str(port), state_dir=state_dir)
    expected = f"local-aws: port {port} on 127.0.0.1 is already in use by another process; choose a free one with --port N"
    assert result.returncode == 1 and result.stderr.strip() == expected
    assert checked.returncode == 1 and checked.stderr.strip() == expected
    free = run("check-port", "--port", str(port), state_dir=state_dir)
    assert free.returncode == 0 and free.stdout.strip() == "port free"
    assert not (state_dir / "state.json").exists()  # checking starts nothing


def test_stop_when_not_running(state_dir):
    result = run("stop", state_dir=state_dir)
    assert result.returncode == 0 and "was not running" in result.stdout


def test_server_refuses_a_taken_port_with_a_message(state_dir):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = subprocess.run([sys.executable, "-m", "localaws.server", "--port", str(port)], cwd=REPO,
                                capture_output=True, text=True, timeout=60)
    # werkzeug reports it and exits 1 before our own OSError branch runs.
    assert result.returncode != 0
    assert f"Port {port} is in use" in result.stderr


def _stale_state(state_dir, pid, port):
    (state_dir / "state.json").write_text(json.dumps({"pid": pid, "port": port, "account": "123456789012",
                                                      "log": str(state_dir / "server.log")}))


def test_a_stale_state_never_signals_a_reused_pid(state_dir):
    """Defect: `stop` sent SIGTERM to whatever process now had the recorded pid."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        _stale_state(state_dir, bystander.pid, free_port())
        status = run("status", state_dir=state_dir)
        assert (status.returncode, status.stdout.strip()) == (3, "not running")  # before: "running on ..."
        stopped = run("stop", state_dir=state_dir)
        assert stopped.returncode == 0 and "was not running" in stopped.stdout
        assert bystander.poll() is None  # still alive: never signalled
        assert not (state_dir / "state.json").exists()
    finally:
        bystander.kill()
        bystander.wait()


def test_start_replaces_a_dead_target_and_honours_local_aws_port(state_dir):
    """Defects: `start` answered "already running" for a dead pid, and ignored LOCAL_AWS_PORT."""
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    port = free_port()
    try:
        _stale_state(state_dir, bystander.pid, free_port())
        env = dict(os.environ, LOCAL_AWS_STATE_DIR=str(state_dir), LOCAL_AWS_PORT=str(port))
        started = subprocess.run([sys.executable, "-m", "localaws", "start"], cwd=REPO, env=env,
                                 capture_output=True, text=True, timeout=60)
        assert started.returncode == 0, started.stderr
        assert f"http://localhost:{port}" in started.stdout
        state = json.loads((state_dir / "state.json").read_text())
        assert state["pid"] != bystander.pid and state["started"]
    finally:
        bystander.kill()
        bystander.wait()


def test_a_bad_local_aws_port_is_one_line(state_dir):
    env = dict(os.environ, LOCAL_AWS_STATE_DIR=str(state_dir), LOCAL_AWS_PORT="http")
    result = subprocess.run([sys.executable, "-m", "localaws", "start"], cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stderr.strip()) == (1, "local-aws: LOCAL_AWS_PORT must be a port number 1-65535, got 'http'")
