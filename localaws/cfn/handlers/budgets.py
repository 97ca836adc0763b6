"""``AWS::Budgets::Budget``, unknown to moto's CloudFormation, on moto's Budgets backend."""
from __future__ import annotations

from moto.budgets.models import budgets_backends
from moto.utilities.utils import get_partition

from .base import Handler, Resource, register


def _backend(account_id: str, region: str):
    return budgets_backends[account_id][get_partition(region)]


def _api_budget(budget: dict) -> dict:
    """CloudFormation writes numbers where the API's BudgetLimit.Amount is a string."""
    api = dict(budget)
    if "BudgetLimit" in api:
        api["BudgetLimit"] = {"Amount": str(api["BudgetLimit"]["Amount"]), "Unit": api["BudgetLimit"]["Unit"]}
    return api


@register
class Budget(Handler):
    TYPE = "AWS::Budgets::Budget"
    ATTRIBUTES = ()

    @classmethod
    def create(cls, name, props, account_id, region):
        budget = _api_budget(props["Budget"])
        # CloudFormation names an unnamed budget after the resource, as here.
        budget.setdefault("BudgetName", name)
        notifications = [{"Notification": n["Notification"], "Subscribers": n.get("Subscribers", [])}
                         for n in props.get("NotificationsWithSubscribers", [])]
        _backend(account_id, region).create_budget(account_id, budget, notifications)
        return Resource(cls, budget["BudgetName"], {}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        # Budgets keep their name; AWS updates in place. Delete + create keeps
        # the same name here (a budget holds no data of its own).
        if props["Budget"].get("BudgetName", original.physical_resource_id) != original.physical_resource_id:
            raise ValueError("renaming a budget replaces it; the local target refuses")
        cls.remove(original, account_id, region)
        return cls.create(name, props, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        if resource.physical_resource_id in backend.budgets[account_id]:
            backend.delete_budget(account_id, resource.physical_resource_id)
