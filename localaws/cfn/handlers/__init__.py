"""CloudFormation resource handlers for the local AWS target, one module per
service. Importing this package fills :data:`REGISTRY` (type -> handler)."""
from .base import REGISTRY, Handler, Resource  # noqa: F401
from . import apigatewayv2, awslambda, backup, budgets, cdk, cloudtrail, cloudwatch, dynamodb, iam, kms, logs, s3, sns, ssm  # noqa: F401,E402
