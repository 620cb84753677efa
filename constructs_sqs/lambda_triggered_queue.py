"""``LambdaTriggeredQueue``: a queue with a DLQ, consumed by a Lambda function, with rules L1-L6.

The construct wires an SQS event source mapping between a queue (``FifoQueueWithDlq``, ``EncryptedQueue``,
an imported pair, a plain ``sqs.Queue`` or ``sqs.IQueue``, or a standard SSE-SQS queue it creates) and a
function (one it builds, or one the caller passes). It derives the queue's visibility timeout from the
function timeout, turns on partial batch responses, checks the batching and concurrency settings against
each other, and gives the function it builds a role that can do exactly what consuming the queue and
logging need.

Two steps, as everywhere in the library: :func:`plan_consumer` checks every argument and derives the
settings without building anything (a test can call it alone); the construct then builds from the plan.
Precedence: what the pattern must set > what the caller passes > defaults.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, cast

from aws_cdk import Annotations, Duration, Names, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as event_sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from ._add_alarms import AlarmsMixin
from ._jsii import keyword_signature
from . import _consumer_function, _defaults, _limits
from ._consumer_function import RUNTIME_PACKAGE, FunctionSettings, build_function
from ._derivations import WARNING_VISIBILITY, VisibilityPlan, plan_visibility
from ._facts import FunctionFacts, QueueFacts, read_function, read_queue, write_derived_visibility
from ._queue_base import (
    QueueGrants,
    QueueOptions,
    QueuePlan,
    QueueWithDlqBase,
    allow_producer_on_source,
    build_queue_pair,
    claim_names,
    plan_queue_pair,
)
from ._validation import (
    arguments_of,
    BOOLEAN,
    DURATION,
    NUMBER,
    ConfigurationError,
    Kind,
    Problems,
    acknowledge,
    check_construct_arguments,
    describe_duration,
    duration,
    format_duration,
    is_unresolved,
    seconds_of,
)

__all__ = [
    "ConsumerArguments",
    "ConsumerPlan",
    "ConsumerSources",
    "LambdaTriggeredQueue",
    "plan_consumer",
    "read_consumer_sources",
]

MAX_LAYERS = _limits.LAYERS_PER_FUNCTION
WARNING_MAX_RECEIVE_COUNT = "constructs-sqs:max-receive-count"
WARNING_CONCURRENCY = "constructs-sqs:max-concurrency"
WARNING_CONSUME_GRANT = "constructs-sqs:consume-grant"

# Arguments that describe the function this construct builds; refused together with ``function=``.
_BUILD_ARGUMENTS = (
    "code",
    "handler",
    "memory_size",
    "runtime",
    "architecture",
    "environment",
    "service_name",
    "layers",
    "powertools_layer",
    "powertools_layer_version",
    "reserved_concurrent_executions",
    "log_retention",
    "function_encryption_key",
    "vpc",
    "vpc_subnets",
    "security_groups",
    "function_name",
    "description",
    "tracing",
)
# Arguments of the queue this construct creates; refused together with ``queue=``.
_QUEUE_ARGUMENTS = (
    "queue_name",
    "dead_letter_queue_name",
    "retention_period",
    "dead_letter_retention_period",
    "max_receive_count",
    "delivery_delay",
    "receive_message_wait_time",
    "max_message_size_bytes",
    "removal_policy",
    "dead_letter_removal_policy",
)

_HANDLER = re.compile(r"[A-Za-z_][\w./-]*\.[A-Za-z_]\w*")
_FUNCTION_NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{_limits.FUNCTION_NAME_MAX_LENGTH}}}")
_CONSTRUCT = Kind.of("a Construct (a Stack or a construct in one)", Construct)
_CODE = Kind.of("a lambda_.Code, e.g. lambda_.Code.from_asset('handlers')", lambda_.Code)
_RUNTIME = Kind.of("a lambda_.Runtime", lambda_.Runtime)
_ARCHITECTURE = Kind.of("a lambda_.Architecture", lambda_.Architecture)
_TRACING = Kind.of("a lambda_.Tracing", lambda_.Tracing)
_RETENTION_DAYS = Kind.of("a logs.RetentionDays", logs.RetentionDays)
_METRICS_CONFIG = Kind.of("a lambda_.MetricsConfig", lambda_.MetricsConfig)
_SUBNETS = Kind.of("an ec2.SubnetSelection", ec2.SubnetSelection)
_LAYER = Kind.interface("a lambda_.ILayerVersion", lambda_.ILayerVersion)
_KEY = Kind.interface("a kms.IKey", kms.IKey)
_VPC = Kind.interface("an ec2.IVpc", ec2.IVpc)
_SECURITY_GROUP = Kind.interface("an ec2.ISecurityGroup", ec2.ISecurityGroup)
_FILTER = Kind.of("a dict, e.g. lambda_.FilterCriteria.filter({...})", Mapping)


@keyword_signature
class LambdaTriggeredQueue(QueueGrants, AlarmsMixin, Construct):
    """A queue and its DLQ, consumed by a Lambda function through an SQS event source mapping.

    What it does by default (rules L1-L6, Q7):

    - Derives the queue's visibility timeout: 6 x the function timeout + ``max_batching_window``. Below
      1 x the function timeout is a ``ConfigurationError``; between 1 x and 6 x, a warning.
    - Turns on ``ReportBatchItemFailures``; write the handler with
      ``constructs_sqs_runtime.sqs_batch_handler`` to return ``batchItemFailures``.
    - Checks batch size, batching window and maximum concurrency against the queue type and against the
      function's reserved concurrency, and warns when ``max_receive_count`` is below 5.
    - Builds the function (when given ``code`` and ``handler``) on Python 3.14 with explicit memory,
      timeout and a log group with retention, the Powertools layer and the ``constructs_sqs_runtime``
      layer, and a role whose permissions are one customer managed policy: consume on the queue,
      ``kms:Decrypt`` on its key, write to its own log group. Later grants to the function land in the
      same managed policy.

    Example::

        orders = FifoQueueWithDlq(self, "Orders", content_based_deduplication=True)
        consumer = LambdaTriggeredQueue(
            self, "OrdersConsumer",
            queue=orders,
            code=lambda_.Code.from_asset("handlers"),
            handler="orders_fulfilment.handler",
            max_concurrency=5,
        )
        orders_table.grant_write_data(consumer.function)

    Parameters
    ----------
    queue:
        The queue to consume: a queue pattern (``FifoQueueWithDlq``, ``EncryptedQueue``, one made by their
        ``from_queue_arns``), a plain ``sqs.Queue`` of this app (its DLQ, retention, visibility timeout and
        type are read from it), or any imported ``sqs.IQueue`` (its visibility timeout is unknown: describe
        it with ``visibility_timeout=`` to have it checked). A queue that kept a default visibility timeout
        gets the derived one. Default: - a standard queue and DLQ encrypted with SSE-SQS are created (id
        ``Queue``), from the queue arguments below.
    function:
        An existing function to trigger. Its role gets consume on the queue; no layer is added (see
        :meth:`powertools_layer`, :meth:`runtime_layer`). Give ``function`` or ``code`` + ``handler``.
        Default: - a function is built from ``code`` and ``handler``.
    code, handler:
        Code and handler (``module.function``) of the function to build.
    timeout:
        Timeout of the function to build, 1 s to 15 minutes. With ``function``, describes that
        function's timeout; required when it cannot be read (an imported function, an alias).
        Default: ``Duration.seconds(30)``; with ``function``, its own timeout.
    memory_size:
        Memory of the function to build, 128 to 10,240 MB. Default: 256.
    batch_size:
        Records per invocation: 1 to 10 for a FIFO queue; 1 to 10,000 for a standard queue, above 10
        only with ``max_batching_window`` of at least 1 s. Default: - Lambda's, 10.
    max_batching_window:
        How long Lambda gathers records before invoking, 0 to 300 s; standard queues only.
        Default: - none, Lambda invokes as soon as records are available.
    max_concurrency:
        Most concurrent invocations the event source starts, 2 to 1,000, at most the reserved
        concurrency; not with ``provisioned_poller_config``. Default: - the reserved concurrency when it
        is 2 or more (standard mode), else unlimited.
    provisioned_poller_config:
        Provisioned mode (``lambda_.ProvisionedPollerConfig(minimum_pollers=, maximum_pollers=)``):
        dedicated event pollers, 2 to 200 kept warm and up to 2 to 2,000 under load, for steady high
        throughput or low latency through spikes (faster scaling, higher concurrency). Each poller is
        billed by the hour, the minimum ones always; bound the event source with ``maximum_pollers``, as
        Lambda allows no ``max_concurrency`` with it. Default: - Lambda's standard scaling, no poller cost.
    visibility_timeout:
        The queue's visibility timeout, for the queue created here; at least the function timeout.
        With an imported ``queue``, describes its visibility timeout so it can be checked. With a
        ``queue`` pattern, only a value equal to the pattern's is accepted.
        Default: - 6 x function timeout + ``max_batching_window``.
    report_batch_item_failures:
        Let the handler report which records of a batch failed. Default: True.
    filters:
        Event filtering, a list of ``lambda_.FilterCriteria.filter({...})``; records that match no
        filter are deleted without invoking the function. Default: - every record invokes.
    enabled:
        Whether the event source mapping polls. Default: True.
    metrics_config:
        Event source mapping metrics (``lambda_.MetricsConfig``). Default: - none.
    runtime:
        Python runtime of the function to build. Default: ``lambda_.Runtime.PYTHON_3_14``.
    architecture:
        Default: ``lambda_.Architecture.X86_64``.
    environment:
        Environment variables of the function to build; they override ``POWERTOOLS_SERVICE_NAME``.
        Default: - only ``POWERTOOLS_SERVICE_NAME``.
    service_name:
        ``POWERTOOLS_SERVICE_NAME`` of the function to build. Default: - this construct's id.
    layers:
        More layers for the function to build, at most 3 (Lambda allows 5 and two are added).
        Default: - only the Powertools and ``constructs_sqs_runtime`` layers.
    powertools_layer:
        A Powertools layer to use instead of AWS's published one, e.g. in aws-cn or aws-us-gov where it
        is published from another account. Default: - AWS's published layer, see :meth:`powertools_layer`.
    powertools_layer_version:
        Version of AWS's published Powertools layer. Default: 27.
    reserved_concurrent_executions:
        Reserved concurrency of the function to build. Default: - none, the account's unreserved pool.
    log_retention:
        Retention of the function's log group. Default: ``logs.RetentionDays.ONE_MONTH``.
    function_encryption_key:
        A customer-managed key for the function's log group and environment variables (cdk-nag
        CloudWatchLogGroupEncrypted, checkov CKV_AWS_158 and CKV_AWS_173). A key created in this app gets the key policy statement CloudWatch Logs needs (``kms:Encrypt*``,
        ``kms:Decrypt*``, ``kms:ReEncrypt*``, ``kms:GenerateDataKey*``, ``kms:Describe*`` for
        ``logs.<region>.amazonaws.com``, scoped by the ``aws:logs:arn`` encryption context to this
        account's log groups in the region); an imported key must already have it, and a warning says so.
        Default: - CloudWatch Logs' own encryption.
    vpc, vpc_subnets, security_groups:
        Run the function to build in a VPC (cdk-nag LambdaInsideVPC). Default: - no VPC.
    function_name, description:
        Of the function to build. Default: - a generated name, no description.
    tracing:
        X-Ray tracing of the function to build (cdk-nag Serverless-LambdaTracing). ``ACTIVE`` adds
        ``xray:PutTraceSegments`` and ``xray:PutTelemetryRecords`` on ``*`` (X-Ray has no resource-level
        permissions) to the role's managed policy. Default: ``lambda_.Tracing.ACTIVE``: a consumer's
        traces show where a batch spent its time before it failed; ``DISABLED`` turns tracing and its
        permissions off.
    queue_name, dead_letter_queue_name, retention_period, dead_letter_retention_period,
    max_receive_count, delivery_delay, receive_message_wait_time, max_message_size_bytes,
    removal_policy, dead_letter_removal_policy:
        For the standard queue created when ``queue`` is not given, as for ``EncryptedQueue``.
        Defaults as there: ``max_receive_count`` 5, retention 4 days, DLQ retention 14 days, ...

    Attributes
    ----------
    source:
        The queue pattern consumed (given or created), or None for a plain ``sqs.Queue`` / ``sqs.IQueue``.
    queue, dead_letter_queue, encryption_key, fifo:
        The queue consumed, its DLQ (None when it has none or it is unknown), key (None for SSE-SQS) and type.
    plan:
        The :class:`ConsumerPlan`: every derived setting; ``print(consumer.plan.describe())`` shows what was
        derived and why (synth itself prints nothing but warnings).
    function:
        The function triggered.
    role:
        The role of the function built here, or None when ``function`` was given.
    log_group:
        The log group of the function built here, or None.
    event_source:
        The ``SqsEventSource``.
    event_source_mapping:
        The ``lambda_.EventSourceMapping`` it created.
    visibility_timeout:
        The queue's visibility timeout in force, or None when unknown (imported queue).
    max_concurrency:
        The event source's maximum concurrency, or None for unlimited.

    Raises
    ------
    ConfigurationError
        (a ``ValueError``) listing every invalid argument of the call.
    """

    def __init__(
        self,
        scope: Construct,
        id: str,
        *,
        queue: QueueWithDlqBase | sqs.IQueue | None = None,
        function: lambda_.IFunction | None = None,
        code: lambda_.Code | None = None,
        handler: str | None = None,
        timeout: Duration | None = None,
        memory_size: int | None = None,
        batch_size: int | None = None,
        max_batching_window: Duration | None = None,
        max_concurrency: int | None = None,
        provisioned_poller_config: lambda_.ProvisionedPollerConfig | None = None,
        visibility_timeout: Duration | None = None,
        report_batch_item_failures: bool = _defaults.REPORT_BATCH_ITEM_FAILURES,
        filters: Sequence[Mapping[str, Any]] | None = None,
        enabled: bool = True,
        metrics_config: lambda_.MetricsConfig | None = None,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        environment: Mapping[str, str] | None = None,
        service_name: str | None = None,
        layers: Sequence[lambda_.ILayerVersion] | None = None,
        powertools_layer: lambda_.ILayerVersion | None = None,
        powertools_layer_version: int | None = None,
        reserved_concurrent_executions: int | None = None,
        log_retention: logs.RetentionDays | None = None,
        function_encryption_key: kms.IKey | None = None,
        vpc: ec2.IVpc | None = None,
        vpc_subnets: ec2.SubnetSelection | None = None,
        security_groups: Sequence[ec2.ISecurityGroup] | None = None,
        function_name: str | None = None,
        description: str | None = None,
        tracing: lambda_.Tracing | None = None,
        queue_name: str | None = None,
        dead_letter_queue_name: str | None = None,
        retention_period: Duration | None = None,
        dead_letter_retention_period: Duration | None = None,
        max_receive_count: int | None = None,
        delivery_delay: Duration | None = None,
        receive_message_wait_time: Duration | None = None,
        max_message_size_bytes: int | None = None,
        removal_policy: RemovalPolicy | None = None,
        dead_letter_removal_policy: RemovalPolicy | None = None,
    ) -> None:
        arguments = arguments_of(ConsumerArguments, locals())
        check_construct_arguments(type(self).__name__, scope, id)
        super().__init__(scope, id)
        sources = read_consumer_sources(arguments)
        self.plan: ConsumerPlan = plan_consumer(self.node.path, arguments, sources, default_service_name=id)
        for warning_id, message in self.plan.warnings:
            Annotations.of(self).add_warning_v2(warning_id, message)
        self._build_queue(self.plan, queue)
        self._build_function(self.plan)
        self._build_event_source(self.plan)

    def _build_queue(self, plan: ConsumerPlan, queue: object) -> None:
        """The queue consumed: created, or given (with the derived visibility timeout written on it)."""
        self.source: QueueWithDlqBase | None = queue if isinstance(queue, QueueWithDlqBase) else None
        facts = plan.queue
        if facts is None:
            assert plan.queue_plan is not None
            created = _StandardQueueWithDlq(self, "Queue", plan=plan.queue_plan)
            self.source = created
            facts = created.built_facts()
        elif plan.set_visibility_timeout is not None:
            if write_derived_visibility(facts.queue, plan.set_visibility_timeout):
                facts = replace(facts, visibility_timeout=plan.set_visibility_timeout, visibility_timeout_derived=True)
            else:
                Annotations.of(self).add_warning_v2(
                    WARNING_VISIBILITY,
                    f"the visibility timeout of queue={facts.path} could not be set (its resource is not an "
                    f"AWS::SQS::Queue of this app); it must be at least {format_duration(plan.set_visibility_timeout)}",
                )
        self._facts = facts
        self.queue: sqs.IQueue = facts.queue
        self.dead_letter_queue: sqs.IQueue | None = facts.dead_letter_queue
        self.encryption_key: kms.IKey | None = facts.encryption_key
        self.fifo: bool = facts.fifo
        self._visibility_seconds = plan.visibility_timeout if plan.queue is not None else facts.visibility_timeout
        self.max_concurrency: int | None = plan.max_concurrency

    @property
    def visibility_timeout(self) -> Duration | None:
        """The queue's visibility timeout in force, or None when it is unknown (an imported queue)."""
        seconds = self._visibility_seconds
        return None if seconds is None else duration(seconds)

    def _build_function(self, plan: ConsumerPlan) -> None:
        """The function: built from the plan's settings, or the one given."""
        self.role: iam.Role | None = None
        self.log_group: logs.LogGroup | None = None
        if plan.function_settings is not None:
            built = build_function(self, plan.function_settings, consumed=self._facts.path)
            self.role, self.log_group = built.role, built.log_group
            self.function: lambda_.IFunction = built.function
            return
        assert plan.function is not None
        self.function = plan.function.function
        if not plan.function.has_role:
            Annotations.of(self).add_warning_v2(
                WARNING_CONSUME_GRANT,
                f"function={plan.function.path} has no known role, so it was not granted consume on the queue: "
                "call grant_consume_messages on its role where the role is defined",
            )

    def _build_event_source(self, plan: ConsumerPlan) -> None:
        # SqsEventSource grants the function's role consume on the queue (and kms:Decrypt on its key).
        self.event_source = event_sources.SqsEventSource(
            self.queue,
            batch_size=plan.batch_size,
            max_batching_window=plan.max_batching_window,
            max_concurrency=plan.max_concurrency,
            provisioned_poller_config=plan.provisioned_poller_config,
            report_batch_item_failures=plan.report_batch_item_failures,
            filters=plan.filters,
            enabled=plan.enabled,
            metrics_config=plan.metrics_config,
        )
        self.function.add_event_source(self.event_source)
        self.event_source_mapping: lambda_.EventSourceMapping = _mapping_of(self.function, self.event_source)
        # Compliance: rules an SQS consumer cannot meet, with the reasons in _defaults: a function DLQ
        # (LambdaDLQ) serves asynchronous invokes only, and only stream and Kafka event sources have
        # on-failure destinations; the queue's DLQ is both. Only on the function built here, which SQS
        # alone invokes.
        if self.role is not None:
            acknowledge(self.function, _defaults.LAMBDA_CONSUMER_ACKNOWLEDGMENTS)
        acknowledge(self.event_source_mapping, _defaults.EVENT_SOURCE_MAPPING_ACKNOWLEDGMENTS)

    def queue_facts(self) -> QueueFacts:
        """The consumed queue as the library knows it, with this consumer and its visibility timeout."""
        return replace(
            self._facts,
            consumer=self.function,
            visibility_timeout=self._visibility_seconds,
        )

    # --- Layers ----------------------------------------------------------------------------------

    @staticmethod
    def powertools_layer(
        scope: Construct,
        *,
        runtime: lambda_.Runtime | None = None,
        architecture: lambda_.Architecture | None = None,
        version: int | None = None,
    ) -> lambda_.ILayerVersion:
        """AWS's published Powertools for AWS Lambda (Python) v3 layer, for a function of this stack.

        ``arn:${AWS::Partition}:lambda:${AWS::Region}:017000801446:layer:
        AWSLambdaPowertoolsPythonV3-<python3XX>-<x86_64|arm64>:<version>``. One import per stack and
        layer. Add it, with :meth:`runtime_layer`, to a function you pass as ``function=``.

        Parameters
        ----------
        scope:
            Any construct of the stack.
        runtime:
            The function's Python runtime. Default: ``lambda_.Runtime.PYTHON_3_14``.
        architecture:
            The function's architecture. Default: ``lambda_.Architecture.X86_64``.
        version:
            The layer version. Default: 27.

        Raises
        ------
        ConfigurationError
            For arguments of the wrong type, a runtime that is not Python, a version below 1.
        """
        problems = Problems("LambdaTriggeredQueue.powertools_layer")
        problems.of_kind("scope", scope, _CONSTRUCT)
        if problems.of_kind("runtime", runtime, _RUNTIME) and runtime is not None:
            if runtime.family != lambda_.RuntimeFamily.PYTHON:
                problems.add(f"runtime must be a Python runtime, got {runtime.name}")
        problems.of_kind("architecture", architecture, _ARCHITECTURE)
        _limits.LAYER_VERSION.check_count(problems, "version", version)
        problems.raise_if_any()
        return _consumer_function.powertools_layer(
            scope,
            runtime=runtime or _defaults.LAMBDA_RUNTIME,
            architecture=architecture or _defaults.LAMBDA_ARCHITECTURE,
            version=version,
        )

    @staticmethod
    def runtime_layer(scope: Construct) -> lambda_.LayerVersion:
        """A layer with the ``constructs_sqs_runtime`` package (the batch handler helper), one per stack.

        Built from the installed package's files, without Docker, into ``python/constructs_sqs_runtime``.
        It needs the Powertools layer (:meth:`powertools_layer`) beside it.
        """
        problems = Problems("LambdaTriggeredQueue.runtime_layer")
        problems.of_kind("scope", scope, _CONSTRUCT)
        problems.raise_if_any()
        return _consumer_function.runtime_layer(scope)

    def allow_service_producer(self, principal: iam.ServicePrincipal | str, source_arn: str) -> None:
        """Let an AWS service send to the queue: see ``QueueWithDlqBase.allow_service_producer``.

        Parameters
        ----------
        principal:
            The service principal (``"sns.amazonaws.com"``) or an ``iam.ServicePrincipal``.
        source_arn:
            The ARN of the resource that sends (the topic, rule or bucket).

        Raises
        ------
        ConfigurationError
            As there, and when the queue consumed is not one of the library's patterns.
        """
        allow_producer_on_source(self, self.source, self._facts, principal, source_arn)


class _StandardQueueWithDlq(QueueWithDlqBase):
    """A standard queue and DLQ encrypted with SSE-SQS: the queue a ``LambdaTriggeredQueue`` creates."""

    def built_facts(self) -> QueueFacts:
        """The facts of the pair just built: no consumer can have written on it yet (nothing to read back)."""
        return self._facts(None)

    def __init__(self, scope: Construct, id: str, *, plan: QueuePlan) -> None:
        super().__init__(scope, id)
        problems = Problems(self.node.path)
        names = claim_names(problems, self, plan, fifo=False)
        problems.raise_if_any()
        self._hold(
            build_queue_pair(
                self,
                plan,
                names=names,
                fifo=False,
                encryption=sqs.QueueEncryption.SQS_MANAGED,
                encryption_master_key=None,
                data_key_reuse=None,
            )
        )


def _mapping_of(function: lambda_.IFunction, source: event_sources.SqsEventSource) -> lambda_.EventSourceMapping:
    """The ``EventSourceMapping`` construct that ``source.bind`` created under ``function``."""
    for child in function.node.children:
        if isinstance(child, lambda_.EventSourceMapping) and (
            child.event_source_mapping_id == source.event_source_mapping_id
        ):
            return child
    raise LookupError(f"no event source mapping of {source} found under {function.node.path}")


# --- The plan: every argument checked, the settings derived, nothing built ---------------------------


@dataclass(frozen=True)
class ConsumerArguments:
    """The arguments of :class:`LambdaTriggeredQueue` as the caller passed them (None: not passed)."""

    queue: object = None
    function: object = None
    code: object = None
    handler: object = None
    timeout: object = None
    memory_size: object = None
    batch_size: object = None
    max_batching_window: object = None
    max_concurrency: object = None
    provisioned_poller_config: object = None
    visibility_timeout: object = None
    report_batch_item_failures: object = _defaults.REPORT_BATCH_ITEM_FAILURES
    filters: object = None
    enabled: object = True
    metrics_config: object = None
    runtime: object = None
    architecture: object = None
    environment: object = None
    service_name: object = None
    layers: object = None
    powertools_layer: object = None
    powertools_layer_version: object = None
    reserved_concurrent_executions: object = None
    log_retention: object = None
    function_encryption_key: object = None
    vpc: object = None
    vpc_subnets: object = None
    security_groups: object = None
    function_name: object = None
    description: object = None
    tracing: object = None
    queue_name: object = None
    dead_letter_queue_name: object = None
    retention_period: object = None
    dead_letter_retention_period: object = None
    max_receive_count: object = None
    delivery_delay: object = None
    receive_message_wait_time: object = None
    max_message_size_bytes: object = None
    removal_policy: object = None
    dead_letter_removal_policy: object = None


@dataclass(frozen=True)
class ConsumerPlan:
    """What :class:`LambdaTriggeredQueue` builds, decided from its arguments. Seconds are Python numbers,
    None where unknown (an imported queue or function, a token)."""

    queue: QueueFacts | None
    """The queue given, as read; None when one is created from :attr:`queue_plan`."""
    queue_plan: QueuePlan | None
    """The standard queue and DLQ to create; None when a queue is given."""
    function: FunctionFacts | None
    """The function given, as read; None when one is built from :attr:`function_settings`."""
    function_settings: FunctionSettings | None
    """The function to build; None when a function is given."""
    fifo: bool
    """True when the queue consumed is FIFO."""
    function_timeout: float | None
    """Seconds: the function's timeout, built, read or described."""
    derived_visibility_timeout: float | None
    """6 x the function timeout + the batching window, in whole seconds (constructs-sqs rule L1)."""
    visibility_timeout: float | None
    """The queue's visibility timeout in force."""
    set_visibility_timeout: float | None
    """A derived visibility timeout to write on the given queue (it kept a default)."""
    max_concurrency: int | None
    """The event source's maximum concurrency; None: unlimited."""
    provisioned_poller_config: lambda_.ProvisionedPollerConfig | None
    """Provisioned mode: the minimum and maximum event pollers; None for Lambda's standard scaling."""
    batch_size: int | None
    """Records per invocation; None: Lambda's default."""
    max_batching_window: Duration | None
    """How long Lambda gathers records; None: none."""
    report_batch_item_failures: bool
    """Partial batch responses (constructs-sqs rule L2)."""
    filters: list[Mapping[str, Any]] | None
    """Event filtering; None: every record invokes."""
    enabled: bool
    """Whether the event source mapping polls."""
    metrics_config: lambda_.MetricsConfig | None
    """Event source mapping metrics, or None."""
    warnings: tuple[tuple[str, str], ...]
    """``(id, message)`` of each synth warning the construct adds."""
    notes: tuple[str, ...]
    """What was derived and why, one sentence each: see :meth:`describe`."""

    def describe(self) -> str:
        """The derived settings, one per line, for a user who wants to see them (synth stays quiet)."""
        return "\n".join(self.notes)


@dataclass(frozen=True)
class ConsumerSources:
    """What :func:`plan_consumer` reads of the queue and function it is given, read beforehand by
    :func:`read_consumer_sources`: the plan itself reads nothing but its inputs.

    Parameters
    ----------
    queue:
        The ``queue`` argument as read; None when none was given, or it is no queue (the plan says so).
    function:
        The ``function`` argument as read; None when none was given, or it is no function.
    already_consumed:
        True when the function already has an event source mapping on the queue.
    """

    queue: QueueFacts | None = None
    function: FunctionFacts | None = None
    already_consumed: bool = False


def read_consumer_sources(arguments: ConsumerArguments) -> ConsumerSources:
    """Read the queue and the function of ``arguments`` (through the queue-holder protocol for the library's
    queues) and whether the function already consumes the queue: the construct tree, read once.

    Parameters
    ----------
    arguments:
        The arguments of :class:`LambdaTriggeredQueue`.

    Returns
    -------
    ConsumerSources
        The inputs of :func:`plan_consumer` that come from other constructs.
    """
    queue = read_queue(arguments.queue) if arguments.queue is not None else None
    function = read_function(arguments.function) if arguments.function is not None else None
    consumed = False
    if queue is not None and function is not None and isinstance(queue.queue, Construct):
        # aws-cdk-lib's id of the mapping SqsEventSource.bind adds under the function.
        mapping_id = f"SqsEventSource:{Names.node_unique_id(queue.queue.node)}"
        consumed = function.function.node.try_find_child(mapping_id) is not None
    return ConsumerSources(queue=queue, function=function, already_consumed=consumed)


def plan_consumer(
    where: str, arguments: ConsumerArguments, sources: ConsumerSources, *, default_service_name: str
) -> ConsumerPlan:
    """Check the arguments of :class:`LambdaTriggeredQueue` and derive its settings, building nothing.

    A pure function of its inputs: the arguments, and what :func:`read_consumer_sources` read of the queue and
    function they name. The visibility timeout is derived by :func:`~constructs_sqs._derivations.plan_visibility`,
    which other consumer engines share.

    Parameters
    ----------
    where:
        The construct path, for messages.
    arguments:
        The arguments as passed.
    sources:
        The queue and function given, as read.
    default_service_name:
        ``POWERTOOLS_SERVICE_NAME`` of a function built without ``service_name``.

    Returns
    -------
    ConsumerPlan
        Every setting, derived.

    Raises
    ------
    ConfigurationError
        Listing every problem of the call, ``where`` being the construct path.
    """
    a = arguments
    problems = Problems(where)
    queue, function = _plan_sources(problems, a, sources)
    if function is None:
        settings, timeout, reserved = _plan_function_settings(problems, a, default_service_name)
    else:
        settings, (timeout, reserved) = None, _plan_given_function(problems, a, function)
    fifo = queue.fifo if queue is not None else False
    window = _plan_batching(problems, a, fifo=fifo)
    for argument in ("report_batch_item_failures", "enabled"):
        problems.of_kind(argument, getattr(a, argument), BOOLEAN)
    problems.sequence_of("filters", a.filters, _FILTER)
    problems.of_kind("metrics_config", a.metrics_config, _METRICS_CONFIG)
    visibility = plan_visibility(problems, timeout=timeout, window=window, queue=queue, requested=a.visibility_timeout)
    queue_plan = _plan_created_queue(problems, a, visibility) if queue is None else None
    warnings: list[tuple[str, str]] = list(visibility.warnings)
    notes: list[str] = list(visibility.notes)
    pollers = _plan_pollers(problems, a, reserved, warnings)
    concurrency = _plan_concurrency(problems, a.max_concurrency, reserved, warnings, notes, provisioned=pollers is not None)
    if sources.already_consumed and queue is not None and function is not None:
        problems.add(
            f"function={function.path} already consumes queue={queue.path}: one event source mapping per "
            "function and queue; reuse the LambdaTriggeredQueue that made it"
        )
    problems.raise_if_any()
    receives = queue_plan.max_receive_count if queue_plan is not None else (queue.max_receive_count if queue else None)
    _warn_receive_count(receives, warnings)
    return ConsumerPlan(
        queue=queue,
        queue_plan=queue_plan,
        function=function,
        function_settings=settings,
        fifo=fifo,
        function_timeout=timeout,
        derived_visibility_timeout=visibility.derived,
        visibility_timeout=visibility.in_force,
        set_visibility_timeout=visibility.set_on_queue,
        max_concurrency=concurrency,
        provisioned_poller_config=pollers,
        batch_size=cast("int | None", a.batch_size),
        max_batching_window=cast("Duration | None", a.max_batching_window),
        report_batch_item_failures=bool(a.report_batch_item_failures),
        filters=list(cast("Sequence[Mapping[str, Any]]", a.filters)) if a.filters is not None else None,
        enabled=bool(a.enabled),
        metrics_config=cast("lambda_.MetricsConfig | None", a.metrics_config),
        warnings=tuple(warnings),
        notes=tuple(notes),
    )


def _plan_sources(
    problems: Problems, a: ConsumerArguments, sources: ConsumerSources
) -> tuple[QueueFacts | None, FunctionFacts | None]:
    """Which function (given, or built from ``code`` + ``handler``) and which queue (given, or created)."""
    function: FunctionFacts | None = None
    if a.function is not None:
        function = sources.function
        if function is None:
            problems.add(f"function must be a lambda_.IFunction, got {type(a.function).__name__}")
        else:
            _refuse(problems, a, _BUILD_ARGUMENTS, "the function this construct builds", f"function={function.path}",
                    "configure that function where it is defined")
    elif a.code is None or a.handler is None:
        missing = " and ".join(name for name in ("code", "handler") if getattr(a, name) is None)
        problems.add(f"{missing} must be given to build a function, or pass an existing function=")
    queue: QueueFacts | None = None
    if a.queue is not None:
        queue = sources.queue
        if queue is None:
            problems.add(
                "queue must be a queue pattern of this library (e.g. FifoQueueWithDlq), an sqs.Queue or another "
                f"sqs.IQueue, got {type(a.queue).__name__}"
            )
        else:
            _refuse(problems, a, _QUEUE_ARGUMENTS, "the queue this construct creates", f"queue={queue.path}",
                    f"set {{them}} on that {queue.kind}")
    return queue, function


def _refuse(
    problems: Problems, a: ConsumerArguments, names: Sequence[str], what: str, given: str, fix: str
) -> None:
    clashing = [name for name in names if getattr(a, name) is not None]
    if clashing:
        verb, them = ("applies", "it") if len(clashing) == 1 else ("apply", "them")
        problems.add(
            f"{', '.join(clashing)} {verb} only to {what}, got {them} with {given}: {fix.format(them=them)}"
        )


def _plan_function_settings(
    problems: Problems, a: ConsumerArguments, default_service_name: str
) -> tuple[FunctionSettings | None, float | None, int | None]:
    """The function to build: its settings, its timeout in seconds and its reserved concurrency."""
    count = len(problems.items)
    problems.of_kind("code", a.code, _CODE)
    handler = problems.string("handler", a.handler)
    if handler is not None and not _HANDLER.fullmatch(handler):
        problems.add(f"handler must name a Python function as 'module.function', got {handler!r}")
    timeout = _limits.FUNCTION_TIMEOUT.check(problems, "timeout", a.timeout)
    if a.timeout is None:
        timeout = seconds_of(_defaults.LAMBDA_TIMEOUT)
    _limits.MEMORY_SIZE.check_count(problems, "memory_size", a.memory_size)
    reserved = _limits.RESERVED_CONCURRENCY.check_count(problems, "reserved_concurrent_executions", a.reserved_concurrent_executions)
    if a.reserved_concurrent_executions is not None and is_unresolved(a.reserved_concurrent_executions):
        reserved = None
    runtime = a.runtime if a.runtime is not None else _defaults.LAMBDA_RUNTIME
    if problems.of_kind("runtime", a.runtime, _RUNTIME) and runtime.family != lambda_.RuntimeFamily.PYTHON:  # type: ignore[attr-defined]
        problems.add(
            "runtime must be a Python runtime (the handler helper and Powertools layer are Python), "
            f"got {runtime.name}"  # type: ignore[attr-defined]
        )
    _check_function_kinds(problems, a)
    layers = problems.sequence_of("layers", a.layers, _LAYER) or []
    if len(layers) > MAX_LAYERS - 2:
        problems.add(
            f"layers must be at most {MAX_LAYERS - 2} (Lambda allows {MAX_LAYERS}, and the Powertools "
            f"and {RUNTIME_PACKAGE} layers are added), got {len(layers)}"
        )
    if a.powertools_layer is not None and a.powertools_layer_version is not None:
        problems.add(
            "powertools_layer_version applies to AWS's published Powertools layer, got it with "
            "powertools_layer: give one or the other"
        )
    _limits.LAYER_VERSION.check_count(problems, "powertools_layer_version", a.powertools_layer_version)
    environment = problems.mapping_of_strings("environment", a.environment) or {}
    service = problems.string("service_name", a.service_name)
    if len(problems.items) != count:
        return None, timeout, reserved
    settings = FunctionSettings(
        code=cast("lambda_.Code", a.code),
        handler=cast(str, a.handler),
        timeout=cast("Duration", a.timeout) if a.timeout is not None else _defaults.LAMBDA_TIMEOUT,
        memory_size=_defaults.LAMBDA_MEMORY_SIZE if a.memory_size is None else cast(int, a.memory_size),
        runtime=cast("lambda_.Runtime", runtime),
        architecture=cast("lambda_.Architecture", a.architecture or _defaults.LAMBDA_ARCHITECTURE),
        environment={"POWERTOOLS_SERVICE_NAME": service or default_service_name, **environment},
        layers=layers,
        powertools_layer=cast("lambda_.ILayerVersion | None", a.powertools_layer),
        powertools_layer_version=cast("int | None", a.powertools_layer_version),
        reserved_concurrent_executions=cast("int | None", a.reserved_concurrent_executions),
        log_retention=cast("logs.RetentionDays", a.log_retention or _defaults.LAMBDA_LOG_RETENTION),
        encryption_key=cast("kms.IKey | None", a.function_encryption_key),
        vpc=cast("ec2.IVpc | None", a.vpc),
        vpc_subnets=cast("ec2.SubnetSelection | None", a.vpc_subnets),
        security_groups=cast("Sequence[ec2.ISecurityGroup] | None", a.security_groups),
        function_name=cast("str | None", a.function_name),
        description=cast("str | None", a.description),
        tracing=cast("lambda_.Tracing", a.tracing or _defaults.LAMBDA_TRACING),
    )
    return settings, timeout, reserved


def _check_function_kinds(problems: Problems, a: ConsumerArguments) -> None:
    """The types of the remaining arguments of the function to build, and the names Lambda accepts."""
    problems.of_kind("architecture", a.architecture, _ARCHITECTURE)
    problems.of_kind("powertools_layer", a.powertools_layer, _LAYER)
    problems.of_kind("log_retention", a.log_retention, _RETENTION_DAYS)
    problems.of_kind("function_encryption_key", a.function_encryption_key, _KEY)
    problems.of_kind("vpc", a.vpc, _VPC)
    problems.of_kind("vpc_subnets", a.vpc_subnets, _SUBNETS)
    problems.sequence_of("security_groups", a.security_groups, _SECURITY_GROUP)
    problems.of_kind("tracing", a.tracing, _TRACING)
    name = problems.string("function_name", a.function_name)
    if name is not None and not _FUNCTION_NAME.fullmatch(name):
        problems.add(
            f"function_name must be 1 to {_limits.FUNCTION_NAME_MAX_LENGTH} letters, digits, '-' and '_', got {name!r}"
        )
    description = problems.string("description", a.description)
    if description is not None and len(description) > _limits.FUNCTION_DESCRIPTION_MAX_LENGTH:
        problems.add(
            f"description must be at most {_limits.FUNCTION_DESCRIPTION_MAX_LENGTH} characters, got "
            f"{len(description)} characters"
        )


def _plan_given_function(
    problems: Problems, a: ConsumerArguments, function: FunctionFacts
) -> tuple[float | None, int | None]:
    """The timeout (read, or described by ``timeout=``) and reserved concurrency of a given function."""
    given = _limits.FUNCTION_TIMEOUT.check(problems, "timeout", a.timeout)
    if function.timeout is None:
        if a.timeout is None:
            problems.add(
                f"timeout must describe the timeout of function={function.path}, which does not expose it "
                "(imported or an alias): the queue's visibility timeout is derived from it"
            )
        return given, function.reserved_concurrency
    if given is not None and given != function.timeout:
        problems.add(
            f"timeout ({format_duration(given)}) must equal the timeout of function={function.path} "
            f"({format_duration(function.timeout)}), or be left unset"
        )
    return function.timeout, function.reserved_concurrency


def _plan_batching(problems: Problems, a: ConsumerArguments, *, fifo: bool) -> float | None:
    """Rule L3: the batch size and window Lambda accepts for the queue type. Returns the window in
    seconds (0 without one), or None when it is unknown or invalid."""
    if fifo:
        if a.batch_size is not None and problems.of_kind("batch_size", a.batch_size, NUMBER):
            fifo_size = cast(float, a.batch_size)
            fifo_range = _limits.FIFO_BATCH_SIZE
            if not is_unresolved(fifo_size) and not (
                float(fifo_size).is_integer() and fifo_range.minimum <= fifo_size <= fifo_range.maximum
            ):
                problems.add(
                    f"batch_size must be between {fifo_range.minimum} and {fifo_range.maximum} for a FIFO queue, "
                    f"got {fifo_size!r}"
                )
        if a.max_batching_window is not None and problems.of_kind("max_batching_window", a.max_batching_window, DURATION):
            problems.add(
                "max_batching_window must not be set for a FIFO queue (Lambda does not batch FIFO "
                f"messages by time), got {describe_duration(cast(Duration, a.max_batching_window))}"
            )
            return None
        return 0.0
    size = _limits.BATCH_SIZE.check_count(problems, "batch_size", a.batch_size)
    window = _limits.MAX_BATCHING_WINDOW.check(problems, "max_batching_window", a.max_batching_window)
    if a.max_batching_window is None:
        window = 0.0
    if size is not None and size > _limits.BATCH_SIZE_WITHOUT_WINDOW and window is not None and window < 1:
        shown = "none" if a.max_batching_window is None else format_duration(window)
        problems.add(
            f"max_batching_window must be at least 1 second when batch_size is above "
            f"{_limits.BATCH_SIZE_WITHOUT_WINDOW}, got {shown} with batch_size {size:,}"
        )
    return window


def _plan_created_queue(problems: Problems, a: ConsumerArguments, visibility: VisibilityPlan) -> QueuePlan:
    """The standard queue + DLQ this construct creates, with the visibility timeout given or derived."""
    derived = duration(visibility.derived) if visibility.derived is not None and a.visibility_timeout is None else None
    options = QueueOptions(**{name: getattr(a, name) for name in _QUEUE_ARGUMENTS}, visibility_timeout=derived)
    plan = plan_queue_pair(problems, options, fifo=False)
    if a.visibility_timeout is not None:
        return replace(plan, visibility_timeout=cast(Duration, a.visibility_timeout), visibility_timeout_given=True)
    if visibility.derived is not None:
        return replace(plan, visibility_timeout_given=False)
    return plan


def _plan_concurrency(
    problems: Problems,
    max_concurrency: object,
    reserved: int | None,
    warnings: list[tuple[str, str]],
    notes: list[str],
    *,
    provisioned: bool,
) -> int | None:
    """L3, L4: at most the reserved concurrency, which is the default when it is 2 or more. Provisioned
    mode and a maximum concurrency are mutually exclusive (Lambda refuses both)."""
    chosen = _limits.MAX_CONCURRENCY.check_count(problems, "max_concurrency", max_concurrency)
    if provisioned:
        if max_concurrency is not None:
            problems.add(
                "max_concurrency cannot be combined with provisioned_poller_config: Lambda scales an SQS event "
                "source either by maximum concurrency or by provisioned pollers; bound a provisioned one with "
                "maximum_pollers"
            )
        return None
    if chosen is not None and reserved is not None and chosen > reserved:
        problems.add(
            f"max_concurrency must be at most the function's reserved concurrency ({reserved:,}), got "
            f"{chosen:,}: throttled invocations count as receives and send healthy messages to the DLQ"
        )
    if max_concurrency is not None:
        return cast("int | None", max_concurrency)
    if reserved is None:
        return None
    if reserved >= 2:
        chosen = min(reserved, _limits.MAX_CONCURRENCY.maximum)
        notes.append(
            f"max_concurrency: {chosen:,}, the function's reserved concurrency, so the event source does not "
            "start invocations that would be throttled"
        )
        return chosen
    warnings.append((
        WARNING_CONCURRENCY,
        f"the function's reserved concurrency is {reserved}, below the smallest max_concurrency (2): "
        "the event source will be throttled and throttled deliveries count as receives; raise the "
        "reserved concurrency to 2 or more, or remove it",
    ))
    return None


_POLLERS = Kind.of(
    "a lambda_.ProvisionedPollerConfig", lambda_.ProvisionedPollerConfig, event_sources.ProvisionedPollerConfig
)


def _plan_pollers(
    problems: Problems, a: ConsumerArguments, reserved: int | None, warnings: list[tuple[str, str]]
) -> lambda_.ProvisionedPollerConfig | None:
    """Provisioned mode: 2-200 minimum and 2-2,000 maximum event pollers (the SQS ranges Lambda and
    CloudFormation accept), minimum <= maximum; no poller group (Kafka only)."""
    config = a.provisioned_poller_config
    if config is None or not problems.of_kind("provisioned_poller_config", config, _POLLERS):
        return None
    given = cast("lambda_.ProvisionedPollerConfig", config)
    minimum = _limits.MINIMUM_POLLERS.check_count(problems, "provisioned_poller_config.minimum_pollers", given.minimum_pollers)
    maximum = _limits.MAXIMUM_POLLERS.check_count(problems, "provisioned_poller_config.maximum_pollers", given.maximum_pollers)
    low = _defaults.SQS_MINIMUM_POLLERS if given.minimum_pollers is None else minimum
    high = _defaults.SQS_MAXIMUM_POLLERS if given.maximum_pollers is None else maximum
    if low is not None and high is not None and low > high:
        problems.add(
            f"provisioned_poller_config.minimum_pollers ({low:,}) must be at most maximum_pollers ({high:,})"
        )
    if given.poller_group_name is not None:
        problems.add(
            "provisioned_poller_config.poller_group_name applies to Kafka event sources only, got "
            f"{given.poller_group_name!r} for an SQS queue"
        )
    if reserved is not None and high is not None and reserved < high:
        warnings.append((
            WARNING_CONCURRENCY,
            f"the function's reserved concurrency ({reserved:,}) is below maximum_pollers ({high:,}): each "
            "provisioned poller invokes the function, so the event source can be throttled, and throttled "
            "deliveries count as receives; raise the reserved concurrency or lower maximum_pollers",
        ))
    return lambda_.ProvisionedPollerConfig(minimum_pollers=given.minimum_pollers, maximum_pollers=given.maximum_pollers)


def _warn_receive_count(receives: int | None, warnings: list[tuple[str, str]]) -> None:
    if receives is not None and receives < _defaults.CONSUMER_MIN_MAX_RECEIVE_COUNT:
        warnings.append((
            WARNING_MAX_RECEIVE_COUNT,
            f"max_receive_count is {receives}, below {_defaults.CONSUMER_MIN_MAX_RECEIVE_COUNT}: with a "
            "Lambda consumer, throttled deliveries count as receives, so healthy messages can reach the "
            "DLQ under load (constructs-sqs rule Q7)",
        ))
