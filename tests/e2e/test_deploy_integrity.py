"""What deploys is what was approved, end to end on the local target with the real CDK CLI.

One target for the module (``bin/deploy-local``), then the operator's path
tried the way an attacker with write access to the runner's disk or to the
account would try it:

* an extra nested assembly in the kept Stage, an extra top-level assembly:
  refused before any cloud call;
* files swapped in the kept directory after the check (the deploy paused
  there): the deployed templates are the approved ones;
* a poisoned object under the approved asset key, and code swapped with
  ``UpdateFunctionCode`` before a rollback: caught after ``cdk deploy`` by the
  asset and ``CodeSha256`` checks, exit 1, nothing recorded;
* two deploys at once: one refused naming the holder;
* a successful deploy records ``deployed-approval``.

Tests run in file order and build on each other.
"""
from __future__ import annotations

import base64
import hashlib
import io
import json
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from opscli import assembly
from tests.e2e.test_lifecycle import CONFIG, REPO, Target

pytestmark = pytest.mark.e2e
OPS = str(REPO / "bin" / "ops")
STATE: dict[str, object] = {}
LOCK = "/mirror-dissonance/staging/deploy-lock"
RECORD = "/mirror-dissonance/staging/deployed-approval"


@pytest.fixture(scope="module")
def target(tmp_path_factory, gates_cache_dir):
    t = Target(tmp_path_factory.mktemp("integrity"), gates_cache_dir)
    t.env["OPS_APPROVALS_DIR"] = str(t.tmp / "approvals")
    t.env["PATH"] = f"{REPO}/bin/shims:{t.env['PATH']}"
    try:
        yield t
    finally:
        t.stop()


def kept(target) -> Path:
    return Path(target.env["OPS_APPROVALS_DIR"]) / "staging" / STATE["id"]


def deployed_templates(target) -> dict[str, str]:
    cf = target.client("cloudformation")
    return {s: json.dumps(cf.get_template(StackName=f"Staging-{s}")["TemplateBody"], sort_keys=True)
            for s in ("Data", "Runtime")}


def function_name(target) -> str:
    resources = target.client("cloudformation").list_stack_resources(StackName="Staging-Runtime")["StackResourceSummaries"]
    return next(r["PhysicalResourceId"] for r in resources if r["ResourceType"] == "AWS::Lambda::Function")


def evil_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("handler.py", "def handler(event, context):\n    return {'statusCode': 200, 'body': 'backdoor'}\n")
    return buffer.getvalue()


def test_deploy_local_publishes_the_package_whose_hash_the_assembly_names(target):
    target.run(str(REPO / "bin" / "deploy-local"))
    runtime = assembly.read(target.tmp / "cdk.out").stage("Staging").stacks["Staging-Runtime"]
    (expected,) = runtime.lambda_code_sha256().values()
    live = target.client("lambda").get_function_configuration(FunctionName=function_name(target))["CodeSha256"]
    assert live == expected


def test_plan_then_deploy_checks_what_runs_and_records_the_id(target):
    plan = target.run(OPS, "plan", "--env", "staging")
    STATE["id"] = plan.stdout.strip().splitlines()[-1].removeprefix("approval id: ")
    result = target.run(OPS, "deploy", "--env", "staging", "--approved", STATE["id"])
    assert "what runs is what was approved" in result.stdout
    assert f"deployed: Staging is at approval id {STATE['id']}" in result.stdout
    record = json.loads(target.client("ssm").get_parameter(Name=RECORD)["Parameter"]["Value"])
    assert record["approval_id"] == STATE["id"] and record["by"].startswith("arn:aws:")
    assert abs(record["deployed_at"] - time.time()) < 600
    lock = json.loads(target.client("ssm").get_parameter(Name=LOCK)["Parameter"]["Value"])
    assert lock["released"] is True


@pytest.mark.parametrize("where", ["nested", "top-level"])
def test_an_extra_assembly_in_the_kept_directory_is_refused(target, where, tmp_path):
    directory = kept(target)
    backup = tmp_path / "backup"
    shutil.copytree(directory, backup)
    try:
        if where == "nested":  # a Stage manifest gains a cloud assembly holding an admin stack
            manifest = directory / "assembly" / "assembly-Staging" / "manifest.json"
            data = json.loads(manifest.read_text())
            data["artifacts"]["assembly-Extra"] = {"type": "cdk:cloud-assembly",
                                                   "properties": {"directoryName": "../assembly-Production", "displayName": "Extra"}}
            expected = "artifact 'assembly-Extra' has type 'cdk:cloud-assembly'"
        else:  # a top-level assembly beside Staging that redefines Staging-Data
            manifest = directory / "assembly" / "manifest.json"
            data = json.loads(manifest.read_text())
            shutil.copytree(directory / "assembly" / "assembly-Staging", directory / "assembly" / "assembly-Shadow")
            data["artifacts"]["assembly-Shadow"] = {"type": "cdk:cloud-assembly",
                                                    "properties": {"directoryName": "assembly-Shadow", "displayName": "Shadow"}}
            expected = "nested assembly 'assembly-Shadow' ('Shadow') is not one of the app's Stages"
        manifest.write_text(json.dumps(data))
        result = target.run(OPS, "deploy", "--env", "staging", "--approved", STATE["id"], check=False)
        assert result.returncode == 1, result.stdout + result.stderr
        assert expected in result.stderr
        assert "cdk deploy" not in result.stdout
    finally:
        shutil.rmtree(directory)
        shutil.copytree(backup, directory)


def test_files_swapped_after_the_check_cannot_reach_cloudformation(target, tmp_path):
    before = deployed_templates(target)
    marker = tmp_path / "paused"
    # --no-verify: verify judges the live stacks against the kept directory, which this test alters on purpose
    proc = subprocess.Popen([OPS, "deploy", "--env", "staging", "--approved", STATE["id"], "--no-verify"], cwd=REPO, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env={**target.env, "OPS_FAULT_PAUSE_AT": "copied", "OPS_FAULT_PAUSE_FILE": str(marker)})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        # The deploy checked the digest and paused: swap the Data template and the Lambda code.
        template = next((kept(target) / "assembly" / "assembly-Staging").glob("StagingData*.template.json"))
        data = json.loads(template.read_text())
        data["Resources"]["SwappedInTopic"] = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "swapped-in"}}
        template.write_text(json.dumps(data))
        for handler in (kept(target) / "assembly").glob("asset.*/handler.py"):
            handler.write_text("def handler(event, context):\n    return 'backdoor'\n")
        marker.unlink()
        stdout, stderr = proc.communicate(timeout=600)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stdout + stderr
    assert deployed_templates(target) == before
    assert "swapped-in" not in json.dumps(target.client("cloudformation").get_template(StackName="Staging-Data")["TemplateBody"])
    # The kept directory is now altered: the next deploy of that id is refused.
    again = target.run(OPS, "deploy", "--env", "staging", "--approved", STATE["id"], check=False)
    assert again.returncode == 1 and "no longer has digest" in again.stderr


def test_restore_the_kept_directory(target):
    # Plan again from the same checkout: the same id, the kept directory rewritten whole.
    shutil.rmtree(kept(target))
    plan = target.run(OPS, "plan", "--env", "staging")
    assert plan.stdout.strip().endswith(STATE["id"])


def test_a_poisoned_asset_object_under_the_approved_key_is_caught(target):
    runtime = assembly.read(kept(target) / "assembly").stage("Staging").stacks["Staging-Runtime"]
    (asset,) = [a for a in runtime.file_assets().values() if a.packaging == "zip"]
    bucket, key, _ = asset.destinations[0]
    s3 = target.client("s3")
    s3.put_object(Bucket=bucket, Key=key, Body=evil_zip())
    result = target.run(OPS, "deploy", "--env", "staging", "--approved", STATE["id"], check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"s3://{bucket}/{key}" in result.stderr and "not the approved" in result.stderr
    s3.delete_object(Bucket=bucket, Key=key)


def test_code_swapped_with_update_function_code_is_caught_after_a_rollback(target):
    name = function_name(target)
    lam = target.client("lambda")
    lam.update_function_code(FunctionName=name, ZipFile=evil_zip())
    evil = base64.b64encode(hashlib.sha256(evil_zip()).digest()).decode()
    assert lam.get_function_configuration(FunctionName=name)["CodeSha256"] == evil
    record_before = target.client("ssm").get_parameter(Name=RECORD)["Parameter"]["Version"]
    result = target.run(OPS, "rollback", "--env", "staging", "--to", STATE["id"], check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"Staging-Runtime/" in result.stderr and f"runs code with CodeSha256 {evil}" in result.stderr
    assert target.client("ssm").get_parameter(Name=RECORD)["Parameter"]["Version"] == record_before  # nothing recorded


def test_two_deploys_at_once_one_is_refused_naming_the_holder(target, tmp_path):
    marker = tmp_path / "holding"
    first = subprocess.Popen([OPS, "deploy", "--env", "staging", "--approved", STATE["id"], "--no-verify"], cwd=REPO,
                             text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={**target.env, "OPS_FAULT_PAUSE_AT": "locked", "OPS_FAULT_PAUSE_FILE": str(marker)})
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.1)
        second = target.run(OPS, "deploy", "--env", "staging", "--approved", STATE["id"], check=False)
        assert second.returncode == 2, second.stdout + second.stderr
        assert f"another deployment holds {LOCK}" in second.stderr
        assert "arn:aws:" in second.stderr and "deploy " + STATE["id"][:12] in second.stderr and "since 20" in second.stderr
        assert "cdk deploy" not in second.stdout
        marker.unlink()
        first.communicate(timeout=600)
    finally:
        if first.poll() is None:
            first.kill()
    # the first one is still stuck on the swapped code from the test before: it fails, and releases the lock
    assert json.loads(target.client("ssm").get_parameter(Name=LOCK)["Parameter"]["Value"]).get("released") is True
