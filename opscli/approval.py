"""The approval id: a digest of the cloud assembly that will be deployed.

What production deploys is identified by the content of the artifact, not by
console text (SPEC, "Approval binds an artifact"). For one Stage of a cloud
assembly the digest covers, per stack:

* the stack's deployment properties from the Stage's ``manifest.json``
  (stack name, account/region, roles, tags, termination protection,
  dependencies);
* its template, as canonical JSON (sorted keys, no whitespace);
* its asset manifest, as canonical JSON;
* the content of every asset that manifest publishes (file bytes; for a
  directory every relative path, its executable bit and its bytes).

It leaves out what does not reach CloudFormation: ``tree.json``, the
``*.metadata.json`` files (construct paths, stack traces), lock files the CLI
writes while reading the assembly. Nothing printed by a CLI (timings, pids,
Node warnings, terminal width) can enter it, because no console output is
read at all: the same commit and configuration give the same id.

This module has no dependency beyond the standard library so that ``deploy``
can check an id quickly, and ``bin/deploy-local`` can reuse it.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

ID_PATTERN = re.compile(r"^[0-9a-f]{64}$")
# Bumped when what the digest covers changes, so an old id never matches a
# digest computed by different rules.
_SCHEME = b"md-approval-v1\n"


def parse_id(value: str) -> str:
    """The canonical (lower-case) form of an approval id; ValueError when it is not 64 hex digits."""
    text = value.strip().lower()
    if not ID_PATTERN.match(text):
        raise ValueError(f"an approval id is 64 hexadecimal digits (printed by `bin/ops plan` as 'approval id: ...'), "
                         f"got {value[:80]!r}")
    return text


def canonical_json(data: object) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _read_json(path: Path) -> object:
    return json.loads(path.read_text(encoding="utf-8"))


def content_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of a directory's relative paths, modes and bytes (sorted)."""
    h = hashlib.sha256()
    if path.is_file():
        h.update(path.read_bytes())
        return h.hexdigest()
    if not path.is_dir():
        raise FileNotFoundError(f"{path}: asset source is missing from the assembly")
    for file in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = file.relative_to(path).as_posix()
        executable = os.access(file, os.X_OK)
        h.update(f"{rel}\0{int(executable)}\0{file.stat().st_size}\0".encode())
        h.update(file.read_bytes())
    return h.hexdigest()


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
    """The nested assembly of a Stage (``assembly-Staging``), as named by the top-level manifest."""
    manifest = assembly / "manifest.json"
    if not manifest.is_file():
        raise FileNotFoundError(f"{assembly}: not a cloud assembly (no manifest.json)")
    artifacts = _read_json(manifest).get("artifacts", {})
    for artifact in artifacts.values():
        props = artifact.get("properties", {})
        if artifact.get("type") == "cdk:cloud-assembly" and props.get("displayName") == stage:
            return assembly / props["directoryName"]
    raise FileNotFoundError(f"{assembly}: no nested assembly for Stage {stage!r}")


def _stack_digest(stage_dir: Path, artifact_id: str, artifact: dict, artifacts: dict) -> StackDigest:
    props = artifact.get("properties", {})
    template = _read_json(stage_dir / props["templateFile"])
    assets: dict[str, object] = {}
    contents: dict[str, str] = {}
    for dep in sorted(artifact.get("dependencies", []) + props.get("additionalDependencies", [])):
        dep_artifact = artifacts.get(dep, {})
        if dep_artifact.get("type") != "cdk:asset-manifest":
            continue
        manifest = _read_json(stage_dir / dep_artifact["properties"]["file"])
        assets[dep] = manifest
        for kind in ("files", "dockerImages"):
            for asset_id, asset in sorted(manifest.get(kind, {}).items()):
                source = asset.get("source", {})
                if "path" in source:
                    contents[f"{kind}/{asset_id}"] = content_digest((stage_dir / source["path"]).resolve())
    covered = {
        "id": artifact_id,
        "environment": artifact.get("environment"),
        # Properties CloudFormation or the CLI act on; 'metadata' (construct
        # paths, stack traces) and 'displayName' are not deployed.
        "properties": props,
        "dependencies": sorted(artifact.get("dependencies", [])),
        "template": template,
        "assetManifests": assets,
        "assetContents": contents,
    }
    return StackDigest(props.get("stackName", artifact_id), artifact_id, hashlib.sha256(canonical_json(covered)).hexdigest())


def assembly_digest(assembly: Path | str, stage: str) -> AssemblyDigest:
    """Digest of every stack of ``stage`` in the cloud assembly directory ``assembly``."""
    stage_dir = stage_directory(Path(assembly), stage)
    artifacts = _read_json(stage_dir / "manifest.json").get("artifacts", {})
    stacks = tuple(sorted(
        (_stack_digest(stage_dir, aid, a, artifacts) for aid, a in artifacts.items() if a.get("type") == "aws:cloudformation:stack"),
        key=lambda s: s.stack_name,
    ))
    if not stacks:
        raise FileNotFoundError(f"{stage_dir}: Stage {stage!r} has no stacks")
    h = hashlib.sha256(_SCHEME)
    for stack in stacks:
        h.update(f"{stack.stack_name}\0{stack.digest}\n".encode())
    return AssemblyDigest(stage, h.hexdigest(), stacks)


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
    stage_dir = stage_directory(Path(assembly), stage)
    artifacts = _read_json(stage_dir / "manifest.json").get("artifacts", {})
    found: dict[str, set[str]] = {}
    for aid, artifact in artifacts.items():
        if artifact.get("type") != "aws:cloudformation:stack":
            continue
        props = artifact.get("properties", {})
        text = (stage_dir / props["templateFile"]).read_text(encoding="utf-8")
        for service, name in _DYNAMIC_REF.findall(text):
            found.setdefault(f"{service}:{name}", set()).add(props.get("stackName", aid))
    return {ref: sorted(stacks) for ref, stacks in sorted(found.items())}
