"""S3 as a user's CDK app needs it: bucket policies, bucket notifications, and the CDK's S3 custom resources.

moto 5.2.5's CloudFormation lacks three things an app with a bucket meets at once:

- **No ``AWS::S3::BucketPolicy``.** moto skips the type, so a bucket with ``enforce_ssl=True`` (and the
  CDK bootstrap bucket) had no policy, and a deploy reported the resource "not created". Creating it
  naively would lock every client out: moto evaluates a bucket policy's ``Deny`` statements for object
  requests but ignores their conditions, so the TLS-only statement (``Deny s3:*`` when
  ``aws:SecureTransport`` is ``false``) would refuse every upload, the CDK CLI's asset uploads included.
  Here the policy is stored as written (``GetBucketPolicy`` returns it) and evaluated with the request
  context the emulator can vouch for: every request counts as made over TLS (``aws:SecureTransport`` is
  ``true``, ``s3:TlsVersion`` is ``1.3``), because the emulator's plain HTTP stands for the HTTPS that
  SDKs use against AWS. A condition on any other key is left to moto, as before.
- **No bucket notifications from the CDK.** ``bucket.add_event_notification(...)`` synthesizes a
  ``Custom::S3BucketNotifications`` resource whose Lambda handler (``BucketNotificationsHandler``) calls
  ``PutBucketNotificationConfiguration``. moto runs a custom resource's Lambda only in Docker, so the
  bucket never got its configuration and ``PutObject`` delivered nothing, while the deploy listed the
  resource as found. Here the resource type has a model that does what the handler does (managed and
  unmanaged configurations, destination validation), so moto's own S3 notification code delivers the
  events: to SQS, to SNS (and on to its subscriptions), and to EventBridge; to Lambda only where moto can
  run one. A bucket's inline ``NotificationConfiguration`` (``AWS::S3::Bucket``, which moto ignored) is
  applied the same way.
- **``Custom::S3AutoDeleteObjects``** (``auto_delete_objects=True``) has a model too: nothing on create,
  as its handler does; on delete, the bucket's objects are deleted if the bucket is still tagged for it.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from moto.cloudformation import parsing
from moto.core.common_models import CloudFormationModel
from moto.s3.models import FakeBucket, s3_backends
from moto.utilities.utils import get_partition

from .conditions import policy_for_request
from .values import as_bool, as_json_text

RESOURCE_TYPES = (
    "AWS::S3::BucketPolicy",
    "Custom::S3BucketNotifications",
    "Custom::S3AutoDeleteObjects",
)
"""The types this module teaches moto's CloudFormation (the two ``Custom::`` ones through
:func:`apply`, since moto sends every ``Custom::`` type to its Lambda-invoking model)."""

AUTO_DELETE_TAG = "aws-cdk:auto-delete-objects"
"""The tag aws-cdk-lib puts on a bucket whose objects its custom resource deletes with the stack."""


def _s3(account_id: str, region_name: str) -> Any:
    return s3_backends[account_id][get_partition(region_name)]


# --- AWS::S3::BucketPolicy and its evaluation --------------------------------------------------------


class BucketPolicyResource(CloudFormationModel):
    """``AWS::S3::BucketPolicy``: ``PutBucketPolicy`` of ``PolicyDocument`` on ``Bucket`` (a bucket name)."""

    def __init__(self, resource_id: str, bucket_name: str, account_id: str, region_name: str) -> None:
        self.resource_id = resource_id
        self.bucket_name = bucket_name
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::BucketPolicy"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return self.resource_id

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> BucketPolicyResource:
        props = cloudformation_json["Properties"]
        bucket = props["Bucket"]
        _s3(account_id, region_name).put_bucket_policy(bucket, as_json_text(props["PolicyDocument"]).encode())
        return cls(resource_name, bucket, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _s3(account_id, region_name)
        if self.bucket_name in backend.buckets:
            backend.delete_bucket_policy(self.bucket_name)


def _patch_bucket_permission() -> None:
    """``FakeBucket.get_permission`` evaluates :func:`policy_for_request` of the bucket's policy."""
    from moto.iam.access_control import IAMPolicy, PermissionResult

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        policy = policy_for_request(json.loads(self.policy.decode()))
        return IAMPolicy(json.dumps(policy)).is_action_permitted(action, resource)

    FakeBucket.get_permission = get_permission  # type: ignore[method-assign]


# --- Notifications ------------------------------------------------------------------------------------

DESTINATIONS = (
    # (API list, API ARN field, moto list, moto ARN field, service of the ARN)
    ("TopicConfigurations", "TopicArn", "TopicConfiguration", "Topic", "sns"),
    ("QueueConfigurations", "QueueArn", "QueueConfiguration", "Queue", "sqs"),
    ("LambdaFunctionConfigurations", "LambdaFunctionArn", "CloudFunctionConfiguration", "CloudFunction", "lambda"),
)
"""How ``PutBucketNotificationConfiguration``'s shape (what the CDK's handler passes) maps onto moto's."""

TEMPLATE_DESTINATIONS = (
    # (CloudFormation list of AWS::S3::Bucket, its ARN field, API list, API ARN field)
    ("TopicConfigurations", "Topic", "TopicConfigurations", "TopicArn"),
    ("QueueConfigurations", "Queue", "QueueConfigurations", "QueueArn"),
    ("LambdaConfigurations", "Function", "LambdaFunctionConfigurations", "LambdaFunctionArn"),
)


class NotificationError(ValueError):
    """A notification configuration S3 would refuse; the message is S3's."""


def _filter_rules(notification: dict[str, Any]) -> list[dict[str, str]]:
    rules = (notification.get("Filter") or {}).get("Key", {}).get("FilterRules", [])
    # S3 takes "Prefix"/"prefix"; moto's matcher reads lower case only.
    return [{"Name": str(rule["Name"]).lower(), "Value": str(rule["Value"])} for rule in rules]


def to_moto_configuration(configuration: dict[str, Any]) -> dict[str, Any]:
    """A configuration in the API's shape (``QueueConfigurations: [{QueueArn, Events, Filter}]``, as the
    CDK's handler passes it) in the shape moto's ``put_bucket_notification_configuration`` takes (the
    parsed XML: ``QueueConfiguration: [{Queue, Event, Filter: {S3Key: {FilterRule}}}]``)."""
    result: dict[str, Any] = {}
    for api_list, api_arn, moto_list, moto_arn, _ in DESTINATIONS:
        entries = []
        for notification in configuration.get(api_list) or []:
            entry: dict[str, Any] = {moto_arn: notification[api_arn], "Event": list(notification["Events"])}
            if notification.get("Id"):
                entry["Id"] = notification["Id"]
            rules = _filter_rules(notification)
            if rules:
                entry["Filter"] = {"S3Key": {"FilterRule": rules}}
            entries.append(entry)
        if entries:
            result[moto_list] = entries
    if "EventBridgeConfiguration" in configuration:
        result["EventBridgeConfiguration"] = {}
    return result


def from_moto_configuration(bucket: FakeBucket) -> dict[str, Any]:
    """A bucket's notification configuration in the API's shape (what ``GetBucketNotificationConfiguration`` says)."""
    current = bucket.notification_configuration
    if current is None:
        return {}
    result: dict[str, Any] = {}
    for api_list, api_arn, _, _, _ in DESTINATIONS:
        attribute = {"TopicConfigurations": "topic", "QueueConfigurations": "queue"}.get(api_list, "cloud_function")
        entries = []
        for notification in getattr(current, attribute):
            entry: dict[str, Any] = {"Id": notification.id, api_arn: notification.arn, "Events": list(notification.events)}
            rules = notification.filters.get("S3Key", {}).get("FilterRule", []) if notification.filters else []
            if rules:
                entry["Filter"] = {"Key": {"FilterRules": [dict(rule) for rule in rules]}}
            entries.append(entry)
        if entries:
            result[api_list] = entries
    if current.event_bridge is not None:
        result["EventBridgeConfiguration"] = {}
    return result


def _validate_destinations(account_id: str, configuration: dict[str, Any]) -> None:
    """S3 checks that each destination exists before it accepts a configuration; so does the emulator.
    (It cannot check that the destination's policy lets S3 send: no policy is evaluated.)"""
    from moto.awslambda.utils import get_backend as lambda_backend
    from moto.sns.models import sns_backends
    from moto.sqs.models import sqs_backends

    missing = []
    for api_list, api_arn, _, _, _ in DESTINATIONS:
        for notification in configuration.get(api_list) or []:
            arn = str(notification[api_arn])
            parts = arn.split(":")
            region, owner = (parts[3], parts[4]) if len(parts) > 5 else ("", account_id)
            try:
                if api_list == "QueueConfigurations":
                    sqs_backends[owner][region].get_queue(parts[5])
                elif api_list == "TopicConfigurations":
                    sns_backends[owner][region].get_topic(arn)
                else:
                    lambda_backend(owner, region).get_function(arn)
            except Exception:  # noqa: BLE001 - any lookup failure means S3 could not reach it
                missing.append(arn)
    if missing:
        raise NotificationError(f"Unable to validate the following destination configurations: {', '.join(missing)}")


def put_notifications(account_id: str, region_name: str, bucket_name: str, configuration: dict[str, Any], *, validate: bool = True) -> None:
    """``PutBucketNotificationConfiguration`` of ``configuration`` (API shape) on ``bucket_name``.

    Raises
    ------
    NotificationError
        When ``validate`` and a destination does not exist (S3's ``InvalidArgument``).
    """
    if validate:
        _validate_destinations(account_id, configuration)
    _s3(account_id, region_name).put_bucket_notification_configuration(bucket_name, to_moto_configuration(configuration))


class BucketNotificationsResource(CloudFormationModel):
    """``Custom::S3BucketNotifications``: what aws-cdk-lib's ``BucketNotificationsHandler`` does, in place.

    ``Managed`` (default true): the configuration replaces the bucket's; on delete the bucket gets none.
    Unmanaged (an imported bucket): the configuration is added to the notifications the bucket already has,
    each with an id that starts with the stack id, and on delete only those are removed.
    ``SkipDestinationValidation`` skips the check that each destination exists. Ref is the logical id, as
    the handler answers.
    """

    def __init__(self, logical_id: str, stack_id: str, bucket_name: str, managed: bool, account_id: str, region_name: str) -> None:
        self.logical_id = logical_id
        self.stack_id = stack_id
        self.bucket_name = bucket_name
        self.managed = managed
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "Custom::S3BucketNotifications"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return self.logical_id

    def _own_id(self, notification: dict[str, Any]) -> str:
        digest = hashlib.sha256(json.dumps({**notification, "Id": ""}, sort_keys=True).encode()).hexdigest()[:16]
        return f"{self.stack_id}-{digest}"

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> BucketNotificationsResource:
        props = cloudformation_json["Properties"]
        resource = cls(
            kwargs.get("LogicalId", resource_name),
            kwargs.get("StackId", ""),
            props["BucketName"],
            as_bool(props.get("Managed"), True),
            account_id,
            region_name,
        )
        incoming = dict(props.get("NotificationConfiguration") or {})
        configuration = incoming
        if not resource.managed:  # the bucket's existing notifications stay; ours get ids we can find again
            bucket = _s3(account_id, region_name).get_bucket(resource.bucket_name)
            configuration = from_moto_configuration(bucket)
            for api_list, *_ in DESTINATIONS:
                ours = [{**n, "Id": resource._own_id(n)} for n in incoming.get(api_list) or []]
                if ours or api_list in configuration:
                    configuration[api_list] = [*configuration.get(api_list, []), *ours]
            if "EventBridgeConfiguration" in incoming:
                configuration["EventBridgeConfiguration"] = {}
        put_notifications(
            account_id,
            region_name,
            resource.bucket_name,
            configuration,
            validate=not as_bool(props.get("SkipDestinationValidation"), False),
        )
        return resource

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _s3(account_id, region_name)
        if self.bucket_name not in backend.buckets:
            return
        remaining: dict[str, Any] = {}
        if not self.managed:
            existing = from_moto_configuration(backend.get_bucket(self.bucket_name))
            for api_list, *_ in DESTINATIONS:
                kept = [n for n in existing.get(api_list, []) if not str(n.get("Id", "")).startswith(f"{self.stack_id}-")]
                if kept:
                    remaining[api_list] = kept
            if "EventBridgeConfiguration" in existing:
                remaining["EventBridgeConfiguration"] = {}
        put_notifications(account_id, region_name, self.bucket_name, remaining, validate=False)


class AutoDeleteObjectsResource(CloudFormationModel):
    """``Custom::S3AutoDeleteObjects``: nothing on create (as aws-cdk-lib's handler); on delete, every object
    (every version) of ``BucketName`` is deleted, if the bucket still carries the ``aws-cdk:auto-delete-objects``
    tag. Ref is the bucket name."""

    def __init__(self, bucket_name: str, account_id: str, region_name: str) -> None:
        self.bucket_name = bucket_name
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "Custom::S3AutoDeleteObjects"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return False

    @property
    def physical_resource_id(self) -> str:
        return self.bucket_name

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> AutoDeleteObjectsResource:
        return cls(cloudformation_json["Properties"]["BucketName"], account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        backend = _s3(account_id, region_name)
        if self.bucket_name not in backend.buckets:
            return
        tags = backend.get_bucket_tagging(self.bucket_name).get("Tags", [])
        if not any(tag.get("Key") == AUTO_DELETE_TAG and tag.get("Value") == "true" for tag in tags):
            return
        bucket = backend.get_bucket(self.bucket_name)
        for key_name, versions in list(bucket.keys.iterlists()):
            for version in list(versions):
                backend.delete_object(self.bucket_name, key_name, version_id=version.version_id if bucket.is_versioned else None, bypass=True)


# --- Applying it ---------------------------------------------------------------------------------------

CUSTOM_MODELS: dict[str, Any] = {  # moto types its models abstract
    "Custom::S3BucketNotifications": BucketNotificationsResource,
    "Custom::S3AutoDeleteObjects": AutoDeleteObjectsResource,
}


def _patch_custom_resource_types() -> None:
    """moto sends every ``Custom::`` type to its model that invokes the resource's Lambda (in Docker); the
    two aws-cdk-lib S3 handlers get the models above instead."""
    original = parsing.resource_class_from_type

    def resource_class_from_type(resource_type: str) -> type[CloudFormationModel]:
        return CUSTOM_MODELS.get(resource_type) or original(resource_type)

    parsing.resource_class_from_type = resource_class_from_type


def _patch_inline_bucket_notifications() -> None:
    """``AWS::S3::Bucket``'s own ``NotificationConfiguration`` (CloudFormation's shape) is applied too."""
    original = FakeBucket.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: type[FakeBucket], /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> FakeBucket:
        bucket = original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)
        inline = (cloudformation_json.get("Properties") or {}).get("NotificationConfiguration")
        if inline:
            configuration: dict[str, Any] = {}
            for template_list, template_arn, api_list, api_arn in TEMPLATE_DESTINATIONS:
                for entry in inline.get(template_list) or []:
                    notification: dict[str, Any] = {api_arn: entry[template_arn], "Events": [entry["Event"]]}
                    rules = (entry.get("Filter") or {}).get("S3Key", {}).get("Rules", [])
                    if rules:
                        notification["Filter"] = {"Key": {"FilterRules": rules}}
                    configuration.setdefault(api_list, []).append(notification)
            if as_bool((inline.get("EventBridgeConfiguration") or {}).get("EventBridgeEnabled"), False):
                configuration["EventBridgeConfiguration"] = {}
            put_notifications(account_id, region_name, bucket.name, configuration)
        return bucket  # type: ignore[no-any-return]

    FakeBucket.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]


def apply() -> None:
    """Bucket policies evaluated for TLS requests, the CDK's S3 custom resources, inline notifications."""
    _patch_bucket_permission()
    _patch_custom_resource_types()
    _patch_inline_bucket_notifications()
