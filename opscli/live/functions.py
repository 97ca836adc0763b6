"""Lambda functions as deployed: configuration, code hash, resource policy."""
from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass

from botocore.exceptions import ClientError

from ..session import Aws


@dataclass(frozen=True)
class Permission:
    sid: str
    principal: object          # "*" or {"Service": ...} / {"AWS": ...}
    action: object
    source_arn: str | None
    source_account: str | None


@dataclass(frozen=True)
class Function:
    name: str
    code_sha256: str
    runtime: str | None
    handler: str | None
    role: str | None
    permissions: tuple[Permission, ...]


def _condition(statement: dict, key: str) -> str | None:
    for pairs in (statement.get("Condition") or {}).values():
        for k, v in pairs.items():
            if k.lower() == key.lower():
                return v if isinstance(v, str) else json.dumps(v)
    return None


def permissions(policy: str | dict | None) -> tuple[Permission, ...]:
    doc = json.loads(policy) if isinstance(policy, str) else (policy or {})
    statements = doc.get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    return tuple(Permission(s.get("Sid", ""), s.get("Principal"), s.get("Action"),
                            _condition(s, "AWS:SourceArn"), _condition(s, "AWS:SourceAccount")) for s in statements)


def read(aws: Aws, name: str) -> Function:
    lam = aws.client("lambda")
    conf = lam.get_function_configuration(FunctionName=name)
    try:
        policy = lam.get_policy(FunctionName=name)["Policy"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ResourceNotFoundException":
            raise
        policy = None  # no resource policy at all
    return Function(conf["FunctionName"], conf.get("CodeSha256", ""), conf.get("Runtime"), conf.get("Handler"),
                    conf.get("Role"), permissions(policy))


def object_sha256(aws: Aws, bucket: str, key: str) -> str:
    """Lambda's CodeSha256 of a package stored in S3: base64 of its SHA-256."""
    body = aws.client("s3").get_object(Bucket=bucket, Key=key)["Body"]
    digest = hashlib.sha256()
    for chunk in iter(lambda: body.read(1 << 20), b""):
        digest.update(chunk)
    return base64.b64encode(digest.digest()).decode()
