"""A monthly AWS Budget whose alerts go to an SNS topic."""

from __future__ import annotations

from typing import Sequence

from aws_cdk import Stack
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from constructs import Construct


class CostBudget(Construct):
    """A COST budget, MONTHLY, in USD, with one ACTUAL-spend notification per
    percentage of ``limit_usd`` in ``thresholds_percent``, sent to ``topic``.

    Required: the topic's policy lets ``budgets.amazonaws.com`` publish, for
    this budget of this account only (aws:SourceAccount and aws:SourceArn,
    https://docs.aws.amazon.com/cost-management/latest/userguide/budgets-sns-policy.html).
    An encrypted topic's key must also let Budgets use it; the caller owns the
    key and grants that (``EnvironmentKey.allow_service``).
    """

    def __init__(self, scope: Construct, id_: str, *, budget_name: str, limit_usd: float,
                 thresholds_percent: Sequence[float], topic: sns.ITopic) -> None:
        super().__init__(scope, id_)
        stack = Stack.of(self)
        topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AllowBudgets",
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": f"arn:{stack.partition}:budgets::{stack.account}:budget/{budget_name}"},
                },
            )
        )
        self.budget = budgets.CfnBudget(
            self, "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=budget_name, budget_type="COST", time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=limit_usd, unit="USD"),
            ),
            notifications_with_subscribers=[
                budgets.CfnBudget.NotificationWithSubscribersProperty(
                    notification=budgets.CfnBudget.NotificationProperty(
                        notification_type="ACTUAL", comparison_operator="GREATER_THAN",
                        threshold=percent, threshold_type="PERCENTAGE",
                    ),
                    subscribers=[budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn)],
                )
                for percent in thresholds_percent
            ],
        )
