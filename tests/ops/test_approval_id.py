"""The approval id covers every part of a Stage the CDK CLI acts on.

Each test changes one thing a deploy would act on and expects another id (or
a refusal). A digest that leaves that thing out makes its test red.
"""
from __future__ import annotations

import json
import shutil

import pytest

from opscli import approval
from opscli.assembly import AssemblyError
from tests.ops.assembly_fixture import ASSET_ID, build, edit_json, stack_artifact


@pytest.fixture
def root(tmp_path):
    return build(tmp_path / "cdk.out")


def _id(root, stage="Staging"):
    return approval.assembly_digest(root, stage).digest


def _stack(root, aid="StagingData0000"):
    return root / "assembly-Staging" / "manifest.json", aid


def test_same_content_same_id_whatever_the_metadata_and_tree_say(root, tmp_path):
    before = _id(root)
    edit_json(root / "assembly-Staging" / "StagingData0000.metadata.json",
              lambda m: m["/Staging/Data"].append({"type": "aws:cdk:creationStack", "data": ["/home/someone/app.py:12"]}))
    (root / "tree.json").write_text(json.dumps({"version": "tree-0.1", "tree": {"id": "App", "other": 1}}))
    copy = tmp_path / "elsewhere"
    shutil.copytree(root, copy)
    assert _id(root) == _id(copy) == before


@pytest.mark.parametrize("prop, value", [
    ("terminationProtection", True),
    ("cloudFormationExecutionRoleArn", "arn:aws:iam::999999999999:role/attacker"),
    ("assumeRoleArn", "arn:aws:iam::999999999999:role/attacker"),
    ("tags", {"Environment": "staging", "Owner": "someone-else"}),
    ("parameters", {"BootstrapVersion": "/attacker/param"}),
    ("notificationArns", ["arn:aws:sns:us-east-1:999999999999:leak"]),
])
def test_each_deployment_property_is_covered(root, prop, value):
    before = _id(root)
    manifest, aid = _stack(root)
    edit_json(manifest, lambda m: m["artifacts"][aid]["properties"].update({prop: value}))
    after = approval.assembly_digest(root, "Staging")
    assert after.digest != before
    assert after.by_name()["Staging-Data"] != approval.assembly_digest(build(root.parent / "fresh"), "Staging").by_name()["Staging-Data"]


def test_a_stack_added_since_approval_changes_the_id_and_is_named(root):
    approved = approval.assembly_digest(root, "Staging")
    directory = root / "assembly-Staging"
    aid, artifact = stack_artifact("Staging", "Extra")
    (directory / f"{aid}.template.json").write_text(json.dumps({"Resources": {"AdminRole": {"Type": "AWS::IAM::Role"}}}))
    (directory / f"{aid}.assets.json").write_text(json.dumps({"version": "55.0.0", "files": {}, "dockerImages": {}}))
    (directory / f"{aid}.metadata.json").write_text("{}")
    edit_json(directory / "manifest.json", lambda m: m["artifacts"].update(
        {f"{aid}.assets": {"type": "cdk:asset-manifest", "properties": {"file": f"{aid}.assets.json"}}, aid: artifact}))
    now = approval.assembly_digest(root, "Staging")
    assert now.digest != approved.digest
    assert approval.changed_stacks(approved.by_name(), now.by_name()) == ["Staging-Extra"]


def test_a_stack_dependency_is_covered(root):
    before = _id(root)
    manifest, aid = _stack(root, "StagingRuntime0000")
    edit_json(manifest, lambda m: m["artifacts"][aid].update(dependencies=[f"{aid}.assets"]))
    assert _id(root) != before


def test_the_template_is_covered_to_the_byte(root):
    # The template file is also the asset the CLI uploads for CloudFormation to read:
    # its bytes, not only its parsed content, are what deploys.
    before = _id(root)
    template = root / "assembly-Staging" / "StagingData0000.template.json"
    original = template.read_text()
    template.write_text(json.dumps(json.loads(original), indent=4))
    assert _id(root) != before
    template.write_text(original)
    assert _id(root) == before
    edit_json(template, lambda t: t["Resources"]["Table"]["Properties"].update(TableName="other"))
    assert _id(root) != before


def test_asset_content_and_executable_bit_are_covered(root):
    before = _id(root)
    handler = root / f"asset.{ASSET_ID}" / "handler.py"
    handler.chmod(0o755)
    assert _id(root) != before
    handler.chmod(0o644)
    assert _id(root) == before
    handler.write_text("def handler(event, context):\n    return 'backdoor'\n")
    assert _id(root) != before


def test_an_asset_manifest_destination_is_covered(root):
    before = _id(root)
    edit_json(root / "assembly-Staging" / "StagingRuntime0000.assets.json",
              lambda m: m["files"][ASSET_ID]["destinations"]["d"].update(bucketName="attacker-bucket"))
    assert _id(root) != before


def test_container_image_assets_are_refused_not_ignored(root):
    edit_json(root / "assembly-Staging" / "StagingRuntime0000.assets.json",
              lambda m: m.update(dockerImages={"img": {"source": {"directory": "."}, "destinations": {}}}))
    with pytest.raises(AssemblyError, match="container-image assets"):
        approval.assembly_digest(root, "Staging")


def test_an_informational_artifact_added_to_the_stage_changes_the_id(root):
    before = _id(root)
    edit_json(root / "assembly-Staging" / "manifest.json",
              lambda m: m["artifacts"].update({"flags": {"type": "cdk:feature-flag-report", "properties": {}}}))
    assert _id(root) != before


def test_the_stage_is_part_of_the_id(tmp_path):
    root = build(tmp_path / "a")
    assert _id(root, "Staging") != _id(root, "Production")


def test_extra_nested_and_top_level_assemblies_are_refused(root):
    edit_json(root / "manifest.json", lambda m: m["artifacts"].update(
        {"assembly-Shadow": {"type": "cdk:cloud-assembly", "properties": {"directoryName": "assembly-Shadow", "displayName": "Shadow"}}}))
    with pytest.raises(AssemblyError, match="is not one of the app's Stages"):
        approval.assembly_digest(root, "Staging")
