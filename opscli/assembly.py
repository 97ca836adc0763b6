"""The one reader of a cloud assembly (the directory ``cdk synth`` writes).

Everything in ``opscli`` that looks inside a synthesized assembly goes through
this module, so that what an approval digests, what a deploy copies, what
verify and drift compare with, and what readiness inspects are one reading
(docs/requirements.md#approval).

API
---

``read(root, stages=("Staging", "Production")) -> Assembly``
    Opens the assembly directory ``root``, walks the top-level ``manifest.json``
    and the manifest of every nested (Stage) assembly, and returns typed
    artifacts. Raises :class:`AssemblyError` (a ``ValueError``) with one line
    naming the artifact or file when the assembly holds anything the app does
    not produce or the reader cannot vouch for:

    * an artifact type other than those in ``TOP_LEVEL_TYPES`` (top level) or
      ``STAGE_TYPES`` (inside a Stage);
    * a nested assembly that is not one of ``stages``, or whose directory is
      not ``assembly-<Stage>``, or a Stage named twice;
    * a stack at the top level (the app puts every stack in a Stage), or two
      stacks with one CloudFormation name;
    * a container-image asset (the app has none: refused, not digested), an
      asset built by running a command (``executable``), a packaging other
      than ``file`` / ``zip``;
    * a manifest key the reader does not know (``missing`` context lookups
      included: they make the CLI synthesize again);
    * metadata entries other than the informational ``METADATA_TYPES``
      (``aws:cdk:asset`` is a legacy asset the CLI would publish);
    * a symbolic link anywhere on a path it reads, or a path that leaves the
      assembly directory.

``Assembly``
    ``.root``; ``.stages`` (display name -> :class:`Stage`); ``.stage(name)``
    (AssemblyError naming the Stages present when absent); ``.files()``: the
    relative path of every file the CDK CLI reads to deploy it (manifests,
    templates, asset manifests, metadata files, tree, asset sources), which is
    exactly what a private copy must hold.

``Stage``
    ``.name`` (``Staging``), ``.artifact_id``, ``.directory``, ``.manifest``
    (the parsed manifest), ``.stacks`` (CloudFormation name -> :class:`Stack`),
    ``.asset_manifests`` (artifact id -> :class:`AssetManifest`), ``.other``
    (artifact id -> raw artifact of an informational type).

``Stack``
    ``.artifact_id`` (``StagingDataF0FE1242``), ``.name`` (``Staging-Data``),
    ``.display_name`` (``Staging/Data``), ``.short`` (``Data``),
    ``.environment`` (``aws://123456789012/us-east-1``), ``.account``,
    ``.region``, ``.properties`` (the manifest's deployment properties:
    template file, roles, tags, termination protection, ...), ``.dependencies``
    (artifact ids), ``.template`` (parsed), ``.template_file`` (Path),
    ``.asset_manifests`` (the :class:`AssetManifest` objects it depends on),
    ``.lambda_code_sha256()`` (logical id -> the ``CodeSha256`` the deployed
    function must report, see below).

``AssetManifest`` / ``FileAsset``
    ``.artifact_id``, ``.file``, ``.data`` (parsed), ``.files`` (asset id ->
    :class:`FileAsset` with ``.source`` (Path), ``.packaging`` (``file`` or
    ``zip``), ``.destinations`` (``(bucket, object key, region)`` tuples) and
    ``.package()`` -> the bytes published for it).

``package_zip(directory) -> bytes``
    The zip published for a directory asset. The CDK CLI's own zip depends on
    the deflate implementation bundled with Node (measured: Python's zlib at
    the same level gives other bytes), so no hash of it can be computed
    beforehand. The deploy path (``opscli/release.py``, ``bin/deploy-local``)
    therefore packages the directory itself, deterministically (entries
    stored, not compressed, so no zlib version can change a byte; sorted
    paths; fixed 1980-01-01 time; mode 0644 or 0755 from the executable bit),
    and places the zip where the CLI takes an already packaged asset from:
    ``<asset manifest directory>/.cache/<asset id>.zip``
    (``place_packages(stage)``; ``python -m opscli.assembly place-packages
    DIR STAGE`` from a shell). ``CodeSha256`` of a function whose code is that
    asset is then ``base64(sha256(package_zip(dir)))``.

``content_digest(path)``
    sha256 of a file's bytes, or of a directory's relative paths, executable
    bits, sizes and bytes (what the approval id covers of an asset).
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import stat
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

DEFAULT_STAGES = ("Staging", "Production")
TOP_LEVEL_TYPES = {"cdk:cloud-assembly", "cdk:tree", "cdk:feature-flag-report"}
STAGE_TYPES = {"aws:cloudformation:stack", "cdk:asset-manifest", "cdk:tree", "cdk:feature-flag-report"}
MANIFEST_KEYS = {"version", "artifacts", "minimumCliVersion", "runtime"}
# Entries the CLI only prints or that construct tooling reads; any other type
# (an ``aws:cdk:asset`` would be published) is refused.
METADATA_TYPES = {"aws:cdk:creationStack", "aws:cdk:logicalId", "aws:cdk:acknowledged-rules", "aws:cdk:templateFile",
                  "aws:cdk:stack-tags", "aws:cdk:hasPhysicalName", "aws:cdk:info", "aws:cdk:warning",
                  "aws:cdk:error", "aws:cdk:analytics"}
PACKAGINGS = {"file", "zip"}
# A manifest, template or asset manifest bigger than this is not one the app
# writes (the largest template is under 50 kB): refused before parsing.
MAX_JSON_BYTES = 16 * 1024 * 1024


class AssemblyError(ValueError):
    """One line naming the artifact or file and what is wrong with it."""


# ---------------------------------------------------------------- paths ----

def _inside(base: Path, relative: str | os.PathLike, *, what: str, root: Path | None = None) -> Path:
    """``base / relative``, refused when it leaves ``root`` (default ``base``: the assembly
    directory) or passes through a symbolic link below it."""
    if not isinstance(relative, (str, os.PathLike)) or not str(relative):
        raise AssemblyError(f"{what}: no path given")
    if os.path.isabs(relative):
        raise AssemblyError(f"{what}: absolute path {relative!r} is outside the assembly")
    root = Path(os.path.abspath(root or base))
    path = Path(os.path.normpath(Path(os.path.abspath(base)) / relative))
    try:
        rel = path.relative_to(root)
    except ValueError:
        raise AssemblyError(f"{what}: {relative!r} is outside the assembly {root}") from None
    current = root
    for part in rel.parts:
        current = current / part
        if current.is_symlink():
            raise AssemblyError(f"{what}: {current} is a symbolic link (refused: its target is not part of the assembly)")
    return path


def _read_json(path: Path, *, what: str) -> Any:
    try:
        st = path.lstat()
    except FileNotFoundError:
        raise AssemblyError(f"{what}: {path} does not exist") from None
    if stat.S_ISLNK(st.st_mode):
        raise AssemblyError(f"{what}: {path} is a symbolic link")
    if not stat.S_ISREG(st.st_mode):
        raise AssemblyError(f"{what}: {path} is not a regular file")
    if st.st_size > MAX_JSON_BYTES:
        raise AssemblyError(f"{what}: {path} is {st.st_size} bytes, more than {MAX_JSON_BYTES} (not a file cdk synth writes)")
    try:
        return json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as exc:
        raise AssemblyError(f"{what}: {path} is not JSON: {exc}") from None


def _walk_directory(directory: Path, *, what: str) -> list[Path]:
    """Every file under ``directory`` (sorted); a link, device or fifo is refused."""
    files = []
    for dirpath, dirnames, filenames in os.walk(directory):
        for name in sorted(dirnames + filenames):
            entry = Path(dirpath) / name
            mode = entry.lstat().st_mode
            if stat.S_ISLNK(mode):
                raise AssemblyError(f"{what}: {entry} is a symbolic link (refused)")
            if stat.S_ISREG(mode):
                files.append(entry)
            elif not stat.S_ISDIR(mode):
                raise AssemblyError(f"{what}: {entry} is not a regular file or directory")
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def content_digest(path: Path) -> str:
    """sha256 of a file's bytes, or of a directory's relative paths, executable bits, sizes and bytes (sorted)."""
    h = hashlib.sha256()
    mode = path.lstat().st_mode
    if stat.S_ISREG(mode):
        h.update(path.read_bytes())
        return h.hexdigest()
    if not stat.S_ISDIR(mode):
        raise AssemblyError(f"{path}: asset source is not a file or directory")
    for file in _walk_directory(path, what="asset"):
        rel = file.relative_to(path).as_posix()
        executable = bool(file.stat().st_mode & 0o111)
        h.update(f"{rel}\0{int(executable)}\0{file.stat().st_size}\0".encode())
        h.update(file.read_bytes())
    return h.hexdigest()


# ----------------------------------------------------------- packaging ----

_DOS_DATE_1980 = (0 << 9) | (1 << 5) | 1   # 1980-01-01
_DOS_TIME_0 = 0


def package_zip(directory: Path) -> bytes:
    """The zip the deploy publishes for a directory asset: a pure function of its content (see module doc)."""
    out, central = bytearray(), bytearray()
    files = _walk_directory(directory, what="asset")
    for file in files:
        name = file.relative_to(directory).as_posix().encode()
        data = file.read_bytes()
        mode = 0o100755 if file.stat().st_mode & 0o111 else 0o100644
        crc = zlib.crc32(data)
        offset = len(out)
        # Local header: version 2.0, flag 0x0800 (UTF-8 names), method 0 (stored).
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0x0800, 0, _DOS_TIME_0, _DOS_DATE_1980,
                           crc, len(data), len(data), len(name), 0) + name + data
        # Central entry: made by Unix (3), 2.0; external attributes carry the mode.
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, (3 << 8) | 20, 20, 0x0800, 0, _DOS_TIME_0,
                               _DOS_DATE_1980, crc, len(data), len(data), len(name), 0, 0, 0, 0,
                               mode << 16, offset) + name
    start = len(out)
    out += central
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(files), len(files), len(central), start, 0)
    return bytes(out)


def code_sha256(package: bytes) -> str:
    """What Lambda reports as ``CodeSha256`` for a deployment package: base64 of its sha256."""
    return base64.b64encode(hashlib.sha256(package).digest()).decode()


# -------------------------------------------------------------- types ----

@dataclass(frozen=True)
class FileAsset:
    asset_id: str
    source: Path
    packaging: str                      # "file" or "zip"
    destinations: tuple[tuple[str, str, str], ...]   # (bucket, object key, region)
    manifest_dir: Path

    def package(self) -> bytes:
        """The bytes published to each destination."""
        return package_zip(self.source) if self.packaging == "zip" else self.source.read_bytes()

    @property
    def cache_path(self) -> Path:
        """Where the CDK CLI takes an already packaged zip from instead of zipping again."""
        return self.manifest_dir / ".cache" / f"{self.asset_id}.zip"


@dataclass(frozen=True)
class AssetManifest:
    artifact_id: str
    file: Path
    data: dict
    files: dict[str, FileAsset]


@dataclass(frozen=True)
class Stack:
    artifact_id: str
    name: str
    display_name: str
    environment: str
    properties: dict
    dependencies: tuple[str, ...]
    template_file: Path
    template: dict
    asset_manifests: tuple[AssetManifest, ...]
    metadata_file: Path | None
    raw: dict = field(repr=False, default_factory=dict)

    @property
    def short(self) -> str:
        return self.display_name.split("/")[-1]

    @property
    def account(self) -> str:
        return self.environment.removeprefix("aws://").split("/")[0]

    @property
    def region(self) -> str:
        return self.environment.rsplit("/", 1)[-1]

    def file_assets(self) -> dict[str, FileAsset]:
        return {aid: asset for m in self.asset_manifests for aid, asset in m.files.items()}

    def lambda_code_sha256(self) -> dict[str, str]:
        """Logical id of each ``AWS::Lambda::Function`` whose code is one of this stack's
        assets -> the ``CodeSha256`` the deployed function must report."""
        by_key = {key: asset for asset in self.file_assets().values() for _, key, _ in asset.destinations}
        expected = {}
        for logical_id, resource in self.template.get("Resources", {}).items():
            if resource.get("Type") != "AWS::Lambda::Function":
                continue
            code = resource.get("Properties", {}).get("Code", {})
            key = code.get("S3Key") if isinstance(code, dict) else None
            if isinstance(key, str) and key in by_key:
                expected[logical_id] = code_sha256(by_key[key].package())
        return expected


@dataclass(frozen=True)
class Stage:
    name: str
    artifact_id: str
    directory: Path
    manifest: dict
    stacks: dict[str, Stack]
    asset_manifests: dict[str, AssetManifest]
    other: dict[str, dict]


@dataclass(frozen=True)
class Assembly:
    root: Path
    manifest: dict
    stages: dict[str, Stage]
    tree_file: Path | None
    _files: tuple[str, ...] = field(repr=False, default=())

    def stage(self, name: str) -> Stage:
        if name not in self.stages:
            raise AssemblyError(f"{self.root}: no nested assembly for Stage {name!r} (it holds {sorted(self.stages) or 'none'})")
        return self.stages[name]

    def files(self) -> tuple[str, ...]:
        """Relative paths (POSIX) of every file the CLI reads to deploy this assembly."""
        return self._files


# ------------------------------------------------------------- reading ----

def _check_keys(manifest: dict, path: Path) -> None:
    if not isinstance(manifest, dict) or not isinstance(manifest.get("artifacts"), dict):
        raise AssemblyError(f"{path}: not a cloud assembly manifest (no 'artifacts' object)")
    unknown = sorted(set(manifest) - MANIFEST_KEYS)
    if unknown:
        raise AssemblyError(f"{path}: unknown manifest key(s) {unknown} (refused: the approval covers only what it knows)")


def _check_metadata(path: Path, *, what: str) -> None:
    data = _read_json(path, what=what)
    if not isinstance(data, dict):
        raise AssemblyError(f"{what}: {path} is not a metadata object")
    for construct, entries in data.items():
        for entry in entries if isinstance(entries, list) else [None]:
            kind = entry.get("type") if isinstance(entry, dict) else None
            if kind not in METADATA_TYPES:
                raise AssemblyError(f"{what}: {path} has metadata of type {kind!r} at {construct} (refused: not informational)")


class _Reader:
    def __init__(self, root: Path, stages: Iterable[str]):
        self.root = Path(os.path.abspath(root))
        self.allowed_stages = tuple(stages)
        self.files: set[str] = set()

    def note(self, path: Path) -> None:
        self.files.add(path.relative_to(self.root).as_posix())

    def note_tree(self, path: Path) -> None:
        if path.is_dir():
            for f in _walk_directory(path, what=str(path)):
                self.note(f)
        else:
            self.note(path)

    def read(self) -> Assembly:
        if self.root.is_symlink() or not self.root.is_dir():
            raise AssemblyError(f"{self.root}: not a cloud assembly directory")
        path = _inside(self.root, "manifest.json", what="top-level manifest")
        manifest = _read_json(path, what="top-level manifest")
        _check_keys(manifest, path)
        self.note(path)
        stages: dict[str, Stage] = {}
        tree = None
        for aid, artifact in manifest["artifacts"].items():
            kind = artifact.get("type") if isinstance(artifact, dict) else None
            if kind not in TOP_LEVEL_TYPES:
                raise AssemblyError(f"{path}: artifact {aid!r} has type {kind!r}, which the app does not produce at the top level "
                                    f"(allowed: {sorted(TOP_LEVEL_TYPES)})")
            props = artifact.get("properties", {})
            if kind == "cdk:cloud-assembly":
                name = props.get("displayName")
                if name not in self.allowed_stages:
                    raise AssemblyError(f"{path}: nested assembly {aid!r} ({name!r}) is not one of the app's Stages {list(self.allowed_stages)}")
                if name in stages:
                    raise AssemblyError(f"{path}: Stage {name!r} is defined twice (artifacts {stages[name].artifact_id!r} and {aid!r})")
                if props.get("directoryName") != f"assembly-{name}" or aid != f"assembly-{name}":
                    raise AssemblyError(f"{path}: nested assembly {aid!r} of Stage {name!r} must be 'assembly-{name}' "
                                        f"(directory {props.get('directoryName')!r})")
                stages[name] = self.read_stage(aid, name, _inside(self.root, props["directoryName"], what=f"nested assembly {aid}"))
            elif kind == "cdk:tree":
                tree = _inside(self.root, props.get("file", ""), what=f"artifact {aid}")
                _read_json(tree, what=f"artifact {aid}")
                self.note(tree)
        return Assembly(self.root, manifest, stages, tree, tuple(sorted(self.files)))

    def read_stage(self, aid: str, name: str, directory: Path) -> Stage:
        path = _inside(directory, "manifest.json", what=f"nested assembly {aid}", root=self.root)
        manifest = _read_json(path, what=f"nested assembly {aid}")
        _check_keys(manifest, path)
        self.note(path)
        artifacts = manifest["artifacts"]
        asset_manifests: dict[str, AssetManifest] = {}
        other: dict[str, dict] = {}
        for art_id, artifact in artifacts.items():
            kind = artifact.get("type") if isinstance(artifact, dict) else None
            if kind not in STAGE_TYPES:
                raise AssemblyError(f"{path}: artifact {art_id!r} has type {kind!r}, which the app does not produce in a Stage "
                                    f"(allowed: {sorted(STAGE_TYPES)})")
            if kind == "cdk:asset-manifest":
                asset_manifests[art_id] = self.read_asset_manifest(directory, art_id, artifact)
            elif kind == "cdk:tree":
                tree = _inside(directory, artifact.get("properties", {}).get("file", ""), what=f"artifact {art_id}", root=self.root)
                _read_json(tree, what=f"artifact {art_id}")
                self.note(tree)
                other[art_id] = artifact
            elif kind == "cdk:feature-flag-report":
                other[art_id] = artifact
        stacks: dict[str, Stack] = {}
        for art_id, artifact in artifacts.items():
            if artifact["type"] != "aws:cloudformation:stack":
                continue
            stack = self.read_stack(directory, art_id, artifact, artifacts, asset_manifests)
            if stack.name in stacks:
                raise AssemblyError(f"{path}: stack name {stack.name!r} is defined twice "
                                    f"(artifacts {stacks[stack.name].artifact_id!r} and {art_id!r})")
            if not stack.display_name.startswith(f"{name}/"):
                raise AssemblyError(f"{path}: stack {art_id!r} ({stack.display_name!r}) is not a stack of Stage {name!r}")
            stacks[stack.name] = stack
        if not stacks:
            raise AssemblyError(f"{path}: Stage {name!r} has no stacks")
        return Stage(name, aid, directory, manifest, stacks, asset_manifests, other)

    def read_stack(self, directory: Path, aid: str, artifact: dict, artifacts: dict,
                   asset_manifests: dict[str, AssetManifest]) -> Stack:
        props = artifact.get("properties")
        if not isinstance(props, dict):
            raise AssemblyError(f"stack {aid!r}: no properties")
        unknown_keys = sorted(set(artifact) - {"type", "environment", "properties", "dependencies", "metadata",
                                               "additionalMetadataFile", "displayName"})
        if unknown_keys:
            raise AssemblyError(f"stack {aid!r}: unknown artifact key(s) {unknown_keys}")
        template_file = _inside(directory, props.get("templateFile", ""), what=f"stack {aid} template", root=self.root)
        template = _read_json(template_file, what=f"stack {aid} template")
        if not isinstance(template, dict):
            raise AssemblyError(f"stack {aid!r}: {template_file} is not a template object")
        self.note(template_file)
        metadata_file = None
        if artifact.get("additionalMetadataFile"):
            metadata_file = _inside(directory, artifact["additionalMetadataFile"], what=f"stack {aid} metadata", root=self.root)
            _check_metadata(metadata_file, what=f"stack {aid} metadata")
            self.note(metadata_file)
        if "metadata" in artifact:
            for construct, entries in (artifact["metadata"] or {}).items():
                for entry in entries:
                    if not isinstance(entry, dict) or entry.get("type") not in METADATA_TYPES:
                        raise AssemblyError(f"stack {aid!r}: metadata {entry!r} at {construct} is not informational (refused)")
        dependencies = tuple(artifact.get("dependencies", []))
        for dep in dependencies + tuple(props.get("additionalDependencies", [])):
            if dep not in artifacts:
                raise AssemblyError(f"stack {aid!r}: dependency {dep!r} is not an artifact of its manifest")
        used = tuple(asset_manifests[d] for d in sorted(set(dependencies) | set(props.get("additionalDependencies", [])))
                     if d in asset_manifests)
        environment = artifact.get("environment", "")
        if not isinstance(environment, str) or not environment.startswith("aws://"):
            raise AssemblyError(f"stack {aid!r}: environment {environment!r} is not aws://ACCOUNT/REGION")
        display = artifact.get("displayName", aid)
        return Stack(aid, props.get("stackName", aid), display, environment, props, dependencies,
                     template_file, template, used, metadata_file, artifact)

    def read_asset_manifest(self, directory: Path, aid: str, artifact: dict) -> AssetManifest:
        path = _inside(directory, artifact.get("properties", {}).get("file", ""), what=f"asset manifest {aid}", root=self.root)
        data = _read_json(path, what=f"asset manifest {aid}")
        self.note(path)
        if not isinstance(data, dict):
            raise AssemblyError(f"asset manifest {aid!r}: {path} is not an object")
        unknown = sorted(set(data) - {"version", "files", "dockerImages"})
        if unknown:
            raise AssemblyError(f"asset manifest {aid!r}: unknown key(s) {unknown}")
        if data.get("dockerImages"):
            raise AssemblyError(f"asset manifest {aid!r}: container-image assets {sorted(data['dockerImages'])} are refused "
                                "(the app publishes none; a deploy would build and push an image the approval does not cover)")
        files = {}
        for asset_id, asset in (data.get("files") or {}).items():
            what = f"asset {asset_id} of {aid}"
            source = asset.get("source", {})
            if "executable" in source:
                raise AssemblyError(f"{what}: built by running {source['executable']!r} (refused: its output is not in the assembly)")
            packaging = source.get("packaging", "file")
            if packaging not in PACKAGINGS:
                raise AssemblyError(f"{what}: packaging {packaging!r} is not one of {sorted(PACKAGINGS)}")
            src = _inside(directory, source.get("path", ""), what=what, root=self.root)
            if not src.exists():
                raise AssemblyError(f"{what}: source {src} is missing from the assembly")
            if packaging == "zip" and not src.is_dir():
                raise AssemblyError(f"{what}: zip packaging of {src}, which is not a directory")
            if packaging == "file" and not src.is_file():
                raise AssemblyError(f"{what}: {src} is not a regular file")
            self.note_tree(src)
            destinations = tuple(sorted((d.get("bucketName", ""), d.get("objectKey", ""), d.get("region", ""))
                                        for d in (asset.get("destinations") or {}).values()))
            files[asset_id] = FileAsset(asset_id, src, packaging, destinations, directory)
        return AssetManifest(aid, path, data, files)


def read(root: Path | str, stages: Iterable[str] = DEFAULT_STAGES) -> Assembly:
    """The assembly at ``root`` (see the module doc for what is refused)."""
    return _Reader(Path(root), stages).read()


def place_packages(stage: Stage) -> None:
    """Put the deterministic zip of every directory asset of ``stage`` where the CDK CLI takes
    an already packaged asset from (``<manifest dir>/.cache/<asset id>.zip``), so the bytes it
    publishes are those whose hash ``Stack.lambda_code_sha256`` names."""
    for manifest in stage.asset_manifests.values():
        for asset in manifest.files.values():
            if asset.packaging == "zip":
                asset.cache_path.parent.mkdir(mode=0o700, exist_ok=True)
                partial = asset.cache_path.with_suffix(".partial")
                partial.write_bytes(asset.package())
                partial.replace(asset.cache_path)


def main(argv: list[str] | None = None) -> int:
    """``python -m opscli.assembly place-packages DIR STAGE`` (bin/deploy-local, before cdk deploy)."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3 or args[0] != "place-packages":
        print("usage: python -m opscli.assembly place-packages ASSEMBLY_DIR STAGE", file=sys.stderr)
        return 2
    try:
        place_packages(read(args[1]).stage(args[2]))
    except AssemblyError as exc:
        print(f"assembly: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
