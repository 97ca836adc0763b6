"""S3 Object Lock on the audit-trail bucket: ``observability.audit_trail_object_lock``.

CloudTrail's log-file validation shows that a log file was changed or
removed; Object Lock stops the change or removal from happening during the
retention period. Each new log file gets the bucket's default retention.

  * ``mode``: ``governance`` (anyone allowed ``s3:BypassGovernanceRetention``
    may still delete; fine for staging, whose account is torn down and
    rebuilt) or ``compliance`` (nobody, the root user included, can delete
    or shorten it before it expires).
  * ``days``: 1 - 3650. The ceiling is a guard against a typo: a compliance
    lock cannot be lifted once an object carries it.

Production must use ``compliance`` for at least 365 days (checked in
:func:`envconfig.policy.check_aws`): the deploy pipeline's CloudFormation
execution role holds AdministratorAccess, which includes the governance
bypass, so a governance lock would not stop the role whose actions the trail
records.
"""

from __future__ import annotations

from enum import Enum

from pydantic.dataclasses import dataclass

from envconfig.models.fields import MODEL_CONFIG, Choice, Int

MAX_LOCK_DAYS = 3650
PRODUCTION_MIN_LOCK_DAYS = 365


class ObjectLockMode(str, Enum):
    GOVERNANCE = "governance"
    COMPLIANCE = "compliance"


@dataclass(frozen=True, config=MODEL_CONFIG)
class ObjectLock:
    """Default retention for every new object in a bucket."""

    mode: Choice(ObjectLockMode)
    days: Int(1, MAX_LOCK_DAYS)
