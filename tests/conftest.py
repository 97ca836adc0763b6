"""Shared fixtures: the AWS app, synthesized once per test session (tests/aws, and the readiness report in tests/gcp)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

import toolchain
from constructs_lib.gcp import lazy_index
from envconfig.aws import AwsEnvironment, EnvName, load_all

toolchain.prefer_supported_node()
# One jsii kernel serves the whole session, and aws-cdk-lib may start it
# before any GCP test: give it the provider's lazy JavaScript index from the start.
lazy_index.export_for_process()

STACK_IDS = ("Data", "Secrets", "Observability", "Oidc", "Runtime")


@dataclass(frozen=True)
class SynthesizedApp:
    outdir: Path
    configs: dict[EnvName, AwsEnvironment]
    templates: dict[tuple[EnvName, str], dict]

    def template(self, env: EnvName, stack: str) -> dict:
        return self.templates[(env, stack)]

    def template_files(self) -> list[Path]:
        return sorted(self.outdir.glob("assembly-*/*.template.json"))

    def resources(self, env: EnvName, stack: str, type_: str) -> dict[str, dict]:
        return {k: v for k, v in self.template(env, stack)["Resources"].items() if v["Type"] == type_}

    def all_resources(self):
        for (env, stack), template in self.templates.items():
            for logical_id, resource in template.get("Resources", {}).items():
                yield env, stack, logical_id, resource


@pytest.fixture(scope="session")
def aws_app(tmp_path_factory) -> SynthesizedApp:
    from app import build_app

    outdir = tmp_path_factory.mktemp("cdk.out")
    configs = load_all()
    app, stages = build_app(configs, outdir=str(outdir))
    assembly = app.synth()
    templates = {}
    for env, stage in stages.items():
        for stack in stage.stacks:
            artifact = assembly.get_nested_assembly(stage.artifact_id).get_stack_artifact(stack.artifact_id)
            templates[(env, stack.node.id)] = artifact.template
    return SynthesizedApp(outdir, configs, templates)


@pytest.fixture(params=list(EnvName), ids=lambda e: e.value)
def env(request) -> EnvName:
    return request.param
