"""cdktf entry point of the GCP side: one stack per environment.

``cdktf synth`` (cdktf.json runs ``.venv/bin/python gcp_app.py``) writes
``cdktf.out/stacks/gcp-staging`` and ``cdktf.out/stacks/gcp-production``.
``GCP_TF_BACKEND=local`` replaces the GCS state backend by a local state file
(offline synth, experiments); see docs/gcp.md.
"""

from __future__ import annotations

import os
import sys

import toolchain
from envconfig.errors import ConfigError
from envconfig.gcp import load_all

BACKEND_ENV = "GCP_TF_BACKEND"

toolchain.prefer_supported_node()


def local_backend_requested(environ: dict[str, str] | os._Environ = os.environ) -> bool:
    value = environ.get(BACKEND_ENV, "gcs")
    if value not in ("gcs", "local"):
        raise ConfigError(BACKEND_ENV, "<environment variable>", f"must be 'gcs' or 'local', got {value!r}")
    return value == "local"


def build_app(*, outdir: str | None = None, local_backend: bool = False):
    # Configuration first: a bad file stops here, before jsii and the provider start.
    # MD_CONFIG_DIR honoured, and the rules across both files (distinct projects, state).
    configs = list(load_all().values())
    from constructs_lib.gcp import tf
    from stacks.gcp.platform import GcpPlatformStack

    app = tf.App(outdir=outdir) if outdir else tf.App()
    for config in configs:
        GcpPlatformStack(app, config=config, local_backend=local_backend)
    return app


def main() -> int:
    try:
        app = build_app(local_backend=local_backend_requested())
    except ConfigError as exc:
        print(f"gcp_app: configuration error: {exc}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
