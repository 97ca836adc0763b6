"""Drift: the live resources against the approved templates.

First the same checks ``verify`` runs on what a caller can reach
(``opscli/surface.py``: the deployment record and the deployed templates
against the approved kept assembly, routes, permissions, code hash, role
policies, subscriptions, parameter types, alarms, keys, the trail), each
failure a drift row naming the rule, the resource and expected/actual; then
the per-property comparison below.

``--method cloudformation`` uses CloudFormation drift detection (real AWS);
``--method readback`` reads each resource back with boto3 and compares the
properties listed in ``READERS`` with the template; ``auto`` (default) tries
CloudFormation and falls back to the read-back when the endpoint does not
implement it (moto does not). The template is the approved one (the kept
assembly of the recorded approval id; without one, the deployed template)
unless ``--assembly`` names a synthesized cloud assembly.

The read-back covers every resource type the local target models (alarms,
tables, buckets and bucket policies, log groups, keys, the function, roles,
inline and managed policies, the OIDC provider, the trail, backup plan,
selection and vault, topic, topic policy, subscriptions, parameters) and
compares every property the template sets, whole: trust and key policies as
canonical documents, alarm actions, trail status (IsLogging), backup rules.
Template values are resolved against the live stacks (``opscli.template_resolver``:
Ref, GetAtt, Join, Sub, ``{{resolve:ssm:...}}``); a value that cannot be
resolved is not compared. Template properties no reader returns are listed
under the table, never silently skipped. A deleted resource is reported by
logical id and physical name.

A stack that is missing, failed or rolled back (ROLLBACK_COMPLETE, ...) is
reported as such and the command exits 3 (``bin/ops``), not 1 ("drift found").
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from botocore.exceptions import ClientError
from botocore.parsers import ResponseParserError

from . import surface
from . import template_resolver as templates
from .rules import Outcome
from .errors import OpsError
from .live import stacks as live_stacks
from .session import Aws


@dataclass(frozen=True)
class Drift:
    stack: str
    logical_id: str
    resource_type: str
    prop: str
    expected: Any
    actual: Any


# ---- per-type readers: physical id -> {property path: live value} ---------
# Each reader answers in CloudFormation's property names and shapes, so the
# template's value (resolved by opscli.template_resolver) compares as a whole. A path
# in POLICY_PATHS is a policy document, compared in canonical form.


class Gone(Exception):
    """The resource no longer exists."""


def _gone_on(*codes):
    def wrap(fn):
        def reader(aws, pid, props):
            try:
                return fn(aws, pid, props)
            except ClientError as exc:
                if exc.response["Error"]["Code"] in codes or "not found" in exc.response["Error"].get("Message", "").lower():
                    raise Gone(f"{pid} does not exist") from None
                raise
        reader.__name__ = fn.__name__
        return reader
    return wrap


def _metrics_cfn(metrics):
    out = []
    for m in metrics or []:
        item = {k: v for k, v in m.items() if k in ("Id", "Expression", "Label", "ReturnData", "Period", "AccountId")}
        if "MetricStat" in m:
            item["MetricStat"] = m["MetricStat"]
        out.append(item)
    return out


@_gone_on("ResourceNotFound")
def _alarm(aws: Aws, pid: str, props: dict) -> dict:
    found = aws.client("cloudwatch").describe_alarms(AlarmNames=[pid])["MetricAlarms"]
    if not found:
        raise Gone(f"alarm {pid} does not exist")
    alarm = found[0]
    keys = ("AlarmName", "AlarmDescription", "ActionsEnabled", "AlarmActions", "OKActions", "InsufficientDataActions",
            "MetricName", "Namespace", "Statistic", "ExtendedStatistic", "Dimensions", "Period", "Unit",
            "EvaluationPeriods", "DatapointsToAlarm", "Threshold", "ComparisonOperator", "TreatMissingData",
            "EvaluateLowSampleCountPercentile", "ThresholdMetricId")
    live = {k: alarm.get(k) for k in keys}
    live["ActionsEnabled"] = alarm.get("ActionsEnabled", True)
    for k in ("AlarmActions", "OKActions", "InsufficientDataActions", "Dimensions"):
        live[k] = alarm.get(k) or []
    live["Metrics"] = _metrics_cfn(alarm.get("Metrics"))
    return live


@_gone_on("ResourceNotFoundException")
def _table(aws: Aws, pid: str, props: dict) -> dict:
    ddb = aws.client("dynamodb")
    desc = ddb.describe_table(TableName=pid)["Table"]
    pitr = ddb.describe_continuous_backups(TableName=pid)["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    return {
        "TableName": desc["TableName"],
        "BillingMode": desc.get("BillingModeSummary", {}).get("BillingMode", "PROVISIONED"),
        "KeySchema": desc.get("KeySchema"),
        "AttributeDefinitions": sorted(desc.get("AttributeDefinitions", []), key=lambda a: a["AttributeName"]),
        "SSESpecification.SSEEnabled": desc.get("SSEDescription", {}).get("Status") == "ENABLED",
        "SSESpecification.SSEType": desc.get("SSEDescription", {}).get("SSEType"),
        "Replicas.0.SSESpecification.KMSMasterKeyId": desc.get("SSEDescription", {}).get("KMSMasterKeyArn"),
        "Replicas.0.DeletionProtectionEnabled": desc.get("DeletionProtectionEnabled", False),
        "Replicas.0.PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled": pitr.get("PointInTimeRecoveryStatus") == "ENABLED",
        "Replicas.0.PointInTimeRecoverySpecification.RecoveryPeriodInDays": pitr.get("RecoveryPeriodInDays"),
    }


@_gone_on("NoSuchBucket")
def _bucket(aws: Aws, pid: str, props: dict) -> dict:
    s3 = aws.client("s3")
    live = {"BucketName": pid, "VersioningConfiguration.Status": s3.get_bucket_versioning(Bucket=pid).get("Status", "Suspended")}
    logging = s3.get_bucket_logging(Bucket=pid).get("LoggingEnabled") or {}
    live["LoggingConfiguration"] = {"DestinationBucketName": logging.get("TargetBucket"), "LogFilePrefix": logging.get("TargetPrefix")} if logging else None
    try:
        live["OwnershipControls"] = s3.get_bucket_ownership_controls(Bucket=pid)["OwnershipControls"]
    except ClientError:
        live["OwnershipControls"] = None
    try:
        live["PublicAccessBlockConfiguration"] = s3.get_public_access_block(Bucket=pid)["PublicAccessBlockConfiguration"]
    except ClientError:
        live["PublicAccessBlockConfiguration"] = None
    try:
        rules = s3.get_bucket_encryption(Bucket=pid)["ServerSideEncryptionConfiguration"]["Rules"]
        live["BucketEncryption.ServerSideEncryptionConfiguration"] = [
            {"ServerSideEncryptionByDefault": r["ApplyServerSideEncryptionByDefault"], "BucketKeyEnabled": r.get("BucketKeyEnabled", False)}
            for r in rules]
    except ClientError:
        live["BucketEncryption.ServerSideEncryptionConfiguration"] = None
    try:
        lock = s3.get_object_lock_configuration(Bucket=pid)["ObjectLockConfiguration"]
        retention = lock.get("Rule", {}).get("DefaultRetention")
        if retention:  # S3 answers with the one unit that was set (moto adds the other as 0)
            lock = {**lock, "Rule": {"DefaultRetention": {k: v for k, v in retention.items() if v != 0}}}
        live["ObjectLockEnabled"] = lock.get("ObjectLockEnabled") == "Enabled"
        live["ObjectLockConfiguration"] = lock
    except ClientError:  # ObjectLockConfigurationNotFoundError: no lock on this bucket
        live["ObjectLockEnabled"] = False
        live["ObjectLockConfiguration"] = None
    return live


@_gone_on("NoSuchBucket", "NoSuchBucketPolicy")
def _bucket_policy(aws: Aws, pid: str, props: dict) -> dict:
    return {"Bucket": pid, "PolicyDocument": aws.client("s3").get_bucket_policy(Bucket=pid)["Policy"]}


@_gone_on("ResourceNotFoundException")
def _log_group(aws: Aws, pid: str, props: dict) -> dict:
    groups = aws.client("logs").describe_log_groups(logGroupNamePrefix=pid)["logGroups"]
    group = next((g for g in groups if g["logGroupName"] == pid), None)
    if group is None:
        raise Gone(f"log group {pid} does not exist")
    return {"LogGroupName": group["logGroupName"], "RetentionInDays": group.get("retentionInDays"), "KmsKeyId": group.get("kmsKeyId")}


@_gone_on("NotFoundException")
def _key(aws: Aws, pid: str, props: dict) -> dict:
    kms = aws.client("kms")
    meta = kms.describe_key(KeyId=pid)["KeyMetadata"]
    return {"EnableKeyRotation": kms.get_key_rotation_status(KeyId=pid)["KeyRotationEnabled"],
            "Description": meta.get("Description"), "Enabled": meta.get("Enabled"), "KeyUsage": meta.get("KeyUsage"),
            "KeySpec": meta.get("KeySpec") or meta.get("CustomerMasterKeySpec"),
            "KeyPolicy": kms.get_key_policy(KeyId=pid, PolicyName="default")["Policy"]}


@_gone_on("ResourceNotFoundException")
def _function(aws: Aws, pid: str, props: dict) -> dict:
    lam = aws.client("lambda")
    conf = lam.get_function_configuration(FunctionName=pid)
    concurrency = lam.get_function_concurrency(FunctionName=pid).get("ReservedConcurrentExecutions")
    return {"FunctionName": conf.get("FunctionName"), "MemorySize": conf.get("MemorySize"), "Timeout": conf.get("Timeout"),
            "Runtime": conf.get("Runtime"), "Handler": conf.get("Handler"), "ReservedConcurrentExecutions": concurrency,
            "TracingConfig.Mode": conf.get("TracingConfig", {}).get("Mode"), "Role": conf.get("Role"),
            "Environment.Variables": conf.get("Environment", {}).get("Variables", {}),
            "Architectures": conf.get("Architectures"), "KmsKeyArn": conf.get("KMSKeyArn")}


@_gone_on("NoSuchEntity")
def _role(aws: Aws, pid: str, props: dict) -> dict:
    iam = aws.client("iam")
    role = iam.get_role(RoleName=pid)["Role"]
    attached = sorted(p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=pid)["AttachedPolicies"])
    live = {"RoleName": role["RoleName"], "MaxSessionDuration": role.get("MaxSessionDuration"), "Path": role.get("Path"),
            "Description": role.get("Description"), "AssumeRolePolicyDocument": role["AssumeRolePolicyDocument"],
            # Policies attached by an AWS::IAM::ManagedPolicy's Roles are that resource's, not this property's.
            "ManagedPolicyArns": attached}
    if "Policies" in props:
        live["Policies"] = [{"PolicyName": n, "PolicyDocument": iam.get_role_policy(RoleName=pid, PolicyName=n)["PolicyDocument"]}
                            for n in iam.list_role_policies(RoleName=pid)["PolicyNames"]]
    return live


def _inline_policy(aws: Aws, pid: str, props: dict) -> dict:
    iam = aws.client("iam")
    name = props.get("PolicyName")
    docs, roles = None, []
    for role in props.get("Roles") or []:
        try:
            if name in iam.list_role_policies(RoleName=role)["PolicyNames"]:
                roles.append(role)
                docs = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
        except ClientError:
            continue
    if not roles:
        raise Gone(f"inline policy {name} is on none of its roles {props.get('Roles')}")
    return {"PolicyName": name, "Roles": roles, "PolicyDocument": docs}


@_gone_on("NoSuchEntity")
def _managed_policy(aws: Aws, pid: str, props: dict) -> dict:
    iam = aws.client("iam")
    policy = iam.get_policy(PolicyArn=pid)["Policy"]
    doc = iam.get_policy_version(PolicyArn=pid, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
    roles = sorted(r["RoleName"] for r in iam.list_entities_for_policy(PolicyArn=pid).get("PolicyRoles", []))
    # IAM leaves an empty description out of GetPolicy; the template says "".
    return {"ManagedPolicyName": policy["PolicyName"], "PolicyDocument": doc, "Roles": roles,
            "Description": policy.get("Description", ""), "Path": policy.get("Path")}


@_gone_on("NoSuchEntity")
def _oidc_provider(aws: Aws, pid: str, props: dict) -> dict:
    provider = aws.client("iam").get_open_id_connect_provider(OpenIDConnectProviderArn=pid)
    return {"ClientIdList": sorted(provider.get("ClientIDList", [])), "Url": "https://" + provider["Url"].removeprefix("https://")}


@_gone_on("TrailNotFoundException")
def _trail(aws: Aws, pid: str, props: dict) -> dict:
    ct = aws.client("cloudtrail")
    trail = ct.get_trail(Name=pid)["Trail"]
    selectors = ct.get_event_selectors(TrailName=pid)
    return {"TrailName": trail["Name"], "IsLogging": ct.get_trail_status(Name=pid).get("IsLogging"),
            "IsMultiRegionTrail": trail.get("IsMultiRegionTrail"), "EnableLogFileValidation": trail.get("LogFileValidationEnabled"),
            "IncludeGlobalServiceEvents": trail.get("IncludeGlobalServiceEvents"), "KMSKeyId": trail.get("KmsKeyId"),
            "S3BucketName": trail.get("S3BucketName"), "CloudWatchLogsLogGroupArn": trail.get("CloudWatchLogsLogGroupArn"),
            "CloudWatchLogsRoleArn": trail.get("CloudWatchLogsRoleArn"), "IsOrganizationTrail": trail.get("IsOrganizationTrail"),
            "EventSelectors": selectors.get("EventSelectors") or [],
            "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors") or []}


def _plan_cfn(plan: dict) -> dict:
    rules = []
    for rule in plan.get("Rules", []):
        cfn = {k: v for k, v in rule.items() if k not in ("RuleId", "TargetBackupVaultName", "ScheduleExpressionTimezone",
                                                           "StartWindowMinutes", "CompletionWindowMinutes")}
        cfn["TargetBackupVault"] = rule["TargetBackupVaultName"]
        rules.append(cfn)
    return {"BackupPlanName": plan["BackupPlanName"], "BackupPlanRule": rules}


@_gone_on("ResourceNotFoundException")
def _backup_plan(aws: Aws, pid: str, props: dict) -> dict:
    answer = aws.client("backup").get_backup_plan(BackupPlanId=pid)
    if answer.get("DeletionDate"):
        raise Gone(f"backup plan {pid} was deleted at {answer['DeletionDate']}")
    live = _plan_cfn(answer["BackupPlan"])
    # CloudFormation fills rule defaults the template leaves out (windows, timezone): compare what the template sets.
    return {"BackupPlan.BackupPlanName": live["BackupPlanName"], "BackupPlan.BackupPlanRule": live["BackupPlanRule"]}


@_gone_on("ResourceNotFoundException")
def _backup_selection(aws: Aws, pid: str, props: dict) -> dict:
    plan = props.get("BackupPlanId")
    if not isinstance(plan, str):
        return {}
    selection = aws.client("backup").get_backup_selection(BackupPlanId=plan, SelectionId=pid)["BackupSelection"]
    return {"BackupPlanId": plan, "BackupSelection": selection}


@_gone_on("ResourceNotFoundException")
def _backup_vault(aws: Aws, pid: str, props: dict) -> dict:
    vault = aws.client("backup").describe_backup_vault(BackupVaultName=pid)
    return {"BackupVaultName": vault["BackupVaultName"], "EncryptionKeyArn": vault.get("EncryptionKeyArn")}


@_gone_on("NotFound")
def _topic(aws: Aws, pid: str, props: dict) -> dict:
    attrs = aws.client("sns").get_topic_attributes(TopicArn=pid)["Attributes"]
    return {"TopicName": pid.rsplit(":", 1)[-1], "KmsMasterKeyId": attrs.get("KmsMasterKeyId"), "DisplayName": attrs.get("DisplayName") or None}


def _topic_policy(aws: Aws, pid: str, props: dict) -> dict:
    docs = []
    for arn in props.get("Topics") or []:
        try:
            docs.append(aws.client("sns").get_topic_attributes(TopicArn=arn)["Attributes"].get("Policy"))
        except ClientError:
            raise Gone(f"topic {arn} does not exist") from None
    return {"Topics": list(props.get("Topics") or []), **({"PolicyDocument": docs[0]} if len(docs) == 1 else {})}


@_gone_on("NotFound")
def _subscription(aws: Aws, pid: str, props: dict) -> dict:
    attrs = aws.client("sns").get_subscription_attributes(SubscriptionArn=pid)["Attributes"]
    return {"Endpoint": attrs.get("Endpoint"), "Protocol": attrs.get("Protocol"), "TopicArn": attrs.get("TopicArn")}


@_gone_on("ParameterNotFound")
def _parameter(aws: Aws, pid: str, props: dict) -> dict:
    ssm = aws.client("ssm")
    parameter = ssm.get_parameter(Name=pid)["Parameter"]
    meta = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [pid]}])["Parameters"]
    return {"Name": parameter["Name"], "Type": parameter["Type"], "Value": parameter["Value"],
            "Description": meta[0].get("Description") if meta else None}


READERS: dict[str, Callable[[Aws, str, dict], dict]] = {
    "AWS::CloudWatch::Alarm": _alarm,
    "AWS::DynamoDB::GlobalTable": _table,
    "AWS::S3::Bucket": _bucket,
    "AWS::S3::BucketPolicy": _bucket_policy,
    "AWS::Logs::LogGroup": _log_group,
    "AWS::KMS::Key": _key,
    "AWS::Lambda::Function": _function,
    "AWS::IAM::Role": _role,
    "AWS::IAM::Policy": _inline_policy,
    "AWS::IAM::ManagedPolicy": _managed_policy,
    "AWS::IAM::OIDCProvider": _oidc_provider,
    "AWS::CloudTrail::Trail": _trail,
    "AWS::Backup::BackupPlan": _backup_plan,
    "AWS::Backup::BackupSelection": _backup_selection,
    "AWS::Backup::BackupVault": _backup_vault,
    "AWS::SNS::Topic": _topic,
    "AWS::SNS::TopicPolicy": _topic_policy,
    "AWS::SNS::Subscription": _subscription,
    "AWS::SSM::Parameter": _parameter,
}

# CloudFormation's documented defaults for properties a template may leave
# out: an alarm whose actions someone disabled is drift even though CDK never
# writes ActionsEnabled.
DEFAULTS: dict[str, dict[str, Any]] = {
    "AWS::CloudWatch::Alarm": {"ActionsEnabled": True, "AlarmActions": [], "OKActions": [], "InsufficientDataActions": []},
    "AWS::KMS::Key": {"Enabled": True, "EnableKeyRotation": False, "KeyUsage": "ENCRYPT_DECRYPT", "KeySpec": "SYMMETRIC_DEFAULT"},
    "AWS::IAM::Role": {"Path": "/", "MaxSessionDuration": 3600},
    "AWS::CloudTrail::Trail": {"IncludeGlobalServiceEvents": True, "IsOrganizationTrail": False, "EventSelectors": [],
                               "AdvancedEventSelectors": []},
}

POLICY_PATHS = {"AssumeRolePolicyDocument", "PolicyDocument", "KeyPolicy"}

# Template properties a read-back does not compare, and why. Anything else a
# template sets on a modeled type and no reader returns is listed in the output.
NOT_COMPARED = {
    "Tags": "tags do not change behaviour; CloudFormation drift detection on AWS covers them",
    "BackupPlanTags": "tags", "BackupVaultTags": "tags",
    "PendingWindowInDays": "used only when the key is scheduled for deletion",
    "Code": "the running code is compared by hash with the approved package (rules/functions.py code-hash)",
    "LoggingConfig": "moto's GetFunctionConfiguration does not return it (the read-back runs on the local target)",
    "LifecycleConfiguration": "S3 answers it in another shape (filters, transitions); verify checks versioning",
    "Metadata": "CDK metadata",
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


def _canon(path: str, value: Any) -> Any:
    if path.split(".")[-1] in POLICY_PATHS:
        return templates.policy(value) if value is not None else None
    if path == "Policies" and isinstance(value, list):
        return sorted(({"PolicyName": p["PolicyName"], "PolicyDocument": templates.policy(p["PolicyDocument"])} for p in value),
                      key=lambda p: p["PolicyName"])
    if path in ("ManagedPolicyArns", "Roles", "ClientIdList") and isinstance(value, list):
        return sorted(value)
    if path == "BucketEncryption.ServerSideEncryptionConfiguration" and isinstance(value, list):
        return templates.norm([{"BucketKeyEnabled": False, **rule} for rule in value])
    if path == "AttributeDefinitions" and isinstance(value, list):
        return templates.norm(sorted(value, key=lambda a: a["AttributeName"]))
    return templates.norm(value)


UNCOMPARED: set[str] = set()


def readback(aws: Aws, stacks: dict[str, templates.Stack] | None = None,
             resolver: templates.Resolver | None = None) -> list[Drift]:
    """Compare every modeled resource's template properties with the live resource."""
    if stacks is None:
        stacks = templates.load(aws)
        resolver = templates.Resolver(aws, stacks)
    drifts = []
    UNCOMPARED.clear()
    for stack in stacks.values():
        for logical, resource in stack.template.get("Resources", {}).items():
            reader = READERS.get(resource["Type"])
            if reader is None:
                continue
            pid = stack.physical.get(logical)
            if pid is None:
                drifts.append(Drift(stack.name, logical, resource["Type"], "(resource)", "exists", "not in the stack"))
                continue
            props = resolver.props(stack, logical)
            try:
                live = reader(live_stacks.regional(aws, stack.key), pid, props)
            except Gone as exc:
                drifts.append(Drift(stack.name, logical, resource["Type"], "(resource)", f"exists ({pid})", f"deleted: {exc}"))
                continue
            except ClientError as exc:
                drifts.append(Drift(stack.name, logical, resource["Type"], "(resource)", f"readable ({pid})",
                                    f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"))
                continue
            covered = {path.split(".")[0] for path in live}
            for prop in props:
                if prop not in covered and prop not in NOT_COMPARED:
                    UNCOMPARED.add(f"{resource['Type']}.{prop}")
            defaults = DEFAULTS.get(resource["Type"], {})
            for path, actual in live.items():
                want = _lookup(props, path)
                if want is None:
                    want = defaults.get(path)
                if want is None:
                    continue  # not set in the template: AWS's default, not ours to pin
                if want is templates.UNRESOLVED:
                    continue
                if _canon(path, want) != _canon(path, actual):
                    drifts.append(Drift(stack.name, logical, resource["Type"], path,
                                        _canon(path, want) if path.split(".")[-1] in POLICY_PATHS else want,
                                        _canon(path, actual) if path.split(".")[-1] in POLICY_PATHS else actual))
    return drifts


def cloudformation(aws: Aws, timeout_s: float = 600) -> list[Drift]:
    cf = aws.client("cloudformation")
    drifts = []
    for key in live_stacks.keys(aws.config):
        name = aws.stack_name(key)
        cf = live_stacks.regional(aws, key).client("cloudformation")
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


NOTES: list[str] = []


def _from_checks(checks: list[surface.Check]) -> list[Drift]:
    """The failed surface checks as drift rows; warnings go under the table."""
    NOTES.clear()
    drifts = []
    for c in checks:
        if c.finding.outcome is Outcome.FAIL:
            drifts.append(Drift(c.stack, c.logical_id, c.resource_type, f"{c.finding.rule} {c.finding.subject}",
                                c.finding.expected, c.finding.actual))
        elif c.finding.outcome is Outcome.WARN:
            NOTES.append(f"WARN {c.finding.rule} {c.finding.subject}: {c.finding.evidence()}")
    return drifts


def detect(aws: Aws, method: str, assembly: Path | None) -> tuple[str, list[Drift]]:
    # A missing, failed or rolled-back stack is its own outcome (exit 3); then
    # what a caller can reach, judged against the approved templates.
    stacks, resolver, checks = surface.run(aws, assembly)
    reached = _from_checks(checks)
    if method in ("auto", "cloudformation") and assembly is None:
        try:
            return "cloudformation", reached + cloudformation(aws)
        except ResponseParserError:
            # An endpoint that answers unknown actions with an HTML error page.
            if method == "cloudformation":
                raise OpsError("CloudFormation drift detection is not available at this endpoint") from None
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            if method == "cloudformation" or code not in ("NotImplemented", "InvalidAction", "UnknownOperationException", "501"):
                raise OpsError(f"CloudFormation drift detection failed: {code}: {exc.response['Error']['Message']}") from None
    return "readback", reached + readback(aws, stacks, resolver)


def table(drifts: list[Drift]) -> str:
    note = ("\nnot compared by read-back (no reader for these template properties): " + ", ".join(sorted(UNCOMPARED))
            if UNCOMPARED else "") + "".join("\n" + n for n in NOTES)
    if not drifts:
        return "no drift" + note
    lines = ["STACK  RESOURCE  TYPE  PROPERTY  EXPECTED  ACTUAL"]
    for d in drifts:
        lines.append(f"{d.stack}  {d.logical_id}  {d.resource_type}  {d.prop}  {json.dumps(d.expected)}  {json.dumps(d.actual, default=str)}")
    lines.append(f"{len(drifts)} drifted properties")
    return "\n".join(lines) + note


def one_line(d: Drift) -> str:
    return f"{d.stack} {d.logical_id} ({d.resource_type}) {d.prop}: expected {json.dumps(d.expected, default=str)[:300]}, actual {json.dumps(d.actual, default=str)[:300]}"
