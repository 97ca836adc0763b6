"""``UpdateStage`` on an HTTP API (moto 5.2.5: NotImplemented): what an
operator changes on the stage a caller reaches, throttling and access logs
first. As the API Gateway v2 reference describes
(https://docs.aws.amazon.com/apigatewayv2/latest/api-reference/apis-apiid-stages-stagename.html#UpdateStage):
``defaultRouteSettings`` fields given replace those fields, every other
member given replaces the member; what is not given stays."""
from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import unquote

_INSTALLED = False
MEMBERS = {"accessLogSettings": "access_log_settings", "autoDeploy": "auto_deploy", "description": "description",
           "clientCertificateId": "client_certificate_id", "routeSettings": "route_settings",
           "stageVariables": "stage_variables"}


def update_stage(self):
    parts = self.path.rstrip("/").split("/")
    api_id, stage_name = parts[-3], unquote(parts[-1])
    stage = self.apigatewayv2_backend.get_stage(api_id, stage_name)
    body = json.loads(self.body or "{}")
    if "defaultRouteSettings" in body:
        stage.default_route_settings = {**(stage.default_route_settings or {}), **body["defaultRouteSettings"]}
    for member, attribute in MEMBERS.items():
        if member in body:
            setattr(stage, attribute, body[member])
    stage.updated = datetime.now()
    return 200, {}, json.dumps(stage.to_json())


def install() -> None:
    global _INSTALLED
    if _INSTALLED:
        return
    from moto.apigatewayv2.responses import ApiGatewayV2Response

    ApiGatewayV2Response.update_stage = update_stage
    _INSTALLED = True
