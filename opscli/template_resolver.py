"""What was deployed: each stack's template with its values resolved to the
live physical names, so ``verify`` and ``detect-drift`` compare whole
documents (trust and key policies, alarm actions, backup rules) with the
resources, not a hand-picked subset of fields.

The template is the deployed one (CloudFormation GetTemplate) or, with
``assembly``, the synthesized cloud assembly. Intrinsics are resolved the way
CloudFormation resolved them: ``Ref`` and ``Fn::GetAtt`` of resources of the
same stack from their physical ids, pseudo parameters from the session,
``Fn::Join`` / ``Fn::Sub`` / ``Fn::Select`` / ``Fn::Split``, and
``{{resolve:ssm:NAME}}`` dynamic references by reading the (plain String)
parameter. What cannot be resolved (``Fn::ImportValue``, secure dynamic
references, conditions) is ``UNRESOLVED`` and never compared.

A stack that is missing, failed or rolled back is ``StackProblem``: its own
outcome (exit 3 in ``bin/ops``), since nothing in it can be compared.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from . import assembly as cloud_assembly
from .errors import OpsError
from .live import stacks as live_stacks
from .live.stacks import StackProblem  # noqa: F401  (raised by load)
from .session import Aws

UNRESOLVED = type("Unresolved", (), {"__repr__": lambda self: "UNRESOLVED"})()


@dataclass
class Stack:
    key: str                      # "Data"
    name: str                     # "Staging-Data"
    template: dict
    physical: dict[str, str]      # logical id -> physical id
    types: dict[str, str] = field(default_factory=dict)
    region: str = ""              # where it is deployed (DisasterRecovery: the DR region)

    def resources(self, type_: str) -> list[tuple[str, dict]]:
        return [(lid, r) for lid, r in self.template.get("Resources", {}).items() if r.get("Type") == type_]


def assembly_stacks(aws: Aws, root: Path) -> dict[str, cloud_assembly.Stack]:
    """The environment's stacks in a cloud assembly, by CloudFormation name (opscli/assembly.py reads it)."""
    stage = aws.config.name.stage_id
    try:
        return cloud_assembly.read(root).stage(stage).stacks
    except cloud_assembly.AssemblyError as exc:
        raise OpsError(str(exc)) from None


def _assembly_template(aws: Aws, assembly: Path, name: str) -> dict:
    stacks = assembly_stacks(aws, assembly)
    if name not in stacks:
        raise OpsError(f"no template for {name} in {assembly} (it holds {sorted(stacks)})")
    return stacks[name].template


def deployed_template(aws: Aws, key: str) -> dict:
    body = live_stacks.regional(aws, key).client("cloudformation").get_template(StackName=aws.stack_name(key))["TemplateBody"]
    return body if isinstance(body, dict) else json.loads(body)


def load(aws: Aws, assembly: Path | None = None, templates: dict[str, dict] | None = None) -> dict[str, Stack]:
    """Every stack of the environment; raises StackProblem first if one is not healthy.

    The expected template of each stack is, in order: ``templates[key]`` (the
    approved assembly's), the cloud assembly at ``assembly``, or the deployed one."""
    live_stacks.check(aws)
    stacks = {}
    for key in live_stacks.keys(aws.config):
        name = aws.stack_name(key)
        regional = live_stacks.regional(aws, key)
        if templates is not None and key in templates:
            template = templates[key]
        elif assembly is not None:
            template = _assembly_template(aws, assembly, name)
        else:
            template = deployed_template(aws, key)
        summaries = regional.stack_resources(key)
        stacks[key] = Stack(key, name, template, {r["LogicalResourceId"]: r["PhysicalResourceId"] for r in summaries},
                            {r["LogicalResourceId"]: r["ResourceType"] for r in summaries}, regional.region)
    return stacks


class Resolver:
    """Resolves template values of one environment against its live stacks."""

    def __init__(self, aws: Aws, stacks: dict[str, Stack]):
        self.aws = aws
        self.stacks = stacks
        self.region = aws.region
        self.account = aws.config.account
        self.partition = "aws-cn" if self.region.startswith("cn-") else "aws-us-gov" if self.region.startswith("us-gov-") else "aws"
        self._ssm: dict[str, Any] = {}

    # -- pseudo parameters and attributes -----------------------------------
    def _pseudo(self, name: str, region: str | None = None) -> Any:
        return {"AWS::Partition": self.partition, "AWS::Region": region or self.region, "AWS::AccountId": self.account,
                "AWS::URLSuffix": "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com",
                "AWS::NoValue": UNRESOLVED}.get(name, UNRESOLVED)

    def _ref(self, stack: Stack, name: str) -> Any:
        if name.startswith("AWS::"):
            return self._pseudo(name, stack.region or None)
        if name in stack.physical:
            return stack.physical[name]
        return UNRESOLVED  # a template parameter or a resource not created

    def _getatt(self, stack: Stack, logical: str, attr: str) -> Any:
        pid = stack.physical.get(logical)
        type_ = stack.template.get("Resources", {}).get(logical, {}).get("Type")
        if pid is None or type_ is None:
            return UNRESOLVED
        p, r, a = self.partition, stack.region or self.region, self.account
        arns = {
            ("AWS::KMS::Key", "Arn"): f"arn:{p}:kms:{r}:{a}:key/{pid}",
            ("AWS::KMS::Key", "KeyId"): pid,
            ("AWS::IAM::Role", "Arn"): f"arn:{p}:iam::{a}:role/{pid}",
            ("AWS::IAM::Role", "RoleId"): UNRESOLVED,
            ("AWS::Logs::LogGroup", "Arn"): f"arn:{p}:logs:{r}:{a}:log-group:{pid}:*",
            ("AWS::S3::Bucket", "Arn"): f"arn:{p}:s3:::{pid}",
            ("AWS::S3::Bucket", "DomainName"): f"{pid}.s3.amazonaws.com",
            ("AWS::SNS::Topic", "TopicArn"): pid,
            ("AWS::SNS::Topic", "TopicName"): pid.rsplit(":", 1)[-1],
            ("AWS::Lambda::Function", "Arn"): f"arn:{p}:lambda:{r}:{a}:function:{pid}",
            ("AWS::DynamoDB::GlobalTable", "Arn"): f"arn:{p}:dynamodb:{r}:{a}:table/{pid}",
            ("AWS::DynamoDB::Table", "Arn"): f"arn:{p}:dynamodb:{r}:{a}:table/{pid}",
            ("AWS::Backup::BackupVault", "BackupVaultName"): pid,
            ("AWS::Backup::BackupVault", "BackupVaultArn"): f"arn:{p}:backup:{r}:{a}:backup-vault:{pid}",
            ("AWS::Backup::BackupPlan", "BackupPlanId"): pid,
            ("AWS::IAM::OIDCProvider", "Arn"): pid,
            ("AWS::IAM::ManagedPolicy", "PolicyArn"): pid,
            ("AWS::CloudWatch::Alarm", "Arn"): f"arn:{p}:cloudwatch:{r}:{a}:alarm:{pid}",
            ("AWS::CloudTrail::Trail", "Arn"): f"arn:{p}:cloudtrail:{r}:{a}:trail/{pid}",
            ("AWS::ApiGatewayV2::Api", "ApiId"): pid,
            ("AWS::ApiGatewayV2::Api", "ApiEndpoint"): f"https://{pid}.execute-api.{r}.amazonaws.com",
            ("AWS::ApiGatewayV2::Integration", "IntegrationId"): pid,
        }
        return arns.get((type_, attr), UNRESOLVED)

    def _dynamic(self, text: str) -> Any:
        def lookup(match: re.Match) -> str:
            service, rest = match.group(1), match.group(2)
            if service != "ssm":
                raise LookupError  # ssm-secure / secretsmanager: secret values are never read here
            name, _, version = rest.partition(":")
            key = f"{name}:{version}" if version else name
            if key not in self._ssm:
                try:
                    self._ssm[key] = self.aws.client("ssm").get_parameter(Name=key)["Parameter"]["Value"]
                except ClientError:
                    self._ssm[key] = None
            if self._ssm[key] is None:
                raise LookupError
            return self._ssm[key]

        try:
            return re.sub(r"\{\{resolve:([a-z-]+):([^}]+)\}\}", lookup, text)
        except LookupError:
            return UNRESOLVED

    # -- the walk ------------------------------------------------------------
    def resolve(self, stack: Stack, value: Any) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (fn, arg), = value.items()
                if fn == "Ref":
                    return self._ref(stack, arg)
                if fn == "Fn::GetAtt":
                    logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
                    return self._getatt(stack, logical, attr)
                if fn == "Fn::Join":
                    parts = self.resolve(stack, arg[1])
                    if parts is UNRESOLVED:
                        return UNRESOLVED
                    return self.resolve(stack, arg[0].join(str(p) for p in parts))
                if fn == "Fn::Sub":
                    return self._sub(stack, arg)
                if fn == "Fn::Select":
                    index, items = self.resolve(stack, arg[0]), self.resolve(stack, arg[1])
                    return UNRESOLVED if UNRESOLVED in (index, items) else items[int(index)]
                if fn == "Fn::Split":
                    text = self.resolve(stack, arg[1])
                    return UNRESOLVED if text is UNRESOLVED else text.split(arg[0])
                if fn.startswith("Fn::") or fn == "Condition":
                    return UNRESOLVED
            out = {k: self.resolve(stack, v) for k, v in value.items()}
            return UNRESOLVED if any(v is UNRESOLVED for v in out.values()) else out
        if isinstance(value, list):
            out = [self.resolve(stack, v) for v in value]
            return UNRESOLVED if any(v is UNRESOLVED for v in out) else out
        if isinstance(value, str) and "{{resolve:" in value:
            return self._dynamic(value)
        return value

    def _sub(self, stack: Stack, arg: Any) -> Any:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {k: self.resolve(stack, v) for k, v in variables.items()}

        def one(match: re.Match) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                value = values[name]
            elif "." in name and not name.startswith("AWS::"):
                value = self._getatt(stack, *name.split(".", 1))
            else:
                value = self._ref(stack, name)
            if value is UNRESOLVED:
                raise LookupError
            return str(value)

        try:
            return self.resolve(stack, re.sub(r"\$\{([^}]+)\}", one, text))
        except LookupError:
            return UNRESOLVED

    def props(self, stack: Stack, logical: str) -> dict:
        """The resource's properties, each resolved (UNRESOLVED where it cannot be)."""
        raw = stack.template["Resources"][logical].get("Properties", {}) or {}
        return {k: self.resolve(stack, v) for k, v in raw.items()}


# ---- canonical forms for comparison ---------------------------------------

def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


def _leaf(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def policy(doc: Any) -> Any:
    """An IAM/KMS/S3/SNS policy document in a canonical form: statement order,
    one-element lists, number-vs-string and key order do not matter, but
    every statement, action, principal, condition operator and value does."""
    if isinstance(doc, str):
        from urllib.parse import unquote

        doc = json.loads(unquote(doc) if doc.startswith("%7B") else doc)
    if not isinstance(doc, dict):
        return doc
    statements = []
    for statement in _as_list(doc.get("Statement", [])):
        canon: dict[str, Any] = {}
        for key, value in statement.items():
            if key in ("Action", "NotAction", "Resource", "NotResource"):
                canon[key] = sorted(_leaf(v) for v in _as_list(value))
            elif key in ("Principal", "NotPrincipal"):
                canon[key] = "*" if value == "*" else {k: sorted(_leaf(x) for x in _as_list(v)) for k, v in value.items()}
            elif key == "Condition":
                canon[key] = {op: {k: sorted(_leaf(x) for x in _as_list(v)) for k, v in pairs.items()}
                              for op, pairs in value.items()}
            else:
                canon[key] = _leaf(value)
        statements.append(canon)
    out = {k: _leaf(v) for k, v in doc.items() if k != "Statement"}
    out["Statement"] = sorted(statements, key=lambda s: json.dumps(s, sort_keys=True))
    return out


def norm(value: Any) -> Any:
    """Generic canonical form: 10 == 10.0 == "10", True == "true", dict key order."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value.lower() if value.lower() in ("true", "false") else value
    if isinstance(value, list):
        return [norm(v) for v in value]
    if isinstance(value, dict):
        return {k: norm(v) for k, v in value.items()}
    return value


def short(value: Any, limit: int = 400) -> str:
    """A value for a one-line message."""
    text = json.dumps(value, sort_keys=True, default=str) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


def diff_policy(expected: Any, actual: Any) -> str:
    """What differs between two canonical policies, statement by statement."""
    exp = {json.dumps(s, sort_keys=True) for s in expected.get("Statement", [])} if isinstance(expected, dict) else set()
    act = {json.dumps(s, sort_keys=True) for s in actual.get("Statement", [])} if isinstance(actual, dict) else set()
    parts = []
    if act - exp:
        parts.append("unexpected statement(s) " + "; ".join(sorted(act - exp)))
    if exp - act:
        parts.append("missing statement(s) " + "; ".join(sorted(exp - act)))
    return " | ".join(parts) or f"expected {short(expected)}, actual {short(actual)}"
