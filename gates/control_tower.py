"""AWS Control Tower proactive controls as a CDK validation plugin (cfn-guard).

``cdklabs.cdk-validator-cfnguard`` ships Control Tower's guard rules and the
``cfn-guard`` binary itself (docs/policy-gates.md: how it is found, offline
use). Its report leaves each violation's ``severity`` empty. aws-cdk-lib
2.275 reads an empty severity as "error" when it prints the report, but when
it recomputes a report's success after applying acknowledgments it counts
only violations whose severity says "error": once any cfn-guard finding in
a Stage is acknowledged, every other cfn-guard finding of that Stage is
printed and no longer fails synth (``cdk synth '**'`` exits 0).
:class:`ControlTowerChecks` wraps the validator and marks each violation as
the error it is; ``tests/aws/test_control_tower.py`` fails if that
protection is lost.

Each run leaves out the rules that cannot apply to the Stage's templates
(no resource of any type they select): same findings, a fifth of the
guard's time (``control_tower_rules.py``).
"""

from __future__ import annotations

import jsii
from aws_cdk import (
    IPolicyValidationContext,
    IPolicyValidationPlugin,
    PolicyValidationPluginReport,
    PolicyViolatingResource,
    PolicyViolation,
)
from cdklabs.cdk_validator_cfnguard import CfnGuardValidator

from gates.control_tower_rules import rules_without_effect, template_types


@jsii.implements(IPolicyValidationPlugin)
class ControlTowerChecks:
    """Every bundled Control Tower control, each finding an error unless acknowledged.

    Acknowledge with ``cdk-validator-cfnguard::<rule name>`` (the name the
    report prints), at the narrowest construct, with the reason.
    """

    def __init__(self) -> None:
        self._guard = CfnGuardValidator()

    @property
    def name(self) -> str:
        return self._guard.name  # "cdk-validator-cfnguard": the acknowledgment namespace

    @property
    def version(self) -> str | None:
        return self._guard.version

    @property
    def rule_ids(self) -> list[str] | None:
        return self._guard.rule_ids

    def validate(self, context: IPolicyValidationContext) -> PolicyValidationPluginReport:
        present = template_types(context.template_paths)
        report = CfnGuardValidator(disabled_rules=rules_without_effect(present)).validate(context)
        violations = [
            PolicyViolation(
                rule_name=v.rule_name,
                description=v.description,
                fix=v.fix,
                rule_metadata=v.rule_metadata,
                severity=v.severity or "error",
                violating_resources=[
                    PolicyViolatingResource(
                        locations=list(r.locations), resource_logical_id=r.resource_logical_id, template_path=r.template_path,
                    )
                    for r in v.violating_resources
                ],
            )
            for v in report.violations
        ]
        return PolicyValidationPluginReport(success=report.success and not violations, violations=violations,
                                            metadata=report.metadata, plugin_version=report.plugin_version)
