"""The one home of the environment's stack list and of the stack states.

The core stacks exist in every environment; ``DisasterRecovery`` exists when
``recovery.dr_region`` is set (production) and lives in that second region,
so a reader of it needs a session there (:func:`regional`).
"""
from __future__ import annotations

import copy

from botocore.exceptions import ClientError

from envconfig.aws import AwsConfig

from ..errors import OpsError
from ..session import Aws

CORE = ("Data", "Secrets", "Observability", "Oidc", "Runtime")
DISASTER_RECOVERY = "DisasterRecovery"
# Deploy order of a Stage (stacks/stage.py): producers of published values first.
DEPLOY_ORDER = (DISASTER_RECOVERY, "Data", "Secrets", "Runtime", "Oidc", "Observability")

# A stack whose last operation completed: its template is what runs.
HEALTHY = frozenset({"CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"})
# An update that was rolled back also left a working stack (the previous
# template runs): adopt may leave it alone, verify still refuses to compare it.
ROLLED_BACK_UPDATE = frozenset({"UPDATE_ROLLBACK_COMPLETE", "IMPORT_ROLLBACK_COMPLETE"})
USABLE = HEALTHY | ROLLED_BACK_UPDATE
# A failed first create: the stack cannot be updated, only deleted (retained resources stay).
DEAD = frozenset({"ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "DELETE_FAILED", "REVIEW_IN_PROGRESS"})


class StackProblem(OpsError):
    """A stack of the environment is missing, failed or rolled back: nothing to compare (exit 3)."""


def keys(config: AwsConfig) -> tuple[str, ...]:
    """Every stack of the environment, DisasterRecovery included where it is configured."""
    dr = config.recovery.dr_region if config.recovery else None
    return CORE + ((DISASTER_RECOVERY,) if dr else ())


def region_of(config: AwsConfig, key: str, default: str) -> str:
    if key == DISASTER_RECOVERY and config.recovery and config.recovery.dr_region:
        return config.recovery.dr_region
    return default


def regional(aws: Aws, key: str) -> Aws:
    """The session that reads stack ``key``: the same one, or a copy in the DR region."""
    region = region_of(aws.config, key, aws.region)
    if region == aws.region:
        return aws
    other = copy.copy(aws)
    other.region, other._clients = region, {}
    return other


def statuses(aws: Aws) -> dict[str, str]:
    """CloudFormation status of each stack by name (``MISSING`` when it does not exist)."""
    found = {}
    for key in keys(aws.config):
        name = aws.stack_name(key)
        try:
            found[name] = regional(aws, key).client("cloudformation").describe_stacks(StackName=name)["Stacks"][0]["StackStatus"]
        except ClientError as exc:
            if "does not exist" not in exc.response["Error"].get("Message", ""):
                raise
            found[name] = "MISSING"
    return found


def unhealthy(found: dict[str, str]) -> dict[str, str]:
    return {name: status for name, status in found.items() if status not in HEALTHY}


def check(aws: Aws) -> dict[str, str]:
    """Every stack's status; raises StackProblem when one is missing, failed or rolled back."""
    found = statuses(aws)
    bad = unhealthy(found)
    if bad:
        described = ", ".join(f"{name} is {status}" for name, status in bad.items())
        raise StackProblem(f"{described}: nothing to compare until it is deployed again (see docs/runbooks/incident.md)")
    return found
