"""``AWS::CloudTrail::Trail``, unknown to moto's CloudFormation."""
from __future__ import annotations

from moto.cloudtrail.models import cloudtrail_backends

from .base import Handler, Resource, as_bool, register


def _args(props):
    return dict(
        s3_key_prefix=props.get("S3KeyPrefix"),
        sns_topic_name=props.get("SnsTopicName"),
        cw_log_group_arn=props.get("CloudWatchLogsLogGroupArn"),
        cw_role_arn=props.get("CloudWatchLogsRoleArn"),
        kms_key_id=props.get("KMSKeyId"),
    )


@register
class Trail(Handler):
    TYPE = "AWS::CloudTrail::Trail"
    NAME_PROPERTY = "TrailName"
    ATTRIBUTES = ("Arn", "SnsTopicArn")

    @classmethod
    def _resource(cls, trail, account_id, region):
        return Resource(cls, trail.trail_name, {"Arn": trail.arn, "SnsTopicArn": getattr(trail, "topic_arn", None)},
                        account_id, region)

    @classmethod
    def _logging(cls, trail, props):
        if as_bool(props.get("IsLogging")):
            trail.start_logging()
        else:
            trail.stop_logging()

    @classmethod
    def create(cls, name, props, account_id, region):
        backend = cloudtrail_backends[account_id][region]
        trail = backend.create_trail(
            name=name,
            bucket_name=props["S3BucketName"],
            is_global=as_bool(props.get("IncludeGlobalServiceEvents"), default=True),
            is_multi_region=as_bool(props.get("IsMultiRegionTrail")),
            log_validation=as_bool(props.get("EnableLogFileValidation")),
            is_org_trail=as_bool(props.get("IsOrganizationTrail")),
            tags_list=props.get("Tags", []),
            **_args(props),
        )
        cls._selectors(backend, name, props)
        cls._logging(trail, props)
        return cls._resource(trail, account_id, region)

    @classmethod
    def _selectors(cls, backend, name, props):
        """Basic or advanced event selectors (AWS accepts one kind per trail)."""
        if props.get("EventSelectors") and props.get("AdvancedEventSelectors"):
            raise ValueError("a trail takes EventSelectors or AdvancedEventSelectors, not both")
        if props.get("EventSelectors") or props.get("AdvancedEventSelectors"):
            backend.put_event_selectors(name, props.get("EventSelectors"), props.get("AdvancedEventSelectors"))

    @classmethod
    def update(cls, original, name, props, account_id, region):
        backend = cloudtrail_backends[account_id][region]
        trail = backend.update_trail(
            name=original.physical_resource_id,
            s3_bucket_name=props["S3BucketName"],
            include_global_service_events=as_bool(props.get("IncludeGlobalServiceEvents"), default=True),
            is_multi_region_trail=as_bool(props.get("IsMultiRegionTrail")),
            enable_log_file_validation=as_bool(props.get("EnableLogFileValidation")),
            is_organization_trail=as_bool(props.get("IsOrganizationTrail")),
            **_args(props),
        )
        cls._selectors(backend, original.physical_resource_id, props)
        cls._logging(trail, props)
        return cls._resource(trail, account_id, region)

    @classmethod
    def remove(cls, resource, account_id, region):
        cloudtrail_backends[account_id][region].delete_trail(resource.physical_resource_id)
