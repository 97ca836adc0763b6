"""The run's shared deployment (tests/e2e/local_target.py, ``SharedDeployment``)
across worker processes, as pytest-xdist runs them: the first deploys and the
others reuse it, a module that changes things has it to itself, a spoiled one
is replaced, the last worker out stops it, and a killed run leaves nothing
running. "Deployed" here is a started local target (no Staging): the sharing
is under test, and each worker is a real process with real file locks."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.local_target import REPO, SharedDeployment

pytestmark = pytest.mark.e2e

WORKER = """
import json, sys, time
from pathlib import Path
from tests.e2e.local_target import SharedDeployment

root, changes, hold, then = Path(sys.argv[1]), sys.argv[2], float(sys.argv[3]), sys.argv[4]
shared = SharedDeployment(root, "123456789012", "us-east-1", deploy=lambda target: None)
shared.join()
with shared.use(changes) as held:
    print(json.dumps({"port": held.port, "acquired": time.time()}), flush=True)
    time.sleep(hold)
    released = time.time()
print(json.dumps({"released": released}), flush=True)
if then == "leave":
    shared.leave()
else:
    time.sleep(600)  # until the test kills it
"""


def worker(root: Path, changes: str, hold: float = 0.0, then: str = "leave") -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WORKER, str(root), changes, str(hold), then], cwd=REPO,
                            env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def first_line(proc: subprocess.Popen) -> dict:
    line = proc.stdout.readline()
    assert line, proc.stderr.read()
    return json.loads(line)


def finish(proc: subprocess.Popen) -> list[dict]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return [json.loads(line) for line in out.splitlines()]


def listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_closed(port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not listening(port):
            return True
        time.sleep(0.2)
    return False


def deploys(root: Path) -> int:
    return json.loads((root / "target.json").read_text()).get("deploys", 0)


def test_two_workers_share_one_deployment_and_the_last_out_stops_it(tmp_path):
    a, b = worker(tmp_path, "none", hold=3), worker(tmp_path, "none", hold=3)
    seen_a, seen_b = first_line(a), first_line(b)
    assert seen_a["port"] == seen_b["port"]
    # readers hold it side by side: the second got it before the first let go
    assert seen_b["acquired"] < seen_a["acquired"] + 3 and seen_a["acquired"] < seen_b["acquired"] + 3
    assert listening(seen_a["port"])
    finish(a), finish(b)
    assert deploys(tmp_path) == 1
    assert not listening(seen_a["port"])  # the last one out stopped it
    assert not (tmp_path / "state" / "state.json").exists()


def test_a_module_that_changes_things_has_the_deployment_to_itself(tmp_path):
    shared = SharedDeployment(tmp_path, "123456789012", "us-east-1", deploy=lambda target: None)
    shared.join()  # this process holds a lease: the target outlives the changer's worker
    try:
        changer = worker(tmp_path, "undone", hold=3)
        changing = first_line(changer)
        reader = worker(tmp_path, "none")
        reading = first_line(reader)
        released = finish(changer)[-1]["released"]
        finish(reader)
    finally:
        shared.leave()
    assert reading["acquired"] >= released
    assert reading["port"] == changing["port"] and deploys(tmp_path) == 1


@pytest.mark.parametrize(("changes", "expected_deploys"), [("undone", 1), ("spoils", 2)])
def test_a_spoiled_deployment_is_replaced_for_the_next_module(tmp_path, changes, expected_deploys):
    shared = SharedDeployment(tmp_path, "123456789012", "us-east-1", deploy=lambda target: None)
    shared.join()  # this process holds a lease: the target outlives the first module's worker
    try:
        first = worker(tmp_path, changes)
        port = first_line(first)["port"]
        finish(first)
        second = worker(tmp_path, "none")
        again = first_line(second)["port"]
        finish(second)
        assert deploys(tmp_path) == expected_deploys
        assert (again == port) == (expected_deploys == 1)
        assert listening(again)
    finally:
        shared.leave()
    assert not listening(again)


def test_a_killed_run_leaves_nothing_running(tmp_path):
    a = worker(tmp_path, "none", then="stay")
    port = first_line(a)["port"]
    assert listening(port)
    a.send_signal(signal.SIGKILL)  # as a killed pytest worker: no finalizer runs
    a.wait(timeout=30)
    assert wait_closed(port, 30), f"the shared target on port {port} outlived every worker"
    deadline = time.monotonic() + 15  # the watchdog removes the state file once the server has exited
    while (tmp_path / "state" / "state.json").exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not (tmp_path / "state" / "state.json").exists()


def test_an_unknown_changes_value_is_one_clear_error(tmp_path):
    shared = SharedDeployment(tmp_path, "123456789012", "us-east-1", deploy=lambda target: None)
    with pytest.raises(ValueError, match=r"^shared_target: changes must be one of none, undone, spoils \(got 'some'\)$"):
        with shared.use("some"):
            pass
