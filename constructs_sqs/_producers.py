"""The producers of a queue pattern, found in the construct tree and checked at synth (constructs-sqs rules K5, K6).

Users wire producers to a queue with aws-cdk-lib's own APIs as often as with ``allow_service_producer``:
``bucket.add_event_notification(..., s3n.SqsDestination(pattern.queue))``, ``topic.add_subscription(
sns_subscriptions.SqsSubscription(pattern.queue))``, ``rule.add_target(targets.SqsQueue(pattern.queue))``, or
the L1 resources directly. Those calls can come after the pattern is built, so the checks run at synth:

- K6: a producer that cannot feed the queue is an error naming the producer, the queue and the fix: S3
  notifications into a FIFO queue, a standard SNS topic subscribing a FIFO queue, an EventBridge rule target on a
  FIFO queue without a message group id. (An SNS FIFO topic may deliver to a standard queue: SNS documents it.)
- K5: every statement that grants an AWS service use of a key or queue this library created carries
  ``aws:SourceArn`` (and ``aws:SourceAccount``) of the producers that feed the queue. aws-cdk-lib adds some
  without: ``s3n.SqsDestination`` an unconditioned ``s3.amazonaws.com`` key statement, ``targets.SqsQueue`` on an
  encrypted queue a key and a queue statement scoped only by ``aws:SourceAccount``. A producer whose ARN cannot
  be known without a dependency cycle is an error with the fix.

How: the key and queues a pattern creates are :class:`OwnedKey` and :class:`OwnedQueue`, which record the
statements added to their policies; :func:`watch` gives the pattern an aspect that, once the tree is complete,
finds the producers (walking the tree once per synth for all patterns of a stage) and adds the conditions while
the statements are still mutable (before CloudFormation references are prepared), and a validation
(``node.add_validation``) that reports what the aspect found wrong.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

import jsii
from aws_cdk import (
    AspectPriority,
    Aspects,
    Aws,
    CfnResource,
    DefaultTokenResolver,
    IAspect,
    IPostProcessor,
    IResolvable,
    IResolveContext,
    Reference,
    Stack,
    Stage,
    StringConcat,
    Tokenization,
)
from aws_cdk import aws_events as events
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct, IValidation

from ._validation import Problems, implements, is_unresolved

__all__ = ["OwnedKey", "OwnedQueue", "check_service_producer", "watch"]

S3_FIFO_FIX = (
    "send the notifications to a standard queue (EncryptedQueue), or turn on EventBridge notifications for the "
    "bucket (s3.Bucket(event_bridge_enabled=True)) and send them on with a rule whose targets.SqsQueue sets "
    "message_group_id"
)
"""What to do instead of S3 notifications into a FIFO queue (S3 User Guide, "Amazon S3 Event Notifications":
FIFO queues are not supported as destinations; EventBridge is the documented way)."""


class Watched(IConstruct, Protocol):
    """What the checks read of a queue pattern (``QueueWithDlqBase``)."""

    queue: sqs.IQueue
    dead_letter_queue: sqs.IQueue
    encryption_key: kms.IKey | None
    fifo: bool
    queue_name: str | None


# --- The key and queues a pattern owns: they record the statements added to their policies ---------------


def _record(owner: object, statement: iam.PolicyStatement) -> None:
    recorded: list[iam.PolicyStatement] = owner.__dict__.setdefault("_constructs_sqs_statements", [])
    recorded.append(statement)


def recorded_statements(owner: object) -> list[iam.PolicyStatement]:
    """The statements added to ``owner``'s resource policy after it was built (empty for other keys and queues)."""
    return list(getattr(owner, "_constructs_sqs_statements", ()))


class OwnedKey(kms.Key):
    """A ``kms.Key`` created by a pattern: it records the statements added to its key policy, so that the
    pattern can scope those for AWS services by their producers (K5). The template is that of ``kms.Key``."""

    def add_to_resource_policy(
        self, statement: iam.PolicyStatement, allow_no_op: bool | None = None
    ) -> iam.AddToResourcePolicyResult:
        """As ``kms.Key.add_to_resource_policy``; the statement is recorded.

        Parameters
        ----------
        statement:
            The statement to add to the key policy.
        allow_no_op:
            As for ``kms.Key``: ignored for a key created in the app.
        """
        _record(self, statement)
        return super().add_to_resource_policy(statement, allow_no_op)


class OwnedQueue(sqs.Queue):
    """An ``sqs.Queue`` created by a pattern: it records the statements added to its queue policy (K5).
    The template is that of ``sqs.Queue``."""

    def add_to_resource_policy(self, statement: iam.PolicyStatement) -> iam.AddToResourcePolicyResult:
        """As ``sqs.Queue.add_to_resource_policy``; the statement is recorded.

        Parameters
        ----------
        statement:
            The statement to add to the queue policy.
        """
        _record(self, statement)
        return super().add_to_resource_policy(statement)


# --- allow_service_producer: what can be refused at once ---------------------------------------------------


def check_service_producer(problems: Problems, service: str | None, source_arn: object, *, fifo: bool) -> None:
    """K6 at the call of ``allow_service_producer``: S3 (and an SNS topic whose literal ARN is a standard
    topic's) cannot send to a FIFO queue."""
    if not fifo or service is None or is_unresolved(service):
        return
    if _short(service) == "s3":
        problems.add(
            f"principal {service!r} cannot send to a FIFO queue: S3 event notifications accept only standard "
            f"queues as destinations, and the bucket's notification configuration would be refused at deploy; "
            f"{S3_FIFO_FIX}"
        )
    elif _short(service) == "sns" and isinstance(source_arn, str) and not is_unresolved(source_arn):
        if not source_arn.endswith(".fifo"):
            problems.add(
                f"source_arn {source_arn!r} names a standard SNS topic, which cannot deliver to a FIFO queue "
                "(SNS refuses the subscription): publish to a FIFO topic (sns.Topic(fifo=True)), or use a "
                "standard queue (EncryptedQueue)"
            )


# --- References, made readable --------------------------------------------------------------------------


class _MarkingResolver(DefaultTokenResolver):
    """Resolves a value with each reference to a resource written ``{{ref:<construct path>#<attribute>}}`` and
    each pseudo parameter ``{{pseudo:<name>}}``: a reference then says which construct it names, across stacks
    and before CloudFormation references are prepared (two stacks often share logical ids)."""

    def resolve_token(self, t: IResolvable, context: IResolveContext, post_processor: IPostProcessor) -> Any:
        if isinstance(t, Reference):
            target = t.target
            if isinstance(target, CfnResource):
                return f"{{{{ref:{target.node.path}#{t.display_name}}}}}"
            return f"{{{{pseudo:{t.display_name}}}}}"
        return super().resolve_token(t, context, post_processor)


_RESOLVER: list[_MarkingResolver] = []


def marked(scope: IConstruct, value: object) -> Any:
    """``value`` resolved in ``scope``'s stack with its references written as :class:`_MarkingResolver` does."""
    if not _RESOLVER:
        _RESOLVER.append(_MarkingResolver(StringConcat()))
    return Tokenization.resolve(value, scope=scope, resolver=_RESOLVER[0])


def reference_mark(resource: CfnResource, attribute: str) -> str:
    """How :func:`marked` writes a reference to ``resource``'s ``attribute`` (``Arn``, ``Ref``...)."""
    return f"{{{{ref:{resource.node.path}#{attribute}}}}}"


def _get(value: object, key: str) -> Any:
    """``value[key]`` of a resolved property, whatever the case of its keys (L1 props resolve camelCase)."""
    if isinstance(value, Mapping):
        for candidate in (key, key[:1].lower() + key[1:]):
            if candidate in value:
                return value[candidate]
    return None


def _short(service: str) -> str:
    """``s3.amazonaws.com`` -> ``s3``."""
    return service.split(".", 1)[0]


# --- The producers of a stage, found once per synth ---------------------------------------------------------


@dataclass
class Producer:
    """One wiring of a producer to queues: an S3 notification configuration, an SNS subscription, an
    EventBridge rule target."""

    service: str
    """``s3``, ``sns`` or ``events``: the service principal it sends as."""
    describe: Callable[[], str]
    """For messages: ``S3 bucket Media/Videos`` (asked for only when there is something to say)."""
    wiring: CfnResource
    """The resource that wires it (the notifications custom resource, the bucket, the subscription, the rule)."""
    targets: tuple[Any, ...]
    """Where it sends, as :func:`marked` values."""
    dead_letter_targets: tuple[Any, ...] = ()
    """Where undeliverable messages go (SNS subscription and rule target DLQs)."""
    fifo_capable: bool | None = None
    """Can it feed a FIFO queue: S3 never, an SNS FIFO topic, a rule target with a message group id; None:
    not known (an imported topic whose ARN is a token)."""
    arn: Callable[[Stack], str | None] = field(default=lambda stack: None)
    """Its ARN as a value usable in ``stack``'s templates without a dependency cycle, or None."""
    arn_problem: Callable[[], str] = field(default=lambda: "")
    """Why :attr:`arn` is None, and the fix."""
    identities: Callable[[Stack], set[Any]] = field(default=lambda stack: set())
    """The :func:`marked` forms of its ARN seen from ``stack`` (references and formatted ARNs)."""
    account: Callable[[], str | None] = field(default=lambda: None)
    """Its account (a literal or the stack's account token), or None when not known."""
    _identities: dict[int, set[Any]] = field(default_factory=dict, repr=False)

    @property
    def what(self) -> str:
        return self.describe()

    def identities_in(self, stack: Stack) -> set[Any]:
        """:attr:`identities` seen from ``stack``, computed once per stack."""
        key = id(stack)
        if key not in self._identities:
            self._identities[key] = self.identities(stack)
        return self._identities[key]

    def sends_to(self, queue: QueueMark) -> bool:
        return any(queue.matches(target) for target in self.targets)

    def dead_letters_to(self, queue: QueueMark) -> bool:
        return any(queue.matches(target) for target in self.dead_letter_targets)


@dataclass(frozen=True)
class QueueMark:
    """How a queue of a pattern appears in :func:`marked` values: a reference to its ``AWS::SQS::Queue``, or
    an ARN or URL ending in its literal name."""

    reference: str
    name: str | None

    def matches(self, value: object) -> bool:
        if not isinstance(value, str):
            return False
        if value.startswith(self.reference.split("#", 1)[0] + "#"):
            return True
        return bool(self.name) and value.endswith((f":{self.name}", f"/{self.name}"))


def _queue_mark(queue: sqs.IQueue, name: str | None) -> QueueMark:
    cfn = queue.node.default_child
    path = cfn.node.path if isinstance(cfn, CfnResource) else queue.node.path
    return QueueMark(f"{{{{ref:{path}#Arn}}}}", name if name and not is_unresolved(name) else None)


def _referenced_path(value: object) -> str | None:
    """The construct path of a :func:`marked` reference (``{{ref:<path>#<attribute>}}``), else None."""
    if isinstance(value, str) and value.startswith("{{ref:") and value.endswith("}}") and value.count("{{") == 1:
        return value[len("{{ref:") :].split("#", 1)[0]
    return None


def _owner_of(resource: CfnResource) -> IConstruct:
    """The L2 a resource is the default child of, else the resource itself (for names in messages)."""
    scope = resource.node.scope
    if scope is not None and resource.node.id == "Resource" and not isinstance(scope, Stack):
        return scope
    return resource


def _account_of_arn(arn: str) -> str | None:
    parts = arn.split(":", 5)
    return parts[4] if len(parts) == 6 and parts[4] and not is_unresolved(parts[4]) else None


class Index:
    """The producers of one stage (an App, or a Stage of it), with the ``AWS::SNS::Topic`` resources by path."""

    def __init__(self, scope: IConstruct) -> None:
        self.producers: list[Producer] = []
        self._topics: dict[str, sns.CfnTopic] = {}
        self._buses: dict[str, events.CfnEventBus] = {}
        subscriptions: list[sns.CfnSubscription] = []
        rules: list[events.CfnRule] = []
        for construct in scope.node.find_all():
            if not isinstance(construct, CfnResource):
                continue
            if isinstance(construct, sns.CfnTopic):
                self._topics[construct.node.path] = construct
            elif isinstance(construct, events.CfnEventBus):
                self._buses[construct.node.path] = construct
            elif isinstance(construct, sns.CfnSubscription):
                subscriptions.append(construct)
            elif isinstance(construct, events.CfnRule):
                rules.append(construct)
            elif isinstance(construct, s3.CfnBucket):
                self._add_bucket(construct)
            elif type(construct) is CfnResource and construct.cfn_resource_type == "Custom::S3BucketNotifications":
                self._add_bucket_notifications(construct)
        for subscription in subscriptions:
            self._add_subscription(subscription)
        for rule in rules:
            self._add_rule(rule)

    # --- S3 ---

    def _add_bucket(self, bucket: s3.CfnBucket) -> None:
        configuration = bucket.notification_configuration
        if configuration is None:
            return
        queues = _get(marked(bucket, configuration), "QueueConfigurations") or []
        targets = tuple(_get(c, "Queue") for c in queues if isinstance(c, Mapping))
        if targets:
            owner = bucket.node.scope
            self.producers.append(self._s3(owner if implements(owner, s3.IBucket) else None, bucket, bucket, targets))

    def _add_bucket_notifications(self, resource: CfnResource) -> None:
        properties = marked(resource, resource._cfn_properties)
        queues = _get(_get(properties, "NotificationConfiguration"), "QueueConfigurations") or []
        targets = tuple(_get(c, "QueueArn") for c in queues if isinstance(c, Mapping))
        if not targets:
            return
        # aws-cdk-lib puts the custom resource at <bucket>/Notifications/Resource.
        holder = resource.node.scope
        bucket = holder.node.scope if holder is not None else None
        l2 = bucket if implements(bucket, s3.IBucket) else None
        cfn = l2.node.default_child if l2 is not None else None
        self.producers.append(self._s3(l2, cfn if isinstance(cfn, s3.CfnBucket) else None, resource, targets))

    def _s3(
        self, bucket: Any, cfn: s3.CfnBucket | None, wiring: CfnResource, targets: tuple[Any, ...]
    ) -> Producer:
        """An S3 bucket (its L2 ``bucket`` when there is one, else its L1 ``cfn``) notifying queues."""
        node = bucket if bucket is not None else cfn

        def what() -> str:
            return f"S3 bucket {node.node.path}" if node is not None else f"the S3 bucket of {wiring.node.path}"
        literal = bucket.bucket_name if bucket is not None else (cfn.bucket_name if cfn is not None else None)
        name = literal if isinstance(literal, str) and not is_unresolved(literal) else None
        # The L2's bucket_arn is the token aws-cdk-lib's own grant uses: the same token keeps the statements
        # mergeable (@aws-cdk/aws-iam:minimizePolicies).
        arn_token = bucket.bucket_arn if bucket is not None else (cfn.attr_arn if cfn is not None else None)
        home = Stack.of(node) if node is not None else None
        # A bucket whose own NotificationConfiguration names the queue depends on the queue (and on its policy):
        # a reference to the bucket's ARN in the queue's key policy would close a cycle, so its ARN is built
        # from its name.
        inline = cfn is not None and wiring is cfn

        def arn(stack: Stack) -> str | None:
            if home is stack and arn_token is not None and not inline:
                return arn_token
            return f"arn:{Aws.PARTITION}:s3:::{name}" if name is not None else None

        def identities(stack: Stack) -> set[Any]:
            found: set[Any] = set()
            if cfn is not None:
                found.add(reference_mark(cfn, "Arn"))
            if name is not None:
                found.add(marked(stack, f"arn:{Aws.PARTITION}:s3:::{name}"))
            if arn_token is not None and home is not None:
                value = marked(home, arn_token)
                if isinstance(value, str):
                    found.add(value)
            return found

        return Producer(
            service="s3",
            describe=what,
            wiring=wiring,
            targets=targets,
            fifo_capable=False,
            arn=arn,
            arn_problem=lambda: (
                f"the ARN of {what()} can only be known here through a reference to the bucket, which already "
                "depends on the queue (its own NotificationConfiguration names the queue): give the bucket a "
                "bucket_name"
                if inline
                else f"the ARN of {what()} can only be known here through a reference to its stack, which already "
                "depends on the queue's (the notification names the queue): give the bucket a bucket_name, or "
                "define it in the queue's stack"
            ),
            identities=identities,
            account=lambda: home.account if home is not None else None,
        )

    # --- SNS ---

    def _add_subscription(self, subscription: sns.CfnSubscription) -> None:
        protocol = subscription.protocol
        if not isinstance(protocol, str) or protocol.lower() != "sqs":
            return
        endpoint = marked(subscription, subscription.endpoint)
        topic_value = marked(subscription, subscription.topic_arn)
        redrive = marked(subscription, subscription.redrive_policy) if subscription.redrive_policy is not None else None
        topic = self._topic_of(topic_value)
        literal_arn = topic_value if isinstance(topic_value, str) and topic_value.startswith("arn:") else None
        topic_arn_token = subscription.topic_arn
        if topic is not None:
            fifo: bool | None = topic.fifo_topic is True or (isinstance(topic.topic_name, str) and topic.topic_name.endswith(".fifo"))
        elif literal_arn is not None:
            fifo = literal_arn.endswith(".fifo")
        else:
            fifo = None

        def what() -> str:
            if topic is not None:
                return f"SNS topic {_owner_of(topic).node.path}"
            if literal_arn is not None:
                return f"SNS topic {literal_arn}"
            return f"the SNS topic of subscription {subscription.node.path}"
        wiring_stack = Stack.of(subscription)

        def arn(stack: Stack) -> str | None:
            if literal_arn is not None:
                return literal_arn
            # The subscription already references the topic from its own stack: the same token is safe there,
            # and it is the token aws-cdk-lib's statements use (they stay mergeable).
            if wiring_stack is stack:
                return topic_arn_token
            if topic is not None:
                name = topic.topic_name
                if isinstance(name, str) and not is_unresolved(name):
                    return Stack.of(topic).format_arn(service="sns", resource=name)
                if Stack.of(topic) is stack:
                    return topic.ref
            return None

        def identities(stack: Stack) -> set[Any]:
            found: set[Any] = {topic_value} if isinstance(topic_value, str) else set()
            if topic is not None:
                found |= {reference_mark(topic, "Ref"), reference_mark(topic, "TopicArn")}
                name = topic.topic_name
                if isinstance(name, str) and not is_unresolved(name):
                    found.add(marked(stack, Stack.of(topic).format_arn(service="sns", resource=name)))
            return found

        def account() -> str | None:
            if literal_arn is not None:
                return _account_of_arn(literal_arn)
            return Stack.of(topic).account if topic is not None else None

        dead_letter = _get(redrive, "deadLetterTargetArn")
        self.producers.append(
            Producer(
                service="sns",
                describe=what,
                wiring=subscription,
                targets=(endpoint,),
                dead_letter_targets=(dead_letter,) if dead_letter is not None else (),
                fifo_capable=fifo,
                arn=arn,
                arn_problem=lambda: (
                    f"the ARN of {what()} can only be known here through a reference to another stack that "
                    "already depends on the queue's: give the topic a topic_name, or subscribe the queue from its "
                    "own stack (topic.add_subscription(SqsSubscription(queue)) there)"
                ),
                identities=identities,
                account=account,
            )
        )

    def _topic_of(self, value: object) -> sns.CfnTopic | None:
        return self._topics.get(_referenced_path(value) or "")

    def _bus_name(self, rule: events.CfnRule) -> str | None:
        """The literal name of the rule's event bus (``default`` when none), or None when it is a token."""
        bus = rule.event_bus_name
        if bus is None:
            return "default"
        if isinstance(bus, str) and not is_unresolved(bus):
            return bus.rsplit("/", 1)[-1] if bus.startswith("arn:") else bus
        event_bus = self._buses.get(_referenced_path(marked(rule, bus)) or "")
        name = event_bus.name if event_bus is not None else None
        return name if isinstance(name, str) and not is_unresolved(name) else None

    # --- EventBridge ---

    def _add_rule(self, rule: events.CfnRule) -> None:
        targets = marked(rule, rule.targets) if rule.targets is not None else None
        if not isinstance(targets, list):
            return
        name = rule.name if isinstance(rule.name, str) and not is_unresolved(rule.name) else None
        bus_name = self._bus_name(rule)
        home = Stack.of(rule)

        def what() -> str:
            return f"EventBridge rule {_owner_of(rule).node.path}"

        def formatted() -> str | None:
            if name is None or bus_name is None:
                return None
            resource_name = name if bus_name == "default" else f"{bus_name}/{name}"
            return home.format_arn(service="events", resource="rule", resource_name=resource_name)

        def problem() -> str:
            if name is None:
                return (
                    f"{what()} has no rule_name, so its ARN is known only through a reference to the rule, and the "
                    "rule already refers to the queue (a cycle: key policy -> rule -> queue -> key): give the rule "
                    "a rule_name"
                )
            return f"{what()} is on an event bus whose name is a token: give the event bus an event_bus_name"

        cache: list[str | None] = []

        def arn(stack: Stack) -> str | None:
            if not cache:
                cache.append(formatted())
            return cache[0]

        def identities(stack: Stack) -> set[Any]:
            found: set[Any] = {reference_mark(rule, "Arn")}
            value = arn(stack)
            if value is not None:
                found.add(marked(stack, value))
            return found

        for target in targets:
            group = _get(_get(target, "SqsParameters"), "MessageGroupId")
            dead_letter = _get(_get(target, "DeadLetterConfig"), "Arn")
            self.producers.append(
                Producer(
                    service="events",
                    describe=what,
                    wiring=rule,
                    targets=(_get(target, "Arn"),),
                    dead_letter_targets=(dead_letter,) if dead_letter is not None else (),
                    fifo_capable=group is not None,
                    arn=arn,
                    arn_problem=problem,
                    identities=identities,
                    account=lambda: home.account,
                )
            )


@dataclass
class _Pass:
    """The index of one synth of a stage, and the checks that used it (a second use by the same check means
    a new synth); ``generation`` is the number of patterns watched when it was built (a pattern built since
    means a new tree)."""

    index: Index
    generation: int
    used_by: set[int] = field(default_factory=set)


_PASSES: weakref.WeakKeyDictionary[Any, _Pass] = weakref.WeakKeyDictionary()
_WATCHED = [0]


def _stage_of(construct: IConstruct) -> IConstruct:
    return Stage.of(construct) or construct.node.root


def _index_for(checks: _ProducerChecks) -> Index:
    if checks.stage is None:
        checks.stage = _stage_of(checks.pattern)
    stage = checks.stage
    found = _PASSES.get(stage)
    if found is None or id(checks) in found.used_by or found.generation != _WATCHED[0]:
        found = _PASSES[stage] = _Pass(Index(stage), _WATCHED[0])
    found.used_by.add(id(checks))
    return found.index


# --- The checks of one pattern -------------------------------------------------------------------------------


def watch(pattern: Watched) -> None:
    """Check the producers of ``pattern`` at synth and scope the service statements of what it owns."""
    checks = _ProducerChecks(pattern)
    Aspects.of(pattern).add(checks, priority=AspectPriority.MUTATING)
    pattern.node.add_validation(checks)
    _WATCHED[0] += 1  # the next synth indexes its stage anew, this pattern included


@jsii.implements(IAspect, IValidation)
class _ProducerChecks:
    """The aspect (scopes statements while they are mutable) and the validation (reports) of one pattern."""

    def __init__(self, pattern: Watched) -> None:
        self.pattern = pattern
        self._errors: list[str] | None = None
        self._marks: tuple[QueueMark, QueueMark] | None = None
        self.stage: IConstruct | None = None

    def visit(self, node: IConstruct) -> None:
        if node is cast(IConstruct, self.pattern):
            self._errors = self._run(scope_statements=True)

    def validate(self) -> list[str]:
        errors = self._errors if self._errors is not None else self._run(scope_statements=False)
        self._errors = None
        return errors

    def _run(self, *, scope_statements: bool) -> list[str]:
        pattern = self.pattern
        index = _index_for(self)
        if self._marks is None:  # the queues and their paths do not change once built
            self._marks = (_queue_mark(pattern.queue, pattern.queue_name), _queue_mark(pattern.dead_letter_queue, None))
        queue, dead_letter_queue = self._marks
        feeding = [p for p in index.producers if p.sends_to(queue)]
        errors = self._fifo_errors(feeding) if pattern.fifo else []
        if scope_statements:
            dead_lettering = [p for p in index.producers if p.dead_letters_to(dead_letter_queue)]
            for owner, producers in (
                (pattern.queue, feeding),
                (pattern.dead_letter_queue, dead_lettering),
                (pattern.encryption_key, feeding),
            ):
                if owner is not None:
                    errors += _scope(owner, producers, self._queue_label)
        return errors

    def _queue_label(self) -> str:
        name = self.pattern.queue_name
        shown = f" ({name})" if name and not is_unresolved(name) else ""
        return f"{'the FIFO queue' if self.pattern.fifo else 'the queue'} {self.pattern.node.path}{shown}"

    def _fifo_errors(self, feeding: Sequence[Producer]) -> list[str]:
        label = self._queue_label()
        errors: list[str] = []
        for producer in feeding:
            if producer.service == "s3":
                errors.append(
                    f"{producer.what} sends event notifications to {label}: S3 notifications accept only standard "
                    f"queues as destinations, and the notification configuration is refused at deploy; {S3_FIFO_FIX}"
                )
            elif producer.service == "sns" and producer.fifo_capable is False:
                errors.append(
                    f"{producer.what} is a standard topic and subscribes {label} (subscription "
                    f"{producer.wiring.node.path}): only SNS FIFO topics deliver to FIFO queues, SNS refuses the "
                    "subscription; make the topic FIFO (sns.Topic(fifo=True)), or subscribe a standard queue "
                    "(EncryptedQueue)"
                )
            elif producer.service == "events" and producer.fifo_capable is False:
                errors.append(
                    f"{producer.what} targets {label} without a message group id: EventBridge sends to a FIFO "
                    "queue only with one (SqsParameters.MessageGroupId); pass message_group_id to "
                    'targets.SqsQueue, e.g. targets.SqsQueue(queue, message_group_id="orders")'
                )
        if not any(p.service == "s3" for p in feeding):
            queue = self.pattern.queue
            granted = [s for s in recorded_statements(queue) if "s3" in _services(s, Stack.of(queue))]
            if granted:
                errors.append(
                    f"{label} lets s3.amazonaws.com send to it (a grant to the S3 service principal): S3 "
                    f"notifications accept only standard queues as destinations; {S3_FIFO_FIX}"
                )
        return errors


# --- K5: the statements for a service, scoped by the producers that feed the queue ----------------------------


def _services(statement: iam.PolicyStatement, stack: Stack) -> list[str]:
    """The short names of the AWS services the statement's principals are (``s3``, ``sns``...)."""
    found: list[str] = []
    for principal in statement.principals:
        if isinstance(principal, iam.ServicePrincipal):
            services: Any = principal.service
        else:  # the service name is a token that resolves per region
            services = stack.resolve(principal.policy_fragment.principal_json.get("Service") or [])
        for service in [services] if isinstance(services, str) else services:
            if isinstance(service, str) and not is_unresolved(service):
                found.append(_short(service))
    return found


def _condition_values(conditions: Mapping[str, Any], key: str) -> list[Any] | None:
    """The values of condition ``key`` (any operator), or None when the statement has no such condition."""
    values: list[Any] | None = None
    for operator in conditions.values():
        if isinstance(operator, Mapping):
            for name, value in operator.items():
                if name.lower() == key.lower():
                    values = (values or []) + (list(value) if isinstance(value, (list, tuple)) else [value])
    return values


def _one_or_many(values: Sequence[str]) -> str | list[str]:
    unique = list(dict.fromkeys(values))
    return unique[0] if len(unique) == 1 else unique


def _scope(owner: IConstruct, producers: Sequence[Producer], queue_label: Callable[[], str]) -> list[str]:
    """Add ``aws:SourceArn`` and ``aws:SourceAccount`` of ``producers`` to the service statements recorded on
    ``owner``; the problems where that cannot be done."""
    errors: list[str] = []
    stack = Stack.of(owner)
    what = f"the key policy of {owner.node.path}" if isinstance(owner, kms.Key) else f"the queue policy of {owner.node.path}"
    for statement in recorded_statements(owner):
        if statement.effect != iam.Effect.ALLOW:
            continue
        services = _services(statement, stack)
        if not services:
            continue
        concerned = [p for p in producers if p.service in services]
        conditions = statement.conditions or {}
        source_arns = _condition_values(conditions, "aws:SourceArn")
        if source_arns is None:
            if not concerned:
                errors.append(
                    f"{what} lets {', '.join(f'{s}.amazonaws.com' for s in services)} use it without aws:SourceArn, "
                    f"and no producer of that service sending to {queue_label()} is in the app to scope it by: grant "
                    "the service with allow_service_producer(principal, source_arn) instead, naming the resource "
                    "that sends"
                )
                continue
            arns = [p.arn(stack) for p in concerned]
            unknown = [p.arn_problem() for p, arn in zip(concerned, arns) if arn is None]
            if unknown:
                errors.extend(f"{what}: {problem}" for problem in dict.fromkeys(unknown))
                continue
            operator = "ArnLike" if "s3" in services else "ArnEquals"
            if not _add_condition(statement, operator, "aws:SourceArn", _one_or_many([a for a in arns if a]), what, errors):
                continue
            source_arns = [a for a in arns if a]
        if _condition_values(conditions, "aws:SourceAccount") is None and concerned:
            seen = {v for v in (marked(stack, a) for a in source_arns) if isinstance(v, str)}
            matched = [p for p in concerned if p.identities_in(stack) & seen]
            accounts = [p.account() for p in matched]
            if matched and all(isinstance(a, str) for a in accounts):
                _add_condition(statement, "StringEquals", "aws:SourceAccount", _one_or_many(accounts), what, errors)  # type: ignore[arg-type]
    return errors


def _add_condition(
    statement: iam.PolicyStatement, operator: str, key: str, value: object, what: str, errors: list[str]
) -> bool:
    try:
        statement.add_condition(operator, {key: value})
    except RuntimeError as error:  # a statement frozen by an earlier synth of the app
        errors.append(f"{what}: cannot add {key} to a statement that is already synthesized ({error})")
        return False
    return True


def producers_of(pattern: Watched) -> list[Producer]:
    """The producers found sending to ``pattern``'s queue (for tests and tools); the tree is walked anew."""
    queue = _queue_mark(pattern.queue, pattern.queue_name)
    return [p for p in Index(_stage_of(pattern)).producers if p.sends_to(queue)]
