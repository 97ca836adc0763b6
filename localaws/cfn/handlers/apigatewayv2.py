"""API Gateway v2 (HTTP API): api, stage, integration and route, which moto
models but its CloudFormation does not handle."""
from __future__ import annotations

from moto.apigatewayv2.models import apigatewayv2_backends

from .base import Handler, Replaceable, Resource, as_bool, register


def _backend(account_id: str, region: str):
    return apigatewayv2_backends[account_id][region]


@register
class Api(Handler):
    TYPE = "AWS::ApiGatewayV2::Api"
    ATTRIBUTES = ("ApiEndpoint", "ApiId")

    @classmethod
    def create(cls, name, props, account_id, region):
        if props.get("Body") or props.get("BodyS3Location"):
            raise ValueError("OpenAPI import (Body/BodyS3Location) is not supported by the local target")
        api = _backend(account_id, region).create_api(
            api_key_selection_expression=props.get("ApiKeySelectionExpression"),
            cors_configuration=props.get("CorsConfiguration"),
            description=props.get("Description"),
            disable_schema_validation=props.get("DisableSchemaValidation"),
            disable_execute_api_endpoint=props.get("DisableExecuteApiEndpoint"),
            name=props.get("Name", name),
            protocol_type=props["ProtocolType"],
            route_selection_expression=props.get("RouteSelectionExpression"),
            tags=props.get("Tags") or {},
            version=props.get("Version"),
        )
        return Resource(cls, api.api_id, {"ApiId": api.api_id, "ApiEndpoint": api.api_endpoint}, account_id, region)

    @classmethod
    def update(cls, original, name, props, account_id, region):
        api = _backend(account_id, region).get_api(original.physical_resource_id)
        api.name = props.get("Name", api.name)
        api.description = props.get("Description")
        api.cors_configuration = props.get("CorsConfiguration")
        api.disable_execute_api_endpoint = as_bool(props.get("DisableExecuteApiEndpoint"))
        return original

    @classmethod
    def remove(cls, resource, account_id, region):
        _backend(account_id, region).delete_api(resource.physical_resource_id)


def _stage_config(props):
    config = {"stageName": props["StageName"], "autoDeploy": as_bool(props.get("AutoDeploy")),
              "description": props.get("Description"), "stageVariables": props.get("StageVariables", {}),
              "tags": props.get("Tags") or {}}
    if props.get("AccessLogSettings"):
        als = props["AccessLogSettings"]
        config["accessLogSettings"] = {"destinationArn": als.get("DestinationArn"), "format": als.get("Format")}
    if props.get("DefaultRouteSettings"):
        drs = props["DefaultRouteSettings"]
        config["defaultRouteSettings"] = {k[0].lower() + k[1:]: v for k, v in drs.items()}
    if props.get("RouteSettings"):
        config["routeSettings"] = {
            route: {k[0].lower() + k[1:]: v for k, v in settings.items()}
            for route, settings in props["RouteSettings"].items()}
    return config


@register
class Stage(Replaceable):
    """A stage holds configuration only: updates re-create it under the same name."""

    TYPE = "AWS::ApiGatewayV2::Stage"

    @classmethod
    def create(cls, name, props, account_id, region):
        _backend(account_id, region).create_stage(props["ApiId"], _stage_config(props))
        return Resource(cls, props["StageName"], {}, account_id, region, api_id=props["ApiId"])

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        if resource.state.get("api_id") in backend.apis:
            backend.delete_stage(resource.state["api_id"], resource.physical_resource_id)


@register
class Integration(Replaceable):
    TYPE = "AWS::ApiGatewayV2::Integration"
    ATTRIBUTES = ("IntegrationId",)

    @classmethod
    def create(cls, name, props, account_id, region):
        integration = _backend(account_id, region).create_integration(
            api_id=props["ApiId"],
            connection_id=props.get("ConnectionId"),
            connection_type=props.get("ConnectionType"),
            content_handling_strategy=props.get("ContentHandlingStrategy"),
            credentials_arn=props.get("CredentialsArn"),
            description=props.get("Description"),
            integration_method=props.get("IntegrationMethod"),
            integration_subtype=props.get("IntegrationSubtype"),
            integration_type=props["IntegrationType"],
            integration_uri=props.get("IntegrationUri"),
            passthrough_behavior=props.get("PassthroughBehavior"),
            payload_format_version=props.get("PayloadFormatVersion"),
            request_parameters=props.get("RequestParameters"),
            request_templates=props.get("RequestTemplates"),
            response_parameters=props.get("ResponseParameters"),
            template_selection_expression=props.get("TemplateSelectionExpression"),
            timeout_in_millis=props.get("TimeoutInMillis"),
            tls_config=props.get("TlsConfig"),
        )
        return Resource(cls, integration.id, {"IntegrationId": integration.id}, account_id, region,
                        api_id=props["ApiId"])

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        if resource.state.get("api_id") in backend.apis:
            backend.delete_integration(resource.state["api_id"], resource.physical_resource_id)


@register
class Route(Replaceable):
    TYPE = "AWS::ApiGatewayV2::Route"
    ATTRIBUTES = ("RouteId",)

    @classmethod
    def create(cls, name, props, account_id, region):
        route = _backend(account_id, region).create_route(
            api_id=props["ApiId"],
            api_key_required=as_bool(props.get("ApiKeyRequired")),
            authorization_scopes=props.get("AuthorizationScopes"),
            authorization_type=props.get("AuthorizationType"),
            authorizer_id=props.get("AuthorizerId"),
            model_selection_expression=props.get("ModelSelectionExpression"),
            operation_name=props.get("OperationName"),
            request_models=props.get("RequestModels"),
            request_parameters=props.get("RequestParameters"),
            route_key=props["RouteKey"],
            route_response_selection_expression=props.get("RouteResponseSelectionExpression"),
            target=props.get("Target"),
        )
        return Resource(cls, route.route_id, {"RouteId": route.route_id}, account_id, region,
                        api_id=props["ApiId"])

    @classmethod
    def remove(cls, resource, account_id, region):
        backend = _backend(account_id, region)
        if resource.state.get("api_id") in backend.apis:
            backend.delete_route(resource.state["api_id"], resource.physical_resource_id)
