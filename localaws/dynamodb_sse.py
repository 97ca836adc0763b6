"""``UpdateTable`` with ``SSESpecification``: moto 5.2.5 accepts it and
ignores it, so a table switched to another key (or back to the AWS owned
key) still described its old key. Applied here as the DynamoDB API reference
describes (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_SSESpecification.html):

* ``Enabled: false``: the AWS owned key; DescribeTable then has no
  ``SSEDescription``;
* ``Enabled: true`` (``SSEType`` KMS): the given ``KMSMasterKeyId``, or the
  AWS managed key ``alias/aws/dynamodb`` when none is given.
"""
from __future__ import annotations

import functools

_INSTALLED = False


def _apply(table, spec: dict) -> None:
    if spec.get("Enabled") is False:
        table.sse_specification = None
        return
    key = spec.get("KMSMasterKeyId")
    if key is None:
        key = table._get_default_encryption_key(table.account_id, table.region_name)
    table.sse_specification = {"Enabled": True, "SSEType": spec.get("SSEType", "KMS"), "KMSMasterKeyId": key}


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.dynamodb.responses import DynamoHandler

    original = DynamoHandler.update_table

    @functools.wraps(original)
    def update_table(self):
        spec = self.body.get("SSESpecification")
        if spec is not None:
            _apply(self.dynamodb_backend.get_table(self.body["TableName"]), spec)
        return original(self)

    DynamoHandler.update_table = update_table
    _INSTALLED = True
