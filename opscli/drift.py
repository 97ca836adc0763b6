"""Drift: the live resources against the template they were deployed from.

``--method cloudformation`` uses CloudFormation drift detection (real AWS);
``--method readback`` reads each resource back with boto3 and compares the
properties listed in ``READERS`` with the template; ``auto`` (default) tries
CloudFormation and falls back to the read-back when the endpoint does not
implement it (moto does not). The template is the deployed one
(GetTemplate) unless ``--assembly`` names a synthesized cloud assembly.

Only literal template values are compared: a value built from ``Fn::GetAtt``,
a template parameter or a ``{{resolve:...}}`` dynamic reference is not
comparable by read-back and never reported as drift; ``Ref`` to a resource of the same stack is resolved to its physical id.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from .errors import OpsError
from .session import STACKS, Aws


@dataclass(frozen=True)
class Drift:
    stack: str
    logical_id: str
    resource_type: str
    prop: str
    expected: Any
    actual: Any


_UNRESOLVED = object()


def _resolve(value: Any, physical: dict[str, str]) -> Any:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            return physical.get(value["Ref"], _UNRESOLVED)
        if any(k.startswith("Fn::") for k in value):
            return _UNRESOLVED
        out = {k: _resolve(v, physical) for k, v in value.items()}
        return _UNRESOLVED if _UNRESOLVED in out.values() else out
    if isinstance(value, list):
        out = [_resolve(v, physical) for v in value]
        return _UNRESOLVED if any(v is _UNRESOLVED for v in out) else out
    if isinstance(value, str) and "{{resolve:" in value:
        return _UNRESOLVED  # a dynamic reference: its value lives in SSM, not in the template
    return value


def _norm(value: Any) -> Any:
    """Compare 10 and 10.0, True and "true" as CloudFormation does."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.lower() if value.lower() in ("true", "false") else value
    if isinstance(value, list):
        return [_norm(v) for v in value]
    if isinstance(value, dict):
        return {k: _norm(v) for k, v in value.items()}
    return value


# ---- per-type readers: physical id -> {property path: live value} ---------

def _alarm(aws: Aws, pid: str) -> dict:
    alarm = aws.client("cloudwatch").describe_alarms(AlarmNames=[pid])["MetricAlarms"][0]
    keys = ("Threshold", "EvaluationPeriods", "Period", "ComparisonOperator", "Statistic", "ExtendedStatistic",
            "MetricName", "Namespace", "TreatMissingData", "DatapointsToAlarm", "ActionsEnabled", "AlarmDescription")
    return {k: alarm.get(k) for k in keys}


def _table(aws: Aws, pid: str) -> dict:
    ddb = aws.client("dynamodb")
    desc = ddb.describe_table(TableName=pid)["Table"]
    pitr = ddb.describe_continuous_backups(TableName=pid)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    return {
        "BillingMode": desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "SSESpecification.SSEEnabled": desc.get("SSEDescription", {}).get("Status") == "ENABLED",
        "Replicas.0.DeletionProtectionEnabled": desc.get("DeletionProtectionEnabled"),
        "Replicas.0.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled": pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
        "Replicas.0.PointInTimeRecoverySpecification.RecoveryPeriodInDays": pitr.get("RecoveryPeriodInDays"),
    }


def _bucket(aws: Aws, pid: str) -> dict:
    s3 = aws.client("s3")
    live = {"VersioningConfiguration.Status": s3.get_bucket_versioning(Bucket=pid).get("Status", "Suspended")}
    try:
        pab = s3.get_public_access_block(Bucket=pid)["PublicAccessBlockConfiguration"]
    except ClientError:
        pab = {}
    for flag in ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets"):
        live[f"PublicAccessBlockConfiguration.{flag}"] = pab.get(flag, False)
    return live


def _log_group(aws: Aws, pid: str) -> dict:
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=pid)["logGroups"]
    group = next(g for g in groups if g["logGroupName"] == pid)
    return {"RetentionInDays": group.get("retentionInDays")}


def _key(aws: Aws, pid: str) -> dict:
    kms = aws.client("kms")
    meta = kms.describe_key(KeyId=pid)["KeyMetadata"]
    return {"EnableKeyRotation": kms.get_key_rotation_status(KeyId=pid)["KeyRotationEnabled"],
            "Description": meta.get("Description"), "Enabled": meta.get("Enabled")}


def _function(aws: Aws, pid: str) -> dict:
    lam = aws.client("lambda")
    conf = lam.get_function_configuration(FunctionName=pid)
    concurrency = lam.get_function_concurrency(FunctionName=pid).get("ReservedConcurrentExecutions")
    return {"MemorySize": conf.get("MemorySize"), "Timeout": conf.get("Timeout"), "Runtime": conf.get("Runtime"),
            "Handler": conf.get("Handler"), "ReservedConcurrentExecutions": concurrency,
            "TracingConfig.Mode": conf.get("TracingConfig", {}).get("Mode")}


def _role(aws: Aws, pid: str) -> dict:
    role = aws.client("iam").get_role(RoleName=pid)["Role"]
    return {"MaxSessionDuration": role.get("MaxSessionDuration"), "Path": role.get("Path")}


READERS: dict[str, Callable[[Aws, str], dict]] = {
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::DynamoDB::GlobalTable": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::KMS::Key": _key,
    "AWS::Lambda::Function": _function,
    "AWS::IAM::Role": _role,
}


def _lookup(props: dict, path: str) -> Any:
    value: Any = props
    for part in path.split("."):
        if isinstance(value, list):
            value = value[int(part)] if part.isdigit() and int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
        if value is None:
            return None
    return value


def _template(aws: Aws, stack: str, assembly: Path | None) -> dict:
    if assembly is None:
        body = aws.client("cloudformation").get_template(StackName=aws.stack_name(stack))["TemplateBody"]
        return body if isinstance(body, dict) else json.loads(body)
    manifest = json.loads((assembly / "manifest.json").read_text())
    # Stages live in nested assemblies (assembly-Staging/...).
    for artifact in manifest.get("artifacts", {}).values():
        if artifact.get("type") == "cdk:cloud-assembly" and artifact["properties"]["directoryName"].endswith(aws.config.name.stage_id):
            nested = assembly / artifact["properties"]["directoryName"]
            for inner in json.loads((nested / "manifest.json").read_text())["artifacts"].values():
                props = inner.get("properties", {})
                if inner.get("type") == "aws:cloudformation:stack" and props.get("stackName") == aws.stack_name(stack):
                    return json.loads((nested / props["templateFile"]).read_text())
    raise OpsError(f"no template for {aws.stack_name(stack)} in {assembly}")


def readback(aws: Aws, assembly: Path | None = None) -> list[Drift]:
    drifts = []
    for stack in STACKS:
        template = _template(aws, stack, assembly)
        physical = {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in aws.stack_resources(stack)}
        for logical, resource in template.get("Resources", {}).items():
            reader = READERS.get(resource["Type"])
            if reader is None or logical not in physical:
                continue
            try:
                live = reader(aws, physical[logical])
            except (ClientError, StopIteration, IndexError) as exc:
                drifts.append(Drift(aws.stack_name(stack), logical, resource["Type"], "(resource)", "exists",
                                    f"not readable: {exc}"))
                continue
            props = resource.get("Properties", {})
            for path, actual in live.items():
                expected = _lookup(props, path)
                if expected is None:
                    continue  # not set in the template: AWS default, not ours to pin
                expected = _resolve(expected, physical)
                if expected is _UNRESOLVED:
                    continue
                if _norm(expected) != _norm(actual):
                    drifts.append(Drift(aws.stack_name(stack), logical, resource["Type"], path, expected, actual))
    return drifts


def cloudformation(aws: Aws, timeout_s: float = 600) -> list[Drift]:
    cf = aws.client("cloudformation")
    drifts = []
    for stack in STACKS:
        name = aws.stack_name(stack)
        detection = cf.detect_stack_drift(StackName=name)["StackDriftDetectionId"]
        deadline = time.monotonic() + timeout_s
        while True:
            status = cf.describe_stack_drift_detection_status(StackDriftDetectionId=detection)
            if status["DetectionStatus"] != "DETECTION_IN_PROGRESS":
                break
            if time.monotonic() > deadline:
                raise OpsError(f"drift detection of {name} did not finish in {timeout_s}s")
            time.sleep(3)
        if status["DetectionStatus"] == "DETECTION_FAILED":
            raise OpsError(f"drift detection of {name} failed: {status.get('DetectionStatusReason')}")
        token = None
        while True:  # boto3 has no paginator for this call
            kwargs = {"StackName": name, "StackResourceDriftStatusFilters": ["MODIFIED", "DELETED"]}
            if token:
                kwargs["NextToken"] = token
            page = cf.describe_stack_resource_drifts(**kwargs)
            for rd in page["StackResourceDrifts"]:
                if rd["StackResourceDriftStatus"] == "DELETED":
                    drifts.append(Drift(name, rd["LogicalResourceId"], rd["ResourceType"], "(resource)", "exists", "deleted"))
                for diff in rd.get("PropertyDifferences", []):
                    drifts.append(Drift(name, rd["LogicalResourceId"], rd["ResourceType"], diff["PropertyPath"],
                                        diff["ExpectedValue"], diff["ActualValue"]))
            token = page.get("NextToken")
            if not token:
                break
    return drifts


def detect(aws: Aws, method: str, assembly: Path | None) -> tuple[str, list[Drift]]:
    if method in ("auto", "cloudformation") and assembly is None:
        try:
            return "cloudformation", cloudformation(aws)
        except ResponseParserError:
            # An endpoint that answers unknown actions with an HTML error page.
            if method == "cloudformation":
                raise OpsError("CloudFormation drift detection is not available at this endpoint") from None
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if method == "cloudformation" or code not in ("NotImplemented", "InvalidAction", "UnknownOperationException", "501"):
                raise OpsError(f"CloudFormation drift detection failed: {code}: {exc.response['Error']['Message']}") from None
    return "readback", readback(aws, assembly)


def table(drifts: list[Drift]) -> str:
    if not drifts:
        return "no drift"
    lines = ["STACK  RESOURCE  TYPE  PROPERTY  EXPECTED  ACTUAL"]
    for d in drifts:
        lines.append(f"{d.stack}  {d.logical_id}  {d.resource_type}  {d.prop}  {json.dumps(d.expected)}  {json.dumps(d.actual, default=str)}")
    lines.append(f"{len(drifts)} drifted properties")
    return "\n".join(lines)
