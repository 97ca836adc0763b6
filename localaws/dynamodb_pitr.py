"""Point-in-time restore for the local target's DynamoDB.

moto 5.2.5 answers ``RestoreTableToPointInTime`` by copying the source
table's *current* items, whatever the requested time; it ignores
``RestoreDateTime`` / ``UseLatestRestorableTime`` and the overrides, restores
from a table without PITR, and its ``LatestRestorableDateTime`` stays at the
moment PITR was enabled. Here, as the DynamoDB API reference describes
(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_RestoreTableToPointInTime.html):

* every item write (PutItem, UpdateItem, DeleteItem, and BatchWriteItem,
  which goes through them) is journaled on its table with the item's
  previous value; a restore starts from the current items and undoes every
  write after the requested time, so the restored table holds the state at
  that time;
* the source must have PITR enabled (``PointInTimeRecoveryUnavailableException``)
  and the time must lie in [EarliestRestorableDateTime, LatestRestorableDateTime]
  (``InvalidRestoreTimeException``); the window is reported as now (latest)
  and the later of PITR's enabling and now minus the recovery period
  (earliest);
* ``SSESpecificationOverride`` and ``BillingModeOverride`` apply to the new
  table; like AWS, the new table has PITR and deletion protection off.

Not modelled: TransactWriteItems (the Oracle does not use it) and the about
five-minute lag of the real LatestRestorableDateTime (documented in
docs/local-aws.md). The journal is kept on the table object, so it is saved
and restored with the rest of the target's state.
"""
from __future__ import annotations

import copy
import functools
import json
import time
from typing import Any

from moto.core.exceptions import JsonRESTError
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.responses import DynamoHandler

_INSTALLED = False
_PREFIX = "com.amazonaws.dynamodb.v20120810#"


class PointInTimeRecoveryUnavailable(JsonRESTError):
    def __init__(self, table: str):
        super().__init__(_PREFIX + "PointInTimeRecoveryUnavailableException",
                         f"Point in time recovery is not enabled for table '{table}'")


class InvalidRestoreTime(JsonRESTError):
    def __init__(self, message: str):
        super().__init__(_PREFIX + "InvalidRestoreTimeException", message)


def _journal(table: Any) -> list[tuple[float, str, dict | None]]:
    if not hasattr(table, "md_journal"):
        table.md_journal = []
    return table.md_journal


def _key_of(table: Any, attrs: dict[str, Any]) -> str:
    key = {table.hash_key_attr: attrs[table.hash_key_attr]}
    if table.range_key_attr:
        key[table.range_key_attr] = attrs[table.range_key_attr]
    return json.dumps(key, sort_keys=True)


def _attrs(item: Any) -> dict | None:
    return None if item is None else copy.deepcopy(item.to_json()["Attributes"])


def _current(table: Any, key: str) -> dict | None:
    parsed = json.loads(key)
    from moto.dynamodb.models.dynamo_type import DynamoType

    hash_value = DynamoType(parsed[table.hash_key_attr])
    range_value = DynamoType(parsed[table.range_key_attr]) if table.range_key_attr else None
    return _attrs(table.get_item(hash_value, range_value))


def _journaled(original, key_from):
    """Record the previous value of the item a write touches, with the time."""

    @functools.wraps(original)
    def write(self, table_name, *args, **kwargs):
        table = self.get_table(table_name)
        try:
            key = _key_of(table, key_from(args, kwargs))
        except (KeyError, TypeError):
            return original(self, table_name, *args, **kwargs)  # moto rejects the request itself
        previous = _current(table, key)
        result = original(self, table_name, *args, **kwargs)
        _journal(table).append((time.time(), key, previous))
        return result

    return write


def _item_arg(args, kwargs):
    return kwargs["item_attrs"] if "item_attrs" in kwargs else args[0]


def _key_arg(args, kwargs):
    return kwargs["key"] if "key" in kwargs else args[0]


def restorable_window(table: Any, now: float) -> tuple[float, float] | None:
    pitr = table.continuous_backups["PointInTimeRecoveryDescription"]
    if pitr.get("PointInTimeRecoveryStatus") != "ENABLED":
        return None
    period_days = int(pitr.get("RecoveryPeriodInDays", 35))
    return max(float(pitr["EarliestRestorableDateTime"]), now - period_days * 86400), now


def state_at(table: Any, when: float) -> dict[str, dict]:
    """The table's items at ``when``: current items with every later write undone."""
    items = {_key_of(table, a): a for a in (_attrs(i) for i in table.all_items())}
    for written_at, key, previous in reversed(_journal(table)):
        if written_at <= when:
            break
        if previous is None:
            items.pop(key, None)
        else:
            items[key] = previous
    return items


def _describe_continuous_backups(original):
    @functools.wraps(original)
    def describe(self, table_name):
        result = original(self, table_name)
        table = self.get_table(table_name)
        window = restorable_window(table, time.time())
        if window:
            pitr = table.continuous_backups["PointInTimeRecoveryDescription"]
            return {**result, "PointInTimeRecoveryDescription": {
                **pitr, "EarliestRestorableDateTime": window[0], "LatestRestorableDateTime": window[1]}}
        return result

    return describe


def _restore_response(original):
    @functools.wraps(original)
    def restore_table_to_point_in_time(self):
        body = self.body
        source_name = body.get("SourceTableName")
        source = self.dynamodb_backend.get_table(source_name) if source_name in self.dynamodb_backend.tables else None
        if source is None:
            return original(self)  # moto's SourceTableNotFoundException
        now = time.time()
        window = restorable_window(source, now)
        if window is None:
            raise PointInTimeRecoveryUnavailable(source_name)
        if body.get("UseLatestRestorableTime"):
            when = window[1]
        elif body.get("RestoreDateTime") is not None:
            raw = body["RestoreDateTime"]
            when = raw.timestamp() if hasattr(raw, "timestamp") else float(raw)
        else:
            raise InvalidRestoreTime("Either RestoreDateTime or UseLatestRestorableTime must be given")
        if not window[0] <= when <= window[1]:
            raise InvalidRestoreTime(
                f"Restore time {when} is outside the restorable window [{window[0]}, {window[1]}] of {source_name}")
        items = state_at(source, when)
        result = original(self)
        target = self.dynamodb_backend.get_table(body["TargetTableName"])
        target.items.clear()
        for attrs in items.values():
            target.put_item(copy.deepcopy(attrs))
        sse = body.get("SSESpecificationOverride")
        if sse and sse.get("Enabled"):
            target.sse_specification = {"Enabled": True, "SSEType": sse.get("SSEType", "KMS"),
                                        **({"KMSMasterKeyId": sse["KMSMasterKeyId"]} if sse.get("KMSMasterKeyId") else {})}
        if body.get("BillingModeOverride"):
            target.billing_mode = body["BillingModeOverride"]
        target.restore_date_time = when
        target.md_journal = []
        return result

    return restore_table_to_point_in_time


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    DynamoDBBackend.put_item = _journaled(DynamoDBBackend.put_item, _item_arg)
    DynamoDBBackend.update_item = _journaled(DynamoDBBackend.update_item, _key_arg)
    DynamoDBBackend.delete_item = _journaled(DynamoDBBackend.delete_item, _key_arg)
    DynamoDBBackend.describe_continuous_backups = _describe_continuous_backups(DynamoDBBackend.describe_continuous_backups)
    DynamoHandler.restore_table_to_point_in_time = _restore_response(DynamoHandler.restore_table_to_point_in_time)
    _INSTALLED = True
