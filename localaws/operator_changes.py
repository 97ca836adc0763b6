"""The changes an operator or an attacker can make by API to resources
``bin/ops verify`` and ``detect-drift`` read, where moto 5.2.5 refuses or
ignores them (each in its own module, tested in tests/localaws/): installed
with the CloudFormation extensions by the server (localaws/server.py).

UpdateFunctionCode, apigatewayv2 route changes (Create/Update/DeleteRoute),
Lambda Add/RemovePermission and change sets outside bin/ops need no
extension: moto (with the CloudFormation engine of localaws/cfn) already
does them (tests/localaws/test_operator_changes.py checks each)."""
from __future__ import annotations

from . import apigatewayv2_stage, backup_updates, dynamodb_sse


def install() -> None:
    backup_updates.install()
    dynamodb_sse.install()
    apigatewayv2_stage.install()
