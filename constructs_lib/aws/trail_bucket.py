"""The audit trail bucket accepts CloudTrail's writes for this trail only."""

from __future__ import annotations

import jsii
from aws_cdk import Aspects, IAspect, Stack
from aws_cdk import aws_s3 as s3
from constructs import IConstruct

CLOUDTRAIL = "cloudtrail.amazonaws.com"


@jsii.implements(IAspect)
class _TrailSourceArn:
    """Adds ``aws:SourceArn`` = the trail's ARN to every statement that lets CloudTrail
    into the bucket (the ACL check and the PutObject), after every statement exists."""

    def __init__(self, trail_arn: str) -> None:
        self.trail_arn = trail_arn

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, s3.CfnBucketPolicy):
            return
        document = Stack.of(node).resolve(node.policy_document)
        for index, statement in enumerate(document.get("Statement", [])):
            if statement.get("Principal") == {"Service": CLOUDTRAIL}:
                node.add_property_override(f"PolicyDocument.Statement.{index}.Condition.StringEquals.aws:SourceArn", self.trail_arn)


def require_trail_source_arn(bucket: s3.Bucket, *, trail_name: str) -> None:
    """CDK's ``cloudtrail.Trail`` lets the service principal write to the bucket with no
    source condition: any trail of any account that names this bucket could write
    log files into it (confused deputy). Pin both CloudTrail statements to this
    trail's ARN, built from its name (a reference to the trail would make the
    bucket policy depend on the trail that depends on it). AWS documents the
    condition: https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
    """
    stack = Stack.of(bucket)
    arn = f"arn:{stack.partition}:cloudtrail:{stack.region}:{stack.account}:trail/{trail_name}"
    Aspects.of(bucket).add(_TrailSourceArn(arn))
