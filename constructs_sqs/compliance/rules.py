"""The library's rules (the constructs-sqs rules) as checks of any app's SQS resources, read from its CloudFormation templates.

:data:`RULES` is the rule table of the ``ConstructsSqs`` cdk-nag pack (:class:`~constructs_sqs.compliance.
ConstructsSqsChecks`): each rule has an id, a level, what it finds, why it matters, the fix with aws-cdk-lib and
the construct argument that fixes it when the resource comes from this library. The checks read templates, not
constructs, so that a hand-written ``sqs.Queue`` is judged like a pattern's, raw overrides are seen, and a
queue, its consumer and its alarms may live in different stacks: :class:`AppModel` follows ``Ref``, ``Fn::GetAtt``,
``Fn::ImportValue``, ``Fn::GetStackOutput`` and literal names and ARNs across the stacks of one cloud assembly.

Only the standard library is used; ``python -c "from constructs_sqs.compliance import rules"`` needs no extra.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Union

__all__ = ["PACK_NAME", "RULES", "AppModel", "Resource", "Rule", "StackTemplate", "rule_named"]

PACK_NAME = "ConstructsSqs"
"""The pack's name: rule ids are ``ConstructsSqs-<rule>``, acknowledgments ``ConstructsSqs::ConstructsSqs-<rule>``."""

SQS_DEFAULT_RETENTION = 345_600
SQS_DEFAULT_VISIBILITY = 30
SQS_DEFAULT_MAXIMUM_POLLERS = 200
"""Lambda's maximum of provisioned pollers of an SQS event source when ``MaximumPollers`` is unset."""
LAMBDA_DEFAULT_TIMEOUT = 3
MIN_RECEIVES_UNDER_LAMBDA = 5
VISIBILITY_FACTOR = 6
AGE_METRIC = "ApproximateAgeOfOldestMessage"

Result = Union[bool, list[str], None]
"""What a check returns: None (the rule does not apply), True (compliant), False (not compliant), or the list of
findings (empty: compliant), each reported as ``ConstructsSqs-<rule>[<finding>]``."""


# --- The templates of an app ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class StackTemplate:
    """One stack of the assembly: its CloudFormation name and template."""

    name: str
    template: Mapping[str, Any]
    file: str = ""

    @property
    def resources(self) -> Mapping[str, Mapping[str, Any]]:
        resources: Mapping[str, Mapping[str, Any]] = self.template.get("Resources") or {}
        return resources


@dataclass(frozen=True, eq=False)
class Resource:
    """A resource of a stack, by logical id."""

    stack: StackTemplate
    logical_id: str

    @property
    def body(self) -> Mapping[str, Any]:
        return self.stack.resources.get(self.logical_id) or {}

    @property
    def type(self) -> str:
        return str(self.body.get("Type", ""))

    @property
    def properties(self) -> Mapping[str, Any]:
        properties: Mapping[str, Any] = self.body.get("Properties") or {}
        return properties

    @property
    def path(self) -> str:
        return str((self.body.get("Metadata") or {}).get("aws:cdk:path") or f"{self.stack.name}/{self.logical_id}")

    def __hash__(self) -> int:
        return hash((id(self.stack), self.logical_id))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Resource) and other.stack is self.stack and other.logical_id == self.logical_id


def _json(value: Any) -> Any:
    """A property CloudFormation accepts as a JSON string or as an object, as an object."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _number(value: Any) -> float | None:
    """A literal number (CloudFormation accepts numbers as strings), or None for intrinsics."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _true(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() == "true")


def _list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


class AppModel:
    """The stacks of one cloud assembly, with the references between their resources resolved.

    Parameters
    ----------
    stacks:
        The stacks (names must be their CloudFormation stack names for ``Fn::GetStackOutput``).
    """

    def __init__(self, stacks: Sequence[StackTemplate]) -> None:
        self.stacks = list(stacks)
        self._by_name = {s.name: s for s in self.stacks}
        self._resources = [Resource(s, lid) for s in self.stacks for lid in s.resources]
        self._by_type: dict[str, list[Resource]] = {}
        for resource in self._resources:
            self._by_type.setdefault(resource.type, []).append(resource)
        self._exports: dict[str, tuple[StackTemplate, Any]] = {}
        for stack in self.stacks:
            for output in (stack.template.get("Outputs") or {}).values():
                name = (output.get("Export") or {}).get("Name")
                if isinstance(name, str):
                    self._exports[name] = (stack, output.get("Value"))
        self._named: dict[str, list[Resource]] = {}
        for resource in self._resources:
            for key in ("QueueName", "TopicName", "FunctionName", "Name", "BucketName"):
                name = resource.properties.get(key)
                if isinstance(name, str) and name:
                    self._named.setdefault(name, []).append(resource)

    @classmethod
    def from_assembly(cls, directory: str | os.PathLike[str]) -> AppModel:
        """The stacks of the cloud assembly in ``directory`` (its ``manifest.json``; nested Stages are
        assemblies of their own and are not included)."""
        root = Path(directory)
        manifest = json.loads((root / "manifest.json").read_text())
        stacks: list[StackTemplate] = []
        for artifact_id, artifact in (manifest.get("artifacts") or {}).items():
            if artifact.get("type") != "aws:cloudformation:stack":
                continue
            properties = artifact.get("properties") or {}
            file = root / properties["templateFile"]
            name = properties.get("stackName") or artifact.get("displayName") or artifact_id
            stacks.append(StackTemplate(str(name), json.loads(file.read_text()), str(file)))
        return cls(stacks)

    def of_type(self, resource_type: str) -> list[Resource]:
        """Every resource of ``resource_type`` in the app."""
        return list(self._by_type.get(resource_type, ()))

    def stack_of_file(self, file: str | os.PathLike[str]) -> StackTemplate | None:
        """The stack whose template is ``file``."""
        wanted = Path(file).name
        return next((s for s in self.stacks if Path(s.file).name == wanted), None)

    # --- references ---

    def refs(self, stack: StackTemplate, value: Any) -> set[Resource]:
        """Every resource that ``value`` (a template value of ``stack``) refers to: ``Ref``, ``Fn::GetAtt``,
        ``Fn::Sub``, exports and stack outputs of other stacks, and literal names, ARNs and URLs."""
        found: set[Resource] = set()
        for kind, target in _references(value):
            found |= self._resolve(stack, kind, target, depth=0)
        return found

    def _resolve(self, stack: StackTemplate, kind: str, target: Any, *, depth: int) -> set[Resource]:
        if depth > 5:
            return set()
        if kind == "logical":
            return {Resource(stack, target)} if target in stack.resources else set()
        if kind == "import":
            if target in self._exports:
                producer, value = self._exports[target]
                return {r for k, t in _references(value) for r in self._resolve(producer, k, t, depth=depth + 1)}
            # The assembly gate reads Fn::GetStackOutput back as Fn::ImportValue "<stack>:<output>".
            stack_name, _, output = str(target).partition(":")
            return self._stack_output(stack_name, output, depth)
        if kind == "stack-output" and isinstance(target, Mapping):
            return self._stack_output(str(target.get("StackName")), str(target.get("OutputName")), depth)
        if kind == "literal" and isinstance(target, str):
            tail = re.split(r"[:/]", target)[-1]
            return set(self._named.get(tail, ())) if tail and target != tail else set()
        return set()

    def _stack_output(self, stack_name: str, output_name: str, depth: int) -> set[Resource]:
        producer = self._by_name.get(stack_name)
        output = ((producer.template.get("Outputs") or {}).get(output_name) if producer else None) or {}
        if producer is None or "Value" not in output:
            return set()
        return {r for k, t in _references(output["Value"]) for r in self._resolve(producer, k, t, depth=depth + 1)}

    def refs_of_type(self, stack: StackTemplate, value: Any, resource_type: str) -> set[Resource]:
        return {r for r in self.refs(stack, value) if r.type == resource_type}

    # --- queues and what surrounds them ---

    @cached_property
    def _redrives(self) -> list[tuple[Resource, Resource | None, Mapping[str, Any]]]:
        """(source queue, its DLQ in the app or None, the redrive policy) of every queue with one."""
        found = []
        for queue in self.of_type("AWS::SQS::Queue"):
            policy = _json(queue.properties.get("RedrivePolicy"))
            if isinstance(policy, Mapping) and policy.get("deadLetterTargetArn") is not None:
                targets = self.refs_of_type(queue.stack, policy.get("deadLetterTargetArn"), "AWS::SQS::Queue")
                found.append((queue, next(iter(targets), None), policy))
        return found

    def redrive_of(self, queue: Resource) -> tuple[Resource | None, Mapping[str, Any]] | None:
        """The DLQ (None when outside the app) and redrive policy of ``queue``, or None when it has none."""
        return next(((dlq, policy) for source, dlq, policy in self._redrives if source == queue), None)

    def redrive_sources(self, dead_letter_queue: Resource) -> list[Resource]:
        """The queues whose redrive policy moves messages to ``dead_letter_queue``."""
        return [source for source, dlq, _ in self._redrives if dlq == dead_letter_queue]

    @cached_property
    def _other_dead_letter_queues(self) -> set[Resource]:
        """Queues that are the DLQ of an SNS subscription or of an EventBridge rule target."""
        found: set[Resource] = set()
        for subscription in self.of_type("AWS::SNS::Subscription"):
            policy = _json(subscription.properties.get("RedrivePolicy"))
            if isinstance(policy, Mapping):
                found |= self.refs_of_type(subscription.stack, policy.get("deadLetterTargetArn"), "AWS::SQS::Queue")
        for rule in self.of_type("AWS::Events::Rule"):
            for target in _list(rule.properties.get("Targets")):
                arn = (target.get("DeadLetterConfig") or {}).get("Arn") if isinstance(target, Mapping) else None
                found |= self.refs_of_type(rule.stack, arn, "AWS::SQS::Queue")
        return found

    def is_dead_letter_queue(self, queue: Resource) -> bool:
        """A queue that receives what something else could not deliver or process: the target of a redrive
        policy, of an SNS subscription or rule target DLQ, or one that declares a redrive allow policy."""
        allow = _json(queue.properties.get("RedriveAllowPolicy"))
        declared = isinstance(allow, Mapping) and allow.get("redrivePermission") in ("byQueue", "allowAll")
        return declared or bool(self.redrive_sources(queue)) or queue in self._other_dead_letter_queues

    def retention_of(self, queue: Resource) -> float | None:
        value = queue.properties.get("MessageRetentionPeriod")
        return float(SQS_DEFAULT_RETENTION) if value is None else _number(value)

    def visibility_of(self, queue: Resource) -> float | None:
        value = queue.properties.get("VisibilityTimeout")
        return float(SQS_DEFAULT_VISIBILITY) if value is None else _number(value)

    def is_fifo(self, queue: Resource) -> bool:
        return _true(queue.properties.get("FifoQueue"))

    @cached_property
    def _mappings(self) -> list[tuple[Resource, set[Resource]]]:
        """(event source mapping, the queues it reads) of every SQS event source of a Lambda function."""
        found = []
        for mapping in self.of_type("AWS::Lambda::EventSourceMapping"):
            arn = mapping.properties.get("EventSourceArn")
            queues = self.refs_of_type(mapping.stack, arn, "AWS::SQS::Queue")
            if queues or (isinstance(arn, str) and ":sqs:" in arn):
                found.append((mapping, queues))
        return found

    def reads_sqs(self, mapping: Resource) -> bool:
        """The event source mapping reads an SQS queue (of the app or a literal ``:sqs:`` ARN)."""
        return any(m == mapping for m, _ in self._mappings)

    def mappings_of(self, queue: Resource) -> list[Resource]:
        """The Lambda event source mappings that read ``queue``."""
        return [mapping for mapping, queues in self._mappings if queue in queues]

    def function_of(self, mapping: Resource) -> Resource | None:
        functions = self.refs_of_type(mapping.stack, mapping.properties.get("FunctionName"), "AWS::Lambda::Function")
        return next(iter(functions), None)

    def timeout_of(self, function: Resource) -> float | None:
        value = function.properties.get("Timeout")
        return float(LAMBDA_DEFAULT_TIMEOUT) if value is None else _number(value)

    def policies_of(self, queue: Resource) -> list[Resource]:
        """The ``AWS::SQS::QueuePolicy`` resources that apply to ``queue``."""
        return [
            policy
            for policy in self.of_type("AWS::SQS::QueuePolicy")
            if queue in self.refs(policy.stack, policy.properties.get("Queues"))
        ]

    def key_of(self, queue: Resource) -> Resource | str | None:
        """The ``AWS::KMS::Key`` of the app that encrypts ``queue``, else the literal key id, alias or ARN, or
        None (no KMS key)."""
        value = queue.properties.get("KmsMasterKeyId")
        if value is None:
            return None
        keys = self.refs_of_type(queue.stack, value, "AWS::KMS::Key")
        if keys:
            return next(iter(keys))
        return value if isinstance(value, str) else "?"

    @cached_property
    def queue_keys(self) -> set[Resource]:
        """Every key of the app that encrypts an SQS queue."""
        found = set()
        for queue in self.of_type("AWS::SQS::Queue"):
            key = self.key_of(queue)
            if isinstance(key, Resource):
                found.add(key)
        return found

    # --- producers ---

    def s3_notifications_to(self, queue: Resource) -> list[Resource]:
        """Buckets and ``Custom::S3BucketNotifications`` resources whose notification configuration sends to
        ``queue`` (the bucket's ``Queue``, or the S3 API's ``QueueArn`` that aws-cdk-lib's custom resource uses)."""
        found = []
        for kind, key in (("AWS::S3::Bucket", "Queue"), ("Custom::S3BucketNotifications", "QueueArn")):
            for resource in self.of_type(kind):
                configurations = (resource.properties.get("NotificationConfiguration") or {}).get("QueueConfigurations")
                for configuration in _list(configurations):
                    if isinstance(configuration, Mapping) and queue in self.refs(resource.stack, configuration.get(key)):
                        found.append(resource)
                        break
        return found

    def subscriptions_to(self, queue: Resource) -> list[Resource]:
        """The SNS subscriptions (protocol ``sqs``) whose endpoint is ``queue``."""
        return [
            subscription
            for subscription in self.of_type("AWS::SNS::Subscription")
            if str(subscription.properties.get("Protocol", "")).lower() == "sqs"
            and queue in self.refs(subscription.stack, subscription.properties.get("Endpoint"))
        ]

    def topic_is_fifo(self, subscription: Resource) -> bool | None:
        """Whether the subscription's topic is a FIFO topic; None when it cannot be read."""
        value = subscription.properties.get("TopicArn")
        topics = self.refs_of_type(subscription.stack, value, "AWS::SNS::Topic")
        if topics:
            topic = next(iter(topics))
            name = topic.properties.get("TopicName")
            return _true(topic.properties.get("FifoTopic")) or (isinstance(name, str) and name.endswith(".fifo"))
        if isinstance(value, str) and value.startswith("arn:"):
            return value.endswith(".fifo")
        return None

    def rule_targets_to(self, queue: Resource) -> list[tuple[Resource, Mapping[str, Any]]]:
        """(rule, target) of every EventBridge rule target that sends to ``queue``."""
        return [
            (rule, target)
            for rule in self.of_type("AWS::Events::Rule")
            for target in _list(rule.properties.get("Targets"))
            if isinstance(target, Mapping) and queue in self.refs(rule.stack, target.get("Arn"))
        ]

    def service_principals_of(self, policy_document: Any) -> Iterator[tuple[Mapping[str, Any], list[str]]]:
        """(statement, its literal service principals) of every Allow statement of a document that names an AWS
        service as principal."""
        for statement in _list((policy_document or {}).get("Statement") if isinstance(policy_document, Mapping) else None):
            if not isinstance(statement, Mapping) or statement.get("Effect") != "Allow":
                continue
            principal = statement.get("Principal")
            services = _list(principal.get("Service")) if isinstance(principal, Mapping) else []
            literal = [s for s in services if isinstance(s, str)]
            if literal:
                yield statement, literal

    def service_producers_of(self, queue: Resource) -> list[str]:
        """What makes an AWS service send to ``queue``: S3 notifications, SNS subscriptions, rule targets and
        service principals allowed by its queue policies (``s3``, ``sns``, ``events``, ...)."""
        found = []
        if self.s3_notifications_to(queue):
            found.append("s3")
        if self.subscriptions_to(queue):
            found.append("sns")
        if self.rule_targets_to(queue):
            found.append("events")
        for policy in self.policies_of(queue):
            for _, services in self.service_principals_of(policy.properties.get("PolicyDocument")):
                found += [s.split(".", 1)[0] for s in services]
        return sorted(set(found))

    # --- alarms ---

    @cached_property
    def _alarms(self) -> list[tuple[Resource, set[Resource], list[tuple[str | None, float | None]]]]:
        """(alarm, the queues it watches, (metric name, threshold) of what it alarms on)."""
        found = []
        for alarm in self.of_type("AWS::CloudWatch::Alarm"):
            properties = alarm.properties
            actions = _list(properties.get("AlarmActions"))
            if actions and not _list(properties.get("OKActions")) and all(
                self.refs_of_type(alarm.stack, action, "AWS::ApplicationAutoScaling::ScalingPolicy") for action in actions
            ):
                continue  # a scaling alarm (QueueWorkerService's scale from zero) acts; it watches nothing for on-call
            threshold = _number(properties.get("Threshold"))
            watched: set[Resource] = set()
            metrics: list[tuple[str | None, float | None]] = []
            dimensions = _list(properties.get("Dimensions"))
            if properties.get("MetricName") is not None:
                metrics.append((properties.get("MetricName"), threshold))
            for query in _list(properties.get("Metrics")):
                stat = ((query or {}).get("MetricStat") or {}).get("Metric") or {} if isinstance(query, Mapping) else {}
                dimensions += _list(stat.get("Dimensions"))
                if stat and (query.get("ReturnData") is not False):
                    metrics.append((stat.get("MetricName"), threshold))
            for dimension in dimensions:
                if isinstance(dimension, Mapping) and dimension.get("Name") == "QueueName":
                    watched |= self.refs_of_type(alarm.stack, dimension.get("Value"), "AWS::SQS::Queue")
            found.append((alarm, watched, metrics))
        return found

    def alarms_of(self, queue: Resource) -> list[tuple[Resource, list[tuple[str | None, float | None]]]]:
        """The alarms that watch a metric of ``queue``, each with (metric name, threshold) pairs."""
        return [(alarm, metrics) for alarm, watched, metrics in self._alarms if queue in watched]

    @cached_property
    def alarm_topics(self) -> set[Resource]:
        """The SNS topics of the app that some alarm notifies."""
        found: set[Resource] = set()
        for alarm in self.of_type("AWS::CloudWatch::Alarm"):
            actions = [a for key in ("AlarmActions", "OKActions", "InsufficientDataActions") for a in _list(alarm.properties.get(key))]
            found |= self.refs_of_type(alarm.stack, actions, "AWS::SNS::Topic")
        return found


def _references(value: Any) -> Iterator[tuple[str, Any]]:
    """The references inside a template value: logical ids, imports, stack outputs, and literal strings (a
    ``Fn::Join`` contributes its literal parts joined, so a formatted ARN keeps its literal name)."""
    if isinstance(value, str):
        yield "literal", value
        return
    if isinstance(value, list):
        for item in value:
            yield from _references(item)
        return
    if not isinstance(value, Mapping):
        return
    if "Ref" in value:
        yield "logical", value["Ref"]
    elif "Fn::GetAtt" in value:
        attribute = value["Fn::GetAtt"]
        yield "logical", attribute[0] if isinstance(attribute, list) else str(attribute).split(".")[0]
    elif "Fn::ImportValue" in value:
        if isinstance(value["Fn::ImportValue"], str):
            yield "import", value["Fn::ImportValue"]
    elif "Fn::GetStackOutput" in value:
        yield "stack-output", value["Fn::GetStackOutput"]
    elif "Fn::Sub" in value:
        template = value["Fn::Sub"][0] if isinstance(value["Fn::Sub"], list) else value["Fn::Sub"]
        for name in re.findall(r"\$\{([A-Za-z0-9]+)[.}]", str(template)):
            yield "logical", name
    elif "Fn::Join" in value:
        parts = value["Fn::Join"][1] if isinstance(value["Fn::Join"], list) and len(value["Fn::Join"]) > 1 else []
        parts = parts if isinstance(parts, list) else []
        yield "literal", "".join(p for p in parts if isinstance(p, str))
        for part in parts:
            if not isinstance(part, str):
                yield from _references(part)
    else:
        for item in value.values():
            yield from _references(item)


def _conditions_have(statement: Mapping[str, Any], *keys: str) -> bool:
    """The statement has a condition on one of ``keys`` (any operator; keys compared without case)."""
    wanted = {k.lower() for k in keys}
    return any(
        isinstance(operator, Mapping) and any(str(name).lower() in wanted for name in operator)
        for operator in (statement.get("Condition") or {}).values()
    )


def _actions(statement: Mapping[str, Any]) -> set[str]:
    return {str(a).lower() for a in _list(statement.get("Action"))}


# --- The rules -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """One rule of the pack.

    Attributes
    ----------
    id:
        The rule's name; its cdk-nag id is ``ConstructsSqs-<id>``.
    level:
        ``ERROR`` (messages are lost, refused or exposed) or ``WARN`` (a risk the library warns about).
    reliability:
        The constructs-sqs rule it checks (``Q4``...).
    resource_types:
        The CloudFormation types it judges.
    what:
        What a finding means (cdk-nag's ``info``).
    why:
        Why it matters (cdk-nag's ``explanation``).
    fix:
        The fix with aws-cdk-lib.
    library_fix:
        The construct argument that fixes it when the resource comes from this library.
    check:
        The check: ``(model, resource) -> None | bool | list of findings``.
    """

    id: str
    level: str
    reliability: str
    resource_types: tuple[str, ...]
    what: str
    why: str
    fix: str
    library_fix: str
    check: Callable[[AppModel, Resource], Result] = field(repr=False, compare=False)

    @property
    def rule_id(self) -> str:
        """``ConstructsSqs-<id>``."""
        return f"{PACK_NAME}-{self.id}"


def _has_dead_letter_queue(model: AppModel, queue: Resource) -> Result:
    if model.is_dead_letter_queue(queue):
        return None
    return model.redrive_of(queue) is not None


def _dead_letter_type(model: AppModel, queue: Resource) -> Result:
    redrive = model.redrive_of(queue)
    if redrive is None or redrive[0] is None:
        return None
    return model.is_fifo(redrive[0]) == model.is_fifo(queue)


def _dead_letter_retention(model: AppModel, queue: Resource) -> Result:
    redrive = model.redrive_of(queue)
    if redrive is None or redrive[0] is None:
        return None
    source, dead_letter = model.retention_of(queue), model.retention_of(redrive[0])
    if source is None or dead_letter is None:
        return None
    return dead_letter > source


def _receives_under_lambda(model: AppModel, queue: Resource) -> Result:
    redrive = model.redrive_of(queue)
    if not model.mappings_of(queue) or redrive is None:
        return None
    receives = _number(redrive[1].get("maxReceiveCount"))
    return None if receives is None else receives >= MIN_RECEIVES_UNDER_LAMBDA


def needed_visibility(model: AppModel, queue: Resource) -> float | None:
    """6 x the longest consumer timeout + its batching window, over the Lambda consumers of ``queue`` whose
    timeout is known; None when there is none."""
    needs = []
    for mapping in model.mappings_of(queue):
        function = model.function_of(mapping)
        timeout = model.timeout_of(function) if function is not None else None
        window = _number(mapping.properties.get("MaximumBatchingWindowInSeconds") or 0)
        if timeout is not None and window is not None:
            needs.append(VISIBILITY_FACTOR * timeout + window)
    return max(needs) if needs else None


def _visibility_under_lambda(model: AppModel, queue: Resource) -> Result:
    need = needed_visibility(model, queue)
    visibility = model.visibility_of(queue)
    if need is None or visibility is None:
        return None
    return visibility >= need


def _partial_batch_responses(model: AppModel, mapping: Resource) -> Result:
    if not model.reads_sqs(mapping):
        return None
    return "ReportBatchItemFailures" in _list(mapping.properties.get("FunctionResponseTypes"))


def _concurrency_within_reserved(model: AppModel, mapping: Resource) -> Result:
    if not model.reads_sqs(mapping):
        return None
    function = model.function_of(mapping)
    reserved = _number(function.properties.get("ReservedConcurrentExecutions")) if function is not None else None
    if reserved is None:
        return None
    pollers = mapping.properties.get("ProvisionedPollerConfig")
    if isinstance(pollers, Mapping):  # provisioned mode: each poller invokes the function
        maximum = _number(pollers.get("MaximumPollers", SQS_DEFAULT_MAXIMUM_POLLERS))
    else:
        maximum = _number((mapping.properties.get("ScalingConfig") or {}).get("MaximumConcurrency"))
    return maximum is not None and maximum <= reserved


def _denies_plain_http(statement: Mapping[str, Any]) -> bool:
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, Mapping) and "*" in _list(principal.get("AWS")))
    actions = _actions(statement)
    condition = (statement.get("Condition") or {}).get("Bool") or {}
    insecure = str(condition.get("aws:SecureTransport", "")).lower() == "false"
    return statement.get("Effect") == "Deny" and everyone and bool(actions & {"sqs:*", "*"}) and insecure


def _tls_only(model: AppModel, queue: Resource) -> Result:
    for policy in model.policies_of(queue):
        document = policy.properties.get("PolicyDocument") or {}
        if any(isinstance(s, Mapping) and _denies_plain_http(s) for s in _list(document.get("Statement"))):
            return True
    return False


def _encryption_explicit(model: AppModel, queue: Resource) -> Result:
    return _true(queue.properties.get("SqsManagedSseEnabled")) or queue.properties.get("KmsMasterKeyId") is not None


def is_aws_managed_alias(key: object, alias: str) -> bool:
    """``alias/aws/<service>``, as an alias name or at the end of an alias ARN."""
    return isinstance(key, str) and (key == alias or key.endswith(f":{alias}"))


def _no_managed_key_with_producers(model: AppModel, queue: Resource) -> Result:
    if not is_aws_managed_alias(model.key_of(queue), "alias/aws/sqs"):
        return None
    return not model.service_producers_of(queue)


SOURCE_SCOPES = ("aws:SourceArn", "kms:EncryptionContext:aws:logs:arn")
"""Conditions that scope a service statement by the resource acting: ``aws:SourceArn``, and the encryption
context CloudWatch Logs documents for its key statements."""


def _unscoped_services(document: Any, model: AppModel) -> list[str]:
    return sorted(
        {
            service
            for statement, services in model.service_principals_of(document)
            if not _conditions_have(statement, *SOURCE_SCOPES)
            for service in services
        }
    )


def _service_statements_scoped(model: AppModel, resource: Resource) -> Result:
    if resource.type == "AWS::KMS::Key":
        if resource not in model.queue_keys:
            return None
        return _unscoped_services(resource.properties.get("KeyPolicy"), model)
    return _unscoped_services(resource.properties.get("PolicyDocument"), model)


def _fifo_producers(model: AppModel, queue: Resource) -> Result:
    if not model.is_fifo(queue):
        return None
    findings = []
    if model.s3_notifications_to(queue) or "s3" in {
        s.split(".", 1)[0]
        for policy in model.policies_of(queue)
        for _, services in model.service_principals_of(policy.properties.get("PolicyDocument"))
        for s in services
    }:
        findings.append("S3Notifications")
    if any(model.topic_is_fifo(s) is False for s in model.subscriptions_to(queue)):
        findings.append("StandardTopic")
    if any(((target.get("SqsParameters") or {}).get("MessageGroupId") is None) for _, target in model.rule_targets_to(queue)):
        findings.append("RuleWithoutMessageGroupId")
    return findings


def _redrive_allow_policy(model: AppModel, queue: Resource) -> Result:
    sources = model.redrive_sources(queue)
    if not sources:
        return None
    allow = _json(queue.properties.get("RedriveAllowPolicy"))
    if not isinstance(allow, Mapping) or allow.get("redrivePermission") != "byQueue":
        return False
    named = model.refs_of_type(queue.stack, allow.get("sourceQueueArns"), "AWS::SQS::Queue")
    return all(source in named for source in sources)


def _alarm_topic_key(model: AppModel, topic: Resource) -> Result:
    if topic not in model.alarm_topics:
        return None
    key_value = topic.properties.get("KmsMasterKeyId")
    if key_value is None:
        return None
    if is_aws_managed_alias(key_value, "alias/aws/sns"):
        return False
    keys = model.refs_of_type(topic.stack, key_value, "AWS::KMS::Key")
    if not keys:
        return None  # a key of another app: its policy cannot be read here
    key = next(iter(keys))
    for statement, services in model.service_principals_of(key.properties.get("KeyPolicy")):
        if "cloudwatch.amazonaws.com" in services:
            actions = _actions(statement)
            generate = bool(actions & {"kms:*", "kms:generatedatakey*", "kms:generatedatakey"})
            if generate and actions & {"kms:*", "kms:decrypt"}:
                return True
    return False


def _age_alarm_below_retention(model: AppModel, queue: Resource) -> Result:
    alarms = model.alarms_of(queue)
    if not alarms:
        return None
    retention = model.retention_of(queue)
    if retention is None:
        return None
    thresholds = [t for _, metrics in alarms for name, t in metrics if name == AGE_METRIC and t is not None]
    return any(threshold < retention for threshold in thresholds)


QUEUE = ("AWS::SQS::Queue",)
MAPPING = ("AWS::Lambda::EventSourceMapping",)

RULES: tuple[Rule, ...] = (
    Rule(
        "SQSDeadLetterQueue", "ERROR", "Q4", QUEUE,
        "The SQS queue has no dead-letter queue (and is not one).",
        "A message that always fails is received again and again until the retention period ends, then deleted: "
        "lost without a trace, while it delays the messages behind it.",
        "dead_letter_queue=sqs.DeadLetterQueue(queue=dlq, max_receive_count=5) on sqs.Queue.",
        "Every pattern creates its DLQ (FifoQueueWithDlq, EncryptedQueue, LambdaTriggeredQueue without queue=); "
        "dead_letter_queue= passes one of your own.",
        _has_dead_letter_queue,
    ),
    Rule(
        "SQSDeadLetterQueueType", "ERROR", "Q5", QUEUE,
        "The dead-letter queue is not of the queue's type (FIFO and standard mixed).",
        "SQS moves messages only between queues of one type: CloudFormation refuses the redrive policy at deploy.",
        "Make the DLQ fifo=True for a FIFO queue, a standard queue for a standard one.",
        "dead_letter_queue= must be of the pattern's type (refused at construction); the DLQ a pattern creates is.",
        _dead_letter_type,
    ),
    Rule(
        "SQSDeadLetterRetention", "ERROR", "Q6", QUEUE,
        "The dead-letter queue keeps messages no longer than its source queue.",
        "A moved message keeps its original enqueue time: it expires from a DLQ whose retention is not longer "
        "than the source's soon after it arrives, before anyone can inspect or redrive it.",
        "retention_period=Duration.days(14) on the DLQ (longer than the source queue's).",
        "dead_letter_retention_period= (default 14 days, longer than retention_period, which defaults to 4 days).",
        _dead_letter_retention,
    ),
    Rule(
        "SQSLambdaMaxReceiveCount", "WARN", "Q7", QUEUE,
        "A queue consumed by Lambda moves messages to its DLQ after fewer than 5 receives.",
        "Lambda counts throttled and failed batches as receives: with maxReceiveCount below 5, healthy messages "
        "reach the DLQ during a throttle or a deploy.",
        "max_receive_count=5 (or more) in sqs.DeadLetterQueue.",
        "max_receive_count= (default 5) on the pattern or on LambdaTriggeredQueue.",
        _receives_under_lambda,
    ),
    Rule(
        "SQSLambdaVisibilityTimeout", "ERROR", "L1", QUEUE,
        "The queue's visibility timeout is shorter than 6 x its Lambda consumer's timeout + batching window.",
        "A batch still being processed becomes visible again and is processed twice; below 1 x the function "
        "timeout the event source mapping is refused at deploy.",
        "visibility_timeout=Duration.seconds(6 * function timeout + max_batching_window) on the queue.",
        "Leave visibility_timeout unset on LambdaTriggeredQueue (and on the pattern it consumes): it is derived "
        "from timeout= and max_batching_window=.",
        _visibility_under_lambda,
    ),
    Rule(
        "LambdaPartialBatchResponse", "ERROR", "L2", MAPPING,
        "The SQS event source does not report batch item failures.",
        "One failed message fails its whole batch: the messages that succeeded are processed again, and every "
        "message of the batch burns a receive towards the DLQ.",
        "report_batch_item_failures=True on SqsEventSource (FunctionResponseTypes: ReportBatchItemFailures), "
        "and a handler that returns batchItemFailures.",
        "LambdaTriggeredQueue turns it on; constructs_sqs_runtime.batch_handler returns batchItemFailures.",
        _partial_batch_responses,
    ),
    Rule(
        "LambdaMaxConcurrency", "ERROR", "L4", MAPPING,
        "The SQS event source may start more invocations than the function's reserved concurrency.",
        "Invocations beyond the reserved concurrency are throttled; throttled batches count as receives and "
        "healthy messages end in the DLQ.",
        "max_concurrency= on SqsEventSource (maximum_pollers= in provisioned mode), at most the function's "
        "reserved_concurrent_executions.",
        "LambdaTriggeredQueue sets max_concurrency to reserved_concurrent_executions unless told, refuses more, "
        "and warns when maximum_pollers exceeds it.",
        _concurrency_within_reserved,
    ),
    Rule(
        "SQSTlsOnly", "ERROR", "Q2", QUEUE,
        "The queue's policy does not deny requests without TLS.",
        "Without a Deny on aws:SecureTransport false, a client can send and receive messages in clear text.",
        "enforce_ssl=True on sqs.Queue.",
        "The patterns always set it (DLQ included).",
        _tls_only,
    ),
    Rule(
        "SQSEncryptionExplicit", "ERROR", "Q1", QUEUE,
        "The queue does not say how it is encrypted (SqsManagedSseEnabled or KmsMasterKeyId), or turns SSE off.",
        "Encryption at rest must be a decision in the template (Security Hub SQS.1), not an account default that "
        "may differ.",
        "encryption=sqs.QueueEncryption.SQS_MANAGED, or KMS with encryption_master_key=.",
        "FifoQueueWithDlq encryption= (default SQS_MANAGED; UNENCRYPTED is refused); EncryptedQueue always uses a "
        "customer-managed key.",
        _encryption_explicit,
    ),
    Rule(
        "SQSServiceProducerManagedKey", "ERROR", "K3", QUEUE,
        "An AWS service sends to a queue encrypted with the AWS-managed key alias/aws/sqs.",
        "The AWS-managed key's policy cannot let SNS, EventBridge, S3 or CloudWatch use it: their messages are "
        "dropped silently.",
        "A customer-managed key whose policy lets the service use it, or SSE-SQS.",
        "EncryptedQueue (its key policy gets the service statements from allow_service_producer), or "
        "FifoQueueWithDlq(encryption=SQS_MANAGED or KMS); allow_service_producer refuses alias/aws/sqs.",
        _no_managed_key_with_producers,
    ),
    Rule(
        "ServicePrincipalScoped", "ERROR", "Q3, K5", ("AWS::SQS::QueuePolicy", "AWS::KMS::Key"),
        "A queue policy, or the key policy of a queue's key, lets an AWS service in without aws:SourceArn.",
        "A statement for a service principal without aws:SourceArn lets every resource of that service, in any "
        "account, use the queue or the key (the confused deputy): any bucket, topic or rule could send.",
        "Add Condition ArnLike/ArnEquals aws:SourceArn (and StringEquals aws:SourceAccount) naming the producer.",
        "allow_service_producer(principal, source_arn); the patterns scope aws-cdk-lib's own statements "
        "(s3n.SqsDestination, targets.SqsQueue, SqsSubscription) by their producers at synth.",
        _service_statements_scoped,
    ),
    Rule(
        "SQSFifoProducer", "ERROR", "K6", QUEUE,
        "A FIFO queue is fed by a producer that cannot send to FIFO queues.",
        "S3 notifications accept only standard queues, only SNS FIFO topics deliver to FIFO queues, and "
        "EventBridge needs a message group id: the configuration is refused at deploy.",
        "Send S3 notifications to a standard queue or through EventBridge; make the topic FIFO; pass "
        "message_group_id to targets.SqsQueue.",
        "The patterns refuse these producers at synth, and allow_service_producer refuses s3.amazonaws.com on "
        "FifoQueueWithDlq.",
        _fifo_producers,
    ),
    Rule(
        "SQSRedriveAllowPolicy", "WARN", "Q10", QUEUE,
        "A dead-letter queue does not restrict its sources with a byQueue redrive allow policy naming them.",
        "Without it any queue of the account can use this DLQ, mixing failures of unrelated queues and making a "
        "redrive send messages to the wrong place.",
        "redrive_allow_policy=sqs.RedriveAllowPolicy(redrive_permission=sqs.RedrivePermission.BY_QUEUE, "
        "source_queues=[source]) on the DLQ.",
        "The DLQ a pattern creates names its source queue.",
        _redrive_allow_policy,
    ),
    Rule(
        "AlarmTopicKey", "ERROR", "A3", ("AWS::SNS::Topic",),
        "An encrypted topic that alarms notify does not let CloudWatch use its key.",
        "CloudWatch needs kms:GenerateDataKey* and kms:Decrypt on the topic's key; without them (or with the "
        "AWS-managed alias/aws/sns) alarm notifications are dropped silently.",
        "A customer-managed key with a statement for cloudwatch.amazonaws.com (kms:GenerateDataKey*, kms:Decrypt), "
        "scoped by aws:SourceAccount and aws:SourceArn of the alarms.",
        "QueueAlarms creates the topic and key with that statement; with topic= of your own it adds it to a key "
        "created in the app.",
        _alarm_topic_key,
    ),
    Rule(
        "SQSAgeAlarm", "WARN", "A4", QUEUE,
        "The queue has alarms, but none on the age of its oldest message below its retention period.",
        "Messages older than the retention period are deleted without a trace: the age alarm is the only "
        "warning before that happens.",
        "An alarm on queue.metric_approximate_age_of_oldest_message() with a threshold well below retention_period.",
        "QueueAlarms (and add_alarms) creates the age alarm at a fraction of the retention period.",
        _age_alarm_below_retention,
    ),
)
"""The rules of the ``ConstructsSqs`` pack, in the order they are reported."""


def rule_named(rule_id: str) -> Rule | None:
    """The rule of ``ConstructsSqs-<id>`` (or ``<id>``, with or without a ``[finding]``), else None."""
    name = rule_id.split("[", 1)[0].removeprefix(f"{PACK_NAME}::").removeprefix(f"{PACK_NAME}-")
    return next((rule for rule in RULES if rule.id == name), None)


def evaluate(model: AppModel) -> dict[Resource, list[tuple[Rule, Result]]]:
    """Every rule on every resource of its types: the results that are not None, by resource."""
    results: dict[Resource, list[tuple[Rule, Result]]] = {}
    for rule in RULES:
        for resource_type in rule.resource_types:
            for resource in model.of_type(resource_type):
                result = rule.check(model, resource)
                if result is not None:
                    results.setdefault(resource, []).append((rule, result))
    return results
