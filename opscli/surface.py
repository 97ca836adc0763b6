"""Everything a caller can reach, judged against the approved templates: the
one set of checks ``verify`` and ``detect-drift`` both run.

For each resource family the live reader (``opscli.live``) is called once
and its snapshot judged by the named rules (``opscli.rules``): HTTP API
routes, integrations and stages; each function's code hash, configuration
and resource policy; each role's attached and inline policies; the alert
topic's subscriptions; alarms; KMS rotation; the trail; the secret
parameters' types; and the deployment record with the deployed templates
compared with the approved assembly (docs/requirements.md#verify-and-drift).

``expected_templates`` decides what "approved" means: the kept assembly of
the id the account records (``<parameter_prefix>deployed-approval``), under
``OPS_APPROVALS_DIR``; without a record (a plain ``cdk deploy``) or without
that kept assembly here, the deployed templates, with a warning in staging
and a failure in production.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError

from . import approval as approval_digest
from . import assembly as cloud_assembly
from . import template_resolver as templates
from .live import api as live_api
from .live import approval_record
from .live import functions as live_functions
from .live import iam as live_iam
from .live import sns as live_sns
from .live import ssm as live_ssm
from .live import stacks as live_stacks
from .rules import Finding, Outcome, alarms, approval, functions, iam, kms, sns, ssm, trail
from .rules.api import ExpectedApi
from .rules import api as api_rules
from .session import Aws, secrets_key_alias

U = templates.UNRESOLVED


@dataclass(frozen=True)
class Check:
    stack: str
    logical_id: str
    resource_type: str
    finding: Finding


def approvals_dir() -> Path:
    # The same keep directory as bin/ops plan/deploy (opscli/release.py).
    return Path(os.environ.get("OPS_APPROVALS_DIR") or Path(__file__).resolve().parent.parent / ".approvals")


def approved_code(stack) -> dict[str, tuple[str | None, str]]:
    """Logical id -> (CodeSha256 of the approved package, where it comes from).

    The approved package is the deterministic zip of the kept assembly's
    asset (opscli/assembly.py ``Stack.lambda_code_sha256``): the bytes the
    deploy places and publishes, so the running code is proven to be the
    approved code, not merely the object found under the approved key."""
    return {logical: (sha, "the approved package of the kept assembly")
            for logical, sha in stack.lambda_code_sha256().items()}


APPROVED_CODE: dict[str, dict[str, tuple[str | None, str]]] = {}


def expected_templates(aws: Aws) -> tuple[list[Check], dict[str, dict] | None, str | None]:
    """(findings about the record, approved templates by stack key or None, approval id)."""
    record = approval_record.read(aws)
    kept = approvals_dir() / aws.config.name.value / (record.approval_id or "-") / "assembly"
    # An id is a digest (64 hex): never a path component that leaves the keep directory.
    usable = bool(record.approval_id) and record.approval_id.isalnum() and kept.is_dir()
    APPROVED_CODE.clear()  # filled below from the kept assembly; without one, the deployed object is compared
    checks = [Check("(account)", record.parameter, "AWS::SSM::Parameter",
                    approval.recorded(record, production=aws.config.is_production, kept=usable, kept_dir=str(kept)))]
    if not usable:
        return checks, None, None
    # One read serves the digest and the expectation: what is judged is what was checked.
    stage = None
    try:
        stage = cloud_assembly.read(kept).stage(aws.config.name.stage_id)
        digest, problem = approval_digest.stage_digest(stage).digest, None
    except (ValueError, OSError) as exc:  # the reader refuses what it cannot vouch for
        digest, problem = None, str(exc)
    intact = approval.kept_intact(str(kept), record.approval_id, digest, problem)
    checks.append(Check("(account)", record.parameter, "AWS::SSM::Parameter", intact))
    if intact.outcome is not Outcome.PASS:
        return checks, None, None
    approved = {}
    kept_stacks = stage.stacks
    for key in live_stacks.keys(aws.config):
        if aws.stack_name(key) not in kept_stacks:
            checks.append(Check(aws.stack_name(key), "(template)", "AWS::CloudFormation::Stack", Finding(
                "approval.template", f"{aws.stack_name(key)} template", Outcome.FAIL,
                f"a stack of approval {record.approval_id[:12]}", "deployed but not in the approved assembly")))
            continue
        approved[key] = kept_stacks[aws.stack_name(key)].template
        APPROVED_CODE[key] = approved_code(kept_stacks[aws.stack_name(key)])
        deployed = templates.deployed_template(aws, key)
        checks.append(Check(aws.stack_name(key), "(template)", "AWS::CloudFormation::Stack",
                            approval.template(aws.stack_name(key), record.approval_id, approved[key], deployed)))
    return checks, approved, record.approval_id


def _each(stacks, resolver, type_):
    for stack in stacks.values():
        for logical, _ in stack.resources(type_):
            yield stack, logical, stack.physical.get(logical), resolver.props(stack, logical)


def _missing(stack, logical, type_, rule) -> Check:
    return Check(stack.name, logical, type_, Finding(rule, logical, Outcome.FAIL, f"{stack.name}/{logical}", "not created by the stack"))


def _error(stack, logical, type_, rule, subject, exc: ClientError) -> Check:
    return Check(stack.name, logical, type_, Finding(rule, subject, Outcome.FAIL, "readable",
                                                     f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"))


def api_checks(aws, stacks, resolver) -> list[Check]:
    out = []
    for stack, logical, pid, _ in _each(stacks, resolver, "AWS::ApiGatewayV2::Api"):
        t = "AWS::ApiGatewayV2::Api"
        if pid is None:
            out.append(_missing(stack, logical, t, "api.routes"))
            continue
        want = ExpectedApi({}, {}, {})
        for s, lid, ipid, props in _each(stacks, resolver, "AWS::ApiGatewayV2::Integration"):
            if props.get("ApiId") == pid:
                want.integrations[ipid] = props.get("IntegrationUri")
        for s, lid, _, props in _each(stacks, resolver, "AWS::ApiGatewayV2::Route"):
            if props.get("ApiId") == pid:
                want.routes[props.get("RouteKey")] = {"AuthorizationType": props.get("AuthorizationType", "NONE"),
                                                      "Target": props.get("Target")}
        for s, lid, _, props in _each(stacks, resolver, "AWS::ApiGatewayV2::Stage"):
            if props.get("ApiId") == pid:
                settings, logs = props.get("DefaultRouteSettings") or {}, props.get("AccessLogSettings") or {}
                want.stages[props.get("StageName")] = {"burst": settings.get("ThrottlingBurstLimit"), "rate": settings.get("ThrottlingRateLimit"),
                                                       "log_destination": logs.get("DestinationArn"), "log_format": logs.get("Format")}
        try:
            live = live_api.read(live_stacks.regional(aws, stack.key), pid)
        except ClientError as exc:
            out.append(_error(stack, logical, t, "api.routes", pid, exc))
            continue
        for rule in (api_rules.routes, api_rules.integrations, api_rules.stages):
            out += [Check(stack.name, logical, t, f) for f in rule(pid, want, live)]
    return out


def _function_name(value) -> str | None:
    return value.rsplit(":function:", 1)[-1] if isinstance(value, str) else None


def function_checks(aws, stacks, resolver) -> list[Check]:
    out = []
    perms: dict[str, list] = {}
    for stack, logical, _, props in _each(stacks, resolver, "AWS::Lambda::Permission"):
        principal = props.get("Principal")
        perms.setdefault(_function_name(props.get("FunctionName")), []).append(functions.ExpectedPermission(
            principal if isinstance(principal, str) else "?", props.get("SourceArn"), props.get("SourceAccount")))
    for stack, logical, pid, props in _each(stacks, resolver, "AWS::Lambda::Function"):
        t = "AWS::Lambda::Function"
        if pid is None:
            out.append(_missing(stack, logical, t, "lambda.code-hash"))
            continue
        regional = live_stacks.regional(aws, stack.key)
        try:
            live = live_functions.read(regional, pid)
        except ClientError as exc:
            out.append(_error(stack, logical, t, "lambda.code-hash", pid, exc))
            continue
        code = props.get("Code") or {}
        bucket, key = code.get("S3Bucket"), code.get("S3Key")
        sha, source = APPROVED_CODE.get(stack.key, {}).get(logical, (None, f"the object deployed from s3://{bucket}/{key}"))
        if sha is None and isinstance(bucket, str) and isinstance(key, str):
            try:
                sha = live_functions.object_sha256(regional, bucket, key)
            except ClientError:
                sha = None
        out.append(Check(stack.name, logical, t, functions.code_hash(pid, sha, live, source)))
        out.append(Check(stack.name, logical, t, functions.configuration(pid, props, live)))
        out += [Check(stack.name, logical, t, f) for f in functions.invoke_permissions(pid, perms.get(pid, []), live)]
    return out


def role_checks(aws, stacks, resolver) -> list[Check]:
    out = []
    inline: dict[str, dict] = {}
    attached: dict[str, set] = {}
    for _, _, _, props in _each(stacks, resolver, "AWS::IAM::Policy"):
        for role in props.get("Roles") if isinstance(props.get("Roles"), list) else []:
            inline.setdefault(role, {})[props.get("PolicyName")] = props.get("PolicyDocument")
    for _, _, pid, props in _each(stacks, resolver, "AWS::IAM::ManagedPolicy"):
        for role in props.get("Roles") if isinstance(props.get("Roles"), list) else []:
            attached.setdefault(role, set()).add(pid)
    for stack, logical, pid, props in _each(stacks, resolver, "AWS::IAM::Role"):
        t = "AWS::IAM::Role"
        if pid is None:
            out.append(_missing(stack, logical, t, "iam.attached-policies"))
            continue
        try:
            live = live_iam.read(aws, pid)
        except ClientError as exc:
            out.append(_error(stack, logical, t, "iam.attached-policies", pid, exc))
            continue
        want_inline = dict(inline.get(pid, {}))
        for p in props.get("Policies") if isinstance(props.get("Policies"), list) else []:
            want_inline[p["PolicyName"]] = p["PolicyDocument"]
        managed = props.get("ManagedPolicyArns") if isinstance(props.get("ManagedPolicyArns"), list) else []
        out.append(Check(stack.name, logical, t, iam.attached_policies(pid, set(managed) | attached.get(pid, set()), live)))
        out += [Check(stack.name, logical, t, f) for f in iam.inline_policies(pid, want_inline, live, templates.policy)]
    return out


def topic_checks(aws, stacks, resolver) -> list[Check]:
    out = []
    for stack, logical, pid, _ in _each(stacks, resolver, "AWS::SNS::Topic"):
        t = "AWS::SNS::Topic"
        if pid is None:
            out.append(_missing(stack, logical, t, "sns.subscriptions"))
            continue
        want = {(p.get("Protocol"), p.get("Endpoint")) for _, _, _, p in _each(stacks, resolver, "AWS::SNS::Subscription")
                if p.get("TopicArn") == pid}
        try:
            live = live_sns.subscriptions(live_stacks.regional(aws, stack.key), pid)
        except ClientError as exc:
            out.append(_error(stack, logical, t, "sns.subscriptions", pid, exc))
            continue
        out += [Check(stack.name, logical, t, f) for f in sns.subscriptions(pid.rsplit(":", 1)[-1], want, live)]
    return out


def alarm_checks(aws, stacks, resolver) -> list[Check]:
    topics = {pid for s in stacks.values() for lid, pid in s.physical.items() if s.types.get(lid) == "AWS::SNS::Topic"}
    wanted = list(_each(stacks, resolver, "AWS::CloudWatch::Alarm"))
    names = [props.get("AlarmName") if isinstance(props.get("AlarmName"), str) else pid for _, _, pid, props in wanted]
    cw, live = aws.client("cloudwatch"), {}
    present = [n for n in names if isinstance(n, str)]
    for i in range(0, len(present), 100):
        live.update({a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=present[i:i + 100])["MetricAlarms"]})
    out = []
    for (stack, logical, _, props), name in zip(wanted, names):
        want = {p: props.get(p, []) for p in ("AlarmActions", "OKActions", "InsufficientDataActions") if props.get(p, []) is not U}
        out.append(Check(stack.name, logical, "AWS::CloudWatch::Alarm", alarms.alarm(name, live.get(name), topics, want, f"{stack.name}/{logical}")))
    return out


def key_checks(aws, stacks, resolver) -> list[Check]:
    out = []
    for stack, logical, pid, _ in _each(stacks, resolver, "AWS::KMS::Key"):
        t = "AWS::KMS::Key"
        if pid is None:
            out.append(_missing(stack, logical, t, "kms.rotation"))
            continue
        k = live_stacks.regional(aws, stack.key).client("kms")
        try:
            rotation = k.get_key_rotation_status(KeyId=pid)["KeyRotationEnabled"]
            state = k.describe_key(KeyId=pid)["KeyMetadata"]["KeyState"]
        except ClientError as exc:
            out.append(_error(stack, logical, t, "kms.rotation", pid, exc))
            continue
        subject = f"{stack.name}/{logical} ({pid})"
        out += [Check(stack.name, logical, t, kms.rotation(subject, rotation)), Check(stack.name, logical, t, kms.state(subject, state))]
    return out


def trail_checks(aws, stacks, resolver) -> list[Check]:
    out = []
    for stack, logical, pid, _ in _each(stacks, resolver, "AWS::CloudTrail::Trail"):
        t = "AWS::CloudTrail::Trail"
        if pid is None:
            out.append(_missing(stack, logical, t, "trail.logging"))
            continue
        ct = aws.client("cloudtrail")
        try:
            live = ct.get_trail(Name=pid)["Trail"]
            logging = ct.get_trail_status(Name=pid).get("IsLogging")
        except ClientError as exc:
            out.append(_error(stack, logical, t, "trail.logging", pid, exc))
            continue
        props = {"IsLogging": logging, "IsMultiRegionTrail": live.get("IsMultiRegionTrail"),
                 "EnableLogFileValidation": live.get("LogFileValidationEnabled"), "KMSKeyId": live.get("KmsKeyId")}
        out += [Check(stack.name, logical, t, f) for f in trail.audit_trail(pid, props)]
    return out


def parameter_checks(aws, stacks, resolver) -> list[Check]:
    alias = secrets_key_alias(aws.config)
    try:
        arn = aws.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    except ClientError:
        arn = None
    keys = {alias, arn, arn and arn.split("/")[-1]} - {None}
    found = live_ssm.describe(aws, [aws.config.nonce_parameter, aws.config.github_token_parameter])
    return [Check("(account)", name, "AWS::SSM::Parameter",
                  ssm.secure_parameter(name, found[name], keys, required=name == aws.config.nonce_parameter, how=how))
            for name, how in ((aws.config.nonce_parameter, "bin/ops rotate-nonce"),
                              (aws.config.github_token_parameter, "bin/ops set-github-token"))]


FAMILIES = (api_checks, function_checks, role_checks, topic_checks, alarm_checks, key_checks, trail_checks, parameter_checks)


def run(aws: Aws, assembly: Path | None = None) -> tuple[dict[str, templates.Stack], templates.Resolver, list[Check]]:
    """Load the expected stacks (approved, or ``assembly``) and run every family."""
    live_stacks.check(aws)
    checks: list[Check] = []
    approved = None
    if assembly is None:
        checks, approved, _ = expected_templates(aws)
    stacks = templates.load(aws, assembly, approved)
    resolver = templates.Resolver(aws, stacks)
    for family in FAMILIES:
        checks += family(aws, stacks, resolver)
    return stacks, resolver, checks
