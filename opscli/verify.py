"""Post-deploy verification: read every deployed resource back, by name, and
judge it against the approved artifact (docs/requirements.md#verify-and-drift).

What is expected: the kept assembly of the approval id the account records
(``<parameter_prefix>deployed-approval``, written by ``bin/ops deploy`` and
``rollback``; kept under ``OPS_APPROVALS_DIR``); every deployed template must
equal that assembly's, so a change set pushed outside ``bin/ops`` is named.
No record (a plain ``cdk deploy``) or no kept assembly here: the deployed
templates are expected, with a warning in staging and a failure in
production. ``--assembly DIR`` expects a synthesized assembly instead.

What a caller can reach is judged by the named rules of ``opscli/rules``
over the readers of ``opscli/live``, the same set ``detect-drift`` runs
(``opscli/surface.py``): HTTP API routes (authorization, target),
integrations and stages (throttling, access logs); each function's code hash
against the approved package, configuration and resource policy (principal,
source ARN and account); each role's attached and inline policies; the alert
topic's subscriptions (pending confirmation is a warning, an extra one a
failure); every alarm (exists, actions enabled, routed to the topic); KMS
rotation and state; the trail (logging, multi-region, log-file validation,
key); the nonce and token parameters (SecureString under the secrets key).
Production's DisasterRecovery stack is read in its own region.

Beside them, whole-document comparisons with the resolved templates: tables
(PITR and period, SSE with the expected key, deletion protection), buckets
(versioning, public access block, encryption, TLS-only policy), key
policies, trail key/bucket/log group/selectors, backup plan rules and the
selections covering each table, alarm thresholds, each role's trust policy
(an extra subject or a StringLike fails), managed policy documents, the OIDC
provider and log retention.

``verify-pitr`` is the tables part alone."""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum

from botocore.exceptions import ClientError

from envconfig.aws import TableName

from . import surface
from . import template_resolver as templates
from .live import stacks as live_stacks
from .rules import Outcome
from .session import Aws

GITHUB_OIDC_URL = "token.actions.githubusercontent.com"


class Status(str, Enum):
    PASS = "PASS"
    FAIL = "FAIL"
    WARN = "WARN"   # not wrong, but needs a human (e.g. a token only they can set)
    NA = "N/A"      # the rule does not apply here


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


# ---- checks against the deployed templates --------------------------------
# Each family reads the live resources named by the stacks and compares them
# with the template's resolved properties (what was synthesized) and with the
# policy docs/requirements.md fixes (PITR on, rotation on, TLS-only, trust pinned). Every
# failure names the resource, the expected value and the actual value.


@dataclass
class Ctx:
    aws: Aws
    stacks: dict[str, templates.Stack]
    resolver: templates.Resolver

    def client(self, stack: templates.Stack, service: str):
        """A client where the stack is deployed (production's DisasterRecovery: its own region)."""
        return live_stacks.regional(self.aws, stack.key).client(service)

    def each(self, type_: str):
        """(stack, logical id, physical id, resolved properties) of every resource of a type."""
        for stack in self.stacks.values():
            for logical, _ in stack.resources(type_):
                yield stack, logical, stack.physical.get(logical), self.resolver.props(stack, logical)


def _missing(area: str, what: str, stack: templates.Stack, logical: str) -> Result:
    return Result(area, what, Status.FAIL, f"expected {stack.name}/{logical}, actual: not created by the stack")


def _eq(area: str, subject: str, expected_value, actual_value, *, canon=templates.norm) -> Result:
    if expected_value is templates.UNRESOLVED:
        # Not a pass: nothing was compared (a value only CloudFormation could resolve).
        return Result(area, subject, Status.WARN, f"actual {templates.short(actual_value)}; template value not resolvable, not compared")
    ok = canon(expected_value) == canon(actual_value)
    return _result(area, subject, ok, f"{templates.short(actual_value)}" if ok else
                   f"expected {templates.short(expected_value)}, actual {templates.short(actual_value)}")


def _policy_eq(area: str, subject: str, expected_doc, actual_doc) -> Result:
    if expected_doc is templates.UNRESOLVED:
        return Result(area, subject, Status.WARN, "template document not resolvable; not compared")
    want, got = templates.policy(expected_doc), templates.policy(actual_doc) if actual_doc is not None else None
    if want == got:
        return Result(area, subject, Status.PASS, f"equal to the template ({len(want.get('Statement', []))} statements)")
    if got is None:
        return Result(area, subject, Status.FAIL, f"expected {templates.short(want)}, actual: none")
    return Result(area, subject, Status.FAIL, templates.diff_policy(want, got))


def check_keys(ctx: Ctx) -> list[Result]:
    kms, results = ctx.aws.client("kms"), []
    for stack, logical, pid, props in ctx.each("AWS::KMS::Key"):
        kms = ctx.client(stack, "kms")
        if pid is None:
            results.append(_missing("kms", logical, stack, logical))
            continue
        subject = f"{stack.name}/{logical} ({pid})"
        try:
            live_policy = kms.get_key_policy(KeyId=pid, PolicyName="default")["Policy"]
        except ClientError as exc:
            results.append(_result("kms", subject, False, _error(exc)))
            continue
        # Rotation and state: rules/kms.py (opscli.surface).
        results.append(_policy_eq("kms", f"{subject} key policy", props.get("KeyPolicy"), live_policy))
    return results


def check_tables(ctx: Ctx) -> list[Result]:
    ddb, results = ctx.aws.client("dynamodb"), []
    for stack, logical, pid, props in ctx.each("AWS::DynamoDB::GlobalTable"):
        ddb = ctx.client(stack, "dynamodb")
        name = props.get("TableName") if isinstance(props.get("TableName"), str) else pid
        if pid is None:
            results.append(_missing("table", name, stack, logical))
            continue
        replica = next((r for r in props.get("Replicas", []) if isinstance(r, dict) and r.get("Region") in (None, ctx.aws.region)), {})
        try:
            desc = ddb.describe_table(TableName=pid)["Table"]
            pitr = ddb.describe_continuous_backups(TableName=pid)["ContinuousBackupsDescription"].get(
                "PointInTimeRecoveryDescription", {})
        except ClientError as exc:
            results.append(_result("table", pid, False, _error(exc)))
            continue
        sse = desc.get("SSEDescription", {})
        want_key = replica.get("SSESpecification", {}).get("KMSMasterKeyId", templates.UNRESOLVED)
        actual = {"SSEType": sse.get("SSEType"), "KMSMasterKeyArn": sse.get("KMSMasterKeyArn")}
        results.append(_eq("table", f"{pid} encryption", {"SSEType": "KMS", "KMSMasterKeyArn": want_key}, actual)
                       if want_key is not templates.UNRESOLVED else
                       _result("table", f"{pid} encryption", actual["SSEType"] == "KMS", f"expected KMS, actual {actual}"))
        want_dp = replica.get("DeletionProtectionEnabled", False)
        if ctx.aws.config.is_production:
            want_dp = True  # docs/requirements.md#tables: deletion protection in production, whatever the template says
        results.append(_eq("table", f"{pid} deletion protection", want_dp, desc.get("DeletionProtectionEnabled", False)))
        spec = replica.get("PointInTimeRecoverySpecification", {})
        # docs/requirements.md#tables: PITR on every table; the period is the synthesized one.
        results.append(_eq("table", f"{pid} PITR", {"status": "ENABLED", "days": spec.get("RecoveryPeriodInDays", 35)},
                           {"status": pitr.get("PointInTimeRecoveryStatus"), "days": pitr.get("RecoveryPeriodInDays")}))
    return results


def _bucket_policy_docs(ctx: Ctx) -> dict[str, object]:
    docs = {}
    for _, _, _, props in ctx.each("AWS::S3::BucketPolicy"):
        if isinstance(props.get("Bucket"), str):
            docs[props["Bucket"]] = props.get("PolicyDocument")
    return docs


def check_buckets(ctx: Ctx) -> list[Result]:
    s3, results = ctx.aws.client("s3"), []
    policies = _bucket_policy_docs(ctx)
    for stack, logical, pid, props in ctx.each("AWS::S3::Bucket"):
        s3 = ctx.client(stack, "s3")
        if pid is None:
            results.append(_missing("bucket", logical, stack, logical))
            continue
        try:
            versioning = s3.get_bucket_versioning(Bucket=pid).get("Status", "Suspended")
        except ClientError as exc:
            results.append(_result("bucket", pid, False, _error(exc)))
            continue
        results.append(_eq("bucket", f"{pid} versioning", "Enabled", versioning))
        try:
            pab = s3.get_public_access_block(Bucket=pid)["PublicAccessBlockConfiguration"]
        except ClientError:
            pab = None
        flags = ("BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")
        results.append(_eq("bucket", f"{pid} public access block", {f: True for f in flags}, pab))
        try:
            rules = s3.get_bucket_encryption(Bucket=pid)["ServerSideEncryptionConfiguration"]["Rules"]
        except ClientError:
            rules = None
        want_enc = (props.get("BucketEncryption") or {}).get("ServerSideEncryptionConfiguration", templates.UNRESOLVED)
        if rules is None:
            results.append(Result("bucket", f"{pid} encryption", Status.FAIL, f"expected {templates.short(want_enc)}, actual: no default encryption"))
        else:
            live_enc = [{"ServerSideEncryptionByDefault": r.get("ApplyServerSideEncryptionByDefault"),
                         "BucketKeyEnabled": r.get("BucketKeyEnabled", False)} for r in rules]
            if want_enc is not templates.UNRESOLVED:
                want_enc = [{"BucketKeyEnabled": False, **r} for r in want_enc]
            results.append(_eq("bucket", f"{pid} encryption", want_enc, live_enc))
        try:
            live = s3.get_bucket_policy(Bucket=pid)["Policy"]
        except ClientError:
            live = None
        tls = live is not None and any(
            s.get("Effect") == "Deny" and "aws:SecureTransport" in json.dumps(s.get("Condition", {}))
            for s in templates._as_list(json.loads(live).get("Statement", [])))
        results.append(_result("bucket", f"{pid} TLS-only", tls, "expected a Deny when aws:SecureTransport is false, actual "
                               + ("present" if tls else "none" if live is None else "no such statement")))
        if pid in policies:
            results.append(_policy_eq("bucket", f"{pid} policy", policies[pid], live))
    return results


def check_topic_and_subscriptions(ctx: Ctx) -> list[Result]:
    sns, results = ctx.aws.client("sns"), []
    topic_policies = {}
    for _, _, _, props in ctx.each("AWS::SNS::TopicPolicy"):
        for arn in props.get("Topics", []) if isinstance(props.get("Topics"), list) else []:
            topic_policies[arn] = props.get("PolicyDocument")
    for stack, logical, pid, props in ctx.each("AWS::SNS::Topic"):
        sns = ctx.client(stack, "sns")
        if pid is None:
            results.append(_missing("topic", logical, stack, logical))
            continue
        try:
            attrs = sns.get_topic_attributes(TopicArn=pid)["Attributes"]
        except ClientError as exc:
            results.append(_result("topic", pid, False, _error(exc)))
            continue
        short = pid.rsplit(":", 1)[-1]
        results.append(_eq("topic", f"{short} encryption", props.get("KmsMasterKeyId", templates.UNRESOLVED), attrs.get("KmsMasterKeyId")))
        if pid in topic_policies:
            results.append(_policy_eq("topic", f"{short} policy", topic_policies[pid], attrs.get("Policy")))
        # Subscriptions: rules/sns.py (opscli.surface).
    return results


ALARM_FIELDS = ("ComparisonOperator", "Threshold", "EvaluationPeriods", "DatapointsToAlarm", "MetricName",
                "Namespace", "Statistic", "ExtendedStatistic", "Period", "TreatMissingData")


def check_alarms(ctx: Ctx) -> list[Result]:
    cw, results = ctx.aws.client("cloudwatch"), []
    wanted = list(ctx.each("AWS::CloudWatch::Alarm"))
    names = [props.get("AlarmName") or pid for _, _, pid, props in wanted]
    live = {}
    for i in range(0, len(names), 100):
        chunk = [n for n in names[i:i + 100] if isinstance(n, str)]
        if chunk:
            live.update({a["AlarmName"]: a for a in cw.describe_alarms(AlarmNames=chunk)["MetricAlarms"]})
    if len(wanted) < 8:
        results.append(Result("alarm", "count", Status.FAIL, f"expected at least 8 alarms (docs/requirements.md#alarms), actual {len(wanted)} in the templates"))
    for (stack, logical, pid, props), name in zip(wanted, names):
        alarm = live.get(name)
        if alarm is None:
            continue  # present, enabled and routed: rules/alarms.py (opscli.surface)
        problems = []
        for prop in ALARM_FIELDS:
            want = props.get(prop)
            if want is not None and want is not templates.UNRESOLVED and templates.norm(want) != templates.norm(alarm.get(prop)):
                problems.append(f"{prop}: expected {want}, actual {alarm.get(prop)}")
        results.append(_result("alarm", f"{name} thresholds", not problems, "; ".join(problems) or
                               f"{alarm.get('ComparisonOperator')} {alarm.get('Threshold')}"))
    return results


def check_trail(ctx: Ctx) -> list[Result]:
    ct, results = ctx.aws.client("cloudtrail"), []
    for stack, logical, pid, props in ctx.each("AWS::CloudTrail::Trail"):
        if pid is None:
            results.append(_missing("trail", logical, stack, logical))
            continue
        try:
            trail = ct.get_trail(Name=pid)["Trail"]
            selectors = ct.get_event_selectors(TrailName=pid)
        except ClientError as exc:
            results.append(_result("trail", pid, False, _error(exc)))
            continue
        # Logging, multi-region, log-file validation: rules/trail.py (opscli.surface).
        results.append(_eq("trail", f"{pid} KMS key", props.get("KMSKeyId", templates.UNRESOLVED), trail.get("KmsKeyId")))
        results.append(_eq("trail", f"{pid} bucket", props.get("S3BucketName", templates.UNRESOLVED), trail.get("S3BucketName")))
        results.append(_eq("trail", f"{pid} CloudWatch Logs group", props.get("CloudWatchLogsLogGroupArn", templates.UNRESOLVED),
                           trail.get("CloudWatchLogsLogGroupArn")))
        want_selectors = {"EventSelectors": props.get("EventSelectors", []),
                          "AdvancedEventSelectors": props.get("AdvancedEventSelectors", [])}
        live_selectors = {"EventSelectors": selectors.get("EventSelectors", []),
                          "AdvancedEventSelectors": selectors.get("AdvancedEventSelectors", [])}
        results.append(_eq("trail", f"{pid} event selectors", want_selectors, live_selectors))
    return results


def _api_rules(plan_props) -> list[dict]:
    """A CloudFormation BackupPlanRule list in GetBackupPlan's shape, for comparison."""
    rules = []
    for rule in plan_props.get("BackupPlanRule", []):
        api = {k: v for k, v in rule.items() if k not in ("TargetBackupVault", "RecoveryPointTags")}
        api["TargetBackupVaultName"] = rule.get("TargetBackupVault")
        rules.append(api)
    return sorted(rules, key=lambda r: str(r.get("RuleName")))


RULE_FIELDS = ("RuleName", "TargetBackupVaultName", "ScheduleExpression", "Lifecycle", "CopyActions", "EnableContinuousBackup")


def check_backup(ctx: Ctx) -> list[Result]:
    backup, results = ctx.aws.client("backup"), []
    tables = {pid for stack in ctx.stacks.values() for lid, pid in stack.physical.items()
              if stack.types.get(lid) in ("AWS::DynamoDB::GlobalTable", "AWS::DynamoDB::Table")}
    covered: set[str] = set()
    for stack, logical, pid, props in ctx.each("AWS::Backup::BackupPlan"):
        if pid is None:
            results.append(_missing("backup", logical, stack, logical))
            continue
        plan_name = (props.get("BackupPlan") or {}).get("BackupPlanName", pid)
        try:
            answer = backup.get_backup_plan(BackupPlanId=pid)
        except ClientError as exc:
            results.append(Result("backup", f"plan {plan_name}", Status.FAIL, f"expected plan {pid} ({stack.name}/{logical}), actual: {_error(exc)}"))
            continue
        if answer.get("DeletionDate"):  # GetBackupPlan still answers for a deleted plan
            results.append(Result("backup", f"plan {plan_name}", Status.FAIL,
                                  f"expected plan {pid} ({stack.name}/{logical}), actual: deleted at {answer['DeletionDate']}"))
            continue
        live = answer["BackupPlan"]
        want = [{k: r.get(k) for k in RULE_FIELDS if r.get(k) is not None} for r in _api_rules(props.get("BackupPlan") or {})]
        got = [{k: r.get(k) for k in RULE_FIELDS if r.get(k) is not None}
               for r in sorted(live.get("Rules", []), key=lambda r: str(r.get("RuleName")))]
        results.append(_eq("backup", f"plan {plan_name} rules", want, got))
        try:
            selections = backup.list_backup_selections(BackupPlanId=pid)["BackupSelectionsList"]
            for selection in selections:
                sel = backup.get_backup_selection(BackupPlanId=pid, SelectionId=selection["SelectionId"])["BackupSelection"]
                covered.update(arn.rsplit("/", 1)[-1] for arn in sel.get("Resources", []))
        except ClientError as exc:
            results.append(Result("backup", f"plan {plan_name} selections", Status.FAIL, f"cannot list selections: {_error(exc)}"))
    for table in sorted(tables):
        results.append(_result("backup", f"table {table} in a backup selection", table in covered,
                               "expected selected by a backup plan, actual " + ("selected" if table in covered else "not selected")))
    return results


GITHUB_SUB = f"{GITHUB_OIDC_URL}:sub"


def _oidc_policy(role: str, doc) -> list[str]:
    """docs/requirements.md#trust: a GitHub trust pins aud and sub with StringEquals, never StringLike or a wildcard."""
    problems = []
    for statement in templates._as_list((doc or {}).get("Statement", [])):
        if "Federated" not in json.dumps(statement.get("Principal", {})):
            continue
        cond = statement.get("Condition", {})
        for op, pairs in cond.items():
            if op != "StringEquals" and any(k.startswith(GITHUB_OIDC_URL) for k in pairs):
                problems.append(f"{op} on {sorted(pairs)} (only StringEquals pins a subject)")
        subs = templates._as_list(cond.get("StringEquals", {}).get(GITHUB_SUB, []))
        if not subs or any("*" in s or "?" in s for s in subs):
            problems.append(f"sub {subs} is not pinned")
        if cond.get("StringEquals", {}).get(f"{GITHUB_OIDC_URL}:aud") != "sts.amazonaws.com":
            problems.append("aud is not pinned to sts.amazonaws.com")
    return problems


def check_roles(ctx: Ctx) -> list[Result]:
    iam, results = ctx.aws.client("iam"), []
    for stack, logical, pid, props in ctx.each("AWS::IAM::Role"):
        if pid is None:
            results.append(_missing("role", logical, stack, logical))
            continue
        try:
            role = iam.get_role(RoleName=pid)["Role"]
        except ClientError as exc:
            results.append(_result("role", pid, False, _error(exc)))
            continue
        trust = role["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        result = _policy_eq("role", f"{pid} trust", props.get("AssumeRolePolicyDocument"), trust)
        extra = _oidc_policy(pid, trust)
        if extra:
            result = Result("role", result.subject, Status.FAIL, "; ".join(extra) + (
                "" if result.status is Status.PASS else " | " + result.evidence))
        results.append(result)
        # Inline and attached policies: rules/iam.py (opscli.surface).
    for stack, logical, pid, props in ctx.each("AWS::IAM::ManagedPolicy"):
        try:
            policy = iam.get_policy(PolicyArn=pid)["Policy"]
            doc = iam.get_policy_version(PolicyArn=pid, VersionId=policy["DefaultVersionId"])["PolicyVersion"]["Document"]
        except ClientError as exc:
            results.append(_result("policy", pid, False, _error(exc)))
            continue
        results.append(_policy_eq("policy", f"{pid.rsplit('/', 1)[-1]} document", props.get("PolicyDocument"), doc))
    return results


def check_oidc_provider(ctx: Ctx) -> list[Result]:
    iam, results = ctx.aws.client("iam"), []
    arn = ctx.aws.config.github.existing_oidc_provider_arn or (
        f"arn:aws:iam::{ctx.aws.config.account}:oidc-provider/{GITHUB_OIDC_URL}")
    try:
        provider = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=arn)
    except ClientError as exc:
        return [_result("oidc", arn, False, _error(exc))]
    return [_eq("oidc", f"{arn} client ids", ["sts.amazonaws.com"], sorted(provider.get("ClientIDList", [])))]


def check_log_groups(ctx: Ctx) -> list[Result]:
    logs, results = ctx.aws.client("logs"), []
    for stack, logical, pid, props in ctx.each("AWS::Logs::LogGroup"):
        logs = ctx.client(stack, "logs")
        if pid is None:
            results.append(_missing("logs", logical, stack, logical))
            continue
        groups = [g for g in logs.describe_log_groups(logGroupNamePrefix=pid)["logGroups"] if g["logGroupName"] == pid]
        if not groups:
            results.append(Result("logs", pid, Status.FAIL, f"expected log group {pid} ({stack.name}/{logical}), actual: does not exist"))
            continue
        results.append(_eq("logs", f"{pid} retention", props.get("RetentionInDays", templates.UNRESOLVED), groups[0].get("retentionInDays")))
    return results


FAMILIES = (check_tables, check_keys, check_buckets, check_topic_and_subscriptions, check_alarms, check_trail,
            check_backup, check_roles, check_oidc_provider, check_log_groups)


AREAS = {"api": "api", "lambda": "lambda", "iam": "role", "sns": "topic", "alarms": "alarm", "kms": "kms",
         "trail": "trail", "ssm": "parameter", "approval": "approval"}
STATUS = {Outcome.PASS: Status.PASS, Outcome.FAIL: Status.FAIL, Outcome.WARN: Status.WARN, Outcome.NA: Status.NA}


def as_result(check: surface.Check) -> Result:
    f = check.finding
    return Result(AREAS.get(f.rule.split(".")[0], f.rule.split(".")[0]), f.subject, STATUS[f.outcome], f.evidence())


def verify_all(aws: Aws, assembly=None) -> list[Result]:
    """Every check; raises StackProblem when a stack is missing, failed or rolled back."""
    stacks, resolver, checks = surface.run(aws, assembly)
    ctx = Ctx(aws, stacks, resolver)
    results = [Result("stack", s.name, Status.PASS, "deployed") for s in stacks.values()]
    results += [as_result(c) for c in checks]
    for family in FAMILIES:
        results += family(ctx)
    return results


def table(results: list[Result]) -> str:
    widths = [max(len(getattr(r, f)) for r in results) for f in ("area", "subject")]
    lines = [f"{'RESULT':6}  {'AREA':{widths[0]}}  {'SUBJECT':{widths[1]}}  EVIDENCE"]
    for r in results:
        lines.append(f"{r.status.value:6}  {r.area:{widths[0]}}  {r.subject:{widths[1]}}  {r.evidence}")
    failed = sum(r.status is Status.FAIL for r in results)
    lines.append(f"{len(results)} checks, {failed} failed, {sum(r.status is Status.WARN for r in results)} warnings")
    return "\n".join(lines)
