"""Handlers for the recovery and cost resources (budget, trail data-event selectors), each
deployed through CloudFormation and read back through moto's service API."""
from __future__ import annotations

from localaws_kit import client

ACCOUNT = "123456789012"


def budget(limit=10, thresholds=(80, 100)):
    return {"Type": "AWS::Budgets::Budget", "Properties": {
        "Budget": {"BudgetName": "monthly", "BudgetType": "COST", "TimeUnit": "MONTHLY",
                   "BudgetLimit": {"Amount": limit, "Unit": "USD"}},
        "NotificationsWithSubscribers": [
            {"Notification": {"NotificationType": "ACTUAL", "ComparisonOperator": "GREATER_THAN",
                              "Threshold": t, "ThresholdType": "PERCENTAGE"},
             "Subscribers": [{"SubscriptionType": "SNS", "Address": {"Ref": "Topic"}}]} for t in thresholds]}}


def test_budget_with_sns_notifications_update_and_delete(stack):
    topic = {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "alerts"}}
    stack.deploy({"Topic": topic, "Budget": budget()})
    budgets = client("budgets")
    described = budgets.describe_budget(AccountId=ACCOUNT, BudgetName="monthly")["Budget"]
    assert described["BudgetLimit"] == {"Amount": "10", "Unit": "USD"}
    notifications = budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="monthly")["Notifications"]
    assert sorted(n["Threshold"] for n in notifications) == [80.0, 100.0]
    # moto has no DescribeSubscribersForNotification: read its model for the routing.
    from moto.budgets.models import budgets_backends
    stored = budgets_backends[ACCOUNT]["aws"].budgets[ACCOUNT]["monthly"].notifications
    assert {s["Address"] for n in stored for s in n.subscribers} == {f"arn:aws:sns:us-east-1:{ACCOUNT}:alerts"}

    stack.deploy({"Topic": topic, "Budget": budget(limit=25, thresholds=(50, 100, 150))})
    assert budgets.describe_budget(AccountId=ACCOUNT, BudgetName="monthly")["Budget"]["BudgetLimit"]["Amount"] == "25"
    assert len(budgets.describe_notifications_for_budget(AccountId=ACCOUNT, BudgetName="monthly")["Notifications"]) == 3

    stack.deploy({"Topic": topic})
    assert budgets.describe_budgets(AccountId=ACCOUNT).get("Budgets", []) == []


def test_trail_advanced_event_selectors(stack):
    selectors = [
        {"Name": "management", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]},
        {"Name": "tables", "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::DynamoDB::Table"]},
            {"Field": "resources.ARN", "Equals": [f"arn:aws:dynamodb:us-east-1:{ACCOUNT}:table/events"]}]},
    ]
    bucket = {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "trail-bucket"}}

    def trail(sel):
        return {"Type": "AWS::CloudTrail::Trail", "Properties": {
            "TrailName": "audit", "S3BucketName": {"Ref": "Bucket"}, "IsLogging": True, "AdvancedEventSelectors": sel}}

    stack.deploy({"Bucket": bucket, "Trail": trail(selectors[:1])})
    ct = client("cloudtrail")
    assert ct.get_event_selectors(TrailName="audit")["AdvancedEventSelectors"] == selectors[:1]
    stack.deploy({"Bucket": bucket, "Trail": trail(selectors)})
    assert ct.get_event_selectors(TrailName="audit")["AdvancedEventSelectors"] == selectors


def test_backup_plan_name_is_free_again_after_its_plan_was_deleted(stack):
    from localaws_kit import Stack

    vault = {"Type": "AWS::Backup::BackupVault", "DeletionPolicy": "Retain", "Properties": {"BackupVaultName": "tables"}}
    plan = {"Type": "AWS::Backup::BackupPlan", "Properties": {"BackupPlan": {"BackupPlanName": "daily", "BackupPlanRule": [
        {"RuleName": "Daily", "TargetBackupVault": "tables", "ScheduleExpression": "cron(0 5 * * ? *)"}]}}}
    stack.deploy({"Vault": vault, "Plan": plan})
    stack.delete()  # the plan is deleted, the vault kept
    again = Stack()
    again.deploy({"Plan": plan})
    assert again.describe()["StackStatus"] == "CREATE_COMPLETE"
    plans = client("backup").list_backup_plans()["BackupPlansList"]
    assert [p["BackupPlanName"] for p in plans] == ["daily"]
    # A live plan of the same name is still refused, as in AWS.
    third = Stack()
    third.deploy({"Plan": plan})
    assert third.describe()["StackStatus"] == "ROLLBACK_COMPLETE"
