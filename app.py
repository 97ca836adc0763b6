#!/usr/bin/env python3
"""CDK entry point: one Stage per environment (``Staging``, ``Production``).

Configuration is loaded and validated before any construct exists; a bad
value stops here with ``<file>: <field>: <rule>`` and exit status 2, never a
jsii stack trace.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import toolchain
from envconfig import ConfigError
from envconfig.aws import AwsConfig, load_all

toolchain.prefer_supported_node()


def build_app(configs: dict | None = None, *, outdir: str | None = None):
    """Build (but do not synthesize) the app; tests call this with a temp outdir."""
    from aws_cdk import App  # imported late: configuration errors should not pay for jsii start-up

    from stacks.stage import EnvironmentStage

    configs = configs if configs is not None else load_all()
    # The same feature flags as the CLI reads from cdk.json, so that tests
    # building the app in-process synthesize exactly what `cdk synth` does.
    context = json.loads((Path(__file__).resolve().parent / "cdk.json").read_text())["context"]
    app = App(outdir=outdir, context=context) if outdir else App(context=context)
    stages = {env: EnvironmentStage(app, config) for env, config in configs.items()}
    return app, stages


def main() -> int:
    try:
        configs: dict[object, AwsConfig] = load_all()
        # Building checks the environment contract (ContractError is a ConfigError).
        app, _ = build_app(configs)
    except ConfigError as error:
        print(f"configuration error: {error}", file=sys.stderr)
        return 2
    app.synth()
    return 0


if __name__ == "__main__":
    sys.exit(main())
