"""CloudFormation resource types moto 5.2.5 skips (or fails on), created through their service's API.

moto's service backends already hold alarms, queue policies, topic policies and subscriptions; what moto
lacks is the CloudFormation side. Each ``*Resource`` class maps one resource type onto the backend call the
API would make, the way moto's own models do: ``CloudFormationModel`` subclasses, found by moto through
``CloudFormationModel.__subclasses__()``. So importing this module registers them (moto caches its model
map: :func:`constructs_sqs.local._patches.apply` clears that cache afterwards).

Without them a stack deploys "complete" while its queue has no policy, its topic delivers to nobody and
its alarms do not exist; the Monitoring stack of the sample app failed outright (``Fn::GetAtt`` on an alarm).
"""

from __future__ import annotations

from typing import Any, cast

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.sns.models import sns_backends
from moto.sqs.models import sqs_backends

from .values import as_bool, as_json_text, queue_name

RESOURCE_TYPES = (
    "AWS::CloudWatch::Alarm",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
)
"""The types this module teaches moto's CloudFormation."""


class _ArnAttribute:
    """``Fn::GetAtt`` of ``Arn``, the one attribute of the alarms and subscriptions the emulator creates.
    A mixin: moto registers only the direct subclasses of CloudFormationModel."""

    arn: str

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    def get_cfn_attribute(self, attribute_name: str) -> str:
        if attribute_name == "Arn":
            return self.arn
        raise UnformattedGetAttTemplateException()


class AlarmResource(_ArnAttribute, CloudFormationModel):
    """``AWS::CloudWatch::Alarm``: ``put_metric_alarm`` with the template's properties; Ref is the name."""

    def __init__(self, name: str, arn: str, account_id: str, region_name: str) -> None:
        self.name = name
        self.arn = arn
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    @staticmethod
    def _metric_queries(metrics: list[dict[str, Any]] | None) -> list[MetricDataQuery] | None:
        if not metrics:
            return None
        queries = []
        for metric in metrics:
            stat = metric.get("MetricStat")
            metric_stat = None
            if stat:
                inner = stat.get("Metric", {})
                dimensions = [Dimension(d.get("Name"), d.get("Value")) for d in inner.get("Dimensions", [])]
                metric_stat = MetricStat(
                    metric=Metric(inner.get("MetricName"), inner.get("Namespace"), dimensions),
                    period=stat.get("Period"),
                    stat=stat.get("Stat"),
                    unit=stat.get("Unit"),
                )
            queries.append(
                MetricDataQuery(
                    query_id=metric["Id"],
                    # Absent means absent (moto types these str, but serializes "" as an integer Period and
                    # fails DescribeAlarms); ReturnData is a boolean in the API.
                    label=cast(str, metric.get("Label")),
                    period=cast(str, metric.get("Period")),
                    return_data=cast(str, as_bool(metric.get("ReturnData"), True)),
                    expression=metric.get("Expression"),
                    metric_stat=metric_stat,
                )
            )
        return queries

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> AlarmResource:
        props = cloudformation_json["Properties"]
        threshold = props.get("Threshold")
        alarm = cloudwatch_backends[account_id][region_name].put_metric_alarm(
            name=resource_name,
            namespace=props.get("Namespace"),
            metric_name=props.get("MetricName"),
            comparison_operator=props["ComparisonOperator"],
            evaluation_periods=int(props["EvaluationPeriods"]),
            period=props.get("Period"),
            threshold=float(threshold) if threshold is not None else None,  # type: ignore[arg-type]
            statistic=props.get("Statistic"),
            description=props.get("AlarmDescription"),
            dimensions=props.get("Dimensions", []),
            alarm_actions=props.get("AlarmActions", []),
            metric_data_queries=cls._metric_queries(props.get("Metrics")),
            datapoints_to_alarm=props.get("DatapointsToAlarm"),
            extended_statistic=props.get("ExtendedStatistic"),
            ok_actions=props.get("OKActions", []),
            insufficient_data_actions=props.get("InsufficientDataActions", []),
            unit=props.get("Unit"),
            actions_enabled=as_bool(props.get("ActionsEnabled"), True),
            treat_missing_data=props.get("TreatMissingData"),
            evaluate_low_sample_count_percentile=props.get("EvaluateLowSampleCountPercentile"),
            threshold_metric_id=props.get("ThresholdMetricId"),
            tags=props.get("Tags"),
        )
        return cls(alarm.name, alarm.alarm_arn, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        cloudwatch_backends[account_id][region_name].delete_alarms([self.name])


class _PolicyResource:
    """What ``AWS::SQS::QueuePolicy`` and ``AWS::SNS::TopicPolicy`` share: a policy document set as an
    attribute of each target (queue URLs, topic ARNs) in one property. A mixin, not a CloudFormationModel
    subclass: moto registers only the direct subclasses of CloudFormationModel."""

    TARGETS = ""
    """The property listing the targets (``Queues``, ``Topics``)."""

    def __init__(self, resource_id: str, targets: list[str], account_id: str, region_name: str) -> None:
        self.resource_id = resource_id
        self.targets = targets
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

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
    ) -> Any:
        props = cloudformation_json["Properties"]
        policy = as_json_text(props["PolicyDocument"])
        for target in props[cls.TARGETS]:
            cls._set_policy(account_id, region_name, target, policy)
        return cls(resource_name, list(props[cls.TARGETS]), account_id, region_name)

    @staticmethod
    def _set_policy(account_id: str, region_name: str, target: str, policy: str) -> None:
        raise NotImplementedError


class QueuePolicyResource(_PolicyResource, CloudFormationModel):
    """``AWS::SQS::QueuePolicy``: the ``Policy`` attribute of each queue in ``Queues`` (queue URLs)."""

    TARGETS = "Queues"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SQS::QueuePolicy"

    @staticmethod
    def _set_policy(account_id: str, region_name: str, target: str, policy: str) -> None:
        sqs_backends[account_id][region_name].set_queue_attributes(queue_name(target), {"Policy": policy})

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for url in self.targets:
            if queue_name(url) in backend.queues:
                backend.set_queue_attributes(queue_name(url), {"Policy": ""})


class SubscriptionResource(_ArnAttribute, CloudFormationModel):
    """``AWS::SNS::Subscription``: ``subscribe`` plus its attributes; Ref is the subscription ARN."""

    ATTRIBUTES = ("DeliveryPolicy", "FilterPolicyScope", "FilterPolicy", "RedrivePolicy", "SubscriptionRoleArn")

    def __init__(self, arn: str, account_id: str, region_name: str) -> None:
        self.arn = arn
        self.account_id = account_id
        self.region_name = region_name

    @staticmethod
    def cloudformation_name_type() -> str:
        return ""

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::Subscription"

    @property
    def physical_resource_id(self) -> str:
        return self.arn

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> SubscriptionResource:
        props = cloudformation_json["Properties"]
        topic_arn = props["TopicArn"]
        backend = sns_backends[account_id][topic_arn.split(":")[3]]
        subscription = backend.subscribe(topic_arn, props["Endpoint"], props["Protocol"])
        # moto reads RawMessageDelivery by truthiness, so only a true value is written.
        if as_bool(props.get("RawMessageDelivery"), False):
            backend.set_subscription_attributes(subscription.arn, "RawMessageDelivery", "true")
        for name in cls.ATTRIBUTES:
            if props.get(name) is not None:
                backend.set_subscription_attributes(subscription.arn, name, as_json_text(props[name]))
        return cls(subscription.arn, account_id, region_name)

    def delete(self, account_id: str, region_name: str) -> None:
        sns_backends[account_id][self.arn.split(":")[3]].unsubscribe(self.arn)


class TopicPolicyResource(_PolicyResource, CloudFormationModel):
    """``AWS::SNS::TopicPolicy``: the ``Policy`` attribute of each topic in ``Topics`` (topic ARNs)."""

    TARGETS = "Topics"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SNS::TopicPolicy"

    @staticmethod
    def _set_policy(account_id: str, region_name: str, target: str, policy: str) -> None:
        sns_backends[account_id][target.split(":")[3]].set_topic_attribute(target, "policy", policy)



def apply() -> None:
    """Nothing to patch: importing this module registered its models with moto's CloudFormation."""
