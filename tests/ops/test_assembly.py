"""The one cloud-assembly reader: what it returns, and every shape it refuses."""
from __future__ import annotations

import base64
import hashlib
import io
import os
import zipfile

import pytest

from opscli import assembly
from opscli.assembly import AssemblyError
from tests.ops.assembly_fixture import ASSET_ID, build, edit_json


@pytest.fixture
def root(tmp_path):
    return build(tmp_path / "cdk.out")


def test_reads_stages_stacks_properties_and_assets(root):
    a = assembly.read(root)
    assert sorted(a.stages) == ["Production", "Staging"]
    stage = a.stage("Staging")
    assert sorted(stage.stacks) == ["Staging-Data", "Staging-Runtime"]
    runtime = stage.stacks["Staging-Runtime"]
    assert (runtime.short, runtime.account, runtime.region) == ("Runtime", "123456789012", "us-east-1")
    assert runtime.properties["tags"] == {"Environment": "staging"}
    assert runtime.dependencies == ("StagingData0000", "StagingRuntime0000.assets")
    assert sorted(runtime.file_assets()) == [ASSET_ID, "tStagingRuntime0000"]
    assert "asset." + ASSET_ID + "/lib/util.py" in a.files()
    assert "assembly-Staging/StagingRuntime0000.metadata.json" in a.files()


def test_missing_stage_is_named(root):
    with pytest.raises(AssemblyError, match="no nested assembly for Stage 'Qa'"):
        assembly.read(root).stage("Qa")


def test_code_sha256_is_base64_sha256_of_the_published_zip(root):
    runtime = assembly.read(root).stage("Staging").stacks["Staging-Runtime"]
    package = runtime.file_assets()[ASSET_ID].package()
    assert runtime.lambda_code_sha256() == {"Fn": base64.b64encode(hashlib.sha256(package).digest()).decode()}
    entries = zipfile.ZipFile(io.BytesIO(package)).infolist()
    assert [(e.filename, e.date_time, e.external_attr >> 16, e.compress_type) for e in entries] == [
        ("handler.py", (1980, 1, 1, 0, 0, 0), 0o100644, zipfile.ZIP_STORED),
        ("lib/util.py", (1980, 1, 1, 0, 0, 0), 0o100644, zipfile.ZIP_STORED)]
    assert zipfile.ZipFile(io.BytesIO(package)).read("handler.py").endswith(b"'approved'\n")


def test_package_depends_on_content_and_executable_bit_only(root, tmp_path):
    source = root / f"asset.{ASSET_ID}"
    first = assembly.package_zip(source)
    os.utime(source / "handler.py", (1, 1))
    os.chmod(source / "lib" / "util.py", 0o600)   # not executable either way: same package
    assert assembly.package_zip(source) == first
    os.chmod(source / "handler.py", 0o755)
    assert assembly.package_zip(source) != first
    os.chmod(source / "handler.py", 0o644)
    (source / "handler.py").write_text("def handler(event, context):\n    return 'backdoor'\n")
    assert assembly.package_zip(source) != first


def test_extra_nested_assembly_inside_a_stage_is_refused(root):
    edit_json(root / "assembly-Staging" / "manifest.json", lambda m: m["artifacts"].update(
        {"assembly-Evil": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Evil", "displayName": "Evil"}}}))
    with pytest.raises(AssemblyError, match="artifact 'assembly-Evil' has type 'cdk:cloud-assembly'.*in a Stage"):
        assembly.read(root)


def test_extra_top_level_assembly_is_refused(root):
    edit_json(root / "manifest.json", lambda m: m["artifacts"].update(
        {"assembly-Shadow": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Staging", "displayName": "Shadow"}}}))
    with pytest.raises(AssemblyError, match="nested assembly 'assembly-Shadow' \\('Shadow'\\) is not one of the app's Stages"):
        assembly.read(root)


def test_a_stage_defined_twice_is_refused(root):
    edit_json(root / "manifest.json", lambda m: m["artifacts"].update(
        {"again": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Staging", "displayName": "Staging"}}}))
    with pytest.raises(AssemblyError, match="Stage 'Staging' is defined twice"):
        assembly.read(root)


def test_a_top_level_stack_is_refused(root):
    edit_json(root / "manifest.json", lambda m: m["artifacts"].update(
        {"Staging-Data": {"type": "aws:cloudformation:stack", "environment": "aws://1/us-east-1", "properties": {}}}))
    with pytest.raises(AssemblyError, match="artifact 'Staging-Data' has type 'aws:cloudformation:stack'.*top level"):
        assembly.read(root)


def test_unknown_artifact_type_is_refused(root):
    edit_json(root / "assembly-Staging" / "manifest.json", lambda m: m["artifacts"].update({"X": {"type": "cdk:nested-thing"}}))
    with pytest.raises(AssemblyError, match="artifact 'X' has type 'cdk:nested-thing'"):
        assembly.read(root)


def test_unknown_manifest_key_is_refused(root):
    edit_json(root / "assembly-Staging" / "manifest.json", lambda m: m.update(missing=[{"key": "ctx"}]))
    with pytest.raises(AssemblyError, match=r"unknown manifest key\(s\) \['missing'\]"):
        assembly.read(root)


def test_symlinked_template_is_refused(root, tmp_path):
    template = root / "assembly-Staging" / "StagingData0000.template.json"
    outside = tmp_path / "evil.json"
    outside.write_text(template.read_text())
    template.unlink()
    template.symlink_to(outside)
    with pytest.raises(AssemblyError, match="StagingData0000.template.json is a symbolic link"):
        assembly.read(root)


def test_symlink_inside_an_asset_directory_is_refused(root):
    (root / f"asset.{ASSET_ID}" / "link.py").symlink_to("/etc/hostname")
    with pytest.raises(AssemblyError, match="link.py is a symbolic link"):
        assembly.read(root)


def test_path_outside_the_assembly_is_refused(root):
    edit_json(root / "assembly-Staging" / "manifest.json",
              lambda m: m["artifacts"]["StagingData0000"]["properties"].update(templateFile="../../elsewhere.json"))
    with pytest.raises(AssemblyError, match="'../../elsewhere.json' is outside the assembly"):
        assembly.read(root)


def test_container_image_assets_are_refused(root):
    edit_json(root / "assembly-Staging" / "StagingData0000.assets.json",
              lambda m: m.update(dockerImages={"img": {"source": {"directory": "x"}, "destinations": {}}}))
    with pytest.raises(AssemblyError, match=r"container-image assets \['img'\] are refused"):
        assembly.read(root)


def test_executable_asset_is_refused(root):
    edit_json(root / "assembly-Staging" / "StagingData0000.assets.json",
              lambda m: m["files"].update(x={"source": {"executable": ["sh", "-c", "curl evil"]}, "destinations": {}}))
    with pytest.raises(AssemblyError, match="built by running"):
        assembly.read(root)


def test_legacy_asset_metadata_is_refused(root):
    edit_json(root / "assembly-Staging" / "StagingData0000.metadata.json",
              lambda m: m["/Staging/Data"].append({"type": "aws:cdk:asset", "data": {"path": "x"}}))
    with pytest.raises(AssemblyError, match="metadata of type 'aws:cdk:asset'"):
        assembly.read(root)


def test_oversized_manifest_is_refused_before_parsing(root, monkeypatch):
    monkeypatch.setattr(assembly, "MAX_JSON_BYTES", 100)
    with pytest.raises(AssemblyError, match="more than 100"):
        assembly.read(root)


def test_symlinked_asset_directory_is_refused(root, tmp_path):
    source = root / f"asset.{ASSET_ID}"
    source.rename(tmp_path / "elsewhere")
    source.symlink_to(tmp_path / "elsewhere")
    with pytest.raises(AssemblyError, match=f"asset.{ASSET_ID} is a symbolic link"):
        assembly.read(root)
