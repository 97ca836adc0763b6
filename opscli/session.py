"""The AWS session of an ops command.

boto3's normal chain decides everything: ``AWS_PROFILE`` (or the default
profile / SSO / instance role) for credentials, ``AWS_REGION`` for the region,
``AWS_ENDPOINT_URL`` for the endpoint (the local target). Only when no region
is configured anywhere does the environment's configured region apply.
"""
from __future__ import annotations

import os

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from envconfig.aws import AwsConfig

from .errors import OpsError


class Aws:
    def __init__(self, config: AwsConfig, session: boto3.Session | None = None):
        self.config = config
        self.session = session or boto3.Session()
        # botocore reads AWS_DEFAULT_REGION and the profile; the CLI v2 and
        # the CDK read AWS_REGION: honour both, then the environment's region.
        self.region = self.session.region_name or os.environ.get("AWS_REGION") or config.region
        self._clients: dict[str, object] = {}

    def client(self, service: str):
        if service not in self._clients:
            self._clients[service] = self.session.client(service, region_name=self.region)
        return self._clients[service]

    def check_account(self) -> None:
        """Refuse to act on an account other than the environment's."""
        try:
            account = self.client("sts").get_caller_identity()["Account"]
        except (BotoCoreError, ClientError) as exc:
            raise OpsError(f"cannot identify the AWS account of these credentials: {exc}") from None
        if account != self.config.account:
            raise OpsError(
                f"credentials are for account {account}, but {self.config.source} says {self.config.name.value} "
                f"is account {self.config.account}; use the right AWS_PROFILE")

    def stack_name(self, stack: str) -> str:
        """CloudFormation name of one of the environment's stacks: ``Staging-Data``."""
        return f"{self.config.name.stage_id}-{stack}"

    def stack_resources(self, stack: str) -> list[dict]:
        cf = self.client("cloudformation")
        resources, token = [], None
        while True:
            kwargs = {"StackName": self.stack_name(stack)}
            if token:
                kwargs["NextToken"] = token
            page = cf.list_stack_resources(**kwargs)
            resources += page["StackResourceSummaries"]
            token = page.get("NextToken")
            if not token:
                return resources

    def physical_ids(self, stack: str, resource_type: str) -> list[str]:
        return [r["PhysicalResourceId"] for r in self.stack_resources(stack) if r["ResourceType"] == resource_type]


STACKS = ("Data", "Secrets", "Observability", "Oidc", "Runtime")


def secrets_key_alias(config: AwsConfig) -> str:
    """The Secrets stack's key (stacks/secrets.py: alias ``<prefix>-<env>-secrets``)."""
    return f"alias/{config.resource_prefix}-secrets"


def data_key_alias(config: AwsConfig) -> str:
    return f"alias/{config.resource_prefix}-data"
