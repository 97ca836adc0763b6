"""The approval id: a digest of the cloud assembly that will be deployed.

What production deploys is identified by the content of the artifact, not by
console text (docs/requirements.md#approval). The assembly is read by the one
reader, ``opscli/assembly.py``, which refuses what it cannot vouch for (an
artifact type the app does not produce, a nested assembly that is not one of
its Stages, a container-image asset, an asset built by a command, symbolic
links, paths outside the assembly). For one Stage the digest covers:

* the Stage's name and every artifact id and type in its manifest;
* per stack: its artifact id, environment, dependencies and every deployment
  property of ``manifest.json`` (stack name, roles, tags, termination
  protection, parameters, template URL ...), so a property the CLI acts on
  cannot change under the same id;
* its template, as canonical JSON (sorted keys, no whitespace);
* every asset manifest of the Stage, as canonical JSON, and the content of
  every asset they publish (file bytes; for a directory every relative path,
  its executable bit and its bytes).

It leaves out what does not reach CloudFormation: ``tree.json``, the
``*.metadata.json`` files (construct paths, stack traces; the reader refuses
any entry in them that is not informational), lock files the CLI writes while
reading the assembly. Nothing printed by a CLI (timings, pids, Node warnings,
terminal width) can enter it, because no console output is read at all: the
same commit and configuration give the same id.

This module and ``opscli/assembly.py`` use the standard library only, so that
``deploy`` can check an id quickly, and ``bin/deploy-local`` can reuse it.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

from . import assembly as assembly_reader

ID_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# Bumped when what the digest covers changes, so an old id never matches a
# digest computed by different rules.
_SCHEME = b"md-approval-v2\n"


def parse_id(value: str) -> str:
    """The canonical (lower-case) form of an approval id; ValueError when it is not 64 hex digits."""
    text = value.strip().lower()
    if not ID_PATTERN.match(text):
        raise ValueError(f"an approval id is 64 hexadecimal digits (printed by `bin/ops plan` as 'approval id: ...'), "
                         f"got {value[:80]!r}")
    return text


def canonical_json(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def content_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of a directory's relative paths, executable bits, sizes and bytes."""
    return assembly_reader.content_digest(Path(path))


@dataclass(frozen=True)
class StackDigest:
    stack_name: str      # CloudFormation name, e.g. Staging-Data
    artifact_id: str     # assembly artifact id, e.g. StagingDataF0FE1242
    digest: str


@dataclass(frozen=True)
class AssemblyDigest:
    stage: str
    digest: str
    stacks: tuple[StackDigest, ...]

    def by_name(self) -> dict[str, str]:
        return {s.stack_name: s.digest for s in self.stacks}


def files_digest(roots) -> str:
    """sha256 over the files under each root (a file or a directory), with their
    names; bytecode caches left out. A cache key for "did a source change", not
    an approval id."""
    h = hashlib.sha256()
    for root in roots:
        base = root if root.is_dir() else root.parent
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else []
        for file in files:
            if "__pycache__" in file.parts or file.suffix == ".pyc":
                continue
            h.update(f"{root.name}/{file.relative_to(base).as_posix()}\0".encode())
            h.update(file.read_bytes())
    return h.hexdigest()


def stage_directory(assembly: Path, stage: str) -> Path:
    """The nested assembly of a Stage (``assembly-Staging``), after the reader's checks."""
    return assembly_reader.read(Path(assembly)).stage(stage).directory


def _stack_digest(stage: assembly_reader.Stage, stack: assembly_reader.Stack) -> StackDigest:
    covered = {
        "id": stack.artifact_id,
        "environment": stack.environment,
        # Every property of the manifest: the CLI acts on all of them (roles,
        # tags, termination protection, template URL, parameters...).
        "properties": stack.properties,
        "dependencies": sorted(stack.dependencies),
        "template": stack.template,
    }
    return StackDigest(stack.name, stack.artifact_id, hashlib.sha256(canonical_json(covered)).hexdigest())


def _stage_digest(stage: assembly_reader.Stage) -> str:
    """The Stage's own part: its artifacts (ids and types), asset manifests and asset contents."""
    covered = {
        "stage": stage.name,
        "artifacts": sorted((aid, a.get("type")) for aid, a in stage.manifest["artifacts"].items()),
        "assetManifests": {aid: m.data for aid, m in sorted(stage.asset_manifests.items())},
        "assetContents": {f"{aid}/{asset_id}": assembly_reader.content_digest(asset.source)
                          for aid, m in sorted(stage.asset_manifests.items())
                          for asset_id, asset in sorted(m.files.items())},
    }
    return hashlib.sha256(canonical_json(covered)).hexdigest()


def stage_digest(stage: assembly_reader.Stage) -> AssemblyDigest:
    """Digest of every stack and asset of one Stage already read by ``opscli/assembly.py``."""
    stacks = tuple(sorted((_stack_digest(stage, s) for s in stage.stacks.values()), key=lambda s: s.stack_name))
    h = hashlib.sha256(_SCHEME)
    h.update(f"stage\0{stage.name}\0{_stage_digest(stage)}\n".encode())
    for stack in stacks:
        h.update(f"{stack.stack_name}\0{stack.digest}\n".encode())
    return AssemblyDigest(stage.name, h.hexdigest(), stacks)


def assembly_digest(assembly: Path | str, stage: str) -> AssemblyDigest:
    """Digest of every stack of ``stage`` in the cloud assembly directory ``assembly``.

    Raises ``assembly.AssemblyError`` (a ValueError) naming what the reader refuses.
    """
    return stage_digest(assembly_reader.read(Path(assembly)).stage(stage))


def changed_stacks(approved: dict[str, str], current: dict[str, str]) -> list[str]:
    """Names of the stacks whose digest differs (added, removed or changed)."""
    return sorted(name for name in approved.keys() | current.keys() if approved.get(name) != current.get(name))


_DYNAMIC_REF = re.compile(r"\{\{resolve:(ssm|ssm-secure|secretsmanager):([^}]+)\}\}")


def dynamic_references(assembly: Path | str, stage: str) -> dict[str, list[str]]:
    """``{{resolve:...}}`` references of the Stage's templates: reference -> stacks that hold it.

    CloudFormation resolves these when it executes the change set, with its
    execution role; their values are not part of the assembly, so the plan
    lists them next to the diff (docs/operations.md, "What the approval id covers").
    """
    found: dict[str, set[str]] = {}
    for stack in assembly_reader.read(Path(assembly)).stage(stage).stacks.values():
        for service, name in _DYNAMIC_REF.findall(canonical_json(stack.template).decode()):
            found.setdefault(f"{service}:{name}", set()).add(stack.name)
    return {ref: sorted(stacks) for ref, stacks in sorted(found.items())}
