"""The AWS side's per-environment configuration.

One YAML file per environment (``config/aws/<env>.yaml``) is read into a frozen
:class:`AwsEnvironment`. Every rule is checked here, before any construct is
built, and every violation is a :class:`~envconfig.errors.ConfigError` naming
the file, the field and the rule.

``MD_CONFIG_DIR`` points at another directory holding ``aws/<env>.yaml`` (the
end-to-end tests use it to redeploy with a changed threshold without touching
the repository's files).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from pathlib import Path

import boto3

from envconfig import policy
from envconfig.audit_trail import ObjectLock, read_object_lock
from envconfig.cross import check_aws as check_aws_files
from envconfig.errors import ConfigError
from envconfig.location import REPO_CONFIG_DIR, config_dir
from envconfig.patterns import EMAIL, GITHUB_REPO, GITHUB_REPO_RULE
from envconfig.reader import Reader, load_yaml


# CloudWatch Logs accepts only these retention periods (RetentionInDays).
LOG_RETENTION_DAYS = frozenset(
    {1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}
)
# botocore's own endpoint data: the regions DynamoDB is offered in (all the
# services we deploy are offered wherever DynamoDB is).
AWS_REGIONS = frozenset(boto3.session.Session().get_available_regions("dynamodb"))

ACCOUNT_ID = r"\d{12}"
# 4-27 characters: the longest derived name, "<prefix>-production-audit-trail-<account>",
# must stay within S3's 63-character bucket-name limit.
NAME_PREFIX = r"[a-z][a-z0-9-]{2,25}[a-z0-9]"
OIDC_PROVIDER_ARN = r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com"
METRICS_NAMESPACE = r"[A-Za-z0-9][A-Za-z0-9_./#:-]{0,254}"
# Longest grace period a nonce rotation may promise (the config's and --grace's cap).
NONCE_GRACE_MAX_SECONDS = 7 * 24 * 3600


class EnvName(str, Enum):
    STAGING = "staging"
    PRODUCTION = "production"

    @property
    def stage_id(self) -> str:
        """The CDK Stage id: ``Staging`` / ``Production``."""
        return self.value.capitalize()


class TableName(str, Enum):
    """The three Oracle tables (seed 001)."""

    FP_EVENTS = "fp-events"
    CONSENT = "consent"
    BLOCK_COUNTER = "block-counter"


class Store(str, Enum):
    """The stores whose data must come back: the three tables and the baselines bucket."""

    FP_EVENTS = "fp-events"
    CONSENT = "consent"
    BLOCK_COUNTER = "block-counter"
    BASELINES = "baselines"

    @property
    def table(self) -> "TableName | None":
        return None if self is Store.BASELINES else TableName(self.value)


class Severity(str, Enum):
    """Alarm severities; thresholds are keyed by them (STYLE.md)."""

    CRITICAL = "Critical"
    WARNING = "Warning"


@dataclass(frozen=True)
class Threshold:
    """One alarm rule: fire when the statistic over ``period_minutes`` is above ``value``."""

    value: float
    period_minutes: int
    severity: Severity


@dataclass(frozen=True)
class GitHubConfig:
    repository: str
    allow_main_branch: bool
    create_oidc_provider: bool
    existing_oidc_provider_arn: str | None
    max_session_hours: int


@dataclass(frozen=True)
class DataConfig:
    pitr_recovery_period_days: int
    backup_retention_days: int
    deletion_protection: bool
    noncurrent_version_expiration_days: int


@dataclass(frozen=True)
class ObservabilityConfig:
    log_retention_days: int
    alarm_emails: tuple[str, ...]
    metrics_namespace: str
    table_throttle: Threshold
    ssm_parameter_failures: Threshold
    circuit_breaker_triggers: Threshold
    lambda_error_rate_percent: Threshold
    api_latency_p95_ms: Threshold
    lambda_throttles: Threshold
    audit_trail_object_lock: ObjectLock


@dataclass(frozen=True)
class RuntimeConfig:
    reserved_concurrency: int
    memory_mb: int
    timeout_seconds: int
    api_throttle_rate: int
    api_throttle_burst: int
    log_level: str
    parameter_cache_seconds: int


@dataclass(frozen=True)
class SecretsConfig:
    nonce_grace_period_seconds: int


@dataclass(frozen=True)
class OracleConsumer:
    """A repository whose workflows call the Oracle, from one GitHub environment (seed 001's Phase-Mirror-Test)."""

    repository: str
    environment: str

    @property
    def subject(self) -> str:
        return f"repo:{self.repository}:environment:{self.environment}"


@dataclass(frozen=True)
class RecoveryObjective:
    """How much data a store may lose (RPO) and how long it may take to get it back (RTO)."""

    rpo_minutes: int
    rto_minutes: int


@dataclass(frozen=True)
class RecoveryConfig:
    """``dr_region``: AWS Backup copies every recovery point to a vault there (None: no copy)."""

    dr_region: str | None
    objectives: dict[Store, RecoveryObjective]


@dataclass(frozen=True)
class BudgetConfig:
    """Monthly AWS Budget of the environment's account; alerts at each percentage of the limit."""

    monthly_limit_usd: float
    alert_thresholds_percent: tuple[float, ...]


@dataclass(frozen=True)
class AwsEnvironment:
    """Everything one AWS environment is built from. Frozen: read once, never changed."""

    source: Path
    name: EnvName
    account: str
    region: str
    name_prefix: str
    github: GitHubConfig
    data: DataConfig
    secrets: SecretsConfig
    observability: ObservabilityConfig
    runtime: RuntimeConfig
    oracle_consumers: tuple[OracleConsumer, ...] = ()
    recovery: RecoveryConfig | None = None
    budget: BudgetConfig | None = None
    audit_data_events: tuple[Store, ...] = ()

    # ---- names derived from the seeds; one place, used by stacks, ops and tests
    def table_name(self, table: TableName) -> str:
        """``mirror-dissonance-<table>-<env>`` (seed 004)."""
        return f"{self.name_prefix}-{table.value}-{self.name.value}"

    @property
    def table_prefix(self) -> str:
        return f"{self.name_prefix}-"

    @property
    def parameter_prefix(self) -> str:
        """``/mirror-dissonance/<env>/`` (seed 004's SSM_PARAMETER_PREFIX)."""
        return f"/{self.name_prefix}/{self.name.value}/"

    @property
    def nonce_parameter(self) -> str:
        return f"{self.parameter_prefix}nonce"

    @property
    def nonce_rotation_parameter(self) -> str:
        """Plain String parameter holding the grace-period state of a rotation.

        It never holds a nonce value: only ``{"accepted": [{"version": N,
        "until": <epoch seconds>}, ...]}``, the versions rotations promised.
        The values themselves stay in the nonce parameter's own version
        history (``<name>:<N>``).
        """
        return f"{self.parameter_prefix}nonce-rotation"

    @property
    def nonce_lock_parameter(self) -> str:
        """Plain String parameter: the lock that serializes ``rotate-nonce`` runs (opscli/nonce.py)."""
        return f"{self.parameter_prefix}nonce-rotation-lock"

    @property
    def deploy_lock_parameter(self) -> str:
        """Plain String parameter: the lock that lets one ``bin/ops deploy`` / ``rollback`` run at a time (opscli/deploy_lock.py)."""
        return f"{self.parameter_prefix}deploy-lock"

    @property
    def deployed_approval_parameter(self) -> str:
        """Plain String parameter written after each successful ``bin/ops deploy`` / ``rollback``:
        ``{"approval_id": ..., "deployed_at": <epoch s>, "by": ...}``; verify and drift judge against that kept assembly."""
        return f"{self.parameter_prefix}deployed-approval"

    @property
    def github_token_parameter(self) -> str:
        return f"{self.parameter_prefix}github-token"

    @property
    def secure_parameters(self) -> tuple[str, str]:
        return (self.nonce_parameter, self.github_token_parameter)

    @property
    def resource_prefix(self) -> str:
        """``mirror-dissonance-<env>``: prefix of every other physical name."""
        return f"{self.name_prefix}-{self.name.value}"

    @property
    def github_subjects(self) -> tuple[str, ...]:
        """Exact OIDC ``sub`` values allowed to assume the roles (StringEquals, never a wildcard)."""
        subjects = [f"repo:{self.github.repository}:environment:{self.name.value}"]
        if self.github.allow_main_branch:
            subjects.append(f"repo:{self.github.repository}:ref:refs/heads/main")
        return tuple(subjects)

    @property
    def plan_subject(self) -> str:
        """OIDC ``sub`` of the read-only plan job (GitHub environment ``<env>-plan``, no approval).

        It may assume only the CDK lookup role: enough for ``cdk diff``, never a deploy.
        """
        return f"repo:{self.github.repository}:environment:{self.name.value}-plan"

    @property
    def oracle_subjects(self) -> tuple[str, ...]:
        """The Oracle role's exact ``sub`` values: this repository's, then each consumer's."""
        return self.github_subjects + tuple(c.subject for c in self.oracle_consumers)

    @property
    def restore_drill_subject(self) -> str:
        """OIDC ``sub`` of the scheduled restore drill (GitHub environment ``<env>-drill``, no approval)."""
        return f"repo:{self.github.repository}:environment:{self.name.value}-drill"

    def restore_drill_table(self, table: TableName) -> str:
        """The drill's scratch copy of ``table``: a fixed name, so IAM can name it exactly."""
        return f"{self.table_name(table)}-restore-drill"

    @property
    def baselines_bucket(self) -> str:
        return f"{self.resource_prefix}-baselines-{self.account}"

    @property
    def dr_resource_prefix(self) -> str:
        """Prefix of the disaster-recovery copies' names in the second region."""
        return f"{self.resource_prefix}-dr"

    @cached_property
    def is_production(self) -> bool:
        return self.name is EnvName.PRODUCTION


def config_path(env: EnvName | str) -> Path:
    return config_dir() / "aws" / f"{EnvName(env).value}.yaml"


def _threshold(reader: Reader, key: str, *, unit_max: float | None = None) -> Threshold:
    sub = reader.section(key)
    threshold = Threshold(
        value=sub.number("threshold", minimum=0, maximum=unit_max),
        period_minutes=sub.int("period_minutes", minimum=1, maximum=1440),
        severity=sub.choice("severity", Severity),
    )
    sub.finish()
    return threshold


def load(env: EnvName | str, path: Path | None = None) -> AwsEnvironment:
    """Load and validate one environment's configuration."""
    try:
        expected = EnvName(env)
    except ValueError:
        raise ConfigError(config_dir() / "aws", "<environment>", f"must be one of {[e.value for e in EnvName]}, got {env!r}") from None
    path = path or config_path(expected)
    reader = load_yaml(path)

    name = reader.choice("environment", EnvName)
    if name is not expected:
        raise reader.error("environment", f"file is for {expected.value!r} but says {name.value!r}")
    account = reader.str("account", pattern=ACCOUNT_ID, rule="must be a 12-digit AWS account id (quote it in YAML so leading zeros survive)")
    region = reader.str("region")
    if region not in AWS_REGIONS:
        raise reader.error("region", f"{region!r} is not an AWS region (known: {', '.join(sorted(AWS_REGIONS))})")
    name_prefix = reader.str("name_prefix", pattern=NAME_PREFIX, rule="must be 4-27 lowercase letters, digits or '-', starting with a letter (longer prefixes make bucket names over 63 characters)")

    gh = reader.section("github")
    repository = gh.str("repository", pattern=GITHUB_REPO, rule=GITHUB_REPO_RULE)
    create_provider = gh.bool("create_oidc_provider")
    existing_arn = gh.optional_str(
        "existing_oidc_provider_arn", pattern=OIDC_PROVIDER_ARN,
        rule="must be the ARN of the GitHub OIDC provider: arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com",
    )
    if create_provider and existing_arn:
        raise gh.error("existing_oidc_provider_arn", "must be empty when create_oidc_provider is true (only one GitHub OIDC provider may exist per account)")
    if not create_provider and not existing_arn:
        raise gh.error("existing_oidc_provider_arn", "is required when create_oidc_provider is false")
    if existing_arn and f":{account}:" not in existing_arn:
        raise gh.error("existing_oidc_provider_arn", f"must belong to account {account}")
    github = GitHubConfig(
        repository=repository,
        allow_main_branch=gh.bool("allow_main_branch", default=False),
        create_oidc_provider=create_provider,
        existing_oidc_provider_arn=existing_arn,
        max_session_hours=gh.int("max_session_hours", minimum=1, maximum=12, default=1),
    )
    oracle_consumers = _oracle_consumers(gh, name)
    gh.finish()

    d = reader.section("data")
    data = DataConfig(
        pitr_recovery_period_days=d.int("pitr_recovery_period_days", minimum=1, maximum=35),
        backup_retention_days=d.int("backup_retention_days", minimum=1, maximum=36500),
        deletion_protection=d.bool("deletion_protection"),
        noncurrent_version_expiration_days=d.int("noncurrent_version_expiration_days", minimum=1, maximum=3650),
    )
    if name is EnvName.PRODUCTION and not data.deletion_protection:
        raise d.error("deletion_protection", "must be true in production (stateful resources are never deletable there)")
    d.finish()

    s = reader.section("secrets")
    secrets = SecretsConfig(nonce_grace_period_seconds=s.int("nonce_grace_period_seconds", minimum=0, maximum=NONCE_GRACE_MAX_SECONDS))
    s.finish()

    o = reader.section("observability")
    retention = o.int("log_retention_days")
    if retention not in LOG_RETENTION_DAYS:
        raise o.error("log_retention_days", f"must be one of CloudWatch's allowed values {sorted(LOG_RETENTION_DAYS)}, got {retention}")
    if name is EnvName.PRODUCTION and retention < 365:
        raise o.error("log_retention_days", f"must be at least 365 in production (a year of logs, Control Tower CT.CLOUDWATCH.PR.2), got {retention}")
    t = o.section("thresholds")
    observability = ObservabilityConfig(
        log_retention_days=retention,
        alarm_emails=o.str_list("alarm_emails", pattern=EMAIL, rule="must be an e-mail address", min_items=1),
        metrics_namespace=o.str("metrics_namespace", pattern=METRICS_NAMESPACE, rule="must be a CloudWatch namespace (letters, digits, . _ - / # :)"),
        table_throttle=_threshold(t, "table_throttle"),
        ssm_parameter_failures=_threshold(t, "ssm_parameter_failures"),
        circuit_breaker_triggers=_threshold(t, "circuit_breaker_triggers"),
        lambda_error_rate_percent=_threshold(t, "lambda_error_rate_percent", unit_max=100),
        api_latency_p95_ms=_threshold(t, "api_latency_p95_ms"),
        lambda_throttles=_threshold(t, "lambda_throttles"),
        audit_trail_object_lock=read_object_lock(o, "audit_trail_object_lock", production=name is EnvName.PRODUCTION),
    )
    t.finish()
    o.finish()

    r = reader.section("runtime")
    runtime = RuntimeConfig(
        reserved_concurrency=r.int("reserved_concurrency", minimum=1, maximum=1000),
        memory_mb=r.int("memory_mb", minimum=128, maximum=10240),
        timeout_seconds=r.int("timeout_seconds", minimum=1, maximum=29),
        api_throttle_rate=r.int("api_throttle_rate", minimum=1, maximum=10000),
        api_throttle_burst=r.int("api_throttle_burst", minimum=1, maximum=5000),
        log_level=r.str("log_level", pattern="DEBUG|INFO|WARNING|ERROR", rule="must be DEBUG, INFO, WARNING or ERROR"),
        # How long the Oracle reuses what it read from SSM (lambda/oracle/handler.py).
        parameter_cache_seconds=r.int("parameter_cache_seconds", minimum=0, maximum=300),
    )
    r.finish()
    recovery, budget, audit = _recovery(reader, name, region), _budget(reader), _audit(reader, name)
    reader.finish()

    return policy.checked_aws(AwsEnvironment(
        source=path, name=name, account=account, region=region, name_prefix=name_prefix,
        github=github, data=data, secrets=secrets, observability=observability, runtime=runtime,
        oracle_consumers=oracle_consumers, recovery=recovery, budget=budget, audit_data_events=audit,
    ))

def load_all() -> dict[EnvName, AwsEnvironment]:
    """Both environments, with the rules that span files (one GitHub OIDC provider per account)."""
    configs = {env: load(env) for env in EnvName}
    check_aws_files(configs)
    return configs


GITHUB_ENVIRONMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"


def _oracle_consumers(gh: Reader, env: EnvName) -> tuple[OracleConsumer, ...]:
    """``github.oracle_consumers: {owner/name: {environments: [...]}}``: pinned subjects, no patterns.

    Production roles trust only the GitHub environment ``production`` (SPEC).
    """
    consumers = []
    listed = gh.section("oracle_consumers", default={})
    for repository in map(str, listed._data):
        if not re.fullmatch(GITHUB_REPO, repository):
            raise listed.error(repository, "must be a GitHub repository of the form owner/name")
        sub = listed.section(repository)
        for environment in sub.str_list("environments", pattern=GITHUB_ENVIRONMENT, min_items=1,
                                        rule="must be a GitHub environment name (letters, digits, . _ -; no wildcards)"):
            if env is EnvName.PRODUCTION and environment != "production":
                raise sub.error("environments", f"production roles trust only the GitHub environment 'production', got {environment!r}")
            consumers.append(OracleConsumer(repository, environment))
        sub.finish()
    listed.finish()
    return tuple(consumers)


# Floors: PITR restores lag the present by about five minutes
# (LatestRestorableDateTime), so no table can promise a smaller RPO.
MIN_TABLE_RPO_MINUTES = 5


def _recovery(reader: Reader, env: EnvName, region: str) -> RecoveryConfig:
    rc = reader.section("recovery")
    dr_region = rc.optional_str("dr_region")
    if dr_region is not None and dr_region not in AWS_REGIONS:
        raise rc.error("dr_region", f"{dr_region!r} is not an AWS region")
    if dr_region == region:
        raise rc.error("dr_region", f"must be a second region, not the primary region {region}")
    if env is EnvName.PRODUCTION and dr_region is None:
        raise rc.error("dr_region", "is required in production (backups are copied out of the primary region)")
    objectives_reader = rc.section("objectives")
    objectives = {}
    for store in Store:
        o = objectives_reader.section(store.value)
        floor = MIN_TABLE_RPO_MINUTES if store.table else 1
        objectives[store] = RecoveryObjective(
            rpo_minutes=o.int("rpo_minutes", minimum=floor, maximum=7 * 24 * 60),
            rto_minutes=o.int("rto_minutes", minimum=1, maximum=7 * 24 * 60),
        )
        o.finish()
    objectives_reader.finish()
    rc.finish()
    return RecoveryConfig(dr_region=dr_region, objectives=objectives)


def _budget(reader: Reader) -> BudgetConfig:
    b = reader.section("budget")
    limit = b.number("monthly_limit_usd", minimum=1)
    raw = b._get("alert_thresholds_percent", None)
    if not isinstance(raw, list) or not raw or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw):
        raise b.error("alert_thresholds_percent", "must be a non-empty list of percentages")
    if any(v <= 0 or v > 1000 for v in raw) or sorted(set(raw)) != list(raw):
        raise b.error("alert_thresholds_percent", f"must be increasing percentages between 0 and 1000, got {raw}")
    b.finish()
    return BudgetConfig(monthly_limit_usd=limit, alert_thresholds_percent=tuple(float(v) for v in raw))


def _audit(reader: Reader, env: EnvName) -> tuple[Store, ...]:
    a = reader.section("audit")
    names = a.str_list("data_event_stores", pattern="|".join(s.value for s in Store),
                       rule=f"must be one of {[s.value for s in Store]}")
    stores = tuple(Store(n) for n in names)
    if env is EnvName.PRODUCTION and set(stores) != set(Store):
        raise a.error("data_event_stores", "must list every store in production (seed 003: who read the evidence must be auditable)")
    a.finish()
    return stores
