"""Point-in-time restore on the local target (localaws/dynamodb_pitr.py),
through moto's DynamoDB API."""
from __future__ import annotations

import time

import pytest
from botocore.exceptions import ClientError

from localaws_kit import client


def table(name="events", pitr=True):
    ddb = client("dynamodb")
    ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}])
    if pitr:
        ddb.update_continuous_backups(TableName=name, PointInTimeRecoverySpecification={
            "PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 7})
    return ddb


def items(ddb, name):
    return sorted((i["pk"]["S"], i["sk"]["S"], i.get("v", {}).get("S")) for i in ddb.scan(TableName=name)["Items"])


def between_writes() -> float:
    """An instant strictly between the writes before and after it."""
    time.sleep(0.01)
    moment = time.time()
    time.sleep(0.01)
    return moment


def test_restore_returns_the_state_at_the_requested_time():
    ddb = table()
    ddb.put_item(TableName="events", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "first"}})
    ddb.put_item(TableName="events", Item={"pk": {"S": "b"}, "sk": {"S": "1"}, "v": {"S": "kept"}})
    moment = between_writes()
    ddb.put_item(TableName="events", Item={"pk": {"S": "a"}, "sk": {"S": "1"}, "v": {"S": "overwritten"}})
    ddb.delete_item(TableName="events", Key={"pk": {"S": "b"}, "sk": {"S": "1"}})
    ddb.update_item(TableName="events", Key={"pk": {"S": "c"}, "sk": {"S": "1"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"S": "later"}})
    ddb.restore_table_to_point_in_time(SourceTableName="events", TargetTableName="scratch", RestoreDateTime=moment,
                                       SSESpecificationOverride={"Enabled": True, "SSEType": "KMS", "KMSMasterKeyId": "alias/data"})
    assert items(ddb, "scratch") == [("a", "1", "first"), ("b", "1", "kept")]
    assert items(ddb, "events") == [("a", "1", "overwritten"), ("c", "1", "later")]
    described = ddb.describe_table(TableName="scratch")["Table"]
    assert described["RestoreSummary"]["SourceTableArn"].endswith("/events")
    # Like AWS: the restored table does not inherit PITR.
    pitr = ddb.describe_continuous_backups(TableName="scratch")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert pitr["PointInTimeRecoveryStatus"] == "DISABLED"

    ddb.restore_table_to_point_in_time(SourceTableName="events", TargetTableName="latest", UseLatestRestorableTime=True)
    assert items(ddb, "latest") == items(ddb, "events")


def test_the_restorable_window_moves_with_time():
    ddb = table()
    first = ddb.describe_continuous_backups(TableName="events")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    time.sleep(0.01)
    second = ddb.describe_continuous_backups(TableName="events")["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
    assert second["LatestRestorableDateTime"] > first["LatestRestorableDateTime"]
    assert second["EarliestRestorableDateTime"] == first["EarliestRestorableDateTime"]


def test_restore_outside_the_window_or_without_pitr_is_refused():
    ddb = table()
    with pytest.raises(ClientError, match="InvalidRestoreTimeException"):
        ddb.restore_table_to_point_in_time(SourceTableName="events", TargetTableName="xyz", RestoreDateTime=time.time() - 3600)
    with pytest.raises(ClientError, match="InvalidRestoreTimeException"):
        ddb.restore_table_to_point_in_time(SourceTableName="events", TargetTableName="xyz", RestoreDateTime=time.time() + 3600)
    table("plain", pitr=False)
    with pytest.raises(ClientError, match="PointInTimeRecoveryUnavailableException"):
        ddb.restore_table_to_point_in_time(SourceTableName="plain", TargetTableName="xyz", UseLatestRestorableTime=True)
    assert "xyz" not in ddb.list_tables()["TableNames"]
