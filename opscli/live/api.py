"""HTTP API (API Gateway v2) as a caller reaches it: routes, integrations, stages."""
from __future__ import annotations

from dataclasses import dataclass

from ..session import Aws


@dataclass(frozen=True)
class Route:
    key: str                  # "POST /events"
    authorization: str        # "AWS_IAM", "NONE", ...
    target: str | None        # "integrations/<id>"


@dataclass(frozen=True)
class Integration:
    id: str
    type: str | None
    uri: str | None


@dataclass(frozen=True)
class Stage:
    name: str
    burst_limit: int | None
    rate_limit: float | None
    access_log_destination: str | None
    access_log_format: str | None


@dataclass(frozen=True)
class Api:
    id: str
    routes: tuple[Route, ...]
    integrations: tuple[Integration, ...]
    stages: tuple[Stage, ...]


def _pages(call, **kwargs) -> list[dict]:
    items, token = [], None
    while True:
        page = call(**kwargs, **({"NextToken": token} if token else {}))
        items += page.get("Items", [])
        token = page.get("NextToken")
        if not token:
            return items


def read(aws: Aws, api_id: str) -> Api:
    client = aws.client("apigatewayv2")
    routes = tuple(sorted((Route(r["RouteKey"], r.get("AuthorizationType", "NONE"), r.get("Target"))
                           for r in _pages(client.get_routes, ApiId=api_id)), key=lambda r: r.key))
    integrations = tuple(Integration(i["IntegrationId"], i.get("IntegrationType"), i.get("IntegrationUri"))
                         for i in _pages(client.get_integrations, ApiId=api_id))
    stages = []
    for s in _pages(client.get_stages, ApiId=api_id):
        settings, logs = s.get("DefaultRouteSettings") or {}, s.get("AccessLogSettings") or {}
        stages.append(Stage(s["StageName"], settings.get("ThrottlingBurstLimit"), settings.get("ThrottlingRateLimit"),
                            logs.get("DestinationArn"), logs.get("Format")))
    return Api(api_id, routes, integrations, tuple(stages))
