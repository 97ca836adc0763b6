"""A small cloud assembly with the shape ``cdk synth`` writes (two Stages, a
stack with a zip asset), built in a temporary directory in milliseconds, so
the reader and the approval digest are tested without a synthesis."""
from __future__ import annotations

import json
from pathlib import Path

ACCOUNT, REGION = "123456789012", "us-east-1"
BUCKET = f"cdk-hnb659fds-assets-{ACCOUNT}-{REGION}"
ASSET_ID = "a" * 64


def _write(path: Path, data) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1))


def stack_artifact(stage: str, short: str, *, deps=()) -> tuple[str, dict]:
    aid = f"{stage}{short}0000"
    return aid, {
        "type": "aws:cloudformation:stack",
        "environment": f"aws://{ACCOUNT}/{REGION}",
        "properties": {
            "templateFile": f"{aid}.template.json",
            "terminationProtection": False,
            "tags": {"Environment": stage.lower()},
            "assumeRoleArn": f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:role/cdk-hnb659fds-deploy-role-{ACCOUNT}-{REGION}",
            "cloudFormationExecutionRoleArn": f"arn:${{AWS::Partition}}:iam::{ACCOUNT}:role/cdk-hnb659fds-cfn-exec-role-{ACCOUNT}-{REGION}",
            "additionalDependencies": [f"{aid}.assets"],
            "stackName": f"{stage}-{short}",
        },
        "dependencies": [*deps, f"{aid}.assets"],
        "additionalMetadataFile": f"{aid}.metadata.json",
        "displayName": f"{stage}/{short}",
    }


def build(root: Path, stages=("Staging", "Production")) -> Path:
    """Write the assembly under ``root`` and return it."""
    root.mkdir(parents=True, exist_ok=True)
    asset_dir = root / f"asset.{ASSET_ID}"
    asset_dir.mkdir()
    (asset_dir / "handler.py").write_text("def handler(event, context):\n    return 'approved'\n")
    (asset_dir / "lib").mkdir()
    (asset_dir / "lib" / "util.py").write_text("X = 1\n")
    top = {"version": "55.0.0", "artifacts": {"Tree": {"type": "cdk:tree", "properties": {"file": "tree.json"}}}}
    _write(root / "tree.json", {"version": "tree-0.1", "tree": {"id": "App"}})
    for stage in stages:
        directory = root / f"assembly-{stage}"
        top["artifacts"][f"assembly-{stage}"] = {"type": "cdk:cloud-assembly",
                                                 "properties": {"directoryName": f"assembly-{stage}", "displayName": stage}}
        artifacts = {}
        for short in ("Data", "Runtime"):
            aid, artifact = stack_artifact(stage, short, deps=[f"{stage}Data0000"] if short == "Runtime" else [])
            template = {"Resources": {"Table": {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": f"{stage}-t"}}}}
            files = {}
            if short == "Runtime":
                template = {"Resources": {"Fn": {"Type": "AWS::Lambda::Function", "Properties": {
                    "Code": {"S3Bucket": BUCKET, "S3Key": f"{ASSET_ID}.zip"}, "Handler": "handler.handler"}}}}
                files[ASSET_ID] = {"displayName": "Fn/Code", "source": {"path": f"../asset.{ASSET_ID}", "packaging": "zip"},
                                   "destinations": {"d": {"bucketName": BUCKET, "objectKey": f"{ASSET_ID}.zip", "region": REGION}}}
            files["t" + aid] = {"source": {"path": f"{aid}.template.json", "packaging": "file"},
                                "destinations": {"d": {"bucketName": BUCKET, "objectKey": f"t{aid}.json", "region": REGION}}}
            _write(directory / f"{aid}.template.json", template)
            _write(directory / f"{aid}.assets.json", {"version": "55.0.0", "files": files, "dockerImages": {}})
            _write(directory / f"{aid}.metadata.json", {f"/{stage}/{short}": [{"type": "aws:cdk:logicalId", "data": "X"}]})
            artifacts[f"{aid}.assets"] = {"type": "cdk:asset-manifest", "properties": {"file": f"{aid}.assets.json"}}
            artifacts[aid] = artifact
        _write(directory / "manifest.json", {"version": "55.0.0", "artifacts": artifacts})
    _write(root / "manifest.json", top)
    return root


def edit_json(path: Path, mutate) -> None:
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data, indent=1))
