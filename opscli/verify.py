"""Post-deploy verification: read the environment back and compare it with
its configuration. ``verify-pitr`` is the tables part alone (seed 001's
``verify-pitr.sh``)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import ClientError

from envconfig.aws import TableName

from .session import STACKS, Aws, data_key_alias, secrets_key_alias

GITHUB_OIDC_URL = "token.actions.githubusercontent.com"


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"   # not wrong, but needs a human (e.g. a token only they can set)


@dataclass(frozen=True)
class Result:
    area: str
    subject: str
    status: Status
    evidence: str


def _result(area, subject, ok, evidence):
    return Result(area, subject, Status.PASS if ok else Status.FAIL, evidence)


def _error(exc: ClientError) -> str:
    return f"{exc.response['Error']['Code']}: {exc.response['Error']['Message']}"


def _key_arn(aws: Aws, alias: str) -> str | None:
    try:
        return aws.client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"]
    except ClientError:
        return None


def verify_pitr(aws: Aws) -> list[Result]:
    ddb, wanted = aws.client("dynamodb"), aws.config.data.pitr_recovery_period_days
    results = []
    for table in TableName:
        name = aws.config.table_name(table)
        try:
            pitr = ddb.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
        except ClientError as exc:
            results.append(_result("pitr", name, False, _error(exc)))
            continue
        desc = pitr.get("PointInTimeRecoveryDescription", {})
        status, days = desc.get("PointInTimeRecoveryStatus"), desc.get("RecoveryPeriodInDays")
        results.append(_result("pitr", name, status == "ENABLED" and days == wanted,
                               f"status {status}, period {days} days (want ENABLED, {wanted})"))
    return results


def verify_tables(aws: Aws) -> list[Result]:
    ddb = aws.client("dynamodb")
    key = _key_arn(aws, data_key_alias(aws.config))
    results = []
    for table in TableName:
        name = aws.config.table_name(table)
        try:
            desc = ddb.describe_table(TableName=name)["Table"]
        except ClientError as exc:
            results.append(_result("table", name, False, _error(exc)))
            continue
        sse = desc.get("SSEDescription", {})
        results.append(_result("table", f"{name} encryption", sse.get("SSEType") == "KMS" and sse.get("KMSMasterKeyArn") == key,
                               f"{sse.get('SSEType')} key {sse.get('KMSMasterKeyArn')} (want the data key {key})"))
        protected = desc.get("DeletionProtectionEnabled")
        results.append(_result("table", f"{name} deletion protection", protected == aws.config.data.deletion_protection,
                               f"{protected} (config: {aws.config.data.deletion_protection})"))
    return results + verify_pitr(aws)


def verify_parameters(aws: Aws) -> list[Result]:
    ssm = aws.client("ssm")
    key = _key_arn(aws, secrets_key_alias(aws.config))
    alias = secrets_key_alias(aws.config)
    results = []
    for name, how in ((aws.config.nonce_parameter, "bin/ops rotate-nonce"),
                      (aws.config.github_token_parameter, "bin/ops set-github-token")):
        found = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
        if not found:
            # Values are never in a template: they exist once an ops command made them.
            status = Status.WARN if name == aws.config.github_token_parameter else Status.FAIL
            results.append(Result("parameter", name, status, f"not set yet; create it with {how}"))
            continue
        meta = found[0]
        ok = meta["Type"] == "SecureString" and meta.get("KeyId") in {alias, key, key and key.split("/")[-1]}
        results.append(_result("parameter", name, ok, f"{meta['Type']} with key {meta.get('KeyId')} (want SecureString, {alias})"))
    return results


def verify_alarms_and_topic(aws: Aws) -> list[Result]:
    results = []
    topics = aws.physical_ids("Observability", "AWS::SNS::Topic")
    if len(topics) != 1:
        return [_result("topic", "alert topic", False, f"{len(topics)} topics in {aws.stack_name('Observability')}")]
    topic = topics[0]
    short = topic.rsplit(":", 1)[-1]  # the name; the ARN is in the evidence of the alarm lines
    attrs = aws.client("sns").get_topic_attributes(TopicArn=topic)["Attributes"]
    results.append(_result("topic", f"{short} encryption", bool(attrs.get("KmsMasterKeyId")), f"KMS key {attrs.get('KmsMasterKeyId')}"))
    policy = json.loads(attrs.get("Policy") or "{}")
    tls = any(s.get("Effect") == "Deny" and "aws:SecureTransport" in json.dumps(s.get("Condition", {}))
              for s in policy.get("Statement", []))
    results.append(_result("topic", f"{short} TLS-only", tls, "Deny when aws:SecureTransport is false" if tls else "no TLS-only statement"))
    subs = aws.client("sns").list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    emails = sorted(s["Endpoint"] for s in subs if s["Protocol"] == "email")
    wanted = sorted(aws.config.observability.alarm_emails)
    results.append(_result("topic", f"{short} subscriptions", emails == wanted, f"{emails} (config: {wanted})"))

    names = aws.physical_ids("Observability", "AWS::CloudWatch::Alarm")
    alarms = aws.client("cloudwatch").describe_alarms(AlarmNames=names)["MetricAlarms"] if names else []
    results.append(_result("alarm", "count", len(alarms) >= 8 and len(alarms) == len(names),
                           f"{len(alarms)} alarms found of {len(names)} in the stack (seed 001 requires at least 8)"))
    for alarm in alarms:
        results.append(_result("alarm", alarm["AlarmName"], topic in alarm.get("AlarmActions", []),
                               f"actions {alarm.get('AlarmActions')}, threshold {alarm.get('Threshold')}"))
    return results


def verify_oidc(aws: Aws) -> list[Result]:
    iam = aws.client("iam")
    results = []
    provider_arn = aws.config.github.existing_oidc_provider_arn or (
        f"arn:aws:iam::{aws.config.account}:oidc-provider/{GITHUB_OIDC_URL}")
    try:
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=provider_arn)
        results.append(_result("oidc", provider_arn, "sts.amazonaws.com" in provider.get("ClientIDList", []),
                               f"client ids {provider.get('ClientIDList')}"))
    except ClientError as exc:
        results.append(_result("oidc", provider_arn, False, _error(exc)))
    wanted = set(aws.config.oracle_subjects) | {aws.config.plan_subject, aws.config.restore_drill_subject}
    for role_name in aws.physical_ids("Oidc", "AWS::IAM::Role"):
        doc = iam.get_role(RoleName=role_name)["Role"]["AssumeRolePolicyDocument"]
        doc = json.loads(doc) if isinstance(doc, str) else doc
        problems = []
        for statement in doc.get("Statement", []):
            cond = statement.get("Condition", {})
            if statement.get("Principal", {}).get("Federated") != provider_arn:
                problems.append(f"principal {statement.get('Principal')}")
            equals = cond.get("StringEquals", {})
            if equals.get(f"{GITHUB_OIDC_URL}:aud") != "sts.amazonaws.com":
                problems.append("aud is not pinned to sts.amazonaws.com")
            subs = equals.get(f"{GITHUB_OIDC_URL}:sub")
            subs = set([subs] if isinstance(subs, str) else subs or [])
            if not subs or not subs <= wanted:
                problems.append(f"sub {sorted(subs)} not within {sorted(wanted)}")
            if "StringLike" in cond:
                problems.append("uses StringLike (wildcards)")
        results.append(_result("oidc", f"role {role_name} trust", not problems, "; ".join(problems) or f"sub in {sorted(wanted)}"))
    return results


def verify_buckets(aws: Aws) -> list[Result]:
    s3 = aws.client("s3")
    results = []
    for stack in ("Data", "Observability"):
        for bucket in aws.physical_ids(stack, "AWS::S3::Bucket"):
            problems = []
            if s3.get_bucket_versioning(Bucket=bucket).get("Status") != "Enabled":
                problems.append("versioning off")
            try:
                pab = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
                if not all(pab.values()) or len(pab) < 4:
                    problems.append(f"public access block {pab}")
            except ClientError:
                problems.append("no public access block")
            try:
                s3.get_bucket_encryption(Bucket=bucket)
            except ClientError:
                problems.append("no default encryption")
            try:
                policy = s3.get_bucket_policy(Bucket=bucket)["Policy"]
                if "aws:SecureTransport" not in policy:
                    problems.append("policy is not TLS-only")
            except ClientError:
                problems.append("no bucket policy (TLS-only expected)")
            results.append(_result("bucket", bucket, not problems, "; ".join(problems) or "versioned, private, encrypted, TLS-only"))
    return results


def verify_stacks(aws: Aws) -> list[Result]:
    cf = aws.client("cloudformation")
    results = []
    for stack in STACKS:
        name = aws.stack_name(stack)
        try:
            status = cf.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except ClientError as exc:
            results.append(_result("stack", name, False, _error(exc)))
            continue
        results.append(_result("stack", name, status in ("CREATE_COMPLETE", "UPDATE_COMPLETE"), status))
    return results


def verify_all(aws: Aws) -> list[Result]:
    results = verify_stacks(aws)
    if any(r.status is Status.FAIL for r in results):
        return results  # nothing else can be read back meaningfully
    for part in (verify_tables, verify_parameters, verify_alarms_and_topic, verify_oidc, verify_buckets):
        results += part(aws)
    return results


def table(results: list[Result]) -> str:
    widths = [max(len(getattr(r, f)) for r in results) for f in ("area", "subject")]
    lines = [f"{'RESULT':6}  {'AREA':{widths[0]}}  {'SUBJECT':{widths[1]}}  EVIDENCE"]
    for r in results:
        lines.append(f"{r.status.value:6}  {r.area:{widths[0]}}  {r.subject:{widths[1]}}  {r.evidence}")
    failed = sum(r.status is Status.FAIL for r in results)
    lines.append(f"{len(results)} checks, {failed} failed, {sum(r.status is Status.WARN for r in results)} warnings")
    return "\n".join(lines)
