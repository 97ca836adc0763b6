"""Which approved assembly the account says is deployed: the SSM String
parameter ``<parameter_prefix>deployed-approval`` that ``bin/ops deploy`` and
``rollback`` write after each success, ``{"approval_id", "deployed_at", "by"}``.
A plain ``cdk deploy`` writes none."""
from __future__ import annotations

import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from ..session import Aws


@dataclass(frozen=True)
class Record:
    parameter: str
    approval_id: str | None     # None: no parameter, or one that is not a record
    deployed_at: str | int | None = None   # epoch seconds as bin/ops deploy writes it
    by: str | None = None
    problem: str | None = None  # why the value is not a usable record


def parameter_name(aws: Aws) -> str:
    return aws.config.deployed_approval_parameter


def read(aws: Aws) -> Record:
    name = parameter_name(aws)
    try:
        value = aws.client("ssm").get_parameter(Name=name)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            return Record(name, None)
        raise
    try:
        data = json.loads(value)
        approval_id = data["approval_id"]
    except (ValueError, TypeError, KeyError):
        return Record(name, None, problem=f"not a deployment record: {value[:120]!r}")
    return Record(name, approval_id, data.get("deployed_at"), data.get("by"))
