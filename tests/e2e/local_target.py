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
    """Commands and clients against one target (started by the module's fixture)."""

    timeout = 600

    def __init__(self, tmp: Path, region: str, gates_cache: Path | None = None):
        self.port = free_port()
        self.tmp = tmp
        self.region = region
        self.endpoint = f"http://localhost:{self.port}"
        self.env = target_env(self.port, tmp / "state", region, gates_cache)

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
        self.run(str(REPO / "bin" / "local-aws"), "stop", check=False)
