"""One CDK Stage per environment: ``Staging`` and ``Production``, five stacks each."""

from __future__ import annotations

from aws_cdk import Environment, Stage, Tags, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import Construct

from gates.control_tower import ControlTowerChecks
from envconfig.aws import AwsConfig
from stacks.data import DataStack
from stacks.disaster_recovery import DisasterRecoveryStack
from stacks.observability import ObservabilityStack
from stacks.oidc import OidcStack
from stacks.runtime import RuntimeStack
from stacks.secrets import SecretsStack


class EnvironmentStage(Stage):
    """``cdk deploy 'Staging/*'`` deploys exactly this Stage's stacks.

    Stack ids are fixed (``Data``, ``Secrets``, ``Observability``, ``Oidc``,
    ``Runtime``); the environment lives in the Stage id, so CloudFormation
    stack names are ``Staging-Data`` and so on. cdk-nag and AWS Control
    Tower's proactive controls (cfn-guard: gates/control_tower.py) run as
    validation plugins on the Stage (plugins and aspects on the App do not
    reach stacks inside a Stage).
    """

    def __init__(self, scope: Construct, config: AwsConfig) -> None:
        super().__init__(scope, config.name.stage_id, env=Environment(account=config.account, region=config.region))
        self.config = config
        self.data = DataStack(self, "Data", names=config.names, data=config.data, recovery=config.recovery)
        self.secrets = SecretsStack(self, "Secrets", names=config.names)
        self.observability = ObservabilityStack(self, "Observability", config=config)
        self.oidc = OidcStack(self, "Oidc", config=config)
        self.runtime = RuntimeStack(self, "Runtime", names=config.names, runtime=config.runtime, observability=config.observability)
        # Consumers read published values (stacks/base.py) at deploy time, so
        # the producers deploy first: Data, Secrets -> Runtime -> Oidc,
        # Observability (which read the Oracle API id). No exports are involved.
        for consumer in (self.observability, self.oidc, self.runtime):
            consumer.add_stack_dependency(self.data)
            consumer.add_stack_dependency(self.secrets)
        self.oidc.add_stack_dependency(self.runtime)
        # Production DR (config-gated): the copy vault exists before the plan that copies into it.
        self.disaster_recovery = None
        if config.recovery and config.recovery.dr_region:
            self.disaster_recovery = DisasterRecoveryStack(self, "DisasterRecovery", config=config)
            self.data.add_stack_dependency(self.disaster_recovery)
        self.observability.add_stack_dependency(self.runtime)
        Tags.of(self).add("Project", config.name_prefix)
        Tags.of(self).add("Environment", config.name.value)
        Validations.of(self).add_plugins(AwsSolutionsChecks(self), ControlTowerChecks())

    @property
    def stacks(self):
        core = (self.data, self.secrets, self.observability, self.oidc, self.runtime)
        return core + ((self.disaster_recovery,) if self.disaster_recovery else ())
