"""The AWS environment file (``config/aws/<env>.yaml``), one model per section.

Bounds that a value can break alone live here, next to the field; rules
across fields, the production floors and the rules across files are
functions over these models (:mod:`envconfig.policy`, :mod:`envconfig.limits`,
:mod:`envconfig.cross`, :mod:`envconfig.aws`).
"""

from __future__ import annotations

from dataclasses import dataclass as dataclass_std
from enum import Enum
from pathlib import Path
from typing import Optional

import boto3
from pydantic import Field
from pydantic.dataclasses import dataclass
from pydantic.json_schema import SkipJsonSchema

from envconfig.audit_trail import ObjectLock
from envconfig.models.common import Environment
from envconfig.models.fields import (
    MODEL_CONFIG, Bool, Choice, ChoiceList, IncreasingNumbers, Int, Number, OptStr, Section, Str, StrList, fail,
)
from envconfig.patterns import EMAIL, GITHUB_REPO, GITHUB_REPO_RULE

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
GITHUB_ENVIRONMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,254}"
# Longest grace period a nonce rotation may promise (the config's and --grace's cap).
NONCE_GRACE_MAX_SECONDS = 7 * 24 * 3600
# Recovery objectives are at most a week.
MAX_OBJECTIVE_MINUTES = 7 * 24 * 60




class TableName(str, Enum):
    """The three Oracle tables (docs/requirements.md#tables)."""

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
    """Alarm severities; thresholds are keyed by them (docs/requirements.md#alarms)."""

    CRITICAL = "Critical"
    WARNING = "Warning"


def _check_region(region: str) -> None:
    if region not in AWS_REGIONS:
        raise fail(f"{region!r} is not an AWS region (known: {', '.join(sorted(AWS_REGIONS))})")


def _check_dr_region(region: str) -> None:
    if region not in AWS_REGIONS:
        raise fail(f"{region!r} is not an AWS region")


@dataclass(frozen=True, config=MODEL_CONFIG)
class OracleConsumerSettings:
    environments: StrList(GITHUB_ENVIRONMENT, "must be a GitHub environment name (letters, digits, . _ -; no wildcards)",
                          min_items=1)


@dataclass(frozen=True, config=MODEL_CONFIG)
class OracleConsumer:
    """A repository whose workflows call the Oracle, from one GitHub environment."""

    repository: str
    environment: str

    @property
    def subject(self) -> str:
        return f"repo:{self.repository}:environment:{self.environment}"


@dataclass(frozen=True, config=MODEL_CONFIG)
class GitHubConfig:
    # The repository whose workflows deploy, plan, drill and smoke-test this
    # environment (the same value as the GCP files': docs/requirements.md#trust).
    infrastructure_repository: Str(GITHUB_REPO, GITHUB_REPO_RULE)
    create_oidc_provider: Bool
    existing_oidc_provider_arn: OptStr(
        OIDC_PROVIDER_ARN,
        "must be the ARN of the GitHub OIDC provider: arn:aws:iam::<account>:oidc-provider/token.actions.githubusercontent.com")
    max_session_hours: Int(1, 12) = 1
    # ``{owner/name: {environments: [...]}}``: pinned subjects, no patterns.
    oracle_consumers: Section(OracleConsumerSettings, key=Str(GITHUB_REPO, "must be a GitHub repository of the form owner/name")) \
        = Field(default_factory=dict)

    @property
    def repository(self) -> str:
        """The former name of :attr:`infrastructure_repository`, kept for callers."""
        return self.infrastructure_repository


@dataclass(frozen=True, config=MODEL_CONFIG)
class DataConfig:
    pitr_recovery_period_days: Int(1, 35)
    backup_retention_days: Int(1, 36500)
    deletion_protection: Bool
    noncurrent_version_expiration_days: Int(1, 3650)


@dataclass(frozen=True, config=MODEL_CONFIG)
class SecretsConfig:
    nonce_grace_period_seconds: Int(0, NONCE_GRACE_MAX_SECONDS)


@dataclass(frozen=True, config=MODEL_CONFIG)
class Threshold:
    """One alarm rule: fire when the statistic over ``period_minutes`` is above ``value`` (``threshold:`` in the file)."""

    value: Number(0) = Field(alias="threshold")
    period_minutes: Int(1, 1440) = Field()
    severity: Choice(Severity) = Field()


@dataclass(frozen=True, config=MODEL_CONFIG)
class PercentThreshold(Threshold):
    """A threshold on a percentage: at most 100."""

    value: Number(0, 100) = Field(alias="threshold")


@dataclass(frozen=True, config=MODEL_CONFIG)
class ThresholdsConfig:
    table_throttle: Threshold
    ssm_parameter_failures: Threshold
    circuit_breaker_triggers: Threshold
    lambda_error_rate_percent: PercentThreshold
    api_latency_p95_ms: Threshold
    lambda_throttles: Threshold


@dataclass(frozen=True, config=MODEL_CONFIG)
class SlackConfig:
    """AWS Chatbot delivers the alert topic to one Slack channel (off unless configured).

    The workspace is authorised once in the AWS Chatbot console (OAuth); these
    are its ids, not credentials."""

    workspace_id: Str(r"T[A-Z0-9]{8,}", "must be a Slack workspace (team) id such as T0123ABCD")
    channel_id: Str(r"[CG][A-Z0-9]{8,}", "must be a Slack channel id such as C0123ABCDE")


@dataclass(frozen=True, config=MODEL_CONFIG)
class ObservabilityConfig:
    log_retention_days: Int(allowed=LOG_RETENTION_DAYS, allowed_rule="must be one of CloudWatch's allowed values")
    alarm_emails: StrList(EMAIL, "must be an e-mail address", min_items=1)
    metrics_namespace: Str(METRICS_NAMESPACE, "must be a CloudWatch namespace (letters, digits, . _ - / # :)")
    thresholds: ThresholdsConfig
    audit_trail_object_lock: ObjectLock
    # Slack routing of the alert topic (docs/requirements.md#alarms), off by default.
    slack: Optional[SlackConfig] = None

    # The thresholds by name, as the stacks read them.
    table_throttle = property(lambda self: self.thresholds.table_throttle)
    ssm_parameter_failures = property(lambda self: self.thresholds.ssm_parameter_failures)
    circuit_breaker_triggers = property(lambda self: self.thresholds.circuit_breaker_triggers)
    lambda_error_rate_percent = property(lambda self: self.thresholds.lambda_error_rate_percent)
    api_latency_p95_ms = property(lambda self: self.thresholds.api_latency_p95_ms)
    lambda_throttles = property(lambda self: self.thresholds.lambda_throttles)


@dataclass(frozen=True, config=MODEL_CONFIG)
class RuntimeConfig:
    reserved_concurrency: Int(1, 1000)
    memory_mb: Int(128, 10240)
    timeout_seconds: Int(1, 29)
    api_throttle_rate: Int(1, 10000)
    api_throttle_burst: Int(1, 5000)
    log_level: Str("DEBUG|INFO|WARNING|ERROR", "must be DEBUG, INFO, WARNING or ERROR")
    # How long the Oracle reuses what it read from SSM (lambda/oracle/handler.py).
    parameter_cache_seconds: Int(0, 300)


@dataclass(frozen=True, config=MODEL_CONFIG)
class RecoveryObjective:
    """How much data a store may lose (RPO) and how long it may take to get it back (RTO)."""

    rpo_minutes: Int(1, MAX_OBJECTIVE_MINUTES)
    rto_minutes: Int(1, MAX_OBJECTIVE_MINUTES)


@dataclass(frozen=True, config=MODEL_CONFIG)
class RecoveryConfig:
    """``dr_region``: AWS Backup copies every recovery point to a vault there (None: no copy).

    ``objectives`` names every store (checked by the loader, with each store's RPO floor).
    """

    objectives: Section(RecoveryObjective, key=Choice(Store))
    dr_region: Optional[Str(check=_check_dr_region)] = None


@dataclass(frozen=True, config=MODEL_CONFIG)
class BudgetConfig:
    """Monthly AWS Budget of the environment's account; alerts at each percentage of the limit."""

    monthly_limit_usd: Number(1)
    alert_thresholds_percent: IncreasingNumbers(whole=False, low=0, high=1000, rule="must be a non-empty list of percentages",
                                                order_rule="must be increasing percentages between 0 and 1000")


@dataclass(frozen=True, config=MODEL_CONFIG)
class AuditConfig:
    data_event_stores: ChoiceList(Store)


@dataclass_std(frozen=True)
class AwsNaming:
    """The physical names of one environment's resources: from the prefix, the environment and the account only.

    What a stack needs to name things without receiving the whole environment
    (``config.names``); the environment offers the same names itself.
    """

    name_prefix: str
    name: Environment
    account: str

    def table_name(self, table: TableName) -> str:
        """``mirror-dissonance-<table>-<env>`` (docs/requirements.md#naming)."""
        return f"{self.name_prefix}-{table.value}-{self.name.value}"

    @property
    def table_prefix(self) -> str:
        return f"{self.name_prefix}-"

    @property
    def parameter_prefix(self) -> str:
        """``/mirror-dissonance/<env>/`` (the Oracle's SSM_PARAMETER_PREFIX)."""
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

    @property
    def is_production(self) -> bool:
        return self.name is Environment.PRODUCTION


@dataclass(frozen=True, config=MODEL_CONFIG)
class AwsConfig:
    """Everything one AWS environment is built from. Frozen: read once, never changed."""

    environment: Choice(Environment)
    account: Str(ACCOUNT_ID, "must be a 12-digit AWS account id (quote it in YAML so leading zeros survive)")
    region: Str(check=_check_region)
    name_prefix: Str(NAME_PREFIX, "must be 4-27 lowercase letters, digits or '-', starting with a letter "
                                  "(longer prefixes make bucket names over 63 characters)")
    github: GitHubConfig
    data: DataConfig
    secrets: SecretsConfig
    observability: ObservabilityConfig
    runtime: RuntimeConfig
    recovery: RecoveryConfig
    budget: BudgetConfig
    audit: AuditConfig
    # The file it was read from (the loader's, never a setting of the file).
    source: SkipJsonSchema[Path] = Field(default=Path(), exclude=True)

    @property
    def name(self) -> Environment:
        return self.environment

    @property
    def oracle_consumers(self) -> tuple[OracleConsumer, ...]:
        return tuple(OracleConsumer(repository, environment)
                     for repository, settings in self.github.oracle_consumers.items() for environment in settings.environments)

    @property
    def audit_data_events(self) -> tuple[Store, ...]:
        return self.audit.data_event_stores

    def github_environment_subject(self, environment: str) -> str:
        """The exact OIDC ``sub`` of a job of the infrastructure repository in GitHub environment ``environment``."""
        return f"repo:{self.github.infrastructure_repository}:environment:{environment}"

    @property
    def names(self) -> AwsNaming:
        """The environment's physical names (what the stacks receive instead of the whole environment)."""
        return AwsNaming(self.name_prefix, self.name, self.account)

    @property
    def github_subjects(self) -> tuple[str, ...]:
        """The deploy role's exact OIDC ``sub``: GitHub environment ``<env>`` only.

        No ``ref:`` subject: a branch subject bypasses the environment's
        protection for any job on that branch (docs/requirements.md#trust).
        """
        return (self.github_environment_subject(self.name.value),)

    @property
    def plan_subject(self) -> str:
        """OIDC ``sub`` of the read-only plan job (GitHub environment ``<env>-plan``).

        It may assume only the CDK lookup role: enough for ``cdk diff``, never a deploy.
        """
        return self.github_environment_subject(f"{self.name.value}-plan")

    @property
    def oracle_smoke_subject(self) -> str:
        """OIDC ``sub`` of the job that smoke-tests the deployed Oracle as the Oracle role (``<env>-oracle``)."""
        return self.github_environment_subject(f"{self.name.value}-oracle")

    @property
    def oracle_subjects(self) -> tuple[str, ...]:
        """The Oracle role's exact ``sub`` values: the smoke job's environment only.

        Consumers get the consumer role (:attr:`consumer_subjects`), never this one.
        """
        return (self.oracle_smoke_subject,)

    @property
    def consumer_subjects(self) -> tuple[str, ...]:
        """The consumer role's exact ``sub`` values: one per consumer repository and environment."""
        return tuple(c.subject for c in self.oracle_consumers)

    @property
    def restore_drill_subject(self) -> str:
        """OIDC ``sub`` of the restore drill (GitHub environment ``<env>-drill``; production's requires reviewers)."""
        return self.github_environment_subject(f"{self.name.value}-drill")

    @property
    def role_subjects(self) -> dict[str, tuple[str, ...]]:
        """Purpose -> the subjects its role trusts; no subject may appear under two purposes."""
        return {"deploy": self.github_subjects, "plan": (self.plan_subject,), "oracle": self.oracle_subjects,
                "consumer": self.consumer_subjects, "restore-drill": (self.restore_drill_subject,)}


# The names, as the environment has always offered them: config.table_name(...), config.parameter_prefix, ...
NAMING_ATTRIBUTES = ('table_name', 'table_prefix', 'parameter_prefix', 'nonce_parameter', 'nonce_rotation_parameter', 'nonce_lock_parameter', 'deploy_lock_parameter', 'deployed_approval_parameter', 'github_token_parameter', 'secure_parameters', 'resource_prefix', 'restore_drill_table', 'baselines_bucket', 'dr_resource_prefix', 'is_production')
for _attribute in NAMING_ATTRIBUTES:
    setattr(AwsConfig, _attribute, property(lambda self, _a=_attribute: getattr(self.names, _a)))
