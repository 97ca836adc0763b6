"""A fake ``gcloud`` for the GCP ops tests: no network, no credentials.

Installed on PATH by :func:`install`. Every call is appended to
``$FAKE_GCLOUD_LOG`` (one line, arguments joined by spaces). It understands
what the ops commands call:

- ``storage cp SRC... DST``: ``gs://bucket/path`` maps to ``$FAKE_GCS/bucket/path``;
  a missing source exits 1 as gcloud does;
- ``sql instances clone|delete|describe``, ``sql backups create``,
  ``run jobs execute|update``, ``run services update``: exit 0 and print
  nothing, unless the call matches ``$FAKE_GCLOUD_FAIL`` (a substring of the
  joined arguments), which exits 1 with an error, or ``$FAKE_GCLOUD_SLEEP``
  (``<substring>=<seconds>``) which sleeps first.

``sql instances describe`` of an instance "cloned" earlier answers 0 (and
prints ``$FAKE_SQL_ADDRESS``, default 10.10.0.99, for an ``ipAddress``
format); after its ``delete`` (or before any clone) it answers 1, so a test
can ask whether a scratch instance is left (``sql_instances``).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

SCRIPT = r'''#!/usr/bin/env python3
import os, shutil, sys, time
from pathlib import Path
args = sys.argv[1:]
line = " ".join(args)
with open(os.environ["FAKE_GCLOUD_LOG"], "a") as f:
    f.write(line + "\n")
sleep = os.environ.get("FAKE_GCLOUD_SLEEP", "")
if sleep and sleep.rsplit("=", 1)[0] in line:
    time.sleep(float(sleep.rsplit("=", 1)[1]))
fail = os.environ.get("FAKE_GCLOUD_FAIL")
if fail and fail in line:
    print(f"ERROR: (gcloud) fake failure of: {line}", file=sys.stderr); sys.exit(1)
state = Path(os.environ["FAKE_GCS"])
def local(url):
    return state / url[len("gs://"):]
if args[:2] == ["storage", "cp"]:
    # sources and destination: the arguments that are neither flags nor a flag's value
    clean, skip = [], False
    for a in args[2:]:
        if skip: skip = False; continue
        if a == "--project": skip = True; continue
        if a.startswith("--"): continue
        clean.append(a)
    *sources, dest = clean
    for src in sources:
        s = local(src) if src.startswith("gs://") else Path(src)
        if not s.is_file():
            print(f"ERROR: (gcloud.storage.cp) The following URLs matched no objects or files: {src}", file=sys.stderr); sys.exit(1)
        d = local(dest) if dest.startswith("gs://") else Path(dest)
        if dest.endswith("/"):
            d = d / s.name
        d.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(s, d)
    sys.exit(0)
instances = state / "sql-instances"
instances.mkdir(parents=True, exist_ok=True)
if args[:3] == ["sql", "instances", "clone"]:
    (instances / args[4]).write_text(line); sys.exit(0)
if args[:3] == ["sql", "instances", "delete"]:
    (instances / args[3]).unlink(missing_ok=True); sys.exit(0)
if args[:3] == ["sql", "instances", "describe"]:
    if not (instances / args[3]).exists():
        print(f"ERROR: (gcloud.sql.instances.describe) HTTPError 404: instance {args[3]} does not exist", file=sys.stderr)
        sys.exit(1)
    print(os.environ.get("FAKE_SQL_ADDRESS", "10.10.0.99") if "ipAddress" in line else args[3])
    sys.exit(0)
sys.exit(0)
'''


def install(tmp_path: Path, monkeypatch) -> Path:
    """Put the fake first on PATH; returns the log file."""
    bin_dir = tmp_path / "fake-gcloud-bin"
    bin_dir.mkdir(exist_ok=True)
    exe = bin_dir / "gcloud"
    exe.write_text(SCRIPT)
    exe.chmod(0o755)
    log = tmp_path / "gcloud.log"
    log.touch()
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_GCLOUD_LOG", str(log))
    monkeypatch.setenv("FAKE_GCS", str(tmp_path / "gcs"))
    monkeypatch.delenv("GCLOUD", raising=False)
    return log


def sql_instances(tmp_path: Path) -> list[str]:
    """The Cloud SQL instances the fake holds (clones not deleted)."""
    folder = tmp_path / "gcs" / "sql-instances"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


def calls(log: Path) -> list[str]:
    return log.read_text().splitlines()


def real_config_dir(tmp_path: Path, repo_config: Path, monkeypatch) -> Path:
    """A copy of config/ whose GCP files hold non-placeholder ids (as an operator's would)."""
    target = tmp_path / "config"
    shutil.copytree(repo_config, target)
    for env in ("staging", "production"):
        path = target / "gcp" / f"{env}.yaml"
        text = path.read_text().replace("mirror-dissonance-stg", "acme-voice-stg").replace("mirror-dissonance-prd", "acme-voice-prd")
        path.write_text(text.replace("012345-6789AB-CDEF01", "01A2B3-C4D5E6-F7A8B9"))
    monkeypatch.setenv("MD_CONFIG_DIR", str(target))
    return target

