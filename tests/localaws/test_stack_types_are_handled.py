"""Every resource type our synthesized stacks use has a handler in the local
target, so a new type is caught here (with its name) before the end-to-end
deploy refuses it."""
from __future__ import annotations

from localaws.cfn import engine


def test_every_stack_type_has_a_handler(aws_app):
    missing = {f"{env.value}/{stack}": engine.unhandled_types(template)
               for (env, stack), template in aws_app.templates.items() if engine.unhandled_types(template)}
    assert not missing, (
        f"resource types without a local-target handler: {missing}; add one in localaws/cfn/handlers "
        "(see docs/local-aws.md) or keep the type out of the stacks")
