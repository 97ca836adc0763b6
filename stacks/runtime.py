"""Runtime stack (filled by the observability / OIDC / runtime work)."""

from __future__ import annotations

from constructs import Construct

from envconfig.aws import AwsEnvironment
from stacks.base import EnvironmentStack


class RuntimeStack(EnvironmentStack):
    def __init__(self, scope: Construct, id_: str, *, config: AwsEnvironment) -> None:
        super().__init__(scope, id_, config=config, description=f"Mirror Dissonance runtime ({config.name.value})")
