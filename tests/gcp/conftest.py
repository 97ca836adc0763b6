"""The GCP app, synthesized once per test session and shared by every GCP test.

Starting jsii and the provider's assembly costs about a second even with the
lazy loading of constructs_lib/gcp/tf.py; synthesizing both stacks about
another. Every test reads the JSON written here; construct-level tests build
bare stacks in the same process (the start-up is already paid).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pytest

from envconfig.gcp import Environment, GcpConfig, load_environment


@dataclass(frozen=True)
class SynthesizedStack:
    config: GcpConfig
    path: Path  # cdk.tf.json
    doc: dict
    stack: object  # stacks.gcp.platform.GcpPlatformStack (typed loosely: no cdktf import here)

    def resources(self, type_: str) -> dict[str, dict]:
        return dict(self.doc.get("resource", {}).get(type_, {}))

    def one(self, type_: str, path_part: str) -> dict:
        """The single resource of ``type_`` whose construct path contains ``path_part``."""
        found = [r for r in self.resources(type_).values() if path_part in r["//"]["metadata"]["path"]]
        assert len(found) == 1, f"expected one {type_} at *{path_part}*, found {len(found)}"
        return found[0]

    def all_resources(self) -> Iterator[tuple[str, str, dict]]:
        for type_, items in self.doc.get("resource", {}).items():
            for name, body in items.items():
                yield type_, name, body

    def ref(self, type_: str, path_part: str, attribute: str = "id") -> str:
        """The ``${type.name.attr}`` reference to a resource, as other resources use it."""
        names = [n for n, r in self.resources(type_).items() if path_part in r["//"]["metadata"]["path"]]
        assert len(names) == 1, f"expected one {type_} at *{path_part}*, found {names}"
        return f"${{{type_}.{names[0]}.{attribute}}}"


@pytest.fixture(scope="session")
def gcp_synth(tmp_path_factory) -> dict[Environment, SynthesizedStack]:
    from constructs_lib.gcp import tf
    from stacks.gcp.platform import GcpPlatformStack

    outdir = tmp_path_factory.mktemp("cdktf.out")
    app = tf.App(outdir=str(outdir))
    stacks = {env: GcpPlatformStack(app, config=load_environment(env)) for env in Environment}
    app.synth()
    result = {}
    for env, stack in stacks.items():
        path = outdir / "stacks" / f"gcp-{env.value}" / "cdk.tf.json"
        result[env] = SynthesizedStack(stack.config, path, json.loads(path.read_text()), stack)
    return result


@pytest.fixture(scope="session")
def gcp_checkov(gcp_synth) -> dict:
    """checkov over both stacks' cdk.tf.json in one run (its start-up costs seconds), split per environment."""
    from gates.checkov import run_checkov_per_file

    by_path = run_checkov_per_file([s.path for s in gcp_synth.values()], framework="terraform_json", cloud="gcp")
    return {env: by_path[s.path] for env, s in gcp_synth.items()}


@pytest.fixture(params=list(Environment), ids=lambda e: e.value)
def synth(request, gcp_synth) -> SynthesizedStack:
    """Each test that takes ``synth`` runs once per environment."""
    return gcp_synth[request.param]
