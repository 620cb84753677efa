"""What the local emulator teaches moto, so that the sample app's templates deploy faithfully.

Imported only inside the emulator process (``python -m constructs_sqs.local.server``), never by a test
process or a CDK app: importing this module registers CloudFormation models with moto, and
:func:`apply` changes moto's behaviour for the whole process.

moto's service backends already hold alarms, queue policies, topic policies and subscriptions; what moto 5.2.5 lacks is the CloudFormation side. Each ``*Resource`` class below maps one
resource type onto the backend call that the API would make, the way moto's own models do
(``CloudFormationModel`` subclasses, found by moto through ``__subclasses__()``). :func:`apply` then
fixes the CloudFormation behaviour the CDK CLI depends on and detaches moto's Lambda event source
mappings from the queues (rule E2).
"""

from __future__ import annotations

import json
import threading
import time
import weakref
from typing import Any, cast

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import CloudFormationBackend, cloudformation_backends
from moto.cloudwatch.models import Dimension, Metric, MetricDataQuery, MetricStat, cloudwatch_backends
from moto.core.common_models import CloudFormationModel
from moto.sns.models import sns_backends
from moto.core.utils import camelcase_to_underscores
from moto.sqs.exceptions import InvalidAttributeName, ReceiptHandleIsInvalid
from moto.sqs.models import Message, Queue, SQSBackend, sqs_backends

MOTO_VERSION = "5.2.5"
"""The moto release these patches were written against (the ``local`` extra pins it)."""

PATCHED_RESOURCE_TYPES = (
    "AWS::CloudWatch::Alarm",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Subscription",
    "AWS::SNS::TopicPolicy",
)
"""The CloudFormation types moto 5.2.5 skips (or fails on) and this module creates.

``AWS::S3::BucketPolicy`` (only in the CDK bootstrap stack) stays skipped on purpose: moto evaluates a
bucket policy's Deny statements without their conditions, so the bootstrap bucket's TLS-only Deny
(``aws:SecureTransport`` false) would refuse every asset upload."""


def _as_json_text(value: Any) -> str:
    """A policy or other JSON property as the API takes it: templates give objects, the API strings."""
    return value if isinstance(value, str) else json.dumps(value)


def _as_bool(value: Any, default: bool) -> bool:
    if value is None:
        return default
    return value if isinstance(value, bool) else str(value).lower() == "true"


def _queue_name(queue_url: str) -> str:
    return queue_url.rstrip("/").rsplit("/", 1)[-1]


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
                    return_data=cast(str, _as_bool(metric.get("ReturnData"), True)),
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
            actions_enabled=_as_bool(props.get("ActionsEnabled"), True),
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
        policy = _as_json_text(props["PolicyDocument"])
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
        sqs_backends[account_id][region_name].set_queue_attributes(_queue_name(target), {"Policy": policy})

    def delete(self, account_id: str, region_name: str) -> None:
        backend = sqs_backends[account_id][region_name]
        for url in self.targets:
            if _queue_name(url) in backend.queues:
                backend.set_queue_attributes(_queue_name(url), {"Policy": ""})


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
        if _as_bool(props.get("RawMessageDelivery"), False):
            backend.set_subscription_attributes(subscription.arn, "RawMessageDelivery", "true")
        for name in cls.ATTRIBUTES:
            if props.get(name) is not None:
                backend.set_subscription_attributes(subscription.arn, name, _as_json_text(props[name]))
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


def _patch_change_set_outputs() -> None:
    """Stacks created through a change set (how the CDK CLI deploys) get their outputs and exports.

    moto 5.2.5 creates the stack of a CREATE change set with an empty template and never evaluates the
    real template's ``Outputs``: ``describe_stacks`` shows none, and no export exists for
    ``Fn::ImportValue``. Here the stack sees the region's exports while it is created, and afterwards
    its outputs are evaluated and its exports registered, as ``create_stack`` already does.
    """
    original = CloudFormationBackend.execute_change_set

    def execute_change_set(self: CloudFormationBackend, change_set_name: str, stack_name: str | None = None) -> None:
        change_set = self.describe_change_set(change_set_name)
        stack = self.stacks[change_set.stack_id]  # type: ignore[union-attr]
        stack.cross_stack_resources = self.exports
        stack.resource_map.cross_stack_resources = self.exports
        original(self, change_set_name, stack_name)
        stack._parse_template()
        stack.output_map = stack._create_output_map()
        exports = {export.name: export for export in stack.exports}
        clashes = [name for name in exports if name in self.exports and self.exports[name].exporting_stack_id != stack.stack_id]
        if clashes:
            raise ValidationError(stack.stack_id, message=f"Export names must be unique across a region: {clashes}")
        self.exports.update(exports)

    CloudFormationBackend.execute_change_set = execute_change_set  # type: ignore[method-assign]


def _stack_output(spec: dict[str, Any], resources_map: parsing.ResourceMap) -> Any:
    """The value of ``Fn::GetStackOutput``: an output of another stack of the same account."""
    clean = parsing.clean_json
    stack_name = clean(spec["StackName"], resources_map)
    output_name = clean(spec["OutputName"], resources_map)
    region = clean(spec.get("Region"), resources_map) or resources_map["AWS::Region"]
    account_id = resources_map["AWS::AccountId"]
    backend = cloudformation_backends[account_id][region]  # type: ignore[index]
    for stack in backend.stacks.values():
        if stack.name == stack_name and stack.status.endswith("_COMPLETE") and not stack.status.startswith("DELETE"):
            output = stack.output_map[output_name] if output_name in stack.output_map.outputs else None
            if output is None:
                raise ValidationError(message=f"Stack {stack_name} has no output {output_name}")
            return output.value
    raise ValidationError(message=f"Fn::GetStackOutput: no stack {stack_name} in {account_id}/{region}")


def _patch_get_stack_output() -> None:
    """``Fn::GetStackOutput`` (CDK's weak cross-stack references) resolves like CloudFormation's."""
    original = parsing.clean_json

    def clean_json(resource_json: Any, resources_map: parsing.ResourceMap) -> Any:
        if isinstance(resource_json, dict) and "Fn::GetStackOutput" in resource_json:
            return _stack_output(resource_json["Fn::GetStackOutput"], resources_map)
        return original(resource_json, resources_map)

    parsing.clean_json = clean_json


def _queue_attributes(self: Queue, with_counts: bool = False) -> dict[str, Any]:
    """A queue's attributes as SQS reports them (moto's own, with the differences listed below).

    The ``Approximate*`` message counts, a scan of the queue each, are computed only ``with_counts``:
    moto read ``Queue.attributes`` several times per message sent or received.
    """
    result: dict[str, Any] = {}
    for name in self.BASE_ATTRIBUTES:
        if with_counts or not name.startswith("Approximate"):
            result[name] = getattr(self, camelcase_to_underscores(name))
    if self.fifo_queue:
        result.update({name: getattr(self, camelcase_to_underscores(name)) for name in self.FIFO_ATTRIBUTES})
    kms = getattr(self, "kms_master_key_id", None)
    if kms:
        result.update({name: getattr(self, camelcase_to_underscores(name)) for name in self.KMS_ATTRIBUTES})
        result["SqsManagedSseEnabled"] = False
    if self.policy:
        result["Policy"] = self.policy
    if self.redrive_policy:
        result["RedrivePolicy"] = json.dumps(self.redrive_policy)
    allow = result.pop("RedriveAllowPolicy", None)
    if allow:
        result["RedriveAllowPolicy"] = _as_json_text(allow)
    return {name: str(value).lower() if isinstance(value, bool) else value for name, value in result.items()}


def _patch_queue_attributes() -> None:
    """Queue attributes as SQS reports them, and without rescanning the queue for every message.

    - ``RedriveAllowPolicy`` is kept and returned (moto 5.2.5 stores it but never reports it);
    - ``SqsManagedSseEnabled`` is ``false`` on a queue with a KMS key (SQS reports one encryption);
    - a ``SetQueueAttributes`` call that does not name ``Policy`` keeps the queue policy (moto drops it).
    """
    Queue.redrive_allow_policy = None  # type: ignore[attr-defined]
    if "RedriveAllowPolicy" not in Queue.BASE_ATTRIBUTES:
        Queue.BASE_ATTRIBUTES = [*Queue.BASE_ATTRIBUTES, "RedriveAllowPolicy"]
    original_set = Queue._set_attributes

    def set_attributes(self: Queue, new: dict[str, Any], now: float | None = None) -> None:
        kept = getattr(self, "policy", None)
        original_set(self, new, now)
        if "Policy" not in new:
            self.policy = kept

    def get_queue_attributes(self: SQSBackend, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        queue = self.get_queue(queue_name)
        if not attribute_names:
            return {}
        valid = ["All", *queue.BASE_ATTRIBUTES, *queue.FIFO_ATTRIBUTES, *queue.KMS_ATTRIBUTES]
        invalid = next((name for name in attribute_names if name not in valid), None)
        if invalid is not None:
            raise InvalidAttributeName(invalid)
        with_counts = "All" in attribute_names or any(name.startswith("Approximate") for name in attribute_names)
        attributes = _queue_attributes(queue, with_counts=with_counts)
        if "All" in attribute_names:
            return attributes
        return {name: attributes[name] for name in attribute_names if attributes.get(name) is not None}

    Queue.attributes = property(_queue_attributes)  # type: ignore[method-assign,assignment]
    Queue._set_attributes = set_attributes  # type: ignore[method-assign,assignment]
    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]


_receive_locks: weakref.WeakKeyDictionary[Queue, threading.RLock] = weakref.WeakKeyDictionary()
_receive_locks_guard = threading.Lock()
_receiving = threading.local()


def _receive_lock(queue: Queue) -> threading.RLock:
    with _receive_locks_guard:
        return _receive_locks.setdefault(queue, threading.RLock())


def _patch_receive_atomic() -> None:
    """One receive at a time picks a queue's messages, as in SQS: no message goes to two consumers at once.

    moto's server runs requests in threads and its ``ReceiveMessage`` checks a message's visibility and
    then marks it received without a lock, so two concurrent receives could both take the same message
    (and, on a FIFO queue, two messages of one group). The scan and the marking now hold a lock per
    queue; a long poll releases it while it waits, so waiting receives do not queue behind each other.
    """
    original_receive = SQSBackend.receive_message
    original_wait = Queue.wait_for_messages

    def receive_message(self: SQSBackend, queue_name: str, *args: Any, **kwargs: Any) -> list[Message]:
        lock = _receive_lock(self.get_queue(queue_name))
        with lock:
            _receiving.lock = lock
            try:
                return original_receive(self, queue_name, *args, **kwargs)
            finally:
                _receiving.lock = None

    def wait_for_messages(self: Queue, timeout: int) -> None:
        lock = getattr(_receiving, "lock", None)
        if lock is None:
            original_wait(self, timeout)
            return
        lock.release()
        try:
            original_wait(self, timeout)
        finally:
            lock.acquire()

    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
    Queue.wait_for_messages = wait_for_messages  # type: ignore[method-assign]


_messages_by_handle: weakref.WeakValueDictionary[str, Message] = weakref.WeakValueDictionary()


def _patch_queue_speed() -> None:
    """Keep SQS operations from growing with the queue's depth (moto 5.2.5 is quadratic).

    moto computed all three message counts (a scan of the queue each) several times per message sent
    or received (see :func:`_queue_attributes`), read the clock through ``datetime`` for every message
    it looked at, and scanned every message's receipt-handle history on every ``DeleteMessage``:
    10,000 messages took minutes. Here visibility compares with ``time.time()`` (the same epoch), and
    a delete finds its message through an index of receipt handles, under the queue's locks (see
    ``delete_message``). What each call returns is unchanged.
    """
    original_mark_received = Message.mark_received

    def mark_received(self: Message, visibility_timeout: int | None = None) -> None:
        original_mark_received(self, visibility_timeout)
        _messages_by_handle[self.receipt_handle] = self  # type: ignore[index]

    def delete_message(self: Queue, receipt_handle: str) -> None:
        # Both locks: moto's own (sends append under it) and the receive lock (a receive moves messages to
        # the DLQ under it). moto rebuilt the list with neither, so two concurrent deletes could each write
        # back a list holding the other's message: a deleted message came back (and a sent one could vanish).
        with _receive_lock(self), self._messages_lock:
            if receipt_handle in self.deleted_messages:
                return  # deleting twice succeeds, as in moto and SQS
            message = _messages_by_handle.get(receipt_handle)
            if message is None or message not in self._messages:  # Message has no __eq__: identity, in C
                raise ReceiptHandleIsInvalid()
            remaining = list(self._messages)  # a new list, as moto does: readers may be iterating the old one
            remaining.remove(message)
            self._messages = remaining
            self.pending_messages.discard(message)
            self.deleted_messages.update(message.all_receipt_handles)  # type: ignore[arg-type]

    Message.mark_received = mark_received  # type: ignore[method-assign]
    Message.visible = property(lambda self: time.time() * 1000 > self.visible_at)  # type: ignore[method-assign,assignment]
    Message.delayed = property(lambda self: time.time() * 1000 < self.delayed_until)  # type: ignore[method-assign,assignment]
    Queue.delete_message = delete_message  # type: ignore[method-assign]


def _patch_kms_key_policy() -> None:
    """A key made by a stack keeps its policy as JSON text, as ``CreateKey`` does (moto kept the object,
    and ``DescribeKey`` then failed with HTTP 500)."""
    from moto.kms.models import Key

    original = Key.create_from_cloudformation_json.__func__  # type: ignore[attr-defined]

    def create(cls: type[Key], /, resource_name: str, cloudformation_json: Any, account_id: str, region_name: str, **kwargs: Any) -> Key:
        props = cloudformation_json["Properties"]
        if "KeyPolicy" in props:
            props["KeyPolicy"] = _as_json_text(props["KeyPolicy"])
        return original(cls, resource_name, cloudformation_json, account_id, region_name, **kwargs)  # type: ignore[no-any-return]

    Key.create_from_cloudformation_json = classmethod(create)  # type: ignore[method-assign,assignment]


def _patch_layer_version_ref() -> None:
    """``Ref`` of an ``AWS::Lambda::LayerVersion`` is its version ARN (moto 5.2.5 returned the object)."""
    from moto.awslambda.models import LayerVersion

    LayerVersion.physical_resource_id = property(lambda self: self.arn)  # type: ignore[attr-defined]


def _detach_event_source_mappings() -> None:
    """moto keeps the event source mappings but never consumes a queue for them (rule E2).

    Without Docker, moto's mapping receives a batch on every ``SendMessage``, fails to invoke the
    function and leaves the receive count raised, so healthy messages reached the DLQ. The mapping
    itself stays (``ListEventSourceMappings`` shows it); the queue just never learns of it. The local
    runner (``constructs_sqs.local.runner``) plays the mapping instead.
    """
    Queue.lambda_event_source_mappings = property(  # type: ignore[assignment]
        lambda self: {}, lambda self, value: None
    )


_applied = False


def apply() -> None:
    """Apply every patch of this module to the moto of this process (idempotent)."""
    global _applied
    if _applied:
        return
    # The models above are subclasses now; moto caches its model map on first use, so refresh it.
    parsing.get_model_list.cache_clear()
    parsing.get_model_map.cache_clear()
    parsing.get_name_type_map.cache_clear()
    _patch_change_set_outputs()
    _patch_get_stack_output()
    _patch_queue_attributes()
    _patch_queue_speed()
    _patch_receive_atomic()
    _patch_kms_key_policy()
    _patch_layer_version_ref()
    _detach_event_source_mappings()
    missing = [kind for kind in PATCHED_RESOURCE_TYPES if kind not in parsing.get_model_map()]
    if missing:  # another moto than the pinned one: fail here, not halfway through a deploy
        raise RuntimeError(f"moto (written for {MOTO_VERSION}) did not take the CloudFormation models of {', '.join(missing)}")
    _applied = True
