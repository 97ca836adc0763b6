"""Helpers shared by the localaws tests (imported by name: tests/ is not a package)."""
from __future__ import annotations

import itertools
import json

import boto3

REGION = "us-east-1"
_names = itertools.count()


def client(service: str):
    return boto3.client(service, region_name=REGION)


class Stack:
    """Deploys templates through change sets, as the CDK CLI does."""

    def __init__(self, name: str | None = None):
        self.name = name or f"s{next(_names)}"
        self.cf = client("cloudformation")
        self.exists = False

    def deploy(self, resources: dict, outputs: dict | None = None) -> dict:
        template = {"Resources": resources}
        if outputs:
            template["Outputs"] = outputs
        change_set = f"c{next(_names)}"
        self.cf.create_change_set(StackName=self.name, ChangeSetName=change_set,
                                  ChangeSetType="UPDATE" if self.exists else "CREATE",
                                  TemplateBody=json.dumps(template))
        self.cf.execute_change_set(StackName=self.name, ChangeSetName=change_set)
        self.exists = True
        return self.describe()

    def describe(self) -> dict:
        return self.cf.describe_stacks(StackName=self.name)["Stacks"][0]

    def outputs(self) -> dict:
        return {o["OutputKey"]: o["OutputValue"] for o in self.describe().get("Outputs", [])}

    def events(self) -> list[dict]:
        return self.cf.describe_stack_events(StackName=self.name)["StackEvents"]

    def delete(self) -> None:
        self.cf.delete_stack(StackName=self.name)


