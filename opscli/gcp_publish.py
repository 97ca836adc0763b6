"""Publish a static frontend build to its bucket and invalidate the CDN (docs/requirements.md#gcp-frontends).

1. ``gcloud storage rsync`` the build directory to the app's bucket
   (``<project>-<app>-web``, constructs_lib/gcp/frontend.py), deleting
   objects the build no longer has;
2. invalidate the app's host on the edge URL map (``<prefix>-edge``), so the
   CDN serves the new build instead of cached copies.

Input is checked before any cloud call: the app must be a configured
frontend and the directory must hold an ``index.html``.
Exit status: 0 done, 1 a step failed, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Callable, Sequence, TextIO

from envconfig.errors import ConfigError
from envconfig.gcp import CONFIG_DIR, Environment, GcpConfig, load_environment

Executor = Callable[[Sequence[str]], int]


def gcloud_executor(argv: Sequence[str]) -> int:
    try:
        return subprocess.run(list(argv), check=False).returncode
    except FileNotFoundError:
        print(f"gcp-publish: {argv[0]} not found on PATH (install the Google Cloud CLI)", file=sys.stderr)
        return 127


def plan(config: GcpConfig, app: str, build: Path) -> list[tuple[str, tuple[str, ...]]]:
    frontend = next(f for f in config.frontends if f.name == app)
    bucket = f"gs://{config.project_id}-{app}-web"
    # A path-routed app (the widget SDK under /widget/): the backend bucket maps the
    # URL path to the object name, so the build goes under that prefix.
    prefix = (frontend.path or "/").lstrip("/")
    if prefix:
        bucket = f"{bucket}/{prefix.rstrip('/')}"
    return [
        (f"upload {build} to {bucket}",
         ("gcloud", "storage", "rsync", str(build), bucket, "--recursive", "--delete-unmatched-destination-objects",
          "--project", config.project_id, "--quiet")),
        (f"invalidate the CDN for {frontend.domain}",
         ("gcloud", "compute", "url-maps", "invalidate-cdn-cache", f"{config.name_prefix}-edge", "--host", frontend.domain,
          "--path", f"{frontend.path or '/'}*", "--project", config.project_id, "--async", "--quiet")),
    ]


def main(argv: Sequence[str] | None = None, *, executor: Executor = gcloud_executor, out: TextIO | None = None,
         config_dir: Path = CONFIG_DIR) -> int:
    out = out or sys.stdout
    p = argparse.ArgumentParser(
        prog="gcp-publish",
        description="Publish a static frontend build to its Cloud Storage bucket and invalidate its Cloud CDN cache.",
        epilog="Exit status: 0 done, 1 a step failed, 2 usage or configuration error.",
    )
    p.add_argument("--env", required=True, choices=[e.value for e in Environment], help="environment (config/gcp/<env>.yaml)")
    p.add_argument("--app", required=True, help="frontend app name (a key of `frontends` in the config)")
    p.add_argument("--dir", required=True, type=Path, help="the build output directory (must contain index.html)")
    p.add_argument("--dry-run", action="store_true", help="print the gcloud commands instead of running them")
    args = p.parse_args(argv)
    try:
        config = load_environment(args.env, config_dir)
    except ConfigError as exc:
        print(f"gcp-publish: configuration error: {exc}", file=sys.stderr)
        return 2
    apps = [f.name for f in config.frontends]
    if args.app not in apps:
        print(f"gcp-publish: --app: {args.app!r} is not a frontend of {config.stack_name} (configured: {apps})", file=sys.stderr)
        return 2
    path_app = next(f for f in config.frontends if f.name == args.app).path is not None
    if path_app and not (args.dir.is_dir() and any(args.dir.rglob("*"))):
        print(f"gcp-publish: --dir: {args.dir} is empty (is it the build output?)", file=sys.stderr)
        return 2
    if not path_app and not (args.dir / "index.html").is_file():
        print(f"gcp-publish: --dir: {args.dir} has no index.html (is it the build output?)", file=sys.stderr)
        return 2
    steps = plan(config, args.app, args.dir)
    for index, (description, command) in enumerate(steps, start=1):
        if args.dry_run:
            print(" ".join(command), file=out)
            continue
        print(f"[{index}/{len(steps)}] {description}", file=out, flush=True)
        status = executor(command)
        if status != 0:
            print(f"gcp-publish: step {index} failed (exit {status}): {description}", file=out, flush=True)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
