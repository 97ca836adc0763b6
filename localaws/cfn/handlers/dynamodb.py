"""DynamoDB tables: ``AWS::DynamoDB::GlobalTable`` (what CDK's TableV2 emits)
and the PITR / SSE settings moto's ``AWS::DynamoDB::Table`` model ignores."""
from __future__ import annotations

from typing import Any

from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table as MotoTable

from .base import Handler, Resource, as_bool, register


def _backend(account_id: str, region: str):
    return dynamodb_backends[account_id][region]


def _sse(sse: dict[str, Any] | None, replica_sse: dict[str, Any] | None) -> dict[str, Any] | None:
    """CloudFormation's SSESpecification in the API's shape (``SSEEnabled`` -> ``Enabled``)."""
    if not sse or not as_bool(sse.get("SSEEnabled")):
        return None
    spec: dict[str, Any] = {"Enabled": True, "SSEType": sse.get("SSEType", "KMS")}
    key = (replica_sse or {}).get("KMSMasterKeyId") or sse.get("KMSMasterKeyId")
    if key:
        spec["KMSMasterKeyId"] = key
    return spec


def _apply_settings(table: MotoTable, account_id: str, region: str, *, pitr: dict[str, Any] | None,
                    deletion_protection: Any, ttl: dict[str, Any] | None, tags: list[dict[str, str]] | None) -> None:
    backend = _backend(account_id, region)
    spec = {"PointInTimeRecoveryEnabled": as_bool((pitr or {}).get("PointInTimeRecoveryEnabled"))}
    if (pitr or {}).get("RecoveryPeriodInDays") is not None:
        spec["RecoveryPeriodInDays"] = int(pitr["RecoveryPeriodInDays"])
    backend.update_continuous_backups(table.name, spec)
    table.deletion_protection_enabled = as_bool(deletion_protection)
    if ttl:
        backend.update_time_to_live(table.name, {"Enabled": as_bool(ttl.get("Enabled")),
                                                 "AttributeName": ttl.get("AttributeName")})
    if tags is not None:
        table.tags = list(tags)


def _table_resource(handler: type[Handler], table: MotoTable, account_id: str, region: str) -> Resource:
    attrs = {"Arn": table.table_arn}
    if table.latest_stream_label:
        attrs["StreamArn"] = f"{table.table_arn}/stream/{table.latest_stream_label}"
    return Resource(handler, table.name, attrs, account_id, region)


@register
class GlobalTable(Handler):
    """One replica (this region) is all the local target can hold; more fail loudly."""

    TYPE = "AWS::DynamoDB::GlobalTable"
    NAME_PROPERTY = "TableName"
    ATTRIBUTES = ("Arn", "StreamArn")

    @classmethod
    def _replica(cls, props: dict[str, Any], region: str) -> dict[str, Any]:
        replicas = props.get("Replicas") or [{"Region": region}]
        others = [r.get("Region") for r in replicas if r.get("Region") != region]
        if others:
            raise ValueError(f"replicas in other regions {others} are not supported by the local target")
        return replicas[0]

    @classmethod
    def create(cls, name, props, account_id, region):
        replica = cls._replica(props, region)
        billing = props.get("BillingMode", "PROVISIONED")
        throughput = None
        if billing != "PAY_PER_REQUEST":
            wcu = props.get("WriteProvisionedThroughputSettings", {}).get("WriteCapacityAutoScalingSettings", {})
            throughput = {"ReadCapacityUnits": 5, "WriteCapacityUnits": int(wcu.get("MinCapacity", 5))}
        table = _backend(account_id, region).create_table(
            name=name,
            schema=props["KeySchema"],
            throughput=throughput,
            attr=props.get("AttributeDefinitions", []),
            global_indexes=props.get("GlobalSecondaryIndexes", []),
            indexes=props.get("LocalSecondaryIndexes", []),
            streams=props.get("StreamSpecification"),
            billing_mode=billing,
            sse_specification=_sse(props.get("SSESpecification"), replica.get("SSESpecification")),
            tags=replica.get("Tags", []),
            deletion_protection_enabled=as_bool(replica.get("DeletionProtectionEnabled")),
            warm_throughput=None,
        )
        _apply_settings(table, account_id, region, pitr=replica.get("PointInTimeRecoverySpecification"),
                        deletion_protection=replica.get("DeletionProtectionEnabled"),
                        ttl=props.get("TimeToLiveSpecification"), tags=None)
        return _table_resource(cls, table, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        table = _backend(account_id, region).get_table(original.physical_resource_id)
        if props.get("TableName", table.name) != table.name:
            raise ValueError("renaming a table replaces it (data loss); the local target refuses")
        if props.get("KeySchema") != table.schema:
            raise ValueError("changing the key schema replaces the table (data loss); the local target refuses")
        replica = cls._replica(props, region)
        table.billing_mode = props.get("BillingMode", table.billing_mode)
        table.sse_specification = _sse(props.get("SSESpecification"), replica.get("SSESpecification"))
        _apply_settings(table, account_id, region, pitr=replica.get("PointInTimeRecoverySpecification"),
                        deletion_protection=replica.get("DeletionProtectionEnabled"),
                        ttl=props.get("TimeToLiveSpecification"), tags=replica.get("Tags"))
        return _table_resource(cls, table, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        # moto refuses while deletion protection is on, as AWS does.
        _backend(account_id, region).delete_table(resource.physical_resource_id)


@register
class Table(Handler):
    """moto's Table model, plus PITR, SSE (``SSEEnabled``) and an in-place update."""

    TYPE = "AWS::DynamoDB::Table"
    NAME_PROPERTY = "TableName"
    ATTRIBUTES = ("Arn", "StreamArn")

    @classmethod
    def create(cls, name, props, account_id, region):
        fixed = dict(props)
        fixed["SSESpecification"] = _sse(props.get("SSESpecification"), None)
        table = MotoTable.create_from_cloudformation_json(name, {"Properties": fixed}, account_id, region)
        _apply_settings(table, account_id, region, pitr=props.get("PointInTimeRecoverySpecification"),
                        deletion_protection=props.get("DeletionProtectionEnabled"),
                        ttl=props.get("TimeToLiveSpecification"), tags=None)
        return _table_resource(cls, table, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        table = _backend(account_id, region).get_table(original.physical_resource_id)
        if props.get("KeySchema") != table.schema:
            raise ValueError("changing the key schema replaces the table (data loss); the local target refuses")
        table.sse_specification = _sse(props.get("SSESpecification"), None)
        _apply_settings(table, account_id, region, pitr=props.get("PointInTimeRecoverySpecification"),
                        deletion_protection=props.get("DeletionProtectionEnabled"),
                        ttl=props.get("TimeToLiveSpecification"), tags=props.get("Tags"))
        return _table_resource(cls, table, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        _backend(account_id, region).delete_table(resource.physical_resource_id)
