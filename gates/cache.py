"""Per-file record of gate passes: a file whose exact bytes already passed a gate,
under the same rules and tools, is not checked by that gate again.

Used by gates/run.py (``bin/synth``, ``bin/deploy-local``, ``bin/ops plan``).
The unit is one gate on one file: cfn-lint on a template, checkov
(CloudFormation) on a template, checkov (Terraform JSON) on a ``cdk.tf.json``.
Each of these tools judges a file on its content alone, so a verdict on the
same bytes under the same inputs is the same verdict.

Key: sha256 over the gate's name, the file's name and bytes, and
``inputs_digest(venvs)``, which covers everything else that can change a result:

- every file under ``gates/`` (the commands, their flags, the ignored cfn-lint
  rules, how skips are read and applied, this key);
- every file under ``policy/`` (``checkov_skips.yaml``);
- the configuration files the tools read by themselves when present
  (``.cfnlintrc*``, ``.checkov.yaml`` / ``.checkov.yml``, in the repository
  and in ``$HOME``) and the environment variables checkov takes options from
  (``CKV_*``, ``CHECKOV_*``, ``BC_*``, ``PRISMA_*``);
- the installed tools: the name and version of every distribution in the
  virtual environments the gate runs from (``.venv``, where gates/ and
  cfn-lint run, and ``.venv-checkov`` for checkov), their ``pyvenv.cfg`` (the
  Python version) and the pin files ``requirements.txt`` and
  ``requirements-checkov.txt``.

When in doubt an input is in the key: a needless miss costs one check, a
missing input would let a stale pass through.

Only passes are recorded, never failures: a failing file is checked every
time. An entry is one small JSON file named by its key, holding what the gate
reported for that file (checkov's counts), so a run that checks nothing can
still print the totals. It is written to a temporary file in the same
directory and renamed with ``os.replace``, so concurrent writers (two
``bin/synth`` at once) leave whole entries; an entry that cannot be read, or
does not name its own key and gate, is a miss.

Location: ``GATES_CACHE_DIR``, default ``.gates-cache/`` in the repository
(gitignored). ``bin/synth --no-cache`` checks every file and neither reads nor
writes entries; an empty ``GATES_CACHE_DIR`` starts cold. CI runners start
with no cache: every gate there checks every file.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable, Iterable, Mapping

ROOT = Path(__file__).resolve().parent.parent
CACHE_ENV = "GATES_CACHE_DIR"
DEFAULT_DIR = ROOT / ".gates-cache"

# Inputs shared by every gate (see the module docstring).
SOURCE_ROOTS = ("gates", "policy", "requirements.txt", "requirements-checkov.txt")
TOOL_CONFIG_FILES = (".cfnlintrc", ".cfnlintrc.yaml", ".cfnlintrc.yml", ".checkov.yaml", ".checkov.yml")
OPTION_ENV_PREFIXES = ("CKV_", "CHECKOV_", "BC_", "PRISMA_")


def cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    return Path(environ.get(CACHE_ENV) or DEFAULT_DIR)


def _digest_tree(h, root: Path, label: str) -> None:
    """Names and bytes of every file under ``root``; a missing root is recorded as missing."""
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")
    else:
        h.update(f"{label}: missing\0".encode())
        return
    for path in files:
        rel = path.name if path == root else path.relative_to(root).as_posix()
        h.update(f"{label}/{rel}\0{path.stat().st_size}\0".encode())
        h.update(path.read_bytes())


def installed_distributions(venv: Path) -> list[str]:
    """``name-version`` of every distribution installed in ``venv`` (its ``*.dist-info`` directories)."""
    found = sorted(p.name for p in venv.glob("lib/python*/site-packages/*.dist-info"))
    return found or [f"{venv}: no distributions found"]


def inputs_digest(venvs: Iterable[Path], *, root: Path = ROOT, home: Path | None = None,
                  environ: Mapping[str, str] = os.environ) -> str:
    """Everything besides the file that can change what a gate decides, for a gate whose code
    runs from the virtual environments ``venvs`` (the gates' own and the tool's)."""
    h = hashlib.sha256()
    for name in SOURCE_ROOTS:
        _digest_tree(h, root / name, name)
    home = home if home is not None else Path.home()
    for where, base in (("repo", root), ("home", home)):
        for name in TOOL_CONFIG_FILES:
            path = base / name
            if path.is_file():
                _digest_tree(h, path, f"{where}/{name}")
    for name in sorted(environ):
        if name.startswith(OPTION_ENV_PREFIXES):
            h.update(f"env {name}={environ[name]}\0".encode())
    for venv in venvs:
        h.update(f"venv {venv.name}\0".encode())
        _digest_tree(h, venv / "pyvenv.cfg", f"{venv.name}/pyvenv.cfg")
        for dist in installed_distributions(venv):
            h.update(f"dist {dist}\0".encode())
    return h.hexdigest()


class GateCache:
    """The recorded passes of one gate. ``directory=None``: disabled (every file is checked, nothing recorded)."""

    def __init__(self, gate: str, inputs: str, directory: Path | None):
        self.gate = gate
        self.inputs = inputs
        self.directory = directory / gate if directory is not None else None
        self._warned = False

    @property
    def enabled(self) -> bool:
        return self.directory is not None

    def key(self, path: Path) -> str:
        h = hashlib.sha256()
        h.update(f"gate {self.gate}\0inputs {self.inputs}\0file {path.name}\0".encode())
        h.update(path.read_bytes())
        return h.hexdigest()

    def _entry(self, key: str) -> Path:
        assert self.directory is not None
        return self.directory / f"{key}.json"

    def lookup(self, key: str) -> dict | None:
        """What the gate reported for the file when it passed, or None (never passed, unreadable, disabled)."""
        if self.directory is None:
            return None
        try:
            entry = json.loads(self._entry(key).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("key") != key or entry.get("gate") != self.gate:
            return None
        details = entry.get("details")
        return details if isinstance(details, dict) else None

    def partition(self, files: Iterable[Path], accept: Callable[[dict], bool] = lambda details: True,
                  ) -> tuple[dict[Path, dict], dict[Path, str]]:
        """(files that passed before -> their recorded details, files to check -> their keys).

        ``accept`` vets recorded details (an entry whose details the gate cannot use is a miss)."""
        passed, to_check = {}, {}
        for path in files:
            key = self.key(path)
            details = self.lookup(key)
            try:
                usable = details is not None and accept(details)
            except (KeyError, TypeError, ValueError):
                usable = False
            if not usable:
                to_check[path] = key
            else:
                passed[path] = details
        return passed, to_check

    def record(self, path: Path, key: str, details: dict) -> None:
        """Record a pass of ``path`` (whose key was ``key`` before the check). Only call this for a pass.

        Nothing is recorded when the file changed since its key was taken (the
        bytes checked may not be the bytes keyed). A cache that cannot be
        written is reported once and otherwise ignored: it only costs speed."""
        if self.directory is None:
            return
        try:
            if self.key(path) != key:
                return
            self.directory.mkdir(parents=True, exist_ok=True)
            entry = {"gate": self.gate, "key": key, "file": path.name, "details": details,
                     "passed": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
            fd, partial = tempfile.mkstemp(dir=self.directory, prefix=f".{key[:16]}.", suffix=".partial")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as fh:
                    json.dump(entry, fh, sort_keys=True)
                os.replace(partial, self._entry(key))
            except BaseException:
                try:
                    os.unlink(partial)
                except OSError:
                    pass
                raise
        except OSError as exc:
            if not self._warned:
                print(f"gates: cannot record passes in {self.directory} ({exc}); the next run checks these files again",
                      file=sys.stderr)
                self._warned = True
