"""A local AWS target for one end-to-end test module: a free port on
127.0.0.1, its own state directory, and an environment that points boto3,
the CDK CLI and ``bin/*`` at it (and at nothing else: the caller's AWS_*
variables and MD_CONFIG_DIR are dropped). Gate passes are kept in
``gates_cache`` (the session's, tests/e2e/conftest.py) or, if none is given,
in the target's own directory: never in the repository's ``.gates-cache/``."""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

import boto3

from localaws.control import pid_alive

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def target_env(port: int, state_dir: Path, region: str, gates_cache: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_") and k != "MD_CONFIG_DIR"}
    env.update({
        "GATES_CACHE_DIR": str(gates_cache or state_dir / "gates-cache"),
        "LOCAL_AWS_PORT": str(port), "LOCAL_AWS_STATE_DIR": str(state_dir),
        "AWS_ENDPOINT_URL": f"http://localhost:{port}", "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": region, "AWS_DEFAULT_REGION": region,
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20", "CDK_DISABLE_VERSION_CHECK": "1",
        "PATH": f"{REPO}/node_modules/.bin:{REPO}/.venv/bin:{os.environ['PATH']}",
    })
    return env


class LocalTarget:
    """Commands and clients against one target: the module's own (started by
    the module's fixture), or with ``shared`` (the ``shared_target`` fixture of
    tests/e2e/conftest.py) the run's deployed Staging, which ``stop`` leaves running."""

    timeout = 600

    def __init__(self, tmp: Path, region: str, gates_cache: Path | None = None, shared: "SharedTarget | None" = None):
        self.shared = shared
        self.port = shared.port if shared else free_port()
        self.tmp = tmp
        self.region = region
        self.endpoint = f"http://localhost:{self.port}"
        self.env = target_env(self.port, shared.state if shared else tmp / "state", region, gates_cache)
        if shared:  # the deployment's kept assembly: what verify and detect-drift judge against
            self.env["OPS_APPROVALS_DIR"] = str(shared.approvals)

    def run(self, *args, input=None, env=None, cwd=REPO, timeout=None, check=True) -> subprocess.CompletedProcess:
        result = subprocess.run(list(args), cwd=cwd, env={**self.env, **(env or {})}, input=input,
                                capture_output=True, text=True, timeout=timeout or self.timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"{args} exited {result.returncode}:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
        return result

    def client(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="test", aws_secret_access_key="test")

    def start(self) -> None:
        self.run(str(REPO / "bin" / "local-aws"), "start", "--port", str(self.port))

    def stop(self) -> None:
        if self.shared:  # the run's: the last worker out stops it (SharedDeployment.leave)
            return
        self.run(str(REPO / "bin" / "local-aws"), "stop", check=False)


# --- One deployed Staging shared by the modules that opt in -----------------
#
# Deploying Staging (cdk bootstrap + cdk deploy of five stacks) costs about a
# minute of the two cores; each end-to-end module used to pay it. Modules that
# only read the deployment, or undo what they change, share one instead
# (tests/e2e/conftest.py: the ``shared_target`` marker and fixture). With
# pytest-xdist the sharers may run in different worker processes, so the
# deployment is keyed by the run (a directory common to the workers) and
# guarded by file locks:
#
# - ``deploy.lock`` (exclusive, held briefly): joining and leaving the run
#   (a lease file per worker process under ``leases/``), and deploying.
# - ``use.lock``, held for a whole module: shared by modules that only read,
#   exclusive for a module that changes something (even if it undoes it), so
#   that nobody sees another module's change half-way.
# - ``target.json``: the port, and ``spoiled`` when a module left changes
#   behind (a module marked ``changes="spoils"``, or one with a failed test):
#   the next user gets a fresh target and deployment.
#
# The first user deploys, the others wait on the lock and reuse it; the last
# worker to leave stops the target. A watchdog process (``python -m
# tests.e2e.local_target watch <dir>``, in its own session) stops it when every
# worker holding a lease has died (a killed run leaves nothing running).

import fcntl
import json
import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass

SHARED_REGION = "us-east-1"  # replaced by the staging configuration's region (shared_target fixture)
CHANGES = ("none", "undone", "spoils")


@dataclass
class SharedTarget:
    """What a module holding the shared deployment gets: the target's port and
    state directory, and ``spoiled`` to set when it leaves changes behind."""

    port: int
    state: Path
    approvals: Path  # OPS_APPROVALS_DIR of the deployment (bin/ops deploy keeps its assembly there)
    spoiled: bool = False


@contextmanager
def _flock(path: Path, exclusive: bool = True):
    with open(path, "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class SharedDeployment:
    """The run's one local target with Staging deployed, in ``root`` (common to the workers)."""

    def __init__(self, root: Path, account: str, region: str, gates_cache: Path | None = None, deploy=None):
        self.root = root
        self.account = account
        self.region = region
        self.gates_cache = gates_cache
        # What "deployed" means: Staging (the default), or, in tests/e2e/test_shared_target.py, less.
        self._deploy = deploy or self.deploy_staging
        self.state = root / "state"
        self.approvals = root / "approvals"
        self._info = root / "target.json"
        self._leases = root / "leases"
        root.mkdir(parents=True, exist_ok=True)
        self._leases.mkdir(exist_ok=True)

    # -- workers ----------------------------------------------------------
    def join(self) -> None:
        """This worker process holds a lease until :meth:`leave` (or its death)."""
        with _flock(self.root / "deploy.lock"):
            (self._leases / str(os.getpid())).write_text("")
            if not self._watchdog_alive():
                watchdog = subprocess.Popen(
                    [sys.executable, "-m", "tests.e2e.local_target", "watch", str(self.root)],
                    cwd=REPO, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                    env={**os.environ, "PYTHONPATH": str(REPO)}, start_new_session=True)
                (self.root / "watchdog.pid").write_text(str(watchdog.pid))

    def leave(self) -> None:
        """Give the lease back; the last one out stops the target."""
        with _flock(self.root / "deploy.lock"):
            (self._leases / str(os.getpid())).unlink(missing_ok=True)
            if not self._live_leases():
                self._stop()

    def _watchdog_alive(self) -> bool:
        try:
            return pid_alive(int((self.root / "watchdog.pid").read_text()))
        except (OSError, ValueError):
            return False

    def _live_leases(self) -> list[int]:
        pids = []
        for lease in self._leases.iterdir():
            if lease.name.isdigit() and pid_alive(int(lease.name)):
                pids.append(int(lease.name))
            else:
                lease.unlink(missing_ok=True)  # a worker that died without leaving
        return pids

    # -- modules ----------------------------------------------------------
    @contextmanager
    def use(self, changes: str):
        """Hold the deployment for one module (a :class:`SharedTarget`). ``changes``: one of ``CHANGES``."""
        if changes not in CHANGES:
            raise ValueError(f"shared_target: changes must be one of {', '.join(CHANGES)} (got {changes!r})")
        with _flock(self.root / "use.lock", exclusive=changes != "none"):
            with _flock(self.root / "deploy.lock"):
                port = self._ensure_deployed()
            held = SharedTarget(port, self.state, self.approvals, spoiled=changes == "spoils")
            try:
                yield held
            finally:
                if held.spoiled:
                    with _flock(self.root / "deploy.lock"):
                        self._write_info({**self._read_info(), "spoiled": True})

    def _read_info(self) -> dict:
        try:
            return json.loads(self._info.read_text())
        except (OSError, ValueError):
            return {}

    def _write_info(self, info: dict) -> None:
        partial = self._info.with_suffix(".partial")
        partial.write_text(json.dumps(info))
        os.replace(partial, self._info)

    def _target(self, port: int) -> LocalTarget:
        target = LocalTarget(self.root, self.region, self.gates_cache)
        target.port, target.endpoint = port, f"http://localhost:{port}"
        target.env = target_env(port, self.state, self.region, self.gates_cache)
        return target

    def _running(self, port: int) -> bool:
        result = self._target(port).run(str(REPO / "bin" / "local-aws"), "status", check=False)
        return result.returncode == 0 and f":{port}" in result.stdout

    def deploy_staging(self, target: LocalTarget) -> None:
        """Staging as an operator deploys it (``bin/ops deploy``: the kept assembly is
        what verify and detect-drift judge against), and its first nonce."""
        bootstrap_dir = self.root / "bootstrap"  # outside the project: bootstrap does not synthesize the app
        bootstrap_dir.mkdir(exist_ok=True)
        target.run("cdk", "bootstrap", f"aws://{self.account}/{self.region}", "--ci", cwd=bootstrap_dir)
        shutil.rmtree(self.approvals, ignore_errors=True)  # a replaced deployment's kept assemblies go with it
        ops = str(REPO / "bin" / "ops")
        env = {"OPS_APPROVALS_DIR": str(self.approvals)}
        target.run(ops, "deploy", "--env", "staging", "--no-verify", env=env)
        target.run(ops, "rotate-nonce", "--env", "staging", "--create-only", env=env)

    def _ensure_deployed(self) -> int:
        info = self._read_info()
        if info.get("deployed") and not info.get("spoiled") and self._running(info["port"]):
            return info["port"]
        self._stop()
        info = self._read_info()
        port = free_port()
        target = self._target(port)
        start = time.monotonic()
        target.run(str(REPO / "bin" / "local-aws"), "start", "--port", str(port))
        self._write_info({"port": port, "deployed": False, "deploys": info.get("deploys", 0)})
        self._deploy(target)
        self._write_info({"port": port, "deployed": True, "seconds": round(time.monotonic() - start, 1),
                          "deploys": info.get("deploys", 0) + 1})
        return port

    def _stop(self) -> None:
        info = self._read_info()
        self._target(info.get("port", 0)).run(str(REPO / "bin" / "local-aws"), "stop", check=False)
        self._write_info({"deploys": info.get("deploys", 0)})

    def deploys(self) -> int:
        """How many times this run deployed the shared target (1 when sharing works)."""
        return self._read_info().get("deploys", 0)


def watch(root: Path, interval: float = 2.0) -> None:
    """Stop the shared target once no worker holding a lease is alive."""
    shared = SharedDeployment(root, account="", region=SHARED_REGION)
    while root.is_dir():
        with _flock(root / "deploy.lock"):
            if not shared._live_leases():
                shared._stop()
                return
        time.sleep(interval)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "watch":
        watch(Path(sys.argv[2]))
    else:
        sys.exit("usage: python -m tests.e2e.local_target watch <shared directory>")
