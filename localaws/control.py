"""``bin/local-aws start|stop|status``: run the local AWS target in the background.

State lives in ``.local-aws/`` at the repository root (``LOCAL_AWS_STATE_DIR``
overrides it, so tests never touch a developer's running target):
``state.json`` (pid, port, account, the process's start time) and
``server.log``. ``LOCAL_AWS_PORT`` is the default port, as for
``bin/deploy-local``.

A state file outlives its process (a reboot, a ``kill -9``), and the kernel
reuses pids: a pid is taken for the target, and signalled, only while its
command line is ``localaws.server --port <port>`` and its start time is the
recorded one.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from localaws.server import HOST

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PORT = 4566
PORT_ENV = "LOCAL_AWS_PORT"
DEFAULT_ACCOUNT = "123456789012"
START_TIMEOUT_S = 30


class LocalAwsError(Exception):
    """A failure the user can act on; printed as one line."""


@dataclass
class State:
    pid: int
    port: int
    account: str
    log: str
    started: str | None = None  # /proc/<pid>/stat start time (clock ticks since boot)

    @property
    def endpoint(self) -> str:
        # "localhost", not 127.0.0.1: moto's S3 reads the bucket name from a
        # dotted-quad host wrongly (docs/requirements.md#local-target).
        return f"http://localhost:{self.port}"


def state_dir() -> Path:
    return Path(os.environ.get("LOCAL_AWS_STATE_DIR") or REPO / ".local-aws")


def _state_file() -> Path:
    return state_dir() / "state.json"


def read_state() -> State | None:
    try:
        return State(**json.loads(_state_file().read_text()))
    except (FileNotFoundError, ValueError, TypeError):
        return None


def pid_alive(pid: int) -> bool:
    """The process exists and is not a zombie (also used by the tests' shared deployment)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return True


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/<pid>/stat: when the process started; None where /proc is missing."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # after "(comm)", which may hold spaces


def _command_line(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        pass
    try:  # no /proc (macOS): ps knows
        result = subprocess.run(["ps", "-p", str(pid), "-o", "command="], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.split() if result.returncode == 0 and result.stdout.strip() else None


def is_target(state: State) -> bool:
    """The recorded pid is alive and is still the target that was started (not a reused pid)."""
    if not pid_alive(state.pid):
        return False
    command = _command_line(state.pid)
    if command is None or "localaws.server" not in command or str(state.port) not in command:
        return False
    started = _start_time(state.pid)
    return state.started is None or started is None or started == state.started


def default_port() -> int:
    raw = os.environ.get(PORT_ENV)
    if not raw:
        return DEFAULT_PORT
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise LocalAwsError(f"{PORT_ENV} must be a port number 1-65535, got {raw!r}")
    return int(raw)


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return True
    return False


def _listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def default_account() -> str:
    """The staging account from config, so ARNs match what synth produced."""
    try:
        from envconfig import aws

        return aws.load("staging").account
    except Exception:  # noqa: BLE001 - the emulator still works with moto's default
        return DEFAULT_ACCOUNT


def running() -> State | None:
    state = read_state()
    if state and is_target(state) and _listening(state.port):
        return state
    return None


def check_port(port: int | None = None) -> State | None:
    """Can :func:`start` use ``port``? The target already running there, or None
    when the port is free; LocalAwsError (the message ``start`` would give) when not.
    ``bin/deploy-local`` asks before its synthesis and gates, so a taken port
    costs a second, not a minute."""
    port = default_port() if port is None else port
    current = running()
    if current:
        if current.port != port:
            raise LocalAwsError(
                f"local AWS target already running on port {current.port} (pid {current.pid}); "
                f"stop it first (bin/local-aws stop) to use port {port}")
        return current
    if port_in_use(port):
        raise LocalAwsError(
            f"port {port} on {HOST} is already in use by another process; "
            f"choose a free one with --port N")
    return None


def start(port: int | None = None, account: str | None = None) -> State:
    port = default_port() if port is None else port
    current = check_port(port)
    if current:
        return current
    directory = state_dir()
    directory.mkdir(parents=True, exist_ok=True)
    log = directory / "server.log"
    account = account or default_account()
    env = dict(os.environ, MOTO_ACCOUNT_ID=account, PYTHONPATH=str(REPO))
    for var in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        env.pop(var, None)
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "localaws.server", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            cwd=REPO, env=env, start_new_session=True,  # survives the shell that started it
        )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] or ["(no output)"]
            raise LocalAwsError(f"local AWS target exited during start: {tail[0]} (log: {log})")
        if _listening(port):
            state = State(pid=proc.pid, port=port, account=account, log=str(log), started=_start_time(proc.pid))
            _state_file().write_text(json.dumps(asdict(state)))
            return state
        time.sleep(0.1)
    proc.terminate()
    raise LocalAwsError(f"local AWS target did not listen on {HOST}:{port} within {START_TIMEOUT_S}s (log: {log})")


def stop() -> State | None:
    """Stop the target; None when none was running (a stale state file is removed, nobody signalled)."""
    state = read_state()
    if state is None:
        return None
    if not is_target(state):
        _state_file().unlink(missing_ok=True)
        return None
    os.kill(state.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while is_target(state) and time.monotonic() < deadline:
        time.sleep(0.1)
    if is_target(state):
        os.kill(state.pid, signal.SIGKILL)
    try:
        os.waitpid(state.pid, os.WNOHANG)  # reap it if we are its parent (tests)
    except ChildProcessError:
        pass
    _state_file().unlink(missing_ok=True)
    return state


def env_lines(state: State) -> list[str]:
    return [
        f"export AWS_ENDPOINT_URL={state.endpoint}",
        "export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bin/local-aws", description="Run the local AWS target (moto + CloudFormation extensions) on 127.0.0.1.")
    sub = parser.add_subparsers(dest="command", required=True)
    p_start = sub.add_parser("start", help="start in the background (no-op if already running)")
    p_start.add_argument("--port", type=int, default=None, help=f"port on 127.0.0.1 (default ${PORT_ENV}, else {DEFAULT_PORT})")
    p_start.add_argument("--account", help="12-digit account id the target acts as (default: staging config's account)")
    p_check = sub.add_parser("check-port", help="exit 0 if start could use the port (free, or this target runs there), 1 with the reason if not")
    p_check.add_argument("--port", type=int, default=None, help=f"port on 127.0.0.1 (default ${PORT_ENV}, else {DEFAULT_PORT})")
    sub.add_parser("stop", help="stop the running target")
    sub.add_parser("status", help="print whether it runs; exit 0 if it does, 3 if not")
    args = parser.parse_args(argv)
    try:
        if args.command == "start":
            state = start(args.port, args.account)
            print(f"local AWS target running on {state.endpoint} (pid {state.pid}, account {state.account}, log {state.log})")
            print("point the AWS CLI, the CDK CLI and bin/ops at it with:")
            print("\n".join("  " + line for line in env_lines(state)))
            return 0
        if args.command == "check-port":
            state = check_port(args.port)
            print(f"the local AWS target already runs on {state.endpoint}" if state else "port free")
            return 0
        if args.command == "stop":
            state = stop()
            print(f"local AWS target stopped (pid {state.pid})" if state else "local AWS target was not running")
            return 0
        state = running()
        if state:
            print(f"running on {state.endpoint} (pid {state.pid}, account {state.account})")
            return 0
        print("not running")
        return 3
    except LocalAwsError as exc:
        print(f"local-aws: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
