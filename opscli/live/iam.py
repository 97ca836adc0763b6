"""IAM roles: trust, every inline policy and every attached managed policy."""
from __future__ import annotations

import json
from dataclasses import dataclass

from ..session import Aws


@dataclass(frozen=True)
class Role:
    name: str
    trust: dict
    inline: dict[str, dict]        # policy name -> document
    attached: tuple[str, ...]      # managed policy ARNs


def read(aws: Aws, name: str) -> Role:
    iam = aws.client("iam")
    role = iam.get_role(RoleName=name)["Role"]
    trust = role["AssumeRolePolicyDocument"]
    inline = {}
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=name):
        for policy in page["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            inline[policy] = json.loads(doc) if isinstance(doc, str) else doc
    attached = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=name):
        attached += [p["PolicyArn"] for p in page["AttachedPolicies"]]
    return Role(name, json.loads(trust) if isinstance(trust, str) else trust, inline, tuple(sorted(attached)))
