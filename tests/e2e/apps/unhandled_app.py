"""A one-stack CDK app whose template holds a resource type the local target
has no handler for (and a custom resource): deploying it must fail, never
report success. Used by tests/e2e/test_lifecycle.py with the real CDK CLI."""
import os
import sys

import aws_cdk as cdk

app = cdk.App()
stack = cdk.Stack(app, "E2eUnhandled", env=cdk.Environment(account=os.environ["E2E_ACCOUNT"], region=os.environ["E2E_REGION"]))
cdk.CfnResource(stack, "Filter", type="AWS::Logs::MetricFilter", properties={
    "LogGroupName": "/unhandled", "FilterPattern": "ERROR",
    "MetricTransformations": [{"MetricName": "Errors", "MetricNamespace": "E2e", "MetricValue": "1"}]})
if "--custom" in sys.argv:
    cdk.CfnResource(stack, "Custom", type="Custom::Thing",
                    properties={"ServiceToken": f"arn:aws:lambda:{stack.region}:{stack.account}:function:nobody"})
app.synth()
