"""CloudWatch Logs retention: validated days (config) to CDK's enum."""

from __future__ import annotations

from aws_cdk import aws_logs as logs

from envconfig.aws import LOG_RETENTION_DAYS

# CDK's Python enum exposes names only; the days follow CloudWatch's allowed values in order.
_BY_DAYS = dict(zip(sorted(LOG_RETENTION_DAYS), [m for m in logs.RetentionDays if m is not logs.RetentionDays.INFINITE]))


def retention_days(days: int) -> logs.RetentionDays:
    try:
        return _BY_DAYS[days]
    except KeyError:
        raise ValueError(f"{days} is not a CloudWatch Logs retention period ({sorted(_BY_DAYS)})") from None


def days_of(retention: logs.RetentionDays) -> int:
    """The number of days a ``RetentionDays`` member stands for."""
    return {member: days for days, member in _BY_DAYS.items()}[retention]
