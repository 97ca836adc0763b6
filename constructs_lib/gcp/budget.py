"""Billing budget with alerts at fixed USD amounts (docs/requirements.md#cost)."""

from __future__ import annotations

from typing import Sequence

from constructs_lib.gcp import tf


class BudgetAlerts(tf.Construct):
    """A monthly budget on one project with alert rules at absolute amounts.

    docs/requirements.md#cost asks for alerts at 100 / 150 / 200 USD. Budget thresholds are
    fractions of the budget amount, so each USD threshold becomes
    ``threshold / amount`` (1.0 is the full amount; more than 1.0 is allowed).
    Alerts go to billing admins and to the monitoring e-mail channels.

    Attributes: ``budget``, ``threshold_percents``.
    """

    def __init__(self, scope: tf.Construct, id_: str, *, billing_account: str, project_number: str,
                 display_name: str, amount_usd: int, thresholds_usd: Sequence[int],
                 notification_channels: Sequence[str]) -> None:
        super().__init__(scope, id_)
        if not thresholds_usd or amount_usd <= 0:
            raise ValueError(f"{self.node.path}: a budget needs an amount and at least one threshold")
        b = tf.billing_budget
        self.threshold_percents = [round(t / amount_usd, 4) for t in thresholds_usd]
        self.budget = b.BillingBudget(
            self,
            "Budget",
            billing_account=billing_account,
            display_name=display_name,
            budget_filter=b.BillingBudgetBudgetFilter(projects=[f"projects/{project_number}"], calendar_period="MONTH"),
            amount=b.BillingBudgetAmount(
                specified_amount=b.BillingBudgetAmountSpecifiedAmount(currency_code="USD", units=str(amount_usd))
            ),
            threshold_rules=[
                b.BillingBudgetThresholdRules(threshold_percent=p, spend_basis="CURRENT_SPEND") for p in self.threshold_percents
            ],
            all_updates_rule=b.BillingBudgetAllUpdatesRule(
                monitoring_notification_channels=list(notification_channels)[:5],
                disable_default_iam_recipients=False,
            ),
        )
